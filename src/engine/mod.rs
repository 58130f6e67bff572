//! The analysis engine: article text in, [`Analysis`] out.
//!
//! Pure and synchronous on purpose: no tokio, no gRPC, no proto types. The server runs it on a
//! blocking pool and converts its output once (`crate::convert`), so the same engine serves the
//! CLI, the benchmarks and the RPCs.
//!
//! Stages, one module each, run in this order by [`Engine::analyze`]:
//! - [`text`]: tokens with byte offsets, sentences, paragraphs;
//! - [`ner`]: proper-name mentions with coarse and fine types;
//! - [`resolve`]: mentions grouped into entities (surnames, titles, role nominals, pronouns);
//! - [`time`]: dates, durations and other temporal/numeric expressions, normalised TIMEX3-style;
//! - [`quotes`]: direct, partial and indirect quotes with their speakers and sources;
//! - [`events`]: CAMEO-coded events with actors, time and place.
//!
//! Every span is a byte range into either the title or the body (see [`Span`]); converting to
//! UTF-16 or code-point offsets is the caller's job.

pub mod data;
pub mod events;
pub mod ner;
pub mod quotes;
pub mod resolve;
pub mod text;
pub mod time;

/// Bumped whenever the engine's output for the same input may change; stored analyses made by an
/// older version are recomputed on demand.
pub const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+rules.1");

/// Which part of the article a span points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Title,
    Body,
}

/// A half-open byte range `[start, end)` into one field of the article, always on UTF-8
/// character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub field: Field,
    pub start: usize,
    pub end: usize,
}

/// A calendar date (used for the publication date that relative time expressions resolve
/// against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// What the engine reads. `title` may be empty; `body` is the article text.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// Publication date, if known; without it years stay unknown (`XXXX-03-11`).
    pub published: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    Person,
    Organization,
    /// Geo-political entity: countries, cities, states (things with a government).
    Gpe,
    /// Non-GPE places: rivers, regions, mountains.
    Location,
    /// Nationalities, religious and political groups (Ukrainian, Americans).
    Norp,
    Facility,
    Event,
    Product,
    Law,
    WorkOfArt,
    Misc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MentionKind {
    /// A name: "Donald Trump", "Trump". Its span covers the name only, never a title before it.
    Proper,
    /// A description: "the US president", "the politician".
    Nominal,
    /// "he", "she", "they".
    Pronoun,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub text: String,
    pub span: Span,
    pub kind: MentionKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Stable within one analysis: "e1", "e2", ...
    pub id: String,
    /// The fullest proper name seen ("Donald Trump", not "Trump").
    pub name: String,
    pub entity_type: EntityType,
    pub mentions: Vec<Mention>,
    /// 0..=1, from mention count, position and role.
    pub salience: f32,
    /// Titles and roles attached to the entity ("US President", "Secretary of State").
    pub titles: Vec<String>,
    /// ISO 3166 alpha-3 country this entity belongs to or stands for (Kyiv -> UKR), if known.
    pub country_code: Option<String>,
    /// CAMEO actor code (USA, USAGOV, UKRMIL), if the entity can act in events.
    pub actor_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteKind {
    /// A full quotation in quotation marks.
    Direct,
    /// A quoted fragment inside reported speech: warned of "devastating" sanctions.
    Partial,
    /// Reported speech without quotation marks: X said that ...
    Indirect,
}

/// Who a quote is attributed to: an entity, and the mention that names the speaker at the cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Speaker {
    pub entity_id: String,
    /// The entity's canonical name.
    pub name: String,
    /// The mention at the cue ("he", "the US president", "Rubio"), when there is one.
    pub mention_span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// "q1", "q2", ...
    pub id: String,
    /// The quoted words without the quotation marks.
    pub text: String,
    pub span: Span,
    pub kind: QuoteKind,
    /// None when the article does not say who spoke: an empty speaker beats a wrong one.
    pub speaker: Option<Speaker>,
    /// The reporting verb ("said", "told", "stressed"), if any.
    pub cue: Option<String>,
    /// The outlet that relays the quote ("Sky News" for "According to Sky News, ...").
    pub source: Option<String>,
    pub confidence: f32,
}

/// An actor in an event: an entity (when resolved) and its CAMEO code.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub entity_id: Option<String>,
    pub name: String,
    /// CAMEO actor code starting with the ISO alpha-3 country: USA, USAGOV, RUS, UKRMIL.
    pub code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// Reported as having happened or happening.
    Asserted,
    /// "did not agree".
    Negated,
    /// "if negotiations fail".
    Hypothetical,
    /// "would agree", "hopes that Russia will", "plans to".
    Intended,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub entity_id: Option<String>,
    pub name: String,
    pub country_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalKind {
    Date,
    Time,
    Duration,
    Set,
    Money,
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Temporal {
    pub text: String,
    pub span: Span,
    pub kind: TemporalKind,
    /// TIMEX3-style value: 2025-03-11, XXXX-03-11, P30D, P1M; for money "USD 4000000", for
    /// percentages "12.5%".
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// "v1", "v2", ...
    pub id: String,
    /// Full CAMEO event code: "036", "1312", "04".
    pub code: String,
    /// Its two-digit root: "03".
    pub root_code: String,
    /// 1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict.
    pub quad_class: u8,
    /// Goldstein scale value of the code, -10..=10.
    pub goldstein: f32,
    pub source: Option<Actor>,
    pub target: Option<Actor>,
    /// The words that triggered the event ("agreed to a ceasefire").
    pub trigger: String,
    pub trigger_span: Span,
    /// The sentence the event was read from.
    pub span: Span,
    /// The event's date, if the text gives one or it is reported as current.
    pub time: Option<Temporal>,
    pub location: Option<Place>,
    pub modality: Modality,
    /// The quote the event is stated in, if any.
    pub quote_id: Option<String>,
    pub confidence: f32,
}

/// An outlet or source the article cites ("According to Sky News", "The Guardian reported").
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    /// Canonical name of the source ("BBC").
    pub source: String,
    pub entity_id: Option<String>,
    /// The attribution phrase ("According to the Russian service of BBC").
    pub cue: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    /// BCP-47 code of the language the text was analysed as.
    pub language: String,
    pub entities: Vec<Entity>,
    pub quotes: Vec<Quote>,
    pub events: Vec<Event>,
    pub temporals: Vec<Temporal>,
    pub citations: Vec<Citation>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the embedded NER model is invalid: {0}")]
    Model(String),
    #[error("engine data file {file} is invalid at line {line}: {message}")]
    Data {
        file: &'static str,
        line: usize,
        message: String,
    },
}

/// The loaded engine: lexicons, gazetteers and models, shared read-only across threads.
pub struct Engine {
    data: data::EngineData,
    tagger: &'static ner::model::NerModel,
}

impl Engine {
    /// Loads the data embedded in the binary (`data/`).
    pub fn new() -> Result<Engine, EngineError> {
        Ok(Engine {
            data: data::EngineData::embedded()?,
            tagger: ner::model::NerModel::shared()
                .map_err(|e| EngineError::Model(e.to_string()))?,
        })
    }

    /// Analyses one article. Never panics, whatever the input.
    /// The proper-name mentions of a text: the rules, with the trained tagger filling their gaps.
    pub fn recognize_names(&self, text: &text::TextAnalysis<'_>) -> Vec<ner::NameMention> {
        let mut names = ner::recognize(&self.data, text);
        ner::statistical::refine(self.tagger, &self.data, text, &mut names);
        names
    }

    /// The loaded lexicons and gazetteers.
    pub fn data(&self) -> &data::EngineData {
        &self.data
    }

    pub fn analyze(&self, doc: &Document<'_>) -> Analysis {
        let text = text::TextAnalysis::new(doc.title, doc.body);
        let names = self.recognize_names(&text);
        let mut entities = resolve::resolve(&self.data, &text, &names);
        let temporals = time::extract(&text, doc.published);
        let (quotes, citations) = quotes::extract(&self.data, &text, &entities);
        let events = events::extract(
            &self.data,
            &text,
            &entities,
            &quotes,
            &temporals,
            doc.published,
        );
        resolve::score_salience(&mut entities, &text);
        Analysis {
            language: "en".to_string(),
            entities,
            quotes,
            events,
            temporals,
            citations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../seeds/000_be13e59bd146fa3f.txt");

    fn analyze(title: &str, body: &str) -> Analysis {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        let engine = ENGINE.get_or_init(|| Engine::new().expect("embedded data is valid"));
        engine.analyze(&Document {
            title,
            body,
            published: None,
        })
    }

    fn field_text<'a>(title: &'a str, body: &'a str, span: Span) -> Option<&'a str> {
        let text = match span.field {
            Field::Title => title,
            Field::Body => body,
        };
        text.get(span.start..span.end)
    }

    /// Every span is on character boundaries inside its field, and mention spans spell the
    /// mention text.
    fn assert_spans_valid(title: &str, body: &str, analysis: &Analysis) {
        for entity in &analysis.entities {
            for mention in &entity.mentions {
                assert_eq!(
                    field_text(title, body, mention.span),
                    Some(mention.text.as_str()),
                    "mention span of {mention:?}"
                );
            }
        }
        for quote in &analysis.quotes {
            assert!(
                field_text(title, body, quote.span).is_some(),
                "quote span {quote:?}"
            );
            if let Some(speaker) = &quote.speaker {
                if let Some(span) = speaker.mention_span {
                    assert!(field_text(title, body, span).is_some());
                }
            }
        }
        for event in &analysis.events {
            assert_eq!(
                field_text(title, body, event.trigger_span),
                Some(event.trigger.as_str())
            );
            assert!(field_text(title, body, event.span).is_some());
        }
        for temporal in &analysis.temporals {
            assert_eq!(
                field_text(title, body, temporal.span),
                Some(temporal.text.as_str())
            );
        }
        for citation in &analysis.citations {
            assert_eq!(
                field_text(title, body, citation.span),
                Some(citation.cue.as_str())
            );
        }
    }

    #[test]
    fn seed_spans_are_exact() {
        let (title, body) = SEED.trim_start().split_once('\n').unwrap_or(("", SEED));
        let analysis = analyze(title, body);
        assert!(analysis.entities.len() >= 18);
        assert_spans_valid(title, body, &analysis);
    }

    #[test]
    fn odd_unicode_never_panics_and_spans_stay_valid() {
        let samples = [
            "",
            "\"",
            "“",
            "’",
            "'",
            "«",
            "…",
            "(…)",
            "🙂",
            "e\u{301}\u{301}\u{301}",
            "Zoë 🙂 said: “",
            "\"\"\"''' “”“” ‘’",
            "US-",
            "-US",
            "U.S",
            "A.",
            "\n\n\n",
            "Trump: \"",
            "“Unclosed quote\n“continues",
            "Ελλάδα και Κύπρος «διαπραγματεύσεις»",
            "Кремль заявил: «Нет»",
            "العربية “نص” 😀👍🏽 ٣٠",
            "\u{200d}\u{fe0f}\u{feff}\u{0}",
            "March 31, 99999999999999999999 $ 1e999 %",
            "4294967295 decades ago, a 4294967295-decade plan, $99999999999999999999999 billion",
            "On Tuesday last Tuesday next month 31 February 2024 at 25:99 p.m.",
        ];
        for title in samples {
            for body in samples {
                let analysis = analyze(title, body);
                assert_spans_valid(title, body, &analysis);
            }
        }
    }

    #[test]
    fn generated_noise_never_panics() {
        // A small deterministic generator over characters that stress the tokenizer.
        let alphabet: Vec<char> = "aZ .,;:!?-—–'’‘\"“”«»()…\n🙂é\u{301}0123456789$%USTrumpKyiv"
            .chars()
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            let mut body = String::new();
            for _ in 0..120 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let k = (state % alphabet.len() as u64) as usize;
                if let Some(c) = alphabet.get(k) {
                    body.push(*c);
                }
            }
            let analysis = analyze("", &body);
            assert_spans_valid("", &body, &analysis);
        }
    }
}
