//! CoNLL-2003 files: reading them and scoring a tagger on them the way `conlleval` does.
//!
//! The file format: one token per line, columns separated by spaces, the NER tag in the last
//! column in IOB1 (`I-PER` everywhere, `B-PER` only where a PER directly follows another PER);
//! blank lines end sentences and `-DOCSTART-` lines start documents.
//!
//! Scoring follows `conlleval.pl` exactly: chunks are read from the tag sequences with its
//! start-of-chunk / end-of-chunk rules (which accept IOB1 and IOB2 alike), a predicted chunk is
//! correct only if its start, end and type all match a gold chunk, and precision, recall and
//! F1 are computed over chunks, overall and per type. Token accuracy compares the gold tags
//! with the predictions written in IOB1.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::features::Gazetteers;
use super::model::{NerModel, Tag};

/// Errors reading a CoNLL file.
#[derive(Debug, thiserror::Error)]
pub enum ConllError {
    #[error("cannot read CoNLL file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("CoNLL file {path}, line {line}: {message}")]
    Format {
        path: String,
        line: usize,
        message: &'static str,
    },
}

/// One sentence: tokens and their gold tags (as written in the file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sentence {
    pub tokens: Vec<String>,
    pub tags: Vec<String>,
}

/// One `-DOCSTART-` document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub sentences: Vec<Sentence>,
}

impl Document {
    /// The tokens as the tagger takes them.
    pub fn token_lists(&self) -> Vec<Vec<&str>> {
        self.sentences
            .iter()
            .map(|s| s.tokens.iter().map(String::as_str).collect())
            .collect()
    }

    pub fn token_count(&self) -> usize {
        self.sentences.iter().map(|s| s.tokens.len()).sum()
    }
}

/// Reads a CoNLL-2003 file into documents.
pub fn read_file(path: &Path) -> Result<Vec<Document>, ConllError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConllError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text).map_err(|(line, message)| ConllError::Format {
        path: path.display().to_string(),
        line,
        message,
    })
}

/// Parses CoNLL text; the error is (1-based line, message).
pub fn parse(text: &str) -> Result<Vec<Document>, (usize, &'static str)> {
    let mut docs: Vec<Document> = Vec::new();
    let mut sentence = Sentence::default();
    let flush = |docs: &mut Vec<Document>, sentence: &mut Sentence| {
        if !sentence.tokens.is_empty() {
            if docs.is_empty() {
                docs.push(Document::default());
            }
            if let Some(doc) = docs.last_mut() {
                doc.sentences.push(std::mem::take(sentence));
            }
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            flush(&mut docs, &mut sentence);
            continue;
        }
        let mut cols = line.split_whitespace();
        let Some(word) = cols.next() else { continue };
        if word == "-DOCSTART-" {
            flush(&mut docs, &mut sentence);
            docs.push(Document::default());
            continue;
        }
        let Some(tag) = cols.last() else {
            return Err((i + 1, "a token line needs at least a word and a tag"));
        };
        sentence.tokens.push(word.to_string());
        sentence.tags.push(tag.to_string());
    }
    flush(&mut docs, &mut sentence);
    docs.retain(|d| !d.sentences.is_empty());
    Ok(docs)
}

/// A chunk: tokens `start..end` of one sentence, with its type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// Splits "I-PER" into ("I", "PER") and "O" into ("O", "").
fn split_tag(tag: &str) -> (&str, &str) {
    match tag.split_once('-') {
        Some((prefix, label)) => (prefix, label),
        None => (tag, ""),
    }
}

/// conlleval's `endOfChunk`, rule for rule (B, I, E and O prefixes; brackets are not used in
/// NER data).
fn end_of_chunk(prev_tag: &str, tag: &str, prev_type: &str, typ: &str) -> bool {
    matches!(
        (prev_tag, tag),
        ("B", "B") | ("B", "O") | ("I", "B") | ("I", "O") | ("E", "E") | ("E", "I") | ("E", "O")
    ) || (prev_tag != "O" && prev_tag != "." && prev_type != typ)
}

/// conlleval's `startOfChunk`, rule for rule.
fn start_of_chunk(prev_tag: &str, tag: &str, prev_type: &str, typ: &str) -> bool {
    matches!(
        (prev_tag, tag),
        ("B", "B") | ("I", "B") | ("O", "B") | ("O", "I") | ("E", "E") | ("E", "I") | ("O", "E")
    ) || (tag != "O" && tag != "." && prev_type != typ)
}

/// The chunks of one sentence's tags by conlleval's rules (IOB1 or IOB2).
pub fn chunks<S: AsRef<str>>(tags: &[S]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let (mut prev_tag, mut prev_type) = ("O", "");
    for (i, tag) in tags.iter().enumerate() {
        let (t, typ) = split_tag(tag.as_ref());
        if open.is_some() && end_of_chunk(prev_tag, t, prev_type, typ) {
            if let Some((start, label)) = open.take() {
                out.push(Chunk {
                    start,
                    end: i,
                    label,
                });
            }
        }
        if start_of_chunk(prev_tag, t, prev_type, typ) {
            open = Some((i, typ.to_string()));
        }
        prev_tag = t;
        prev_type = typ;
    }
    if let Some((start, label)) = open {
        out.push(Chunk {
            start,
            end: tags.len(),
            label,
        });
    }
    out
}

/// BIO predictions written as IOB1 (B only between two adjacent chunks of one type), the form
/// of the gold tags, for token accuracy.
pub fn to_iob1(tags: &[Tag]) -> Vec<String> {
    let mut out = Vec::with_capacity(tags.len());
    let mut prev: Option<Tag> = None;
    for &tag in tags {
        let s = match tag {
            Tag::O => "O".to_string(),
            Tag::I(l) => format!("I-{l}"),
            Tag::B(l) => {
                if prev.and_then(Tag::label) == Some(l) {
                    format!("B-{l}")
                } else {
                    format!("I-{l}")
                }
            }
        };
        out.push(s);
        prev = Some(tag);
    }
    out
}

/// Chunk counts for one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    pub gold: usize,
    pub found: usize,
    pub correct: usize,
}

impl ChunkCounts {
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.found)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.gold)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, other: ChunkCounts) {
        self.gold += other.gold;
        self.found += other.found;
        self.correct += other.correct;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// conlleval-style scores of a tagger on a CoNLL file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalReport {
    pub tokens: usize,
    pub correct_tags: usize,
    pub overall: ChunkCounts,
    pub per_label: BTreeMap<String, ChunkCounts>,
    /// Time spent tagging (not reading the file).
    pub elapsed: Duration,
}

impl EvalReport {
    pub fn f1(&self) -> f64 {
        self.overall.f1()
    }

    pub fn accuracy(&self) -> f64 {
        ratio(self.correct_tags, self.tokens)
    }

    pub fn tokens_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.tokens as f64 / secs
        } else {
            0.0
        }
    }

    /// Adds one sentence's gold tags and predicted tags to the counts.
    pub fn add_sentence<S: AsRef<str>>(&mut self, gold: &[S], predicted: &[Tag]) {
        let predicted_iob1 = to_iob1(predicted);
        self.tokens += gold.len();
        self.correct_tags += gold
            .iter()
            .zip(&predicted_iob1)
            .filter(|(g, p)| g.as_ref() == p.as_str())
            .count();
        let gold_chunks = chunks(gold);
        let found_chunks = chunks(&predicted_iob1);
        for c in &gold_chunks {
            self.count(&c.label).gold += 1;
        }
        for c in &found_chunks {
            let entry = self.count(&c.label);
            entry.found += 1;
            if gold_chunks.contains(c) {
                entry.correct += 1;
            }
        }
        self.overall = self
            .per_label
            .values()
            .fold(ChunkCounts::default(), |mut acc, c| {
                acc.add(*c);
                acc
            });
    }

    fn count(&mut self, label: &str) -> &mut ChunkCounts {
        self.per_label.entry(label.to_string()).or_default()
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.overall;
        writeln!(
            f,
            "processed {} tokens with {} phrases; found: {} phrases; correct: {}.",
            self.tokens, o.gold, o.found, o.correct
        )?;
        writeln!(
            f,
            "accuracy: {:6.2}%; precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}",
            100.0 * self.accuracy(),
            100.0 * o.precision(),
            100.0 * o.recall(),
            100.0 * o.f1()
        )?;
        for (label, c) in &self.per_label {
            writeln!(
                f,
                "{:>17}: precision: {:6.2}%; recall: {:6.2}%; FB1: {:6.2}  {}",
                label,
                100.0 * c.precision(),
                100.0 * c.recall(),
                100.0 * c.f1(),
                c.found
            )?;
        }
        write!(
            f,
            "tagging: {} tokens in {:.3} s = {:.0} tokens/s (one thread)",
            self.tokens,
            self.elapsed.as_secs_f64(),
            self.tokens_per_second()
        )
    }
}

/// Tags every document of a CoNLL file with `model` and scores it.
pub fn evaluate(model: &NerModel, path: &Path) -> Result<EvalReport, ConllError> {
    let docs = read_file(path)?;
    Ok(evaluate_documents(model, &docs))
}

/// Scores `model` on parsed documents; only tagging is timed.
pub fn evaluate_documents(model: &NerModel, docs: &[Document]) -> EvalReport {
    let inputs: Vec<Vec<Vec<&str>>> = docs.iter().map(Document::token_lists).collect();
    // One-time set-up (parsing the gazetteers) is not tagging speed.
    Gazetteers::embedded();
    let started = Instant::now();
    let outputs: Vec<Vec<Vec<Tag>>> = inputs.iter().map(|d| model.tag_document(d)).collect();
    let elapsed = started.elapsed();
    let mut report = EvalReport::default();
    for (doc, predicted) in docs.iter().zip(&outputs) {
        for (sentence, tags) in doc.sentences.iter().zip(predicted) {
            report.add_sentence(&sentence.tags, tags);
        }
    }
    report.elapsed = elapsed;
    report
}

#[cfg(test)]
mod tests {
    use super::super::model::EntityLabel;
    use super::*;

    fn chunk(start: usize, end: usize, label: &str) -> Chunk {
        Chunk {
            start,
            end,
            label: label.to_string(),
        }
    }

    #[test]
    fn iob1_chunks_follow_conlleval() {
        let tags = [
            "I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "O", "I-MISC",
        ];
        assert_eq!(
            chunks(&tags),
            vec![
                chunk(0, 2, "PER"),
                chunk(2, 3, "PER"),
                chunk(4, 5, "LOC"),
                chunk(5, 6, "ORG"),
                chunk(7, 8, "MISC"),
            ]
        );
        // IOB2 input gives the same chunks.
        let iob2 = [
            "B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "O", "B-MISC",
        ];
        assert_eq!(chunks(&iob2), chunks(&tags));
        // conlleval starts a chunk at an I after O and at a type change.
        assert_eq!(
            chunks(&["O", "I-ORG", "I-LOC"]),
            vec![chunk(1, 2, "ORG"), chunk(2, 3, "LOC")]
        );
        assert!(chunks::<&str>(&[]).is_empty());
    }

    #[test]
    fn exact_span_scoring() {
        let per = EntityLabel::Per;
        let loc = EntityLabel::Loc;
        let mut report = EvalReport::default();
        // Gold: [Peter Blackburn]PER in [Brussels]LOC. Predicted: [Peter]PER [Blackburn]PER
        // (wrong span twice) and Brussels right.
        let gold = ["I-PER", "I-PER", "O", "I-LOC"];
        let predicted = [Tag::B(per), Tag::B(per), Tag::O, Tag::B(loc)];
        report.add_sentence(&gold, &predicted);
        assert_eq!(
            report.overall,
            ChunkCounts {
                gold: 2,
                found: 3,
                correct: 1
            }
        );
        assert_eq!(
            report.per_label["PER"],
            ChunkCounts {
                gold: 1,
                found: 2,
                correct: 0
            }
        );
        assert!((report.overall.precision() - 1.0 / 3.0).abs() < 1e-9);
        assert!((report.overall.recall() - 0.5).abs() < 1e-9);
        // Token accuracy uses IOB1: the second "Peter" is B-PER (follows a PER).
        assert_eq!(to_iob1(&predicted), vec!["I-PER", "B-PER", "O", "I-LOC"]);
        assert_eq!(report.correct_tags, 3);
        let shown = report.to_string();
        assert!(shown.contains("FB1"));
        assert!(shown.contains("PER"));
    }

    #[test]
    fn parses_documents_and_sentences() {
        let text = "-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\n\
                    Peter NNP I-NP I-PER\n\n-DOCSTART- -X- O O\n\nBonn NNP I-NP I-LOC\n";
        let docs = parse(text).expect("parse");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].sentences.len(), 2);
        assert_eq!(docs[0].sentences[0].tokens, vec!["EU", "rejects"]);
        assert_eq!(docs[0].sentences[0].tags, vec!["I-ORG", "O"]);
        assert_eq!(docs[1].token_count(), 1);
        assert!(parse("").expect("empty").is_empty());
        assert!(parse("lonely\n").is_err());
    }
}
