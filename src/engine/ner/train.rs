//! Training the two-pass NER model on CoNLL-2003: averaged structured perceptron, jackknifed
//! first pass, model selection on the development file.
//!
//! The procedure, and why:
//! 1. Extract local features of every training and development document once and map each
//!    feature hash to a dense id (features seen fewer than `min_feature_count` times in the
//!    training data are dropped). The name dictionary a training document sees is built from
//!    the *other* folds, so the dictionary feature is as reliable in training as it will be on
//!    unseen text; the development file and the saved model use all training names.
//! 2. Train pass 1 (local features) with the averaged perceptron, shuffling sentences with a
//!    fixed seed, scoring the averaged weights on the development file after every epoch and
//!    keeping the best epoch (early stopping after `patience` epochs without improvement).
//! 3. Pass 2 needs pass-1 tags *as they will look at test time*. Tags of the training data
//!    from a model trained on that same data are far too good, so pass 2 would learn to trust
//!    them blindly; instead the training documents are split into `folds` and each fold is
//!    tagged by a pass-1 model trained on the other folds (jackknifing, as in stacked
//!    learning). The development file is tagged by the full pass-1 model.
//! 4. Train pass 2 on local + non-local features the same way, select its epoch on the
//!    development file, then quantise, prune and save both passes into one model file, reload
//!    it and score the development file through the runtime code path (so the reported F1 is
//!    that of the shipped file).
//!
//! Everything is deterministic: the same code and data give a byte-identical model file, and
//! the thread count does not change results (folds are independent). On this machine training
//! takes under 10 seconds (release build).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::conll::{self, chunks, ConllError, EvalReport};
use super::features::{DocumentTokens, EntityDictionary, Gazetteers, PrehashedMap};
use super::model::{
    bilou_to_bio, tag_index, Decoder, EntityLabel, FeatureWeights, ModelError, NerModel, Position,
    Scores, Tag, Transitions, N_TAGS,
};

/// Training settings; `Default` gives the settings of the committed model.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Where to write the model.
    pub output: PathBuf,
    pub max_epochs: usize,
    /// Stop after this many epochs without a better development F1.
    pub patience: usize,
    /// Jackknife folds for the first-pass tags pass 2 is trained on.
    pub folds: usize,
    /// Features seen fewer times in the training data are dropped (2 beat 1 and 3 on the
    /// development file, averaged over eight seeds).
    pub min_feature_count: u32,
    /// Features whose largest weight is below this fraction of the largest weight of their
    /// pass are dropped from the saved model.
    pub prune: f32,
    pub seed: u64,
    /// Worker threads for the jackknife folds.
    pub threads: usize,
    /// Progress lines on stderr.
    pub verbose: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            output: PathBuf::from("data/ner_model.bin"),
            max_epochs: 20,
            patience: 4,
            folds: 4,
            min_feature_count: 2,
            prune: 0.002,
            seed: 2003,
            threads: 2,
            verbose: true,
        }
    }
}

/// Errors while training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Conll(#[from] ConllError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the training file {0} has no sentences")]
    Empty(String),
}

/// What training did and how well the saved model scores on the development file.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub train_tokens: usize,
    pub dev_tokens: usize,
    /// Distinct features (after the count cut-off) pass 1 / pass 2 trained on.
    pub local_features: usize,
    pub nonlocal_features: usize,
    /// Features in the saved model after pruning.
    pub saved_features: usize,
    pub model_bytes: usize,
    /// (epoch, development F1 of the averaged weights) per pass.
    pub stage1_epochs: Vec<(usize, f64)>,
    pub stage2_epochs: Vec<(usize, f64)>,
    pub stage1_best_epoch: usize,
    pub stage2_best_epoch: usize,
    /// The saved model on the development file, through the runtime code path.
    pub dev: EvalReport,
    pub elapsed: Duration,
}

impl std::fmt::Display for TrainReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "trained on {} tokens in {:.1} s; features: {} local + {} non-local, {} saved ({} bytes)",
            self.train_tokens,
            self.elapsed.as_secs_f64(),
            self.local_features,
            self.nonlocal_features,
            self.saved_features,
            self.model_bytes
        )?;
        let best = |epochs: &[(usize, f64)], e: usize| {
            epochs
                .iter()
                .find(|(n, _)| *n == e)
                .map_or(0.0, |(_, f1)| *f1)
        };
        writeln!(
            f,
            "pass 1: best epoch {} (dev F1 {:.4}); pass 2: best epoch {} (dev F1 {:.4})",
            self.stage1_best_epoch,
            best(&self.stage1_epochs, self.stage1_best_epoch),
            self.stage2_best_epoch,
            best(&self.stage2_epochs, self.stage2_best_epoch),
        )?;
        write!(f, "saved model on the development file:\n{}", self.dev)
    }
}

/// One document prepared for training: feature ids per token and gold BILOU tags.
struct Prepared {
    tokens: DocumentTokens,
    /// Gold tags as written (IOB1), per sentence, for scoring.
    gold_tags: Vec<Vec<String>>,
    gold: Vec<u8>,
    ids: Vec<u32>,
    offsets: Vec<usize>,
}

impl Prepared {
    fn sentences(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.tokens.sentence_starts.windows(2).map(|w| (w[0], w[1]))
    }
}

/// Gold BILOU indices of one sentence from its IOB1 tags (unknown labels count as O).
fn gold_bilou(tags: &[String]) -> Vec<u8> {
    let mut out = vec![0u8; tags.len()];
    for chunk in chunks(tags) {
        let Some(label) = EntityLabel::parse(&chunk.label) else {
            continue;
        };
        if chunk.end == chunk.start + 1 {
            out[chunk.start] = tag_index(label, Position::U);
            continue;
        }
        for (i, slot) in out.iter_mut().enumerate().take(chunk.end).skip(chunk.start) {
            let position = if i == chunk.start {
                Position::B
            } else if i + 1 == chunk.end {
                Position::L
            } else {
                Position::I
            };
            *slot = tag_index(label, position);
        }
    }
    out
}

/// Feature hash -> dense id.
struct Vocabulary {
    ids: PrehashedMap<u32>,
    keys: Vec<u64>,
}

impl Vocabulary {
    fn new() -> Self {
        Vocabulary {
            ids: PrehashedMap::default(),
            keys: Vec::new(),
        }
    }

    /// Adds every key seen at least `min_count` times.
    fn extend_counted<'a>(&mut self, key_lists: impl Iterator<Item = &'a [u64]>, min_count: u32) {
        let mut counts: PrehashedMap<u32> = PrehashedMap::default();
        let mut order = Vec::new();
        for keys in key_lists {
            for &k in keys {
                let c = counts.entry(k).or_insert_with(|| {
                    order.push(k);
                    0
                });
                *c += 1;
            }
        }
        for k in order {
            if counts.get(&k).copied().unwrap_or(0) >= min_count && !self.ids.contains_key(&k) {
                self.ids.insert(k, self.keys.len() as u32);
                self.keys.push(k);
            }
        }
    }

    fn map_into(&self, keys: &[u64], out: &mut Vec<u32>) {
        out.extend(keys.iter().filter_map(|k| self.ids.get(k).copied()));
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Averaged perceptron weights with the lazy-averaging trick: `avg = w - u / c`, where `u`
/// accumulates each update times the number of sentences seen when it was made.
#[derive(Clone)]
struct Perceptron {
    w: Vec<f32>,
    u: Vec<f64>,
    /// Transition weights: row 0 start, row 1 end, rows 2.. `pair[prev]`.
    tw: Vec<f32>,
    tu: Vec<f64>,
    c: f64,
}

const TRANS_LEN: usize = (N_TAGS + 2) * N_TAGS;

impl Perceptron {
    fn new(features: usize) -> Self {
        Perceptron {
            w: vec![0.0; features * N_TAGS],
            u: vec![0.0; features * N_TAGS],
            tw: vec![0.0; TRANS_LEN],
            tu: vec![0.0; TRANS_LEN],
            c: 1.0,
        }
    }

    fn averaged(&self) -> Weights {
        let avg = |w: &[f32], u: &[f64]| -> Vec<f32> {
            w.iter()
                .zip(u)
                .map(|(&w, &u)| (f64::from(w) - u / self.c) as f32)
                .collect()
        };
        Weights {
            w: avg(&self.w, &self.u),
            transitions: transitions_from(&avg(&self.tw, &self.tu)),
        }
    }

    fn update_feature(&mut self, ids: &[u32], tag: u8, delta: f32) {
        let c = self.c * f64::from(delta);
        for &id in ids {
            let j = id as usize * N_TAGS + tag as usize;
            if let (Some(w), Some(u)) = (self.w.get_mut(j), self.u.get_mut(j)) {
                *w += delta;
                *u += c;
            }
        }
    }

    fn update_transition(&mut self, j: usize, delta: f32) {
        self.tw[j] += delta;
        self.tu[j] += self.c * f64::from(delta);
    }

    /// One perceptron step on a sentence; returns whether it was mistaken.
    fn learn(
        &mut self,
        doc: &Prepared,
        (a, b): (usize, usize),
        decoder: &mut Decoder,
        emissions: &mut Vec<Scores>,
        path: &mut Vec<u8>,
    ) -> bool {
        let transitions = transitions_from(&self.tw);
        emissions_into(&self.w, doc, a, b, emissions);
        decoder.decode(emissions, &transitions, path, None);
        let gold = &doc.gold[a..b];
        let wrong = path.as_slice() != gold;
        if wrong {
            for i in 0..gold.len() {
                if path[i] != gold[i] {
                    let ids = &doc.ids[doc.offsets[a + i]..doc.offsets[a + i + 1]];
                    self.update_feature(ids, gold[i], 1.0);
                    self.update_feature(ids, path[i], -1.0);
                }
            }
            let index = |prev: Option<u8>, next: u8| match prev {
                None => next as usize,
                Some(p) => (2 + p as usize) * N_TAGS + next as usize,
            };
            for i in 0..gold.len() {
                let (gp, pp) = if i == 0 {
                    (None, None)
                } else {
                    (Some(gold[i - 1]), Some(path[i - 1]))
                };
                if gp != pp || gold[i] != path[i] {
                    self.update_transition(index(gp, gold[i]), 1.0);
                    self.update_transition(index(pp, path[i]), -1.0);
                }
            }
            if let (Some(&g), Some(&p)) = (gold.last(), path.last()) {
                if g != p {
                    self.update_transition(N_TAGS + g as usize, 1.0);
                    self.update_transition(N_TAGS + p as usize, -1.0);
                }
            }
        }
        self.c += 1.0;
        wrong
    }
}

/// Averaged (final) weights of one pass.
struct Weights {
    w: Vec<f32>,
    transitions: Transitions,
}

fn transitions_from(t: &[f32]) -> Transitions {
    let mut out = Transitions::default();
    out.start.copy_from_slice(&t[..N_TAGS]);
    out.end.copy_from_slice(&t[N_TAGS..2 * N_TAGS]);
    for (p, row) in out.pair.iter_mut().enumerate() {
        row.copy_from_slice(&t[(2 + p) * N_TAGS..(3 + p) * N_TAGS]);
    }
    out
}

fn emissions_into(w: &[f32], doc: &Prepared, a: usize, b: usize, out: &mut Vec<Scores>) {
    out.clear();
    for t in a..b {
        let mut s = [0f32; N_TAGS];
        for &id in &doc.ids[doc.offsets[t]..doc.offsets[t + 1]] {
            let start = id as usize * N_TAGS;
            if let Some(row) = w.get(start..start + N_TAGS) {
                for (x, &y) in s.iter_mut().zip(row) {
                    *x += y;
                }
            }
        }
        out.push(s);
    }
}

/// Pass-1 BILOU tags of a document and their max-marginal margins.
type Prediction = (Vec<u8>, Vec<f32>);

/// Tags a prepared document with float weights: BILOU tags and max-marginal margins.
fn predict(weights: &Weights, doc: &Prepared) -> Prediction {
    let mut decoder = Decoder::default();
    let mut emissions = Vec::new();
    let mut path = Vec::new();
    let mut margins = Vec::new();
    let mut tags = Vec::with_capacity(doc.gold.len());
    let mut all_margins = Vec::with_capacity(doc.gold.len());
    for (a, b) in doc.sentences() {
        emissions_into(&weights.w, doc, a, b, &mut emissions);
        decoder.decode(
            &emissions,
            &weights.transitions,
            &mut path,
            Some(&mut margins),
        );
        tags.extend_from_slice(&path);
        all_margins.extend_from_slice(&margins);
    }
    (tags, all_margins)
}

fn score(weights: &Weights, docs: &[Prepared]) -> EvalReport {
    let mut report = EvalReport::default();
    for doc in docs {
        let (tags, _) = predict(weights, doc);
        for ((a, b), gold) in doc.sentences().zip(&doc.gold_tags) {
            let bio: Vec<Tag> = tags[a..b].iter().map(|&t| bilou_to_bio(t)).collect();
            report.add_sentence(gold, &bio);
        }
    }
    report
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Trains one pass. With `dev`, keeps the epoch with the best development F1 and stops after
/// `patience` epochs without improvement; without, trains exactly `epochs` epochs.
fn train_pass(
    features: usize,
    docs: &[&Prepared],
    dev: Option<&[Prepared]>,
    epochs: usize,
    options: &TrainOptions,
    seed: u64,
    label: &str,
) -> (Weights, Vec<(usize, f64)>, usize) {
    let mut model = Perceptron::new(features);
    let mut order: Vec<(usize, usize, usize)> = docs
        .iter()
        .enumerate()
        .flat_map(|(d, doc)| doc.sentences().map(move |(a, b)| (d, a, b)))
        .collect();
    let mut rng = Xorshift(seed | 1);
    let mut decoder = Decoder::default();
    let mut emissions = Vec::new();
    let mut path = Vec::new();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, Weights)> = None;
    for epoch in 1..=epochs {
        let started = Instant::now();
        rng.shuffle(&mut order);
        let mut mistakes = 0;
        for &(d, a, b) in &order {
            if model.learn(docs[d], (a, b), &mut decoder, &mut emissions, &mut path) {
                mistakes += 1;
            }
        }
        let Some(dev) = dev else { continue };
        let averaged = model.averaged();
        let f1 = score(&averaged, dev).f1();
        history.push((epoch, f1));
        if options.verbose {
            eprintln!(
                "{label} epoch {epoch}: {mistakes} mistaken sentences, dev F1 {f1:.4} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
        let improved = best.as_ref().is_none_or(|(b, _, _)| f1 > *b);
        if improved {
            best = Some((f1, epoch, averaged));
        } else if best
            .as_ref()
            .is_some_and(|(_, e, _)| epoch >= e + options.patience)
        {
            break;
        }
    }
    match best {
        Some((_, epoch, weights)) => (weights, history, epoch),
        None => (model.averaged(), history, epochs),
    }
}

/// The names of some training documents (those `include` accepts by index), for the
/// dictionary features.
fn dictionary(docs: &[conll::Document], include: impl Fn(usize) -> bool) -> EntityDictionary {
    let mut dict = EntityDictionary::new();
    for (_, doc) in docs.iter().enumerate().filter(|(i, _)| include(*i)) {
        for sentence in &doc.sentences {
            for chunk in chunks(&sentence.tags) {
                let label = EntityLabel::parse(&chunk.label)
                    .and_then(|l| EntityLabel::ALL.iter().position(|&x| x == l));
                if let (Some(label), Some(tokens)) =
                    (label, sentence.tokens.get(chunk.start..chunk.end))
                {
                    dict.add(tokens, label);
                }
            }
        }
    }
    dict
}

fn prepare<'a>(
    docs: &[conll::Document],
    gaz: &Gazetteers,
    dictionary_for: impl Fn(usize) -> &'a EntityDictionary,
) -> Vec<(Prepared, Vec<u64>)> {
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let lists = doc.token_lists();
            let tokens = DocumentTokens::new(&lists, gaz);
            let mut keys = Vec::new();
            let mut offsets = Vec::new();
            tokens.local_features(dictionary_for(i), &mut keys, &mut offsets);
            let gold_tags: Vec<Vec<String>> =
                doc.sentences.iter().map(|s| s.tags.clone()).collect();
            let gold = gold_tags.iter().flat_map(|t| gold_bilou(t)).collect();
            (
                Prepared {
                    tokens,
                    gold_tags,
                    gold,
                    ids: Vec::new(),
                    offsets,
                },
                keys,
            )
        })
        .collect()
}

/// Maps each document's feature keys to ids, token by token (ids stay grouped per token).
fn assign_ids(doc: &mut Prepared, keys: &[u64], key_offsets: &[usize], vocab: &Vocabulary) {
    let mut ids = Vec::with_capacity(keys.len());
    let mut offsets = Vec::with_capacity(key_offsets.len());
    for t in 0..key_offsets.len().saturating_sub(1) {
        offsets.push(ids.len());
        vocab.map_into(&keys[key_offsets[t]..key_offsets[t + 1]], &mut ids);
    }
    offsets.push(ids.len());
    doc.ids = ids;
    doc.offsets = offsets;
}

/// Appends a second feature list to each token's ids.
fn append_ids(doc: &mut Prepared, keys: &[u64], key_offsets: &[usize], vocab: &Vocabulary) {
    let mut ids = Vec::with_capacity(doc.ids.len() + keys.len());
    let mut offsets = Vec::with_capacity(doc.offsets.len());
    for t in 0..doc.offsets.len().saturating_sub(1) {
        offsets.push(ids.len());
        ids.extend_from_slice(&doc.ids[doc.offsets[t]..doc.offsets[t + 1]]);
        if let (Some(&a), Some(&b)) = (key_offsets.get(t), key_offsets.get(t + 1)) {
            vocab.map_into(&keys[a..b], &mut ids);
        }
    }
    offsets.push(ids.len());
    doc.ids = ids;
    doc.offsets = offsets;
}

/// Median margin of entity tags: the confidence scale (margin at which confidence is 0.5).
fn median_entity_margin(predictions: &[Prediction]) -> f32 {
    let mut margins: Vec<f32> = predictions
        .iter()
        .flat_map(|(tags, margins)| {
            tags.iter()
                .zip(margins)
                .filter(|(t, m)| **t != 0 && m.is_finite())
                .map(|(_, m)| *m)
        })
        .collect();
    if margins.is_empty() {
        return 1.0;
    }
    margins.sort_by(f32::total_cmp);
    margins[margins.len() / 2].max(1e-3)
}

fn confidence(margin: f32, scale: f32) -> f32 {
    let x = margin / scale;
    if x.is_finite() {
        x / (1.0 + x)
    } else {
        1.0
    }
}

/// Trains the model on `train_path`, selects epochs on `dev_path`, writes `options.output`.
pub fn train(
    train_path: &Path,
    dev_path: &Path,
    options: &TrainOptions,
) -> Result<TrainReport, TrainError> {
    let started = Instant::now();
    let log = |msg: &str| {
        if options.verbose {
            eprintln!("[{:6.1} s] {msg}", started.elapsed().as_secs_f64());
        }
    };
    let train_docs = conll::read_file(train_path)?;
    let dev_docs = conll::read_file(dev_path)?;
    if train_docs.is_empty() {
        return Err(TrainError::Empty(train_path.display().to_string()));
    }
    let gaz = Gazetteers::embedded();
    // Dictionary features: each training document sees the names of the other folds only
    // (the same folds as the jackknife below); the development file and the saved model see
    // all of them.
    let folds = options.folds.max(2);
    let fold_dictionaries: Vec<EntityDictionary> = (0..folds)
        .map(|k| dictionary(&train_docs, |i| i % folds != k))
        .collect();
    let full_dictionary = dictionary(&train_docs, |_| true);
    let mut train = prepare(&train_docs, gaz, |i| &fold_dictionaries[i % folds]);
    let mut dev = prepare(&dev_docs, gaz, |_| &full_dictionary);
    drop(fold_dictionaries);
    let train_tokens = train.iter().map(|(d, _)| d.gold.len()).sum();
    let dev_tokens = dev.iter().map(|(d, _)| d.gold.len()).sum();

    let mut vocab = Vocabulary::new();
    vocab.extend_counted(
        train.iter().map(|(_, k)| k.as_slice()),
        options.min_feature_count,
    );
    let local_features = vocab.len();
    for (doc, keys) in train.iter_mut().chain(dev.iter_mut()) {
        let key_offsets = std::mem::take(&mut doc.offsets);
        assign_ids(doc, keys, &key_offsets, &vocab);
        keys.clear();
        keys.shrink_to_fit();
    }
    let train: Vec<Prepared> = train.into_iter().map(|(d, _)| d).collect();
    let dev: Vec<Prepared> = dev.into_iter().map(|(d, _)| d).collect();
    log(&format!(
        "{} training tokens, {} dev tokens, {} local features",
        train_tokens, dev_tokens, local_features
    ));

    // Pass 1 on everything, epochs chosen on dev.
    let all: Vec<&Prepared> = train.iter().collect();
    let (stage1, stage1_epochs, stage1_best) = train_pass(
        local_features,
        &all,
        Some(&dev),
        options.max_epochs,
        options,
        options.seed,
        "pass 1",
    );
    log(&format!("pass 1 done, best epoch {stage1_best}"));

    // Jackknifed pass-1 tags for the training documents.
    let fold_predictions: Vec<Vec<(usize, Prediction)>> = {
        let run_fold = |k: usize| {
            let rest: Vec<&Prepared> = train
                .iter()
                .enumerate()
                .filter(|(i, _)| i % folds != k)
                .map(|(_, d)| d)
                .collect();
            let (weights, _, _) = train_pass(
                local_features,
                &rest,
                None,
                stage1_best,
                options,
                options.seed,
                "fold",
            );
            train
                .iter()
                .enumerate()
                .filter(|(i, _)| i % folds == k)
                .map(|(i, d)| (i, predict(&weights, d)))
                .collect::<Vec<_>>()
        };
        let threads = options.threads.clamp(1, folds);
        let mut results = Vec::new();
        for batch in (0..folds).collect::<Vec<_>>().chunks(threads) {
            let batch_results: Vec<_> = std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .iter()
                    .map(|&k| scope.spawn(move || run_fold(k)))
                    .collect();
                handles.into_iter().map(|h| h.join()).collect()
            });
            for r in batch_results {
                match r {
                    Ok(r) => results.push(r),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        }
        results
    };
    let mut train_first: Vec<Prediction> = vec![(Vec::new(), Vec::new()); train.len()];
    for (i, prediction) in fold_predictions.into_iter().flatten() {
        train_first[i] = prediction;
    }
    let dev_first: Vec<Prediction> = dev.iter().map(|d| predict(&stage1, d)).collect();
    let confidence_scale = median_entity_margin(&dev_first);
    log(&format!(
        "jackknife done; confidence scale {confidence_scale:.3}"
    ));

    // Non-local features from those tags.
    let nonlocal = |docs: &[Prepared], firsts: &[Prediction], scale: f32| {
        docs.iter()
            .zip(firsts)
            .map(|(doc, (tags, margins))| {
                let conf: Vec<f32> = margins.iter().map(|&m| confidence(m, scale)).collect();
                let mut keys = Vec::new();
                let mut offsets = Vec::new();
                doc.tokens
                    .nonlocal_features(tags, &conf, &mut keys, &mut offsets);
                (keys, offsets)
            })
            .collect::<Vec<_>>()
    };
    let train_scale = median_entity_margin(&train_first);
    let train_nl = nonlocal(&train, &train_first, train_scale);
    let dev_nl = nonlocal(&dev, &dev_first, confidence_scale);
    vocab.extend_counted(
        train_nl.iter().map(|(k, _)| k.as_slice()),
        options.min_feature_count,
    );
    let all_features = vocab.len();
    let mut train = train;
    let mut dev = dev;
    for (doc, (keys, offsets)) in train
        .iter_mut()
        .zip(&train_nl)
        .chain(dev.iter_mut().zip(&dev_nl))
    {
        append_ids(doc, keys, offsets, &vocab);
    }
    drop(train_nl);
    drop(dev_nl);
    log(&format!(
        "{} non-local features",
        all_features - local_features
    ));

    let all: Vec<&Prepared> = train.iter().collect();
    let (stage2, stage2_epochs, stage2_best) = train_pass(
        all_features,
        &all,
        Some(&dev),
        options.max_epochs,
        options,
        options.seed,
        "pass 2",
    );
    log(&format!("pass 2 done, best epoch {stage2_best}"));

    let features: Vec<FeatureWeights> = vocab
        .keys
        .iter()
        .enumerate()
        .map(|(id, &key)| {
            let mut s1 = [0f32; N_TAGS];
            let mut s2 = [0f32; N_TAGS];
            let range = id * N_TAGS..(id + 1) * N_TAGS;
            if let Some(w) = stage1.w.get(range.clone()) {
                s1.copy_from_slice(w);
            }
            if let Some(w) = stage2.w.get(range) {
                s2.copy_from_slice(w);
            }
            FeatureWeights {
                key,
                stage1: s1,
                stage2: s2,
            }
        })
        .collect();
    let model = NerModel::from_weights(
        &features,
        [stage1.transitions, stage2.transitions],
        options.prune,
        confidence_scale,
        full_dictionary,
    )?;
    let bytes = model.to_bytes();
    std::fs::write(&options.output, &bytes).map_err(|source| ModelError::Io {
        path: options.output.display().to_string(),
        source,
    })?;
    let saved = NerModel::from_bytes(&bytes)?;
    let dev_report = conll::evaluate_documents(&saved, &dev_docs);
    log("saved and re-scored");
    Ok(TrainReport {
        train_tokens,
        dev_tokens,
        local_features,
        nonlocal_features: all_features - local_features,
        saved_features: saved.feature_count(),
        model_bytes: bytes.len(),
        stage1_epochs,
        stage2_epochs,
        stage1_best_epoch: stage1_best,
        stage2_best_epoch: stage2_best,
        dev: dev_report,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_bilou_from_iob1() {
        let tags: Vec<String> = [
            "I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-LOC", "I-LOC", "I-XYZ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let per = EntityLabel::Per;
        let loc = EntityLabel::Loc;
        assert_eq!(
            gold_bilou(&tags),
            vec![
                tag_index(per, Position::B),
                tag_index(per, Position::L),
                tag_index(per, Position::U),
                0,
                tag_index(loc, Position::B),
                tag_index(loc, Position::I),
                tag_index(loc, Position::L),
                0,
            ]
        );
    }

    #[test]
    fn shuffle_is_reproducible() {
        let mut a: Vec<u32> = (0..50).collect();
        let mut b = a.clone();
        Xorshift(7).shuffle(&mut a);
        Xorshift(7).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn trains_a_tiny_corpus_end_to_end() {
        let dir = std::env::temp_dir().join(format!("ner-train-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let corpus = "-DOCSTART- -X- -X- O\n\n\
            Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\nvisited VBD I-VP O\nBonn NNP I-NP I-LOC\n. . O O\n\n\
            Blackburn NNP I-NP I-PER\nleft VBD I-VP O\nBonn NNP I-NP I-LOC\n. . O O\n\n";
        let train_path = dir.join("train.conll");
        std::fs::write(&train_path, corpus.repeat(4)).expect("write corpus");
        let options = TrainOptions {
            output: dir.join("model.bin"),
            max_epochs: 3,
            folds: 2,
            threads: 1,
            verbose: false,
            ..TrainOptions::default()
        };
        let report = train(&train_path, &train_path, &options).expect("train");
        assert!(report.dev.f1() > 0.99, "{report}");
        let model = NerModel::load(&options.output).expect("load");
        let tags = model.tag_document(&[vec!["Peter", "Blackburn", "visited", "Bonn", "."]]);
        assert_eq!(tags[0][0], Tag::B(EntityLabel::Per));
        assert_eq!(tags[0][1], Tag::I(EntityLabel::Per));
        assert_eq!(tags[0][3], Tag::B(EntityLabel::Loc));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
