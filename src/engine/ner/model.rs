//! The trained NER model: a two-pass structured perceptron with Viterbi decoding over BILOU tags.
//!
//! Design choices:
//! - **BILOU, first order, Viterbi.** Seventeen tags (O plus B/I/L/U for PER, ORG, LOC, MISC)
//!   with learned tag-to-tag transitions; illegal transitions (O -> I-PER, B-PER -> B-ORG) are
//!   forbidden in the decoder, so every output is a well-formed set of spans. BILOU beats BIO
//!   for perceptrons because single-word names (U) and name ends (L) get their own weights.
//! - **Two passes, one table.** Pass 1 uses local features only; pass 2 adds non-local
//!   features computed from pass 1's tags of the whole document (see `features`). Both passes
//!   have their own weights, but they are stored side by side in one row per feature
//!   (17 stage-1 weights, then 17 stage-2 weights), so each local feature is looked up once
//!   and both passes' scores come out of the same cache line.
//! - **Compact, fast to load.** Features are 64-bit hashes (no vocabulary strings); weights
//!   are quantised to `i16` with one scale per pass and summed as integers, and only non-zero
//!   weights are stored (4–5 of 34 per feature on average). The file is a flat little-endian
//!   layout parsed in one sweep into an open-addressing table, so the embedded model (about
//!   1.5 MB, with the training-data name dictionary) loads in under 10 ms.
//! - **Fast decoding.** Illegal transitions are -inf entries rather than branches, and the
//!   back-trace recomputes one argmax per token instead of storing back-pointers, so the
//!   17×17 inner loops are branch-free.
//! - **Confidence** is the max-marginal margin of the chosen tag over the best alternative
//!   (forward and backward Viterbi), squashed to 0..1 with a scale measured at training time:
//!   cheap, and it orders tokens well even though it is not a calibrated probability.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use super::features::{
    gazetteer_fingerprint, DocumentTokens, EntityDictionary, Gazetteers, SCHEMA_VERSION,
};

/// Number of BILOU tags: O plus four per label.
pub const N_TAGS: usize = 17;
/// Width of one weight row: stage 1 then stage 2.
const ROW: usize = 2 * N_TAGS;

const MAGIC: &[u8; 8] = b"NERPCPT\0";
const FORMAT_VERSION: u32 = 1;

/// The four CoNLL-2003 entity labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityLabel {
    Per,
    Org,
    Loc,
    Misc,
}

impl EntityLabel {
    pub const ALL: [EntityLabel; 4] = [
        EntityLabel::Per,
        EntityLabel::Org,
        EntityLabel::Loc,
        EntityLabel::Misc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityLabel::Per => "PER",
            EntityLabel::Org => "ORG",
            EntityLabel::Loc => "LOC",
            EntityLabel::Misc => "MISC",
        }
    }

    pub fn parse(s: &str) -> Option<EntityLabel> {
        match s {
            "PER" => Some(EntityLabel::Per),
            "ORG" => Some(EntityLabel::Org),
            "LOC" => Some(EntityLabel::Loc),
            "MISC" => Some(EntityLabel::Misc),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EntityLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's tag in BIO (IOB2) form: every entity starts with `B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    O,
    B(EntityLabel),
    I(EntityLabel),
}

impl Tag {
    pub fn label(self) -> Option<EntityLabel> {
        match self {
            Tag::O => None,
            Tag::B(l) | Tag::I(l) => Some(l),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::O => f.write_str("O"),
            Tag::B(l) => write!(f, "B-{l}"),
            Tag::I(l) => write!(f, "I-{l}"),
        }
    }
}

/// A tag with the model's confidence in it (0..1, higher is surer; not a probability).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredTag {
    pub tag: Tag,
    pub confidence: f32,
}

/// One entity span inside a sentence: tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntitySpan {
    pub start: usize,
    pub end: usize,
    pub label: EntityLabel,
    /// The lowest token confidence in the span.
    pub confidence: f32,
}

/// Groups one sentence's BIO tags into spans. Tolerates ill-formed input (an `I` after `O`
/// starts a span, as conlleval does).
pub fn spans(tags: &[ScoredTag]) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::new();
    let mut open: Option<EntitySpan> = None;
    for (i, scored) in tags.iter().enumerate() {
        let continues = match (scored.tag, &open) {
            (Tag::I(l), Some(span)) => span.label == l,
            _ => false,
        };
        if continues {
            if let Some(span) = open.as_mut() {
                span.end = i + 1;
                span.confidence = span.confidence.min(scored.confidence);
            }
            continue;
        }
        if let Some(span) = open.take() {
            out.push(span);
        }
        if let Some(label) = scored.tag.label() {
            open = Some(EntitySpan {
                start: i,
                end: i + 1,
                label,
                confidence: scored.confidence,
            });
        }
    }
    out.extend(open);
    out
}

// ---------------------------------------------------------------------------------------------
// BILOU tag indices

/// Position of a token in its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    B = 0,
    I = 1,
    L = 2,
    U = 3,
}

/// Index of a BILOU tag: 0 is O, then four per label in `EntityLabel::ALL` order.
pub fn tag_index(label: EntityLabel, position: Position) -> u8 {
    1 + (label.index() * 4) as u8 + position as u8
}

/// The label and position of a tag index; `None` for O (and out-of-range indices).
pub fn tag_parts(index: u8) -> Option<(EntityLabel, Position)> {
    if index == 0 || index as usize >= N_TAGS {
        return None;
    }
    let label = EntityLabel::ALL[((index - 1) / 4) as usize];
    let position = match (index - 1) % 4 {
        0 => Position::B,
        1 => Position::I,
        2 => Position::L,
        _ => Position::U,
    };
    Some((label, position))
}

/// BILOU indices to BIO tags.
pub fn bilou_to_bio(index: u8) -> Tag {
    match tag_parts(index) {
        None => Tag::O,
        Some((label, Position::B | Position::U)) => Tag::B(label),
        Some((label, _)) => Tag::I(label),
    }
}

/// Whether `next` may follow `prev` (`None` = sentence start) in a well-formed BILOU sequence.
fn allowed(prev: Option<u8>, next: u8) -> bool {
    let inside = |t: u8| matches!(tag_parts(t), Some((_, Position::B | Position::I)));
    match prev {
        Some(p) if inside(p) => match (tag_parts(p), tag_parts(next)) {
            (Some((lp, _)), Some((ln, Position::I | Position::L))) => lp == ln,
            _ => false,
        },
        _ => !matches!(tag_parts(next), Some((_, Position::I | Position::L))),
    }
}

/// Whether a sentence may end on `tag`.
fn allowed_end(tag: u8) -> bool {
    !matches!(tag_parts(tag), Some((_, Position::B | Position::I)))
}

struct Legal {
    start: [bool; N_TAGS],
    end: [bool; N_TAGS],
    pair: [[bool; N_TAGS]; N_TAGS],
}

fn legal() -> &'static Legal {
    static LEGAL: OnceLock<Legal> = OnceLock::new();
    LEGAL.get_or_init(|| {
        let mut legal = Legal {
            start: [false; N_TAGS],
            end: [false; N_TAGS],
            pair: [[false; N_TAGS]; N_TAGS],
        };
        for t in 0..N_TAGS as u8 {
            legal.start[t as usize] = allowed(None, t);
            legal.end[t as usize] = allowed_end(t);
            for p in 0..N_TAGS as u8 {
                legal.pair[p as usize][t as usize] = allowed(Some(p), t);
            }
        }
        legal
    })
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Tag-to-tag weights of one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Transitions {
    pub start: [f32; N_TAGS],
    pub end: [f32; N_TAGS],
    /// `pair[prev][next]`.
    pub pair: [[f32; N_TAGS]; N_TAGS],
}

impl Default for Transitions {
    fn default() -> Self {
        Transitions {
            start: [0.0; N_TAGS],
            end: [0.0; N_TAGS],
            pair: [[0.0; N_TAGS]; N_TAGS],
        }
    }
}

/// Emission scores of one token.
pub type Scores = [f32; N_TAGS];

const NEG: f32 = f32::NEG_INFINITY;

/// Reusable buffers for Viterbi.
#[derive(Default)]
pub struct Decoder {
    alpha: Vec<Scores>,
    beta: Vec<Scores>,
}

impl Decoder {
    /// The best legal tag sequence for `emissions`, written to `path`; with `margins`, also
    /// each chosen tag's max-marginal margin over the best alternative tag at that position.
    // Index loops: the recurrences read several parallel arrays at i-1, i and i+1.
    #[allow(clippy::needless_range_loop)]
    pub fn decode(
        &mut self,
        emissions: &[Scores],
        trans: &Transitions,
        path: &mut Vec<u8>,
        margins: Option<&mut Vec<f32>>,
    ) {
        path.clear();
        let n = emissions.len();
        if n == 0 {
            if let Some(m) = margins {
                m.clear();
            }
            return;
        }
        // Illegal moves become -inf in the transition matrices, so the inner loops have no
        // branches and vectorise. `into[t][p]` is the transposed (p -> t) matrix for the
        // forward recursion; `pair[p][t]` serves the backward one.
        let legal = legal();
        let mut into = [[NEG; N_TAGS]; N_TAGS];
        let mut pair = [[NEG; N_TAGS]; N_TAGS];
        let mut start = [NEG; N_TAGS];
        let mut end = [NEG; N_TAGS];
        for p in 0..N_TAGS {
            for t in 0..N_TAGS {
                if legal.pair[p][t] {
                    let w = finite(trans.pair[p][t]);
                    into[t][p] = w;
                    pair[p][t] = w;
                }
            }
            if legal.start[p] {
                start[p] = finite(trans.start[p]);
            }
            if legal.end[p] {
                end[p] = finite(trans.end[p]);
            }
        }
        let emission = |i: usize, t: usize| finite(emissions[i][t]);

        // Forward max-sums only; the back-trace recomputes one argmax per position instead of
        // storing 17 back-pointers per token (branch-free inner loops are several times
        // faster than compare-and-record ones).
        self.alpha.clear();
        self.alpha.resize(n, [NEG; N_TAGS]);
        for t in 0..N_TAGS {
            self.alpha[0][t] = start[t] + emission(0, t);
        }
        for i in 1..n {
            let prev = self.alpha[i - 1];
            for t in 0..N_TAGS {
                let row = &into[t];
                let mut best = NEG;
                for p in 0..N_TAGS {
                    best = fast_max(best, prev[p] + row[p]);
                }
                self.alpha[i][t] = best + emission(i, t);
            }
        }
        path.resize(n, 0);
        path[n - 1] = argmax(&self.alpha[n - 1], &end);
        for i in (1..n).rev() {
            path[i - 1] = argmax(&self.alpha[i - 1], &into[path[i] as usize]);
        }

        let Some(margins) = margins else { return };
        self.beta.clear();
        self.beta.resize(n, [NEG; N_TAGS]);
        self.beta[n - 1] = end;
        for i in (0..n - 1).rev() {
            let mut next = [0f32; N_TAGS];
            for t in 0..N_TAGS {
                next[t] = emission(i + 1, t) + self.beta[i + 1][t];
            }
            for p in 0..N_TAGS {
                let row = &pair[p];
                let mut best = NEG;
                for t in 0..N_TAGS {
                    best = fast_max(best, row[t] + next[t]);
                }
                self.beta[i][p] = best;
            }
        }
        margins.clear();
        for i in 0..n {
            let chosen = path[i] as usize;
            let mut runner_up = NEG;
            for t in 0..N_TAGS {
                if t != chosen {
                    runner_up = runner_up.max(self.alpha[i][t] + self.beta[i][t]);
                }
            }
            let top = self.alpha[i][chosen] + self.beta[i][chosen];
            let margin = top - runner_up;
            margins.push(if margin.is_finite() {
                margin.max(0.0)
            } else {
                f32::MAX
            });
        }
    }
}

/// `max` without NaN handling (scores are kept finite or -inf), so it compiles to `maxps`.
#[inline(always)]
fn fast_max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// The first index maximising `a[k] + b[k]`.
#[inline]
fn argmax(a: &Scores, b: &Scores) -> u8 {
    let mut best = NEG;
    let mut arg = 0u8;
    for k in 0..N_TAGS {
        let s = a[k] + b[k];
        if s > best {
            best = s;
            arg = k as u8;
        }
    }
    arg
}

/// Guards the decoder against NaN or infinite scores from a corrupt model.
#[inline]
fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// Errors loading or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not an NER model file (bad magic bytes)")]
    BadMagic,
    #[error("NER model format version {found} is not supported (expected {expected})")]
    UnsupportedFormat { found: u32, expected: u32 },
    #[error("NER model was trained with feature schema {found}, this build extracts schema {expected}; retrain the model")]
    SchemaMismatch { found: u32, expected: u32 },
    #[error("NER model file is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    #[error("NER model I/O on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no NER model is embedded in this build (data/ner_model.bin is empty); train one")]
    NotEmbedded,
}

/// Feature hash -> row of 34 quantised weights, open addressing with linear probing.
#[derive(Clone, PartialEq)]
struct FeatureTable {
    mask: usize,
    /// (key, row) per slot, key 0 = empty (feature keys are never 0); key and row side by
    /// side so a probe touches one cache line.
    slots: Vec<(u64, u32)>,
    /// The keys in file order (row `r` has key `keys[r]`), for saving.
    keys: Vec<u64>,
    weights: Vec<i16>,
}

impl FeatureTable {
    fn new(keys: Vec<u64>, weights: Vec<i16>) -> Result<FeatureTable, ModelError> {
        if weights.len() != keys.len() * ROW {
            return Err(ModelError::Corrupt(
                "weight count does not match feature count",
            ));
        }
        let capacity = (keys.len() * 2).max(16).next_power_of_two();
        let mask = capacity - 1;
        let mut slots = vec![(0u64, 0u32); capacity];
        for (row, &key) in keys.iter().enumerate() {
            if key == 0 {
                return Err(ModelError::Corrupt("zero feature key"));
            }
            let mut slot = key as usize & mask;
            loop {
                if slots[slot].0 == 0 {
                    slots[slot] = (key, row as u32);
                    break;
                }
                if slots[slot].0 == key {
                    return Err(ModelError::Corrupt("duplicate feature key"));
                }
                slot = (slot + 1) & mask;
            }
        }
        Ok(FeatureTable {
            mask,
            slots,
            keys,
            weights,
        })
    }

    #[inline]
    fn row(&self, key: u64) -> Option<&[i16]> {
        let mut slot = key as usize & self.mask;
        loop {
            let (k, row) = self.slots[slot];
            if k == key {
                let start = row as usize * ROW;
                return self.weights.get(start..start + ROW);
            }
            if k == 0 {
                return None;
            }
            slot = (slot + 1) & self.mask;
        }
    }
}

/// The two-pass NER tagger. Cheap to share (`&self` everywhere); load once.
#[derive(Clone, PartialEq)]
pub struct NerModel {
    table: FeatureTable,
    /// Dequantisation factor of each pass's weights.
    scales: [f32; 2],
    transitions: [Transitions; 2],
    /// Margin at which confidence reaches 0.5.
    confidence_scale: f32,
    /// Names seen in the training data.
    dictionary: EntityDictionary,
    /// `features::gazetteer_fingerprint()` of the build that trained the model.
    gazetteers: u64,
}

impl fmt::Debug for NerModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NerModel")
            .field("features", &self.table.keys.len())
            .field("scales", &self.scales)
            .finish_non_exhaustive()
    }
}

const EMBEDDED: &[u8] = include_bytes!("../../../data/ner_model.bin");

/// Per-pass weights of one feature before quantisation, as training produces them.
pub struct FeatureWeights {
    pub key: u64,
    pub stage1: Scores,
    pub stage2: Scores,
}

impl NerModel {
    /// The model committed at `data/ner_model.bin`, compiled into the binary.
    pub fn embedded() -> Result<NerModel, ModelError> {
        if EMBEDDED.is_empty() {
            return Err(ModelError::NotEmbedded);
        }
        NerModel::from_bytes(EMBEDDED)
    }

    /// The embedded model, parsed once per process and shared: what the engine should use.
    pub fn shared() -> Result<&'static NerModel, &'static ModelError> {
        static MODEL: OnceLock<Result<NerModel, ModelError>> = OnceLock::new();
        MODEL.get_or_init(NerModel::embedded).as_ref()
    }

    /// Builds a model from trained float weights: quantises each pass to `i16` with its own
    /// scale and drops features whose every quantised weight is below `min_weight` (in units
    /// of the largest weight of its pass).
    pub fn from_weights(
        features: &[FeatureWeights],
        transitions: [Transitions; 2],
        min_weight: f32,
        confidence_scale: f32,
        dictionary: EntityDictionary,
    ) -> Result<NerModel, ModelError> {
        let max_abs = |f: fn(&FeatureWeights) -> &Scores| {
            features
                .iter()
                .flat_map(|w| f(w).iter())
                .fold(0f32, |m, &x| m.max(x.abs()))
        };
        let max1 = max_abs(|w| &w.stage1).max(f32::MIN_POSITIVE);
        let max2 = max_abs(|w| &w.stage2).max(f32::MIN_POSITIVE);
        let scales = [max1 / 32767.0, max2 / 32767.0];
        let threshold = [max1 * min_weight, max2 * min_weight];
        let mut keys = Vec::new();
        let mut weights = Vec::new();
        for f in features {
            let keep = f.stage1.iter().any(|x| x.abs() >= threshold[0])
                || f.stage2.iter().any(|x| x.abs() >= threshold[1]);
            if !keep || f.key == 0 {
                continue;
            }
            keys.push(f.key);
            for (stage, values) in [&f.stage1, &f.stage2].into_iter().enumerate() {
                for &x in values {
                    let q = (x / scales[stage]).round().clamp(-32767.0, 32767.0);
                    weights.push(q as i16);
                }
            }
        }
        Ok(NerModel {
            table: FeatureTable::new(keys, weights)?,
            scales,
            transitions,
            confidence_scale: confidence_scale.max(f32::MIN_POSITIVE),
            dictionary,
            gazetteers: gazetteer_fingerprint(),
        })
    }

    /// Number of features kept.
    pub fn feature_count(&self) -> usize {
        self.table.keys.len()
    }

    /// Whether the gazetteers compiled into this build are the ones the model was trained
    /// with. A mismatch is not an error (the model still works), but a sign to retrain.
    pub fn trained_with_current_gazetteers(&self) -> bool {
        self.gazetteers == gazetteer_fingerprint()
    }

    /// Serialises to the flat little-endian file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.table.keys.len();
        let mut out = Vec::with_capacity(64 + n * (8 + ROW * 2) + 2 * 4 * N_TAGS * (N_TAGS + 2));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
        out.extend_from_slice(&self.gazetteers.to_le_bytes());
        out.extend_from_slice(&(N_TAGS as u32).to_le_bytes());
        out.extend_from_slice(&self.confidence_scale.to_le_bytes());
        for stage in 0..2 {
            out.extend_from_slice(&self.scales[stage].to_le_bytes());
            let t = &self.transitions[stage];
            for x in t.start.iter().chain(&t.end).chain(t.pair.iter().flatten()) {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for key in &self.table.keys {
            out.extend_from_slice(&key.to_le_bytes());
        }
        // Sparse rows: most features only ever got updates for a few tags (4.7 non-zero
        // weights of 34 on average), so a count per row, then (column, weight) pairs stored
        // column-wise: all columns, then all weights.
        let nonzero = |row: &[i16]| row.iter().filter(|&&w| w != 0).count();
        for row in self.table.weights.chunks_exact(ROW) {
            out.push(nonzero(row) as u8);
        }
        for row in self.table.weights.chunks_exact(ROW) {
            for (col, &w) in row.iter().enumerate() {
                if w != 0 {
                    out.push(col as u8);
                }
            }
        }
        for &w in self.table.weights.iter().filter(|&&w| w != 0) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let entries = self.dictionary.entries();
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.dictionary.max_tokens() as u32).to_le_bytes());
        for (hash, _) in &entries {
            out.extend_from_slice(&hash.to_le_bytes());
        }
        out.extend(entries.iter().map(|(_, mask)| *mask));
        out
    }

    /// Parses the file format; every length is checked, nothing panics on bad input.
    pub fn from_bytes(bytes: &[u8]) -> Result<NerModel, ModelError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let format = r.u32()?;
        if format != FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormat {
                found: format,
                expected: FORMAT_VERSION,
            });
        }
        let schema = r.u32()?;
        if schema != SCHEMA_VERSION {
            return Err(ModelError::SchemaMismatch {
                found: schema,
                expected: SCHEMA_VERSION,
            });
        }
        let gazetteers = r.u64()?;
        if r.u32()? as usize != N_TAGS {
            return Err(ModelError::Corrupt("unexpected tag count"));
        }
        let confidence_scale = r.f32()?;
        let mut scales = [0f32; 2];
        let mut transitions = [Transitions::default(), Transitions::default()];
        for stage in 0..2 {
            scales[stage] = r.f32()?;
            let t = &mut transitions[stage];
            for x in t
                .start
                .iter_mut()
                .chain(t.end.iter_mut())
                .chain(t.pair.iter_mut().flatten())
            {
                *x = r.f32()?;
            }
        }
        let n = r.u32()? as usize;
        let key_bytes = r.take(
            n.checked_mul(8)
                .ok_or(ModelError::Corrupt("feature count"))?,
        )?;
        let keys: Vec<u64> = key_bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let counts = r.take(n)?;
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let cols = r.take(total)?;
        let values = r.take(
            total
                .checked_mul(2)
                .ok_or(ModelError::Corrupt("weight count"))?,
        )?;
        let mut weights = vec![0i16; n * ROW];
        let mut entry = 0;
        for (row, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                let col = cols[entry] as usize;
                if col >= ROW {
                    return Err(ModelError::Corrupt("weight column out of range"));
                }
                weights[row * ROW + col] =
                    i16::from_le_bytes([values[2 * entry], values[2 * entry + 1]]);
                entry += 1;
            }
        }
        let entries = r.u32()? as usize;
        let max_tokens = r.u32()? as usize;
        let hashes = r.take(
            entries
                .checked_mul(8)
                .ok_or(ModelError::Corrupt("dictionary size"))?,
        )?;
        let masks = r.take(entries)?;
        let dictionary = EntityDictionary::from_entries(
            hashes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .zip(masks.iter().copied()),
            max_tokens,
        );
        if r.pos != bytes.len() {
            return Err(ModelError::Corrupt("trailing bytes"));
        }
        if !(confidence_scale.is_finite() && scales.iter().all(|s| s.is_finite())) {
            return Err(ModelError::Corrupt("non-finite scale"));
        }
        Ok(NerModel {
            table: FeatureTable::new(keys, weights)?,
            scales,
            transitions,
            confidence_scale,
            dictionary,
            gazetteers,
        })
    }

    pub fn load(path: &Path) -> Result<NerModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        NerModel::from_bytes(&bytes)
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Tags a document (its sentences, each a list of tokens as written) with BIO tags.
    /// Passing the whole article rather than one sentence at a time lets the second pass use
    /// the document-level evidence.
    pub fn tag_document<S: AsRef<str>>(&self, sentences: &[Vec<S>]) -> Vec<Vec<Tag>> {
        let (tags, _) = self.decode_document(sentences, false);
        split_like(sentences, tags.iter().map(|&t| bilou_to_bio(t)))
    }

    /// Like `tag_document`, with a confidence per token.
    pub fn tag_document_scored<S: AsRef<str>>(&self, sentences: &[Vec<S>]) -> Vec<Vec<ScoredTag>> {
        let (tags, margins) = self.decode_document(sentences, true);
        let scored = tags.iter().zip(margins).map(|(&t, margin)| ScoredTag {
            tag: bilou_to_bio(t),
            confidence: self.confidence(margin),
        });
        split_like(sentences, scored)
    }

    /// BILOU tag indices for the whole document (flattened), and the second pass's margins
    /// when asked for.
    pub fn decode_document<S: AsRef<str>>(
        &self,
        sentences: &[Vec<S>],
        with_margins: bool,
    ) -> (Vec<u8>, Vec<f32>) {
        let doc = DocumentTokens::new(sentences, Gazetteers::embedded());
        let n = doc.len();
        let mut keys = Vec::new();
        let mut offsets = Vec::new();
        doc.local_features(&self.dictionary, &mut keys, &mut offsets);
        let mut stage1 = vec![[0f32; N_TAGS]; n];
        let mut stage2 = vec![[0f32; N_TAGS]; n];
        for t in 0..n {
            let mut acc = [0i32; ROW];
            for &key in &keys[offsets[t]..offsets[t + 1]] {
                if let Some(row) = self.table.row(key) {
                    for (a, &w) in acc.iter_mut().zip(row) {
                        *a += i32::from(w);
                    }
                }
            }
            for j in 0..N_TAGS {
                stage1[t][j] = acc[j] as f32 * self.scales[0];
                stage2[t][j] = acc[N_TAGS + j] as f32 * self.scales[1];
            }
        }

        let mut decoder = Decoder::default();
        let mut first = vec![0u8; n];
        let mut first_margin = vec![0f32; n];
        let mut path = Vec::new();
        let mut margins = Vec::new();
        for s in 0..doc.sentence_count() {
            let (a, b) = (doc.sentence_starts[s], doc.sentence_starts[s + 1]);
            decoder.decode(
                &stage1[a..b],
                &self.transitions[0],
                &mut path,
                Some(&mut margins),
            );
            first[a..b].copy_from_slice(&path);
            first_margin[a..b].copy_from_slice(&margins);
        }
        let confidence: Vec<f32> = first_margin.iter().map(|&m| self.confidence(m)).collect();

        doc.nonlocal_features(&first, &confidence, &mut keys, &mut offsets);
        for t in 0..n {
            let mut acc = [0i32; N_TAGS];
            for &key in &keys[offsets[t]..offsets[t + 1]] {
                if let Some(row) = self.table.row(key) {
                    for (a, &w) in acc.iter_mut().zip(&row[N_TAGS..]) {
                        *a += i32::from(w);
                    }
                }
            }
            for j in 0..N_TAGS {
                stage2[t][j] += acc[j] as f32 * self.scales[1];
            }
        }
        let mut out = vec![0u8; n];
        let mut out_margins = if with_margins {
            vec![0f32; n]
        } else {
            Vec::new()
        };
        for s in 0..doc.sentence_count() {
            let (a, b) = (doc.sentence_starts[s], doc.sentence_starts[s + 1]);
            if with_margins {
                decoder.decode(
                    &stage2[a..b],
                    &self.transitions[1],
                    &mut path,
                    Some(&mut margins),
                );
                out_margins[a..b].copy_from_slice(&margins);
            } else {
                decoder.decode(&stage2[a..b], &self.transitions[1], &mut path, None);
            }
            out[a..b].copy_from_slice(&path);
        }
        (out, out_margins)
    }

    fn confidence(&self, margin: f32) -> f32 {
        let x = margin / self.confidence_scale;
        if x.is_finite() {
            x / (1.0 + x)
        } else {
            1.0
        }
    }
}

/// Splits a flat per-token sequence back into the sentences' shape.
fn split_like<S, T>(sentences: &[Vec<S>], flat: impl IntoIterator<Item = T>) -> Vec<Vec<T>> {
    let mut flat = flat.into_iter();
    sentences
        .iter()
        .map(|s| flat.by_ref().take(s.len()).collect())
        .collect()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ModelError::Corrupt("unexpected end of file"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, ModelError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::features::{feature_key, hash_bytes, Template};
    use super::*;

    /// A tiny hand-made model: capitalised words are single-token persons.
    fn toy_model() -> NerModel {
        let u_per = tag_index(EntityLabel::Per, Position::U) as usize;
        let mut cap = FeatureWeights {
            key: feature_key(Template::Word, hash_bytes(b"Smith")),
            stage1: [0.0; N_TAGS],
            stage2: [0.0; N_TAGS],
        };
        cap.stage1[u_per] = 2.0;
        cap.stage2[u_per] = 2.0;
        let mut bias = FeatureWeights {
            key: feature_key(Template::Bias, 0),
            stage1: [0.0; N_TAGS],
            stage2: [0.0; N_TAGS],
        };
        bias.stage1[0] = 1.0;
        bias.stage2[0] = 1.0;
        let mut dictionary = EntityDictionary::new();
        dictionary.add(&["Bonn"], 2);
        NerModel::from_weights(
            &[cap, bias],
            [Transitions::default(), Transitions::default()],
            0.0,
            1.0,
            dictionary,
        )
        .expect("toy model")
    }

    #[test]
    fn tag_indices_round_trip() {
        assert_eq!(tag_parts(0), None);
        for label in EntityLabel::ALL {
            for pos in [Position::B, Position::I, Position::L, Position::U] {
                let idx = tag_index(label, pos);
                assert!((idx as usize) < N_TAGS);
                assert_eq!(tag_parts(idx), Some((label, pos)));
            }
        }
        assert_eq!(tag_parts(200), None);
    }

    #[test]
    fn decoder_only_produces_legal_sequences() {
        // Emissions that favour an illegal I-PER after O.
        let i_per = tag_index(EntityLabel::Per, Position::I) as usize;
        let mut e = vec![[0f32; N_TAGS]; 3];
        e[1][i_per] = 10.0;
        let mut path = Vec::new();
        let mut margins = Vec::new();
        Decoder::default().decode(&e, &Transitions::default(), &mut path, Some(&mut margins));
        assert_eq!(path.len(), 3);
        let mut prev = None;
        for &t in &path {
            assert!(allowed(prev, t));
            prev = Some(t);
        }
        assert!(allowed_end(path[2]));
        assert_eq!(margins.len(), 3);
        assert!(margins.iter().all(|m| *m >= 0.0));
    }

    /// Pseudo-random scores for the brute-force check.
    fn noise(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    }

    #[test]
    fn viterbi_and_margins_match_brute_force() {
        let mut seed = 7u64;
        let mut trans = Transitions::default();
        for x in trans
            .start
            .iter_mut()
            .chain(trans.end.iter_mut())
            .chain(trans.pair.iter_mut().flatten())
        {
            *x = noise(&mut seed);
        }
        let n = 4;
        let emissions: Vec<Scores> = (0..n)
            .map(|_| std::array::from_fn(|_| noise(&mut seed)))
            .collect();
        // Enumerate every legal sequence: best score overall and per (position, tag).
        let mut best = f32::NEG_INFINITY;
        let mut best_seq = vec![0u8; n];
        let mut max_marginal = vec![[f32::NEG_INFINITY; N_TAGS]; n];
        let total = N_TAGS.pow(n as u32);
        for code in 0..total {
            let seq: Vec<u8> = (0..n)
                .map(|i| ((code / N_TAGS.pow(i as u32)) % N_TAGS) as u8)
                .collect();
            let mut prev = None;
            let mut score = 0.0;
            let mut ok = true;
            for (i, &t) in seq.iter().enumerate() {
                ok &= allowed(prev, t);
                score += emissions[i][t as usize]
                    + match prev {
                        None => trans.start[t as usize],
                        Some(p) => trans.pair[p as usize][t as usize],
                    };
                prev = Some(t);
            }
            ok &= allowed_end(seq[n - 1]);
            if !ok {
                continue;
            }
            score += trans.end[seq[n - 1] as usize];
            if score > best {
                best = score;
                best_seq = seq.clone();
            }
            for (i, &t) in seq.iter().enumerate() {
                let m = &mut max_marginal[i][t as usize];
                *m = m.max(score);
            }
        }
        let mut path = Vec::new();
        let mut margins = Vec::new();
        Decoder::default().decode(&emissions, &trans, &mut path, Some(&mut margins));
        assert_eq!(path, best_seq);
        for i in 0..n {
            let chosen = path[i] as usize;
            let runner_up = (0..N_TAGS)
                .filter(|&t| t != chosen)
                .map(|t| max_marginal[i][t])
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(
                (margins[i] - (best - runner_up)).abs() < 1e-3,
                "position {i}"
            );
        }
    }

    #[test]
    fn embedded_model_tags_news() {
        let model = match NerModel::embedded() {
            Ok(model) => model,
            // A build without a trained model (bootstrapping) has nothing to check.
            Err(ModelError::NotEmbedded) => return,
            Err(e) => panic!("embedded model does not load: {e}"),
        };
        let doc = vec![
            vec![
                "Peter",
                "Blackburn",
                "said",
                "the",
                "European",
                "Commission",
                "met",
                "in",
                "Brussels",
                ".",
            ],
            vec!["Blackburn", "left", "for", "Germany", "on", "Monday", "."],
        ];
        let tags = model.tag_document(&doc);
        let per = EntityLabel::Per;
        assert_eq!(&tags[0][..2], &[Tag::B(per), Tag::I(per)]);
        assert_eq!(tags[0][5].label(), Some(EntityLabel::Org));
        assert_eq!(tags[0][8], Tag::B(EntityLabel::Loc));
        assert_eq!(tags[1][0], Tag::B(per));
        assert_eq!(tags[1][3], Tag::B(EntityLabel::Loc));
        assert_eq!(tags[1][5], Tag::O);
    }

    #[test]
    fn toy_model_tags_and_round_trips() {
        let model = toy_model();
        let doc = vec![vec!["Mr", "Smith", "left"], vec![], vec!["Smith"]];
        let tags = model.tag_document(&doc);
        assert_eq!(tags[0], vec![Tag::O, Tag::B(EntityLabel::Per), Tag::O]);
        assert!(tags[1].is_empty());
        assert_eq!(tags[2], vec![Tag::B(EntityLabel::Per)]);
        let bytes = model.to_bytes();
        let loaded = NerModel::from_bytes(&bytes).expect("load");
        assert!(loaded == model);
        assert!(loaded.trained_with_current_gazetteers());
        assert_eq!(loaded.tag_document(&doc), tags);
        let scored = loaded.tag_document_scored(&doc);
        let found = spans(&scored[0]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (1, 2));
        assert!(found[0].confidence > 0.0 && found[0].confidence <= 1.0);
    }

    #[test]
    fn corrupt_files_are_errors_not_panics() {
        let bytes = toy_model().to_bytes();
        for cut in [0, 4, 8, 20, bytes.len() - 1] {
            assert!(NerModel::from_bytes(&bytes[..cut]).is_err());
        }
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(
            NerModel::from_bytes(&bad),
            Err(ModelError::BadMagic)
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(NerModel::from_bytes(&longer).is_err());
        // Any single corrupted byte either fails to load or loads a model that still tags.
        let doc = vec![vec!["Mr", "Smith", "left"]];
        for i in 0..bytes.len() {
            for value in [0x00, 0xFF, 0x7F] {
                let mut bad = bytes.clone();
                bad[i] = value;
                if let Ok(model) = NerModel::from_bytes(&bad) {
                    assert_eq!(model.tag_document(&doc)[0].len(), 3);
                }
            }
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let model = toy_model();
        let long = "Ж".repeat(50_000);
        let doc = vec![
            vec!["", "\u{0}", "🦀🦀", long.as_str(), "\u{202e}x"],
            vec![],
        ];
        let tags = model.tag_document(&doc);
        assert_eq!(tags[0].len(), 5);
        let empty: Vec<Vec<&str>> = Vec::new();
        assert!(model.tag_document(&empty).is_empty());
    }

    #[test]
    fn spans_group_bio_tags() {
        let s = |tag| ScoredTag {
            tag,
            confidence: 0.9,
        };
        let per = EntityLabel::Per;
        let loc = EntityLabel::Loc;
        let tags = [
            s(Tag::B(per)),
            s(Tag::I(per)),
            s(Tag::B(per)),
            s(Tag::I(loc)),
            s(Tag::O),
        ];
        let found = spans(&tags);
        let bounds: Vec<_> = found.iter().map(|e| (e.start, e.end, e.label)).collect();
        assert_eq!(bounds, vec![(0, 2, per), (2, 3, per), (3, 4, loc)]);
    }
}
