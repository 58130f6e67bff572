//! Proper-name mentions: gazetteer lookup plus capitalised-sequence rules.
//!
//! This is the rule-based first version (a statistical tagger comes later). It leans on how
//! English news writes names:
//! - names are capitalised, but so is the first word of every sentence, quotation and
//!   headline, so a capitalised word there counts only with other evidence (a gazetteer entry,
//!   a given name, the same word capitalised mid-sentence elsewhere in the article, or a second
//!   capitalised word after it);
//! - titles stand before names ("US President Donald Trump", "White House National Security
//!   Advisor Mike Waltz") and are not part of them: the title is recorded on the mention, and
//!   the country or organisation in front of the title ("US", "White House") is a mention of
//!   its own;
//! - after the first full mention a person is called by surname ("Trump"), so a single word
//!   that ends a person's full name elsewhere in the article is that person;
//! - an unknown single capitalised word is only trusted when its context says what it is
//!   ("in Jeddah", "Peskov said"): an empty answer beats a wrong type.

pub mod conll;
pub mod features;
pub mod model;
pub mod statistical;
pub mod train;

use std::collections::HashSet;

use super::data::{EngineData, HeadType, KnownKind, NameSense, ReportingKind, TitleInfo};
use super::text::{is_capitalised, lookup_form, TextAnalysis, TokenKind};
use super::{EntityType, Span};

/// A title phrase standing before a person's name.
#[derive(Debug, Clone, PartialEq)]
pub struct TitlePhrase {
    pub span: Span,
    /// As written, with its country or organisation: "US President".
    pub text: String,
    /// Lower-case lexicon key: "president", "secretary of state".
    pub key: String,
    pub role: Option<String>,
    /// Country of the qualifier in front of the title ("US" -> USA).
    pub country: Option<String>,
    /// Actor code of an organisation qualifier ("White House" -> USAGOV).
    pub org_actor: Option<String>,
}

/// One proper-name mention.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMention {
    pub span: Span,
    pub first_token: usize,
    /// Exclusive.
    pub end_token: usize,
    pub text: String,
    pub entity_type: EntityType,
    /// The gazetteer entity, when the name is a known one.
    pub known: Option<NameSense>,
    /// The title before a person's name.
    pub title: Option<TitlePhrase>,
}

/// Words that join the parts of one name: "Bank of England", "Mohammed bin Salman".
const NAME_CONNECTORS: &[&str] = &[
    "al", "bin", "da", "de", "del", "der", "di", "dos", "du", "ibn", "la", "le", "of", "van", "von",
];

/// Capitalised words that are dates, not names.
const CALENDAR_WORDS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Jan.",
    "Feb.",
    "Mar.",
    "Apr.",
    "Aug.",
    "Sept.",
    "Sep.",
    "Oct.",
    "Nov.",
    "Dec.",
];

/// Lower-case nouns right after a name that make it an organisation's: "the Public and
/// Commercial Services union", "the Scottish National party".
const ORG_FOLLOWERS: &[&str] = &["union", "unions", "party", "group", "council", "committee"];

/// Jobs named with their employer: "an economist at X", "a spokeswoman for X".
const EMPLOYEE_NOUNS: &[&str] = &[
    "analyst",
    "director",
    "economist",
    "executive",
    "researcher",
    "spokesman",
    "spokeswoman",
    "strategist",
    "trader",
];

/// Head words of parties and movements, whose names often open with their country.
const POLITICAL_HEADS: &[&str] = &["Alliance", "Front", "League", "Movement", "Party"];

/// Lower-case nouns right before a name that make it a company's: "potash producer
/// Belaruskali", "the insurer Aviva".
const ORG_DESCRIPTORS: &[&str] = &[
    "airline",
    "bank",
    "broadcaster",
    "carmaker",
    "company",
    "conglomerate",
    "firm",
    "group",
    "insurer",
    "lender",
    "maker",
    "manufacturer",
    "miner",
    "producer",
    "retailer",
    "supplier",
];

/// Lower-case words that follow a person's name in an apposition or age: "Jane Doe, who ...",
/// "John Smith, 45, ...", "Jane Doe, aged 30".
const PERSON_APPOSITION_OPENERS: &[&str] = &["who", "aged", "whose"];

/// A plural of an abbreviation ("MPs", "MEPs", "NGOs", "CEOs"): a common noun, not a name.
fn is_plural_abbreviation(word: &str) -> bool {
    let Some(stem) = word.strip_suffix('s') else {
        return false;
    };
    stem.chars().count() >= 2 && stem.chars().all(|c| c.is_ascii_uppercase())
}

/// One name, one type in an article: an unknown name typed a person only because a speech
/// verb followed it ("Dimension Data said") takes the type its other mentions show ("IT firm
/// Dimension Data"); a name once titled as a person ("Mr Rank") stays a person throughout.
fn one_type_per_name(mentions: &mut [NameMention]) {
    let mut titled: HashSet<String> = HashSet::new();
    let mut other: Vec<(String, EntityType)> = Vec::new();
    for m in mentions.iter().filter(|m| m.known.is_none()) {
        if m.title.is_some() {
            titled.insert(m.text.clone());
        } else if m.entity_type != EntityType::Person && !other.iter().any(|(t, _)| *t == m.text) {
            other.push((m.text.clone(), m.entity_type));
        }
    }
    for m in mentions.iter_mut().filter(|m| m.known.is_none()) {
        if titled.contains(&m.text) {
            m.entity_type = EntityType::Person;
        } else if m.entity_type == EntityType::Person {
            if let Some((_, t)) = other.iter().find(|(t, _)| *t == m.text) {
                m.entity_type = *t;
            }
        }
    }
}

/// Prepositions after which an unknown capitalised word is a place: "in Jeddah".
/// "at" is left out: "an analyst at Hypovereinsbank" works there.
const LOCATIVE_PREPOSITIONS: &[&str] = &["in", "near", "outside", "from", "to"];

#[derive(Debug, Clone, Copy)]
enum Case {
    AsWritten,
    Lower,
    Title,
}

fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for (k, c) in word.chars().enumerate() {
        if k == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Segment {
    Known {
        first: usize,
        end: usize,
        sense: NameSense,
    },
    Title {
        first: usize,
        end: usize,
        key: String,
        info: TitleInfo,
    },
    Name {
        first: usize,
        end: usize,
        /// Clause-initial single word without other evidence yet: kept only if the article
        /// confirms it (a person's surname).
        weak: bool,
    },
}

/// Finds the proper-name mentions of the article, in reading order.
pub fn recognize(data: &EngineData, text: &TextAnalysis<'_>) -> Vec<NameMention> {
    let recognizer = Recognizer::new(data, text);
    let mut segments = Vec::new();
    for sentence in &text.sentences {
        recognizer.segment(sentence.first_token, sentence.end_token, &mut segments);
    }
    recognizer.classify(&segments)
}

struct Recognizer<'d, 't, 'a> {
    data: &'d EngineData,
    text: &'t TextAnalysis<'a>,
    /// Words seen capitalised where capitals mean something (mid-sentence, not in headlines).
    mid_sentence_capitals: HashSet<&'a str>,
}

impl<'d, 't, 'a> Recognizer<'d, 't, 'a> {
    fn new(data: &'d EngineData, text: &'t TextAnalysis<'a>) -> Self {
        let mut mid_sentence_capitals = HashSet::new();
        for (i, token) in text.tokens.iter().enumerate() {
            let headline = text
                .paragraphs
                .get(token.paragraph)
                .is_some_and(|p| p.headline_case);
            if token.kind == TokenKind::Word && !token.clause_initial && !headline {
                let word = text.token_text(i);
                if is_capitalised(word) {
                    mid_sentence_capitals.insert(word);
                }
            }
        }
        Recognizer {
            data,
            text,
            mid_sentence_capitals,
        }
    }

    fn word(&self, i: usize) -> &'a str {
        self.text.token_text(i)
    }

    fn is_word(&self, i: usize) -> bool {
        self.text
            .tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Word)
    }

    /// Joins the lookup forms of tokens `[first, end)` with single spaces, as lexicon phrases
    /// are keyed.
    fn key(&self, first: usize, end: usize, case: Case) -> String {
        let mut key = String::new();
        for i in first..end {
            if i > first {
                key.push(' ');
            }
            let form = lookup_form(self.word(i));
            match case {
                Case::AsWritten => key.push_str(&form),
                Case::Lower => key.push_str(&form.to_lowercase()),
                Case::Title => key.push_str(&title_case(&form)),
            }
        }
        key
    }

    /// The longest gazetteer name starting at token `i` (case-sensitive: "US" is the country,
    /// "us" the pronoun). Datelines and shouted headlines write names in capitals ("KYIV,
    /// June 3"), so an all-capitals word is also tried in title case.
    fn match_known(&self, i: usize, end: usize) -> Option<(usize, NameSense)> {
        let word = self.word(i);
        let shouted = word.chars().count() >= 3 && word.chars().all(|c| c.is_uppercase());
        let cases: &[Case] = if shouted {
            &[Case::AsWritten, Case::Title]
        } else {
            &[Case::AsWritten]
        };
        for &case in cases {
            let first = self.key(i, i + 1, case);
            let Some(&longest) = self.data.name_first_tokens.get(&first) else {
                continue;
            };
            let mut n = longest.min(end.saturating_sub(i));
            while n > 0 {
                if let Some(senses) = self.data.lookup_name(&self.key(i, i + n, case)) {
                    if let Some(sense) = senses.first() {
                        return Some((n, *sense));
                    }
                }
                n -= 1;
            }
        }
        None
    }

    /// The longest title starting at token `i` (case-insensitive).
    fn match_title(&self, i: usize, end: usize) -> Option<(usize, String, TitleInfo)> {
        let first = lookup_form(self.word(i)).to_lowercase();
        let longest = *self.data.title_first_tokens.get(&first)?;
        let mut n = longest.min(end.saturating_sub(i));
        while n > 0 {
            let key = self.key(i, i + n, Case::Lower);
            if let Some(info) = self.data.titles.get(&key) {
                return Some((n, key, info.clone()));
            }
            n -= 1;
        }
        None
    }

    fn is_common(&self, word: &str) -> bool {
        self.data
            .common_words
            .contains(&lookup_form(word).to_lowercase())
    }

    /// A capitalised word that may be (part of) a name, whatever its position.
    fn is_name_word(&self, i: usize) -> bool {
        if !self.is_word(i) {
            return false;
        }
        let word = self.word(i);
        is_capitalised(word)
            && !CALENDAR_WORDS.contains(&word)
            && !self.is_common(word)
            && !is_plural_abbreviation(word)
    }

    /// Whether a gazetteer organisation starting at `i` may be absorbed into the unknown
    /// capitalised name that runs into it: a known alias is not matched inside a longer name
    /// ("Trades Union Congress" is not "Congress", the US legislature; "Federal Labour
    /// Agency" is not the Labour Party), so an organisation name inside the run belongs to it.
    fn absorbs_known(&self, i: usize, end: usize) -> bool {
        let Some((_, sense)) = self.match_known(i, end) else {
            return false;
        };
        let organisation = self
            .data
            .entities
            .get(sense.entity)
            .is_some_and(|e| matches!(e.kind, KnownKind::Organization(_)));
        organisation && self.match_title(i, end).is_none()
    }

    /// Business copy introduces a company by what it does: "potash producer Belaruskali",
    /// "the carmaker Renault", "mining group Anglo".
    fn org_descriptor_before(&self, first: usize) -> bool {
        first
            .checked_sub(1)
            .is_some_and(|p| self.is_word(p) && ORG_DESCRIPTORS.contains(&self.word(p)))
    }

    /// Parties and movements named after their country ("UK Independence Party", "British
    /// National Front"): a known country or nationality that opens a capitalised run ending in
    /// such a head is part of one organisation's name. Ministries keep their country as a
    /// mention of its own ("Ukrainian Foreign Ministry").
    fn country_led_body(&self, i: usize, n: usize, sense: NameSense, end: usize) -> Option<usize> {
        let entity = self.data.entities.get(sense.entity)?;
        if !matches!(entity.kind, KnownKind::Country | KnownKind::Nationality) {
            return None;
        }
        let next = i + n;
        let continues = self.is_name_word(next)
            && self.text.tokens.get(next).is_some_and(|t| t.space_before)
            && self.match_known(next, end).is_none()
            && self.match_title(next, end).is_none();
        if !continues {
            return None;
        }
        let stop = self.extend_name(next, end);
        let head = self.word(stop.checked_sub(1)?);
        POLITICAL_HEADS.contains(&head).then_some(stop)
    }

    /// "an economist at Hypovereinsbank", "analyst with Brightfield": where someone works.
    fn employer_before(&self, first: usize) -> bool {
        first >= 2
            && matches!(self.word(first - 1), "at" | "with" | "from")
            && EMPLOYEE_NOUNS.contains(&self.word(first - 2))
    }

    /// Whether the lower-case word at `i` makes the name before it an organisation's.
    fn org_follower_at(&self, i: usize) -> bool {
        self.is_word(i) && ORG_FOLLOWERS.contains(&self.word(i))
    }

    /// Whether a name may start at `i`: a capitalised word, with extra evidence where capitals
    /// are not informative. Returns `Some(weak)`.
    fn name_start(&self, i: usize) -> Option<bool> {
        if !self.is_name_word(i) {
            return None;
        }
        let token = self.text.tokens.get(i)?;
        let headline = self
            .text
            .paragraphs
            .get(token.paragraph)
            .is_some_and(|p| p.headline_case);
        if !token.clause_initial && !headline {
            return Some(false);
        }
        let evidence = self.has_name_evidence(i)
            || (self.is_name_word(i + 1)
                && self.text.tokens.get(i + 1).is_some_and(|t| t.space_before)
                && !headline);
        Some(!evidence)
    }

    /// A capitalised word known as a name from elsewhere: a given name, or the same word
    /// capitalised mid-sentence in running text.
    fn has_name_evidence(&self, i: usize) -> bool {
        let word = self.word(i);
        self.data.given_names.contains(&lookup_form(word))
            || self.mid_sentence_capitals.contains(word)
    }

    fn segment(&self, first: usize, end: usize, out: &mut Vec<Segment>) {
        let mut i = first;
        while i < end {
            if !self.is_word(i) {
                i += 1;
                continue;
            }
            if let Some((n, sense)) = self.match_known(i, end) {
                if let Some(stop) = self.country_led_body(i, n, sense, end) {
                    out.push(Segment::Name {
                        first: i,
                        end: stop,
                        weak: false,
                    });
                    i = stop;
                    continue;
                }
                // "Ms Roche", "Mr Shell": a one-word company after a personal title is the
                // person's surname.
                let after_title = matches!(
                    out.last(),
                    Some(Segment::Title { end: title_end, info, .. })
                        if *title_end == i && info.before_name && info.role.is_none()
                );
                let organisation = self
                    .data
                    .entities
                    .get(sense.entity)
                    .is_some_and(|e| matches!(e.kind, KnownKind::Organization(_)));
                if after_title && organisation && n == 1 {
                    out.push(Segment::Name {
                        first: i,
                        end: i + 1,
                        weak: false,
                    });
                    i += 1;
                    continue;
                }
                out.push(Segment::Known {
                    first: i,
                    end: i + n,
                    sense,
                });
                i += n;
                continue;
            }
            if let Some((n, key, info)) = self.match_title(i, end) {
                out.push(Segment::Title {
                    first: i,
                    end: i + n,
                    key,
                    info,
                });
                i += n;
                continue;
            }
            if let Some(weak) = self.name_start(i) {
                let stop = self.extend_name(i, end);
                out.push(Segment::Name {
                    first: i,
                    end: stop,
                    weak: weak && stop == i + 1,
                });
                i = stop;
                continue;
            }
            i += 1;
        }
    }

    /// The end of a name starting at `first`: further capitalised words, connectors between
    /// capitalised words, and hyphens glued on both sides ("Al-Qaeda").
    fn extend_name(&self, first: usize, end: usize) -> usize {
        // In a headline every word is capitalised, so a name only grows by words known to be
        // names ("Biden Hosts Zelensky At White House" is not one name).
        let headline = self
            .text
            .tokens
            .get(first)
            .and_then(|t| self.text.paragraphs.get(t.paragraph))
            .is_some_and(|p| p.headline_case);
        let mut stop = first + 1;
        while stop < end {
            let token = match self.text.tokens.get(stop) {
                Some(t) => t,
                None => break,
            };
            let after_given_name = self
                .data
                .given_names
                .contains(&lookup_form(self.word(stop - 1)));
            if headline && !after_given_name && !self.has_name_evidence(stop) {
                break;
            }
            // A surname that is also a title ("John Major's government"): after a given
            // name, a title word that no name follows is the surname.
            let surname_title = after_given_name
                && self.match_title(stop, end).is_some_and(|(n, _, _)| n == 1)
                && !(self.is_name_word(stop + 1)
                    && self
                        .text
                        .tokens
                        .get(stop + 1)
                        .is_some_and(|t| t.space_before));
            if self.is_name_word(stop)
                && token.space_before
                && (self.match_known(stop, end).is_none() || self.absorbs_known(stop, end))
                && (self.match_title(stop, end).is_none() || surname_title)
            {
                stop += 1;
                continue;
            }
            let word = self.word(stop);
            let next_glued = self
                .text
                .tokens
                .get(stop + 1)
                .is_some_and(|t| !t.space_before);
            if token.kind == TokenKind::Dash
                && !token.space_before
                && next_glued
                && self.is_name_word(stop + 1)
                && self.match_known(stop + 1, end).is_none()
            {
                stop += 2;
                continue;
            }
            if NAME_CONNECTORS.contains(&word)
                && self.is_name_word(stop + 1)
                && self.match_known(stop + 1, end).is_none()
            {
                stop += 2;
                continue;
            }
            // "Department for Transport", "Office for National Statistics": "for" joins a
            // body's head noun to its remit.
            if word == "for"
                && self.name_head(stop) == Some(HeadType::Organization)
                && self.is_name_word(stop + 1)
                && self.match_known(stop + 1, end).is_none()
            {
                stop += 2;
                continue;
            }
            // "Public and Commercial Services union": "and" joins two capitalised words into
            // one name only when the whole is an organisation's, by its head noun or the
            // lower-case noun after it; "Blair and Brown" stay two people.
            if word == "and" && !headline && self.is_name_word(stop + 1) {
                let rest = self.extend_name(stop + 1, end);
                if self.name_head(rest) == Some(HeadType::Organization)
                    || self.org_follower_at(rest)
                {
                    stop = rest;
                    continue;
                }
            }
            break;
        }
        stop
    }

    fn span_of(&self, first: usize, end: usize) -> Option<(Span, String)> {
        let span = self.text.token_range_span(first, end.checked_sub(1)?)?;
        Some((span, self.text.span_text(span).to_string()))
    }

    fn classify(&self, segments: &[Segment]) -> Vec<NameMention> {
        // Surnames and first names of people introduced with a full name or a title.
        let mut person_words: HashSet<&str> = HashSet::new();
        for (k, segment) in segments.iter().enumerate() {
            if let Segment::Name { first, end, .. } = *segment {
                if self.person_evidence(segments, k, first, end) {
                    for i in first..end {
                        if self.is_name_word(i) {
                            person_words.insert(self.word(i));
                        }
                    }
                }
            }
        }
        let mut mentions = Vec::new();
        for (k, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Known { first, end, sense } => {
                    let Some(entity) = self.data.entities.get(sense.entity) else {
                        continue;
                    };
                    // "U.S. State Department", "Russia's Foreign Ministry": the country that
                    // opens an organisation's name is a mention of its own, as it is before a
                    // title ("US President").
                    if matches!(entity.kind, KnownKind::Organization(_)) && end > &(first + 1) {
                        if let Some(inner) = self.country_prefix(*first, *end) {
                            mentions.push(inner);
                        }
                    }
                    let Some((span, text)) = self.span_of(*first, *end) else {
                        continue;
                    };
                    mentions.push(NameMention {
                        span,
                        first_token: *first,
                        end_token: *end,
                        text,
                        entity_type: entity.entity_type,
                        known: Some(*sense),
                        title: None,
                    });
                }
                Segment::Title { .. } => {}
                Segment::Name { first, end, weak } => {
                    let (first, end) = (*first, *end);
                    let single = end == first + 1;
                    let entity_type = if self.person_evidence(segments, k, first, end)
                        || (single && person_words.contains(self.word(first)))
                    {
                        Some(EntityType::Person)
                    } else if *weak {
                        None
                    } else {
                        self.guess_type(first, end)
                    };
                    let Some(entity_type) = entity_type else {
                        continue;
                    };
                    let Some((span, text)) = self.span_of(first, end) else {
                        continue;
                    };
                    let title = if entity_type == EntityType::Person {
                        self.title_before(segments, k, first)
                    } else {
                        None
                    };
                    mentions.push(NameMention {
                        span,
                        first_token: first,
                        end_token: end,
                        text,
                        entity_type,
                        known: None,
                        title,
                    });
                }
            }
        }
        one_type_per_name(&mut mentions);
        mentions
    }

    fn country_prefix(&self, first: usize, end: usize) -> Option<NameMention> {
        let (n, sense) = self.match_known(first, end - 1)?;
        let entity = self.data.entities.get(sense.entity)?;
        if !matches!(entity.kind, KnownKind::Country | KnownKind::Nationality) {
            return None;
        }
        let (span, text) = self.span_of(first, first + n)?;
        Some(NameMention {
            span,
            first_token: first,
            end_token: first + n,
            text,
            entity_type: entity.entity_type,
            known: Some(sense),
            title: None,
        })
    }

    /// Strong signs that a name is a person's: a title right before it, or a given name
    /// followed by more of the name.
    fn person_evidence(&self, segments: &[Segment], k: usize, first: usize, end: usize) -> bool {
        if self.title_segment_before(segments, k, first).is_some() {
            return true;
        }
        if self.name_head(end).is_some() {
            return false;
        }
        // "A. Cowan", "J. R. Smith": an initial opens a person's name.
        let initial = {
            let mut chars = self.word(first).chars();
            matches!(
                (chars.next(), chars.next(), chars.next()),
                (Some(c), Some('.'), None) if c.is_uppercase()
            )
        };
        end > first + 1
            && (initial
                || self
                    .data
                    .given_names
                    .contains(&lookup_form(self.word(first))))
    }

    fn title_segment_before<'s>(
        &self,
        segments: &'s [Segment],
        k: usize,
        first: usize,
    ) -> Option<&'s Segment> {
        let previous = segments.get(k.checked_sub(1)?)?;
        match previous {
            Segment::Title { end, info, .. } if *end == first && info.before_name => Some(previous),
            _ => None,
        }
    }

    fn title_before(&self, segments: &[Segment], k: usize, first: usize) -> Option<TitlePhrase> {
        self.title_segment_before(segments, k, first)?;
        // Titles may stack ("Qatari Prime Minister Sheikh Mohammed ..."): walk back over
        // adjacent title segments; the office is the first one with a role.
        let mut t = k - 1;
        let mut office: Option<(String, TitleInfo)> = None;
        let mut last_title = None;
        while let Some(Segment::Title {
            first: title_first,
            end: title_end,
            key,
            info,
        }) = segments.get(t)
        {
            let adjacent = match last_title {
                None => *title_end == first,
                Some(next_first) => *title_end == next_first,
            };
            if !adjacent {
                break;
            }
            if info.role.is_some() || office.is_none() {
                office = Some((key.clone(), info.clone()));
            }
            last_title = Some(*title_first);
            match t.checked_sub(1) {
                Some(previous) => t = previous,
                None => break,
            }
        }
        let title_first = last_title?;
        let title_end = first;
        let (key, info) = office?;
        // "US President", "White House National Security Advisor": the qualifier right before
        // the title says whose official the person is.
        let mut phrase_first = title_first;
        let mut country = None;
        let mut org_actor = None;
        if let Some(Segment::Known {
            first: known_first,
            end: known_end,
            sense,
        }) = segments.get(t)
        {
            if *known_end == title_first {
                if let Some(entity) = self.data.entities.get(sense.entity) {
                    phrase_first = *known_first;
                    country = entity.country.clone();
                    if matches!(entity.kind, KnownKind::Organization(_)) {
                        org_actor = entity.actor_code.clone();
                    }
                }
            }
        }
        let (span, text) = self.span_of(phrase_first, title_end)?;
        Some(TitlePhrase {
            span,
            text,
            key,
            role: info.role.clone(),
            country,
            org_actor,
        })
    }

    fn name_head(&self, end: usize) -> Option<HeadType> {
        let last = self.word(end.checked_sub(1)?);
        let head = self.data.name_heads.get(last).copied();
        if head.is_some() {
            return head;
        }
        // "Department for Transport", "Office for National Statistics": the head noun stands
        // before the connector that joins the body's remit.
        let first_connector = (0..end).rev().take(6).find(|&i| {
            matches!(self.word(i), "for" | "of")
                && i > 0
                && self.data.name_heads.get(self.word(i - 1)) == Some(&HeadType::Organization)
        })?;
        (first_connector > 0).then_some(HeadType::Organization)
    }

    /// The type of a name without person evidence, from its head word and context.
    fn guess_type(&self, first: usize, end: usize) -> Option<EntityType> {
        match self.name_head(end) {
            Some(HeadType::Organization) => return Some(EntityType::Organization),
            Some(HeadType::Location) => return Some(EntityType::Location),
            Some(HeadType::Facility) => return Some(EntityType::Facility),
            Some(HeadType::Event) => return Some(EntityType::Event),
            Some(HeadType::Law) => return Some(EntityType::Law),
            Some(HeadType::ProductFollower) | None => {}
        }
        // Weapon systems and models: "Patriot systems", "Taurus missiles", "IRIS-T".
        let follower = self.word(end);
        let product_follower =
            self.data.name_heads.get(follower) == Some(&HeadType::ProductFollower);
        // Model codes join capitals or digits with a hyphen ("IRIS-T", "F-16"); a hyphenated
        // person's name joins words ("Frank-Juergen Weise").
        let code_part = |i: usize| {
            let w = self.word(i);
            w.chars().any(|c| c.is_ascii_digit())
                || (w.chars().count() <= 4 && w.chars().all(char::is_uppercase))
        };
        let model_code = (first..end).any(|i| {
            let w = self.word(i);
            (self
                .text
                .tokens
                .get(i)
                .is_some_and(|t| t.kind == TokenKind::Dash)
                && ((i > first && code_part(i - 1)) || (i + 1 < end && code_part(i + 1))))
                || (w.chars().count() <= 2 && w.chars().all(char::is_uppercase) && end > first + 1)
        });
        if product_follower || model_code {
            return Some(EntityType::Product);
        }
        if self.org_follower_at(end)
            || self.org_descriptor_before(first)
            || self.employer_before(first)
        {
            return Some(EntityType::Organization);
        }
        // "Peskov said", "Peskov also said"; but in "Scottish ministers insist" the speaker
        // is the noun after the name, which only modifies it.
        let adverb_between = self.is_word(end) && {
            let w = self.word(end);
            w.ends_with("ly") || matches!(w, "also" | "has" | "had" | "then" | "later" | "again")
        };
        let next_is_speech = self.speech_verb_at(end)
            || (adverb_between && self.speech_verb_at(end + 1))
            || (end > first + 1 && first > 0 && self.speech_verb_at(first - 1));
        if next_is_speech {
            return Some(EntityType::Person);
        }
        let previous = first
            .checked_sub(1)
            .map(|p| self.word(p).to_lowercase())
            .unwrap_or_default();
        // A single word in capitals is an abbreviation, and abbreviations name organisations
        // far more often than places ("economists at IXIS").
        let word = self.word(first);
        let all_caps = word.chars().count() >= 2 && word.chars().all(|c| c.is_uppercase());
        if end == first + 1 && all_caps {
            return Some(EntityType::Organization);
        }
        if LOCATIVE_PREPOSITIONS.contains(&previous.as_str())
            && end == first + 1
            && !self
                .data
                .given_names
                .contains(&lookup_form(self.word(first)))
        {
            return Some(EntityType::Gpe);
        }

        if end > first + 1 {
            // Capitals-only lines are tables and shouted headings ("WESTERN DIVISION"), not
            // people.
            let shouted = (first..end).all(|i| {
                let w = self.word(i);
                !w.chars().any(char::is_lowercase)
            });
            if shouted {
                return None;
            }
            let has_of = (first..end).any(|i| self.word(i) == "of");
            if has_of {
                return Some(EntityType::Organization);
            }
            // An unknown multi-word name is a person's only with person context: schemes,
            // papers and plans are capitalised too ("Civil Service Pension Scheme"), so an
            // empty answer beats a guess.
            if self.person_apposition_at(end) {
                return Some(EntityType::Person);
            }
        }
        None
    }

    /// "Jane Doe, who ...", "John Smith, 45,", "Jane Doe, aged 30": an apposition that only
    /// follows a person's name.
    fn person_apposition_at(&self, i: usize) -> bool {
        if self.word(i) != "," {
            return false;
        }
        let next = i + 1;
        let age = self
            .text
            .tokens
            .get(next)
            .is_some_and(|t| t.kind == TokenKind::Number)
            && self.word(next).len() <= 3
            && self.word(next + 1) == ",";
        // "Jane Doe, head of the agency", "Jane Doe, the bank's chief economist".
        let role = (next..next + 4).take_while(|&k| self.is_word(k)).any(|k| {
            let lower = self.word(k).to_lowercase();
            self.data
                .titles
                .get(&lower)
                .is_some_and(|t| t.role.is_some())
        });
        age || role || (self.is_word(next) && PERSON_APPOSITION_OPENERS.contains(&self.word(next)))
    }

    fn speech_verb_at(&self, i: usize) -> bool {
        if !self.is_word(i) {
            return false;
        }
        self.data
            .lemma_candidates(self.word(i))
            .iter()
            .any(|l| self.data.reporting_verbs.get(l) == Some(&ReportingKind::Speech))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<(String, EntityType)> {
        let data = EngineData::embedded().expect("data");
        let text = TextAnalysis::new("", body);
        recognize(&data, &text)
            .into_iter()
            .map(|m| (m.text, m.entity_type))
            .collect()
    }

    #[test]
    fn strips_titles_and_keeps_the_country_mention() {
        let data = EngineData::embedded().expect("data");
        let text = TextAnalysis::new("", "US President Donald Trump said so.");
        let mentions = recognize(&data, &text);
        let texts: Vec<&str> = mentions.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["US", "Donald Trump"]);
        let title = mentions[1].title.as_ref().expect("title");
        assert_eq!(title.text, "US President");
        assert_eq!(title.country.as_deref(), Some("USA"));
    }

    #[test]
    fn hyphenated_countries_are_two_mentions() {
        assert_eq!(
            names("The US-Ukraine talks ended."),
            [
                ("US".to_string(), EntityType::Gpe),
                ("Ukraine".to_string(), EntityType::Gpe)
            ]
        );
    }

    #[test]
    fn sentence_initial_ordinary_words_are_not_names() {
        assert!(
            names("However, nothing happened. What preceded this? Meanwhile it rained.").is_empty()
        );
    }

    #[test]
    fn surnames_and_demonyms_are_recognised() {
        let found = names("Marco Rubio spoke. Rubio said Ukrainians and Americans agreed.");
        assert!(found.contains(&("Rubio".to_string(), EntityType::Person)));
        assert!(found.contains(&("Ukrainians".to_string(), EntityType::Norp)));
    }

    #[test]
    fn headline_case_lines_do_not_glue_words_into_names() {
        let data = EngineData::embedded().expect("data");
        let text = TextAnalysis::new(
            "Biden Hosts Zelensky At White House Amid Aid Fight",
            "President Joe Biden met Volodymyr Zelenskyy.",
        );
        let found: Vec<String> = recognize(&data, &text)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert!(found.contains(&"Biden".to_string()));
        assert!(found.contains(&"White House".to_string()));
        assert!(!found
            .iter()
            .any(|m| m.contains("Hosts") || m.contains("Aid")));
    }

    #[test]
    fn stacked_titles_and_product_names() {
        let data = EngineData::embedded().expect("data");
        let text = TextAnalysis::new(
            "",
            "Qatari Prime Minister Sheikh Mohammed Al Thani asked for Patriot systems and IRIS-T.",
        );
        let mentions = recognize(&data, &text);
        let sheikh = mentions
            .iter()
            .find(|m| m.text == "Mohammed Al Thani")
            .expect("name");
        let title = sheikh.title.as_ref().expect("title");
        assert_eq!(title.country.as_deref(), Some("QAT"));
        assert_eq!(title.key, "prime minister");
        let products: Vec<&str> = mentions
            .iter()
            .filter(|m| m.entity_type == EntityType::Product)
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(products, ["Patriot", "IRIS-T"]);
    }

    #[test]
    fn context_types_unknown_words() {
        let found = names("Talks were held in Zarqovia, Peskovich said.");
        assert!(found.contains(&("Zarqovia".to_string(), EntityType::Gpe)));
        assert!(found.contains(&("Peskovich".to_string(), EntityType::Person)));
    }

    #[test]
    fn schemes_and_papers_are_laws_and_plural_abbreviations_are_not_names() {
        let found =
            names("Officials met MPs about the Harbour Workers Savings Scheme and a Blue Paper.");
        assert!(found.contains(&(
            "Harbour Workers Savings Scheme".to_string(),
            EntityType::Law
        )));
        assert!(found.contains(&("Blue Paper".to_string(), EntityType::Law)));
        assert!(!found.iter().any(|(n, _)| n == "MPs"));
    }

    #[test]
    fn unknown_multi_word_names_need_person_context() {
        let found =
            names("Critics doubted the Northern Grain Review. Later Kelso Varna, 52, spoke.");
        assert!(!found
            .iter()
            .any(|(n, t)| n == "Northern Grain Review" && *t == EntityType::Person));
        assert!(found.contains(&("Kelso Varna".to_string(), EntityType::Person)));
    }

    #[test]
    fn known_aliases_are_not_matched_inside_longer_names() {
        // "Congress" alone is the US legislature; here it ends an unknown federation's name.
        let found = names("The Harbour Dockers Congress met on Monday.");
        assert!(found.contains(&(
            "Harbour Dockers Congress".to_string(),
            EntityType::Organization
        )));
        assert!(!found.iter().any(|(n, _)| n == "Congress"));
    }

    #[test]
    fn and_and_for_join_organisation_names_only() {
        let found = names(
            "A leader of the Glass and Ceramic Makers union met the Department for Coastal Towns. \
             Later Jane Ross and Peter Hall spoke.",
        );
        assert!(found.contains(&(
            "Glass and Ceramic Makers".to_string(),
            EntityType::Organization
        )));
        assert!(found.contains(&(
            "Department for Coastal Towns".to_string(),
            EntityType::Organization
        )));
        assert!(found.contains(&("Jane Ross".to_string(), EntityType::Person)));
        assert!(found.contains(&("Peter Hall".to_string(), EntityType::Person)));
    }

    #[test]
    fn a_business_descriptor_types_the_company() {
        let found = names("Shares in steel producer Varnholt rose.");
        assert!(found.contains(&("Varnholt".to_string(), EntityType::Organization)));
    }

    #[test]
    fn initials_employers_and_country_led_parties() {
        let found = names(
            "The score was settled by K. Varnow. An economist at Brightfield said so. \
             The British Harbour Party won.",
        );
        assert!(found.contains(&("K. Varnow".to_string(), EntityType::Person)));
        assert!(found.contains(&("Brightfield".to_string(), EntityType::Organization)));
        assert!(found.contains(&(
            "British Harbour Party".to_string(),
            EntityType::Organization
        )));
    }

    #[test]
    fn a_surname_that_is_a_title_stays_with_the_given_name() {
        let found = names("The cuts began in John Major's government.");
        assert!(found.contains(&("John Major".to_string(), EntityType::Person)));
    }

    #[test]
    fn a_company_name_after_a_personal_title_is_a_surname() {
        let found = names("Ms Roche disagreed.");
        assert!(found.contains(&("Roche".to_string(), EntityType::Person)));
    }

    #[test]
    fn one_name_keeps_one_type_in_an_article() {
        let found = names("Software group Kelvane Data grew. Kelvane Data said sales rose.");
        assert!(found
            .iter()
            .filter(|(n, _)| n == "Kelvane Data")
            .all(|(_, t)| *t == EntityType::Organization));
    }
}
