//! Scoring analyses against hand-annotated gold files (`NAME.gold.json`, the format of
//! `../shared/eval/`): entities, quotes with speakers, CAMEO events.
//!
//! The rules are those of the project's reference scorer (`../shared/tools/score.py`), ported
//! line for line so that `newsanalysis eval gold` and the scorer print the same numbers:
//! - an entity matches a gold entity of the same coarse type (PER/ORG/LOC/MISC) when its name or
//!   any mention form equals the gold name or one of its forms (normalised);
//! - a quote is found when the word-set overlap is at least 60% both ways; its speaker is right
//!   when the canonical name is a gold form or contains the gold surname;
//! - an event matches on root code and source/target country (meetings either way round; an
//!   empty gold actor matches anything); optional gold events neither reward nor punish.

use std::{collections::HashSet, fmt, path::PathBuf};

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::{
    analysis::analyze_inline,
    article::{read_article_file, ArticleLimits, ValidArticle},
    engine::Engine,
    proto::v1 as pb,
};

/// A gold annotation file.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldDocument {
    /// The article's file name, next to the gold file (or in a text directory).
    pub doc: String,
    /// RFC 3339 publication time, if the annotator knew it.
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub entities: Option<Vec<GoldEntity>>,
    #[serde(default)]
    pub quotes: Option<Vec<GoldQuote>>,
    #[serde(default)]
    pub events: Option<Vec<GoldEvent>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldEntity {
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    #[serde(default)]
    pub mentions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldQuote {
    pub text: String,
    /// Null when the article does not say who spoke.
    #[serde(default)]
    pub speaker: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldEvent {
    pub cameo_root: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a gold file: {source}")]
    Gold {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("article of {case}: {message}")]
    Article { case: String, message: String },
    #[error("the article {doc} of {gold} is in none of: {searched}")]
    MissingText {
        doc: String,
        gold: PathBuf,
        searched: String,
    },
}

/// A gold file with the article it annotates.
#[derive(Debug, Clone)]
pub struct GoldCase {
    /// `NAME` of `NAME.gold.json`.
    pub name: String,
    pub gold: GoldDocument,
    pub text_path: PathBuf,
}

/// Finds every `*.gold.json` in `gold_dirs` (sorted) and its article: next to the gold file,
/// or in one of `text_dirs`.
pub fn load_cases(
    gold_dirs: &[PathBuf],
    text_dirs: &[PathBuf],
) -> Result<Vec<GoldCase>, EvalError> {
    let mut cases = Vec::new();
    for dir in gold_dirs {
        let read_err = |source| EvalError::Read {
            path: dir.clone(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".gold.json"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| EvalError::Read {
                path: path.clone(),
                source,
            })?;
            let gold: GoldDocument =
                serde_json::from_str(&text).map_err(|source| EvalError::Gold {
                    path: path.clone(),
                    source,
                })?;
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = file_name.trim_end_matches(".gold.json").to_string();
            let candidates: Vec<PathBuf> = std::iter::once(dir)
                .chain(text_dirs)
                .map(|d| d.join(&gold.doc))
                .collect();
            let text_path = candidates
                .iter()
                .find(|p| p.is_file())
                .cloned()
                .ok_or_else(|| EvalError::MissingText {
                    doc: gold.doc.clone(),
                    gold: path.clone(),
                    searched: candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            cases.push(GoldCase {
                name,
                gold,
                text_path,
            });
        }
    }
    Ok(cases)
}

/// True positives, false positives, false negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores of one document or of a whole set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub entities: Counts,
    pub quotes: Counts,
    /// Found quotes whose speaker is right.
    pub speakers_right: usize,
    pub events: Counts,
}

impl Scores {
    pub fn speaker_accuracy(&self) -> f64 {
        ratio(self.speakers_right, self.quotes.tp)
    }

    /// A quote counts only when found with the right speaker.
    pub fn quote_speaker(&self) -> Counts {
        let wrong = self.quotes.tp - self.speakers_right;
        Counts {
            tp: self.speakers_right,
            fp: self.quotes.fp + wrong,
            fn_: self.quotes.fn_ + wrong,
        }
    }

    pub fn add(&mut self, other: &Scores) {
        self.entities.add(other.entities);
        self.quotes.add(other.quotes);
        self.speakers_right += other.speakers_right;
        self.events.add(other.events);
    }
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, name: &str, c: Counts| {
            writeln!(
                f,
                "{name:<15} precision {:.3}  recall {:.3}  F1 {:.3}  (tp {} fp {} fn {})",
                c.precision(),
                c.recall(),
                c.f1(),
                c.tp,
                c.fp,
                c.fn_
            )
        };
        row(f, "entities", self.entities)?;
        row(f, "quotes", self.quotes)?;
        writeln!(
            f,
            "{:<15} accuracy  {:.3}  ({} of {} found quotes)",
            "speakers",
            self.speaker_accuracy(),
            self.speakers_right,
            self.quotes.tp
        )?;
        row(f, "quote+speaker", self.quote_speaker())?;
        row(f, "events", self.events)
    }
}

/// Scores one analysis against its gold annotation.
pub fn score(gold: &GoldDocument, analysis: &pb::Analysis) -> Scores {
    let mut scores = Scores::default();
    if let Some(entities) = &gold.entities {
        scores.entities = score_entities(entities, analysis);
    }
    if let Some(quotes) = &gold.quotes {
        let (counts, right) = score_quotes(
            quotes,
            gold.entities.as_deref().unwrap_or_default(),
            analysis,
        );
        scores.quotes = counts;
        scores.speakers_right = right;
    }
    if let Some(events) = &gold.events {
        scores.events = score_events(events, analysis);
    }
    scores
}

/// The scorer's normalisation: NFKC, curly quotes straightened, whitespace collapsed, lower case.
fn norm(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    let straight = nfkc.replace(['’', '‘'], "'").replace(['“', '”'], "\"");
    straight
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Runs of `[a-z0-9']` in the normalised text.
fn words(s: &str) -> Vec<String> {
    norm(s)
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn coarse(gold_type: &str) -> &'static str {
    match gold_type {
        "PERSON" => "PER",
        "ORGANIZATION" => "ORG",
        "GPE" | "LOCATION" | "FACILITY" => "LOC",
        "NORP" | "EVENT" | "PRODUCT" | "WORK_OF_ART" | "LAW" | "MISC" => "MISC",
        _ => "?",
    }
}

fn score_entities(gold: &[GoldEntity], analysis: &pb::Analysis) -> Counts {
    let predicted: Vec<(String, &'static str, HashSet<String>)> = analysis
        .entities
        .iter()
        .map(|e| {
            let type_name = pb::EntityType::try_from(e.r#type)
                .map(|t| t.as_str_name().trim_start_matches("ENTITY_TYPE_"))
                .unwrap_or("?");
            let mut forms: HashSet<String> = e.mentions.iter().map(|m| norm(&m.text)).collect();
            forms.insert(norm(&e.name));
            (norm(&e.name), coarse(type_name), forms)
        })
        .collect();
    let mut used = vec![false; predicted.len()];
    let mut tp = 0;
    for g in gold {
        let mut forms: HashSet<String> = g.mentions.iter().map(|m| norm(m)).collect();
        forms.insert(norm(&g.name));
        let gold_type = coarse(&g.entity_type);
        let hit = predicted
            .iter()
            .enumerate()
            .position(|(i, (name, ptype, pforms))| {
                !used[i]
                    && *ptype == gold_type
                    && (forms.contains(name) || !pforms.is_disjoint(&forms))
            });
        if let Some(i) = hit {
            used[i] = true;
            tp += 1;
        }
    }
    let fp = predicted
        .iter()
        .zip(&used)
        .filter(|((_, ptype, _), used)| !**used && *ptype != "?")
        .count();
    Counts {
        tp,
        fp,
        fn_: gold.len() - tp,
    }
}

fn speaker_ok(gold_name: Option<&str>, gold_entities: &[GoldEntity], quote: &pb::Quote) -> bool {
    let name = norm(quote.speaker.as_ref().map_or("", |s| s.name.as_str()));
    let Some(gold_name) = gold_name.filter(|g| !g.is_empty()) else {
        return name.is_empty();
    };
    if name.is_empty() {
        return false;
    }
    let mut forms: HashSet<String> = HashSet::from([norm(gold_name)]);
    if let Some(entity) = gold_entities.iter().find(|e| e.name == gold_name) {
        forms.extend(entity.mentions.iter().map(|m| norm(m)));
    }
    let gold_norm = norm(gold_name);
    let surname = gold_norm.split(' ').next_back().unwrap_or_default();
    forms.contains(&name) || name.split(' ').any(|w| w == surname)
}

fn score_quotes(
    gold: &[GoldQuote],
    gold_entities: &[GoldEntity],
    analysis: &pb::Analysis,
) -> (Counts, usize) {
    let predicted_words: Vec<HashSet<String>> = analysis
        .quotes
        .iter()
        .map(|q| words(&q.text).into_iter().collect())
        .collect();
    let mut used = vec![false; predicted_words.len()];
    let (mut tp, mut right) = (0, 0);
    for g in gold {
        let gold_words: HashSet<String> = words(&g.text).into_iter().collect();
        let mut best: Option<(f64, usize)> = None;
        for (i, pw) in predicted_words.iter().enumerate() {
            if used[i] || pw.is_empty() || gold_words.is_empty() {
                continue;
            }
            let common = gold_words.intersection(pw).count() as f64;
            let overlap = (common / gold_words.len() as f64).min(common / pw.len() as f64);
            if best.is_none_or(|(b, _)| overlap > b) {
                best = Some((overlap, i));
            }
        }
        if let Some((overlap, i)) = best {
            if overlap >= 0.6 {
                used[i] = true;
                tp += 1;
                if speaker_ok(g.speaker.as_deref(), gold_entities, &analysis.quotes[i]) {
                    right += 1;
                }
            }
        }
    }
    let counts = Counts {
        tp,
        fp: analysis.quotes.len() - tp,
        fn_: gold.len() - tp,
    };
    (counts, right)
}

fn actor_country(actor: Option<&pb::Actor>) -> String {
    let code = actor.map_or("", |a| a.code.as_str());
    code.chars().take(3).collect::<String>().to_uppercase()
}

fn score_events(gold: &[GoldEvent], analysis: &pb::Analysis) -> Counts {
    let predicted: Vec<(String, String, String)> = analysis
        .events
        .iter()
        .map(|e| {
            let root = if e.root_code.is_empty() {
                e.code.chars().take(2).collect()
            } else {
                e.root_code.clone()
            };
            (
                format!("{root:0>2}"),
                actor_country(e.source.as_ref()),
                actor_country(e.target.as_ref()),
            )
        })
        .collect();
    let same = |gold: &str, predicted: &str| gold.is_empty() || gold == predicted;
    let matches = |g: &GoldEvent, (root, source, target): &(String, String, String)| {
        if g.cameo_root != *root {
            return false;
        }
        let swapped = g.cameo_root == "04" && same(&g.source, target) && same(&g.target, source);
        swapped || (same(&g.source, source) && same(&g.target, target))
    };
    let mut used = vec![false; predicted.len()];
    let (mut tp, mut fn_) = (0, 0);
    for g in gold {
        let hit = (0..predicted.len()).find(|&i| !used[i] && matches(g, &predicted[i]));
        match hit {
            Some(i) => {
                used[i] = true;
                if !g.optional {
                    tp += 1;
                }
            }
            None if !g.optional => fn_ += 1,
            None => {}
        }
    }
    Counts {
        tp,
        fp: used.iter().filter(|u| !**u).count(),
        fn_,
    }
}

/// The publication date of a gold file as a proto timestamp, if it has a valid one.
pub fn published_at(gold: &GoldDocument) -> Option<pbjson_types::Timestamp> {
    let text = gold.published_at.as_deref()?;
    let when = chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(&format!("{text}T00:00:00Z")).ok())?;
    Some(pbjson_types::Timestamp {
        seconds: when.timestamp(),
        nanos: 0,
    })
}

/// Analyses a case's article as the service would: the file read as the CLI reads it, the id
/// set to the case name, the publication date from the gold file, offsets in code points.
pub fn analyze_case(engine: &Engine, case: &GoldCase) -> Result<pb::Analysis, EvalError> {
    let mut article = read_article_file(&case.text_path).map_err(|source| EvalError::Article {
        case: case.name.clone(),
        message: source.to_string(),
    })?;
    article.id = case.name.clone();
    article.published_at = published_at(&case.gold);
    let valid = ValidArticle::parse(article, &ArticleLimits::default()).map_err(|source| {
        EvalError::Article {
            case: case.name.clone(),
            message: source.to_string(),
        }
    })?;
    Ok(analyze_inline(engine, valid, pb::EncodingType::Utf32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(text: &str, speaker: &str) -> pb::Quote {
        pb::Quote {
            text: text.into(),
            speaker: (!speaker.is_empty()).then(|| pb::Speaker {
                name: speaker.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn normalisation_matches_the_reference_scorer() {
        assert_eq!(norm("  “Don’t”\n\tstop "), "\"don't\" stop");
        assert_eq!(
            words("Ukraine’s 30-day (…) ceasefire"),
            ["ukraine's", "30", "day", "ceasefire"]
        );
    }

    #[test]
    fn quotes_need_sixty_percent_overlap_both_ways_and_speakers_match_by_surname() {
        let gold = vec![
            GoldQuote {
                text: "We have people going to Russia right now".into(),
                speaker: Some("Donald Trump".into()),
            },
            GoldQuote {
                text: "sufficient deterrence against future attacks".into(),
                speaker: Some("Marco Rubio".into()),
            },
        ];
        let analysis = pb::Analysis {
            quotes: vec![
                quote(
                    "We have people going to Russia right now, and more",
                    "President Trump",
                ),
                quote("deterrence", "Marco Rubio"),
            ],
            ..Default::default()
        };
        let (counts, right) = score_quotes(&gold, &[], &analysis);
        assert_eq!(
            counts,
            Counts {
                tp: 1,
                fp: 1,
                fn_: 1
            }
        );
        assert_eq!(right, 1);
    }

    #[test]
    fn meetings_match_either_way_round_and_optional_events_are_neutral() {
        let gold = vec![
            GoldEvent {
                cameo_root: "04".into(),
                source: "UKR".into(),
                target: "USA".into(),
                optional: false,
            },
            GoldEvent {
                cameo_root: "02".into(),
                source: "USA".into(),
                target: "RUS".into(),
                optional: true,
            },
        ];
        let event = |code: &str, s: &str, t: &str| pb::Event {
            code: code.into(),
            root_code: code[..2].into(),
            source: Some(pb::Actor {
                code: s.into(),
                ..Default::default()
            }),
            target: Some(pb::Actor {
                code: t.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let analysis = pb::Analysis {
            events: vec![event("040", "USAGOV", "UKR"), event("020", "USA", "RUS")],
            ..Default::default()
        };
        assert_eq!(
            score_events(&gold, &analysis),
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
    }
}
