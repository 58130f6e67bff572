//! Direct, partial and indirect quotes with their speakers, and the outlets an article cites.
//!
//! Quotations are found from the marks, pairing an opening mark with the next closing one in
//! the same paragraph; single marks inside a double-quoted passage are nested quotes and stay
//! part of the text. News conventions the speaker rules rely on:
//! - the attribution sits in the quote's own sentence, after it (`"...," he told reporters`,
//!   `"...," said Rubio`, `"...," the US president stressed`) or before it (`X said: "..."`,
//!   `X noted that "..."`, `warned of "devastating" sanctions`), or a headline puts the speaker
//!   first with a colon (`Trump: "..."`);
//! - the speaker mention is resolved through the entity pipeline, so "he", "the politician"
//!   and "Rubio" all give the canonical "Marco Rubio";
//! - a paragraph that is only a quotation continues the previous quote's speaker when nobody
//!   else was named in between; otherwise an unattributed quote keeps an empty speaker;
//! - a multi-paragraph quotation leaves its closing mark off every paragraph but the last, and
//!   each continuing paragraph opens with a quotation mark;
//! - "according to X", "X reported" and "This was reported by X" name the outlet that relays a
//!   passage: they become citations, and the source of quotes in the same sentence (or, when
//!   that sentence relays none, in the next).

use super::data::{EngineData, ReportingKind};
use super::resolve::MentionIndex;
use super::text::{lookup_form, TextAnalysis, TokenKind};
use super::{Citation, Entity, EntityType, Field, MentionKind, Quote, QuoteKind, Span, Speaker};

/// A quoted passage: its marks and the content tokens between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRegion {
    pub open_token: usize,
    /// None when the passage continues into the next paragraph.
    pub close_token: Option<usize>,
    /// Content tokens `[first, end)`.
    pub first: usize,
    pub end: usize,
}

fn is_double_mark(text: &str) -> bool {
    matches!(text, "\"" | "“" | "”" | "„" | "«" | "»" | "‟")
}

fn is_single_mark(text: &str) -> bool {
    matches!(text, "'" | "‘" | "’" | "‚" | "‹" | "›")
}

/// A headline quotes words the body attributes in full ("Iran vows 'decisive response'" over
/// "..., Hossein Karimi, ... said Iran would deliver a 'decisive response at a time ...'"): the
/// headline quote takes the speaker of the body quote that contains its words.
fn inherit_headline_speakers(quotes: &mut [Quote]) {
    let normalize = |s: &str| {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let body: Vec<(String, Option<Speaker>)> = quotes
        .iter()
        .filter(|q| q.span.field == Field::Body && q.speaker.is_some())
        .map(|q| (normalize(&q.text), q.speaker.clone()))
        .collect();
    for quote in quotes.iter_mut().filter(|q| q.span.field == Field::Title) {
        let words = normalize(&quote.text);
        if words.is_empty() {
            continue;
        }
        if let Some((_, speaker)) = body.iter().find(|(text, _)| text.contains(&words)) {
            quote.speaker = speaker.clone();
        }
    }
}

/// The top-level quoted passages of the article, in reading order.
pub fn find_quote_regions(text: &TextAnalysis<'_>) -> Vec<QuoteRegion> {
    let mut regions = Vec::new();
    for paragraph in &text.paragraphs {
        let mut open: Option<(usize, bool)> = None;
        for i in paragraph.first_token..paragraph.end_token {
            let Some(token) = text.tokens.get(i) else {
                break;
            };
            let mark = text.token_text(i);
            let double = is_double_mark(mark);
            let single = is_single_mark(mark);
            if !double && !single {
                continue;
            }
            // A straight mark with spaces on both sides (`he said " It ...`) says nothing by
            // its spacing: it opens when nothing is open and closes otherwise.
            let spaced_after = text
                .tokens
                .get(i + 1)
                .is_none_or(|next| next.space_before || next.paragraph != token.paragraph);
            let kind = if (mark == "\"" || mark == "'") && token.space_before && spaced_after {
                if open.is_some() {
                    TokenKind::CloseQuote
                } else {
                    TokenKind::OpenQuote
                }
            } else {
                token.kind
            };
            // A single mark opens a quotation only before a real word: not the "'s" or "'ll"
            // of contractions split off in pre-tokenized text ("It 's").
            let opens_word = text.tokens.get(i + 1).is_some_and(|next| {
                let word = text.token_text(i + 1);
                let contraction = !next.space_before
                    && matches!(word, "s" | "m" | "d" | "t" | "ll" | "ve" | "re");
                next.kind == TokenKind::Word
                    && !contraction
                    && (word.chars().count() > 1 || word.chars().all(char::is_uppercase))
            });
            // BBC-style text runs the paragraphs of a long quotation together on one line:
            // `"... changes. "Public sector ..." ` reopens the quotation after a full stop
            // without closing it. The reopening mark starts a new part of the same quote.
            if let Some((start, true)) = open {
                let after_terminal = i > 0
                    && text
                        .tokens
                        .get(i - 1)
                        .is_some_and(|t| t.kind == TokenKind::Terminal);
                if double
                    && kind == TokenKind::OpenQuote
                    && token.space_before
                    && after_terminal
                    && closes_later(text, i + 1, paragraph.end_token)
                {
                    if i > start + 1 {
                        regions.push(QuoteRegion {
                            open_token: start,
                            close_token: None,
                            first: start + 1,
                            end: i,
                        });
                    }
                    open = Some((i, true));
                    continue;
                }
            }
            match (open, kind) {
                (None, TokenKind::OpenQuote) if double || opens_word => open = Some((i, double)),
                (Some((start, was_double)), TokenKind::CloseQuote) if was_double == double => {
                    if i > start + 1 {
                        regions.push(QuoteRegion {
                            open_token: start,
                            close_token: Some(i),
                            first: start + 1,
                            end: i,
                        });
                    }
                    open = None;
                }
                _ => {}
            }
        }
        // Only a double-quoted passage runs on into the next paragraph, and only when that
        // paragraph opens with a quotation mark.
        if let Some((start, true)) = open {
            let next_opens = text
                .paragraphs
                .get(text.tokens.get(start).map_or(0, |t| t.paragraph) + 1)
                .and_then(|p| text.tokens.get(p.first_token).map(|t| (p, t)))
                .is_some_and(|(p, t)| {
                    t.kind == TokenKind::OpenQuote && is_double_mark(text.token_text(p.first_token))
                });
            if next_opens && paragraph.end_token > start + 1 {
                regions.push(QuoteRegion {
                    open_token: start,
                    close_token: None,
                    first: start + 1,
                    end: paragraph.end_token,
                });
            }
        }
    }
    regions
}

/// Whether a closing double quotation mark follows in tokens `[from, end)`.
fn closes_later(text: &TextAnalysis<'_>, from: usize, end: usize) -> bool {
    (from..end).any(|k| {
        text.tokens
            .get(k)
            .is_some_and(|t| t.kind == TokenKind::CloseQuote)
            && is_double_mark(text.token_text(k))
    })
}

/// For each token, whether it lies inside a quotation (marks included).
pub fn quoted_token_mask(text: &TextAnalysis<'_>) -> Vec<bool> {
    let mut mask = vec![false; text.tokens.len()];
    for region in find_quote_regions(text) {
        let last = region.close_token.unwrap_or(region.end.saturating_sub(1));
        for slot in mask.iter_mut().take(last + 1).skip(region.open_token) {
            *slot = true;
        }
    }
    mask
}

struct Extractor<'d, 't, 'a, 'e> {
    data: &'d EngineData,
    text: &'t TextAnalysis<'a>,
    entities: &'e [Entity],
    index: MentionIndex,
    quoted: Vec<bool>,
}

/// The cue's entity for a speaker the article does not name ("one senior EU diplomat said",
/// "the official said"): the quote's speaker is known to be nobody we can name, which also
/// stops a later quote from inheriting an earlier speaker.
const UNNAMED_SPEAKER: usize = usize::MAX;

/// Words that open a description of someone unnamed: "a senior official", "one of the
/// sources", "two diplomats".
const INDEFINITE_OPENERS: &[&str] = &[
    "a", "an", "one", "another", "two", "three", "several", "some",
];

/// People nouns that are not titles but describe unnamed speakers.
const UNNAMED_PEOPLE: &[&str] = &[
    "source",
    "sources",
    "witness",
    "witnesses",
    "resident",
    "residents",
    "person",
    "people",
    "officials",
    "diplomats",
    "observers",
    "analysts",
    "experts",
];

/// A cue found for a quote: the speaker's entity, its mention, and the verb.
#[derive(Debug, Clone)]
struct Cue {
    entity: usize,
    mention_span: Option<Span>,
    verb: Option<String>,
    confidence: f32,
}

/// Extracts quotes and citations.
pub fn extract(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    entities: &[Entity],
) -> (Vec<Quote>, Vec<Citation>) {
    let extractor = Extractor {
        data,
        text,
        entities,
        index: MentionIndex::new(text, entities),
        quoted: quoted_token_mask(text),
    };
    let cited = extractor.citation_spans();
    let quotes = extractor.quotes(&cited);
    (quotes, cited.into_iter().map(|(c, _, _)| c).collect())
}

impl<'d, 't, 'a, 'e> Extractor<'d, 't, 'a, 'e> {
    fn word(&self, i: usize) -> &'a str {
        self.text.token_text(i)
    }

    fn lower(&self, i: usize) -> String {
        lookup_form(self.word(i)).to_lowercase()
    }

    fn is_quoted(&self, i: usize) -> bool {
        self.quoted.get(i).copied().unwrap_or(false)
    }

    fn reporting_kind(&self, i: usize) -> Option<ReportingKind> {
        let token = self.text.tokens.get(i)?;
        // Reporting verbs are lower-case in running text; a capitalised "State" is part of a
        // title ("Secretary of State"), not the verb.
        if token.kind != TokenKind::Word || super::text::is_capitalised(self.word(i)) {
            return None;
        }
        // After a possessive or a determiner the word is a noun: "India's claims", "the
        // report".
        let noun = i.checked_sub(1).is_some_and(|p| {
            matches!(
                self.lower(p).as_str(),
                "'s" | "’s"
                    | "the"
                    | "a"
                    | "an"
                    | "its"
                    | "their"
                    | "his"
                    | "her"
                    | "these"
                    | "those"
                    | "this"
            )
        });
        if noun {
            return None;
        }
        self.data
            .lemma_candidates(self.word(i))
            .iter()
            .find_map(|l| self.data.reporting_verbs.get(l).copied())
    }

    fn is_speech_verb(&self, i: usize) -> bool {
        self.reporting_kind(i) == Some(ReportingKind::Speech)
    }

    fn entity(&self, e: usize) -> Option<&'e Entity> {
        self.entities.get(e)
    }

    /// News outlets are coded `<country>MED` in the gazetteer.
    fn is_media(&self, e: usize) -> bool {
        self.entity(e).is_some_and(|entity| {
            entity.entity_type == EntityType::Organization
                && entity
                    .actor_code
                    .as_deref()
                    .is_some_and(|code| code.ends_with("MED"))
        })
    }

    fn is_person(&self, e: usize) -> bool {
        self.entity(e)
            .is_some_and(|x| x.entity_type == EntityType::Person)
    }

    /// Entities that can speak: people, organisations, places standing for governments.
    fn can_speak(&self, e: usize) -> bool {
        self.entity(e).is_some_and(|entity| {
            matches!(
                entity.entity_type,
                EntityType::Person | EntityType::Organization | EntityType::Gpe
            )
        })
    }

    fn speaker_from(&self, cue: &Cue) -> Option<Speaker> {
        let entity = self.entity(cue.entity)?;
        Some(Speaker {
            entity_id: entity.id.clone(),
            name: entity.name.clone(),
            mention_span: cue.mention_span,
        })
    }

    fn mention_cue(
        &self,
        first: usize,
        end: usize,
        e: usize,
        verb: Option<String>,
        confidence: f32,
    ) -> Cue {
        Cue {
            entity: e,
            mention_span: self.text.token_range_span(first, end.saturating_sub(1)),
            verb,
            confidence,
        }
    }

    /// The speaker named after a quote: `"…," he told reporters`, `"…," said Rubio`,
    /// `"…," the US president stressed`.
    fn cue_after(&self, close: usize, sentence_end: usize) -> Option<Cue> {
        let mut i = close + 1;
        while i < sentence_end && matches!(self.word(i), "," | "—" | "–" | "-") {
            i += 1;
        }
        if i >= sentence_end {
            return None;
        }
        if let Some(cue) = self.unnamed_cue(i, sentence_end) {
            return Some(cue);
        }
        // Mention then verb, with at most one adverb between: "Rubio also said"; the mention
        // may follow a title ("senior Hamas official Sami Abu Zuhri told Reuters").
        for (m_first, end, e, _) in self.index.within(i, (i + 6).min(sentence_end)) {
            if (i..m_first).any(|k| {
                self.text
                    .tokens
                    .get(k)
                    .is_none_or(|t| t.kind != TokenKind::Word)
                    || self.is_speech_verb(k)
            }) {
                break;
            }
            let mut v = end;
            if v < sentence_end
                && !self.is_speech_verb(v)
                && self
                    .text
                    .tokens
                    .get(v)
                    .is_some_and(|t| t.kind == TokenKind::Word)
            {
                v += 1;
            }
            if v < sentence_end && self.is_speech_verb(v) && self.can_speak(e) {
                return Some(self.mention_cue(
                    m_first,
                    end,
                    e,
                    Some(self.word(v).to_string()),
                    0.9,
                ));
            }
        }
        // A name, an aside, a verb: `"…," Emma Hartley, a trade analyst at CSIS, told
        // Reuters`, `"…," Aminu Garba, whose daughter was freed, told Reuters`.
        if let Some((m_first, end, e, _)) =
            self.index.starting_at(i).map(|(end, e, k)| (i, end, e, k))
        {
            let person = self.is_person(e);
            if person && self.word(end) == "," {
                let close = (end + 1..(end + 16).min(sentence_end)).find(|&k| self.word(k) == ",");
                if let Some(v) = close.map(|c| c + 1).filter(|&v| self.is_speech_verb(v)) {
                    return Some(self.mention_cue(
                        m_first,
                        end,
                        e,
                        Some(self.word(v).to_string()),
                        0.85,
                    ));
                }
            }
        }
        // A role before the name, set off by commas: `"…," the bloc's foreign policy chief,
        // Josep Borrell, told reporters`.
        if let Some(cue) = self.cue_after_role_apposition(i, sentence_end) {
            return Some(cue);
        }
        // Verb then mention: "said Rubio", "said Kremlin spokesman Dmitry Peskov"; a speech
        // act's object is not its speaker ("accusing Manila of ...", "urged Tbilisi").
        if self.is_speech_verb(i) && !self.takes_object(i) {
            let verb = self.word(i).to_string();
            // "said one of the sources, who declined to be named".
            if let Some(cue) = self.unnamed_description(i + 1, sentence_end) {
                return Some(Cue {
                    verb: Some(verb),
                    ..cue
                });
            }
            // "said Nato Secretary General Mark Rutte": the person, not the organisation in
            // the title, is the speaker.
            let mut first_speaker = None;
            for j in i + 1..(i + 8).min(sentence_end) {
                if matches!(
                    self.text.tokens.get(j).map(|t| t.kind),
                    Some(TokenKind::Terminal) | Some(TokenKind::Punct)
                ) {
                    break;
                }
                if let Some((end, e, _)) = self.index.starting_at(j) {
                    if self.can_speak(e) && !self.is_media(e) {
                        let person = self.is_person(e);
                        if person {
                            return Some(self.mention_cue(j, end, e, Some(verb), 0.9));
                        }
                        first_speaker.get_or_insert((j, end, e));
                    }
                }
            }
            // `said the chairman of the Commons committee, Barry Sheerman`: the person named
            // after the role, not the body in it, is the speaker.
            if let Some(cue) = self.role_apposition(i + 1, sentence_end, false) {
                return Some(Cue {
                    verb: Some(verb),
                    ..cue
                });
            }
            if let Some((j, end, e)) = first_speaker {
                return Some(self.mention_cue(j, end, e, Some(verb), 0.85));
            }
        }
        // The attribution closes the sentence after more reported words: `the administration
        // remained "open to a deal" and would host the delegation, she said.`
        let last_comma = (i..sentence_end).rev().find(|&k| self.word(k) == ",")?;
        let (end, e, _) = self.index.starting_at(last_comma + 1)?;
        let mut v = end;
        if v < sentence_end && !self.is_speech_verb(v) {
            v += 1;
        }
        let closes = (v + 1..sentence_end).all(|k| {
            self.text
                .tokens
                .get(k)
                .is_some_and(|t| t.kind == TokenKind::Terminal)
        });
        (self.can_speak(e) && self.is_speech_verb(v) && closes)
            .then(|| self.mention_cue(last_comma + 1, end, e, Some(self.word(v).to_string()), 0.8))
    }

    /// Speech acts whose object follows them ("accused Manila", "urged Tbilisi", "praised
    /// India"): after a quote they are not "said X" inversions.
    fn takes_object(&self, i: usize) -> bool {
        self.data.lemma_candidates(self.word(i)).iter().any(|l| {
            matches!(
                l.as_str(),
                "accuse"
                    | "blame"
                    | "brand"
                    | "call"
                    | "condemn"
                    | "criticise"
                    | "criticize"
                    | "decry"
                    | "demand"
                    | "denounce"
                    | "describe"
                    | "dismiss"
                    | "hail"
                    | "label"
                    | "praise"
                    | "reject"
                    | "slam"
                    | "term"
                    | "urge"
                    | "warn"
                    | "welcome"
                    | "ask"
                    | "promise"
                    | "pledge"
                    | "vow"
                    | "tell"
            )
        })
    }

    /// A speaker described, not named, before a speech verb: `"…," one senior EU diplomat
    /// said`, `"…," the official said` (where "the official" resolved to nobody).
    fn unnamed_cue(&self, i: usize, sentence_end: usize) -> Option<Cue> {
        let definite = self.lower(i) == "the";
        if !definite && !INDEFINITE_OPENERS.contains(&self.lower(i).as_str()) {
            return None;
        }
        let v = (i + 1..(i + 6).min(sentence_end)).find(|&k| self.is_speech_verb(k))?;
        // Only a description: no person named in it, and a role or people noun right before
        // the verb (an adverb may stand between: "the official later said").
        let names_person = self
            .index
            .within(i, v)
            .any(|(_, _, e, _)| self.is_person(e));
        let head = (i + 1..v).rev().find(|&k| self.is_role_noun(k))?;
        if names_person || head + 2 < v {
            return None;
        }
        // "the minister said" resolved to a person is a mention, not a description; and "the
        // official" is unnamed only after "a senior official" introduced someone unnamed.
        let description = if definite {
            if self.index.within(i, v).next().is_some() {
                return None;
            }
            let introduction = self.unnamed_introduction(i, head)?;
            introduction + 1..introduction + 5
        } else {
            i + 1..head
        };
        // "A Downing Street spokesperson said (... the spokesperson said)": a spokesperson's
        // words are the body's.
        if self.lower(head).starts_with("spokes") {
            if let Some((f, end, e, _)) = self
                .index
                .within(description.start, description.end)
                .find(|&(_, _, e, _)| self.can_speak(e))
            {
                let cue = self.mention_cue(f, end, e, Some(self.word(v).to_string()), 0.75);
                // The body is named in an earlier sentence, not at this quote.
                return Some(if definite {
                    Cue {
                        mention_span: None,
                        confidence: 0.7,
                        ..cue
                    }
                } else {
                    cue
                });
            }
        }
        Some(Cue {
            entity: UNNAMED_SPEAKER,
            mention_span: None,
            verb: Some(self.word(v).to_string()),
            confidence: 0.7,
        })
    }

    /// Where someone with the role noun at `head` was introduced without a name before token
    /// `before`: "A senior government official said ... the official said".
    fn unnamed_introduction(&self, before: usize, head: usize) -> Option<usize> {
        let role = self.lower(head);
        (0..before).rev().find(|&k| {
            INDEFINITE_OPENERS.contains(&self.lower(k).as_str())
                && (k + 1..(k + 5).min(before)).any(|j| self.lower(j) == role)
        })
    }

    /// An unnamed speaker after a speech verb: "said one of the sources", "said a senior
    /// official".
    fn unnamed_description(&self, i: usize, sentence_end: usize) -> Option<Cue> {
        if !INDEFINITE_OPENERS.contains(&self.lower(i).as_str()) {
            return None;
        }
        let end = (i + 6).min(sentence_end);
        let head = (i + 1..end)
            .take_while(|&k| {
                self.text
                    .tokens
                    .get(k)
                    .is_some_and(|t| t.kind == TokenKind::Word)
            })
            .find(|&k| self.is_role_noun(k))?;
        let names_person = self
            .index
            .within(i, head + 1)
            .any(|(_, _, e, _)| self.is_person(e));
        (!names_person).then_some(Cue {
            entity: UNNAMED_SPEAKER,
            mention_span: None,
            verb: None,
            confidence: 0.7,
        })
    }

    /// A role noun ("official", "diplomat", "spokeswoman") or a noun for unnamed people
    /// ("sources", "witnesses").
    fn is_role_noun(&self, k: usize) -> bool {
        let word = self.lower(k);
        UNNAMED_PEOPLE.contains(&word.as_str())
            || self.data.titles.contains_key(&word)
            || word
                .strip_suffix('s')
                .is_some_and(|w| self.data.titles.contains_key(w))
    }

    /// `the company's chief executive, Jane Doe, said`: a role phrase of up to eight words with a
    /// role noun in it, a comma, a speaking mention, an optional comma and a speech verb.
    fn cue_after_role_apposition(&self, i: usize, sentence_end: usize) -> Option<Cue> {
        self.role_apposition(i, sentence_end, true)
    }

    /// The person named after a role phrase and a comma at `i`; with `verb_after`, a speech
    /// verb must follow the name (`the chief, Jane Doe, said`), else the name may end the
    /// sentence (`said the chief, Jane Doe.`).
    fn role_apposition(&self, i: usize, sentence_end: usize, verb_after: bool) -> Option<Cue> {
        let comma = (i..(i + 12).min(sentence_end)).find(|&k| self.word(k) == ",")?;
        let role = (i..comma).any(|k| {
            (k + 1..=(k + 4).min(comma)).any(|stop| {
                let key = (k..stop)
                    .map(|j| self.lower(j))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.data.titles.contains_key(&key)
            })
        });
        let all_words = (i..comma).all(|k| {
            self.text
                .tokens
                .get(k)
                .is_some_and(|t| matches!(t.kind, TokenKind::Word | TokenKind::Punct))
                || matches!(self.word(k), "'s" | "’s")
        });
        if !role || !all_words {
            return None;
        }
        // The name may carry its own title: "..., Labour MP Barry Sheerman".
        let (start, end, e) = self
            .index
            .within(comma + 1, (comma + 6).min(sentence_end))
            .find(|&(f, _, e, _)| {
                self.is_person(e)
                    && (comma + 1..f).all(|k| {
                        self.text
                            .tokens
                            .get(k)
                            .is_some_and(|t| t.kind == TokenKind::Word)
                    })
            })
            .map(|(f, end, e, _)| (f, end, e))?;
        let mut v = end;
        if self.word(v) == "," {
            v += 1;
        }
        if !verb_after {
            return Some(self.mention_cue(start, end, e, None, 0.85));
        }
        (v < sentence_end && self.is_speech_verb(v))
            .then(|| self.mention_cue(start, end, e, Some(self.word(v).to_string()), 0.85))
    }

    /// The speaker named before a quote in its sentence: `Trump: "…"`, `X said: "…"`,
    /// `X noted that "…"`, `X warned of "devastating" sanctions`.
    fn cue_before(&self, open: usize, sentence_first: usize) -> Option<Cue> {
        // Headline style: a name, a colon, the quote.
        if open >= sentence_first + 2 && self.word(open - 1) == ":" {
            if let Some(cue) = self.mention_ending_at(open - 1, sentence_first) {
                if !self.is_speech_verb_before(open - 1, sentence_first) {
                    return Some(cue);
                }
            }
        }
        // The nearest reporting verb before the quote, and the subject before that verb.
        let mut v = open;
        while v > sentence_first {
            v -= 1;
            if self.is_quoted(v) {
                continue;
            }
            if self.is_speech_verb(v) {
                let verb = self.word(v).to_string();
                return self.subject_before(v, sentence_first).map(|mut cue| {
                    cue.verb = Some(verb);
                    cue
                });
            }
        }
        None
    }

    fn is_speech_verb_before(&self, i: usize, first: usize) -> bool {
        (first..i).any(|k| !self.is_quoted(k) && self.is_speech_verb(k))
    }

    /// A speaker mention that ends right before token `i`.
    fn mention_ending_at(&self, i: usize, first: usize) -> Option<Cue> {
        self.index
            .within(first, i)
            .filter(|&(_, end, e, _)| end == i && self.can_speak(e))
            .last()
            .map(|(f, end, e, _)| self.mention_cue(f, end, e, None, 0.85))
    }

    /// The subject of the reporting verb at `v`: the nearest speaking mention before it that
    /// is not inside a quotation, preferring a person when an organisation or place stands
    /// closer only as part of a source phrase.
    fn subject_before(&self, v: usize, first: usize) -> Option<Cue> {
        // A place or a medium is where the words were said, not who said them: "the
        // government in Port Sudan accused", "In a statement on Telegram, the group said".
        let after_preposition = |f: usize| {
            f.checked_sub(1).is_some_and(|p| {
                matches!(
                    self.lower(p).as_str(),
                    "in" | "on" | "at" | "via" | "near" | "into"
                )
            })
        };
        let mentions: Vec<_> = self
            .index
            .within(first, v)
            .filter(|&(f, _, e, _)| {
                !self.is_quoted(f) && self.can_speak(e) && !after_preposition(f)
            })
            .collect();
        // An aside set off by commas or brackets right before the verb describes the subject
        // before it: "Claire Dumont, who leads the CGT, told the BBC", "Senator Ana Lúcia
        // Barros of the governing Workers' Party (PT) called".
        let mut limit = v;
        while limit > first + 1 && matches!(self.word(limit - 1), "," | ")") {
            let opener = if self.word(limit - 1) == ")" {
                "("
            } else {
                ","
            };
            let Some(open) = (first..limit - 1).rev().find(|&k| self.word(k) == opener) else {
                break;
            };
            if !mentions.iter().any(|&(_, end, _, _)| end == open) {
                break;
            }
            limit = open;
        }
        // "She demanded that the United States ... and warned that ...": a verb after "and"
        // shares the sentence's subject.
        let coordinated = v > first + 1 && self.lower(v - 1) == "and";
        let candidates = mentions.iter().filter(|m| m.1 <= limit);
        let chosen = if coordinated {
            // The sentence's first person, else its first speaker: "The Iranian foreign
            // ministry spokesperson, Hossein Karimi, called ... and said".
            let candidates: Vec<_> = candidates.collect();
            candidates
                .iter()
                .find(|m| self.is_person(m.2))
                .or_else(|| {
                    candidates
                        .iter()
                        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                })
                .copied()
        } else {
            // The mention that ends last, and of those the outermost: "The US Secretary of
            // State" rather than the "US" inside it.
            candidates.max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        };
        let (mut f, mut end, mut e, mut kind) = *chosen?;
        // "Mark Serwotka, from the PCS union, said", "Laurent Marchal of the more moderate
        // CFDT union welcomed": the organisation sits in an apposition to the person, who is
        // the subject.
        let in_apposition = |at: usize| {
            let mut k = at;
            let mut skipped = 0;
            while k > first
                && skipped < 4
                && (matches!(self.lower(k - 1).as_str(), "the" | "a" | "an")
                    || self.word(k - 1).chars().all(|c| c.is_lowercase()))
                && !matches!(self.lower(k - 1).as_str(), "from" | "of" | "at" | "for")
            {
                k -= 1;
                skipped += 1;
            }
            k.checked_sub(1).filter(|&p| {
                p >= first && matches!(self.lower(p).as_str(), "from" | "of" | "at" | "for")
            })
        };
        let preposition = in_apposition(f);
        if self
            .entity(e)
            .is_some_and(|x| x.entity_type != EntityType::Person)
            && preposition.is_some()
        {
            let person = mentions.iter().rev().find(|&&(pf, pend, pe, _)| {
                pend < f
                    && pf >= first
                    && (self.word(pend) == "," || Some(pend) == preposition)
                    && self.is_person(pe)
            });
            if let Some(&(pf, pend, pe, pkind)) = person {
                (f, end, e, kind) = (pf, pend, pe, pkind);
            }
        }
        // "The Guardian reported that Rubio said": an outlet reports, it does not speak.
        if self.is_media(e) && self.reporting_kind(v) == Some(ReportingKind::Report) {
            return None;
        }
        let confidence = if kind == MentionKind::Proper {
            0.85
        } else {
            0.8
        };
        Some(self.mention_cue(f, end, e, None, confidence))
    }

    fn sentence_bounds(&self, token: usize) -> (usize, usize) {
        let sentence = self.text.tokens.get(token).map_or(0, |t| t.sentence);
        self.text
            .sentences
            .get(sentence)
            .map_or((token, token + 1), |s| (s.first_token, s.end_token))
    }

    fn quotes(&self, citations: &[(Citation, usize, usize)]) -> Vec<Quote> {
        let regions = find_quote_regions(self.text);
        let mut quotes: Vec<Quote> = Vec::new();
        let mut previous: Option<(usize, usize, Option<Cue>)> = None;
        let mut k = 0;
        while k < regions.len() {
            // A multi-paragraph quotation: regions without a close mark continue in the next.
            let start = k;
            let mut last = k;
            while regions.get(last).is_some_and(|r| r.close_token.is_none())
                && last + 1 < regions.len()
            {
                last += 1;
            }
            let (Some(first_region), Some(last_region)) = (regions.get(k), regions.get(last))
            else {
                break;
            };
            k = last + 1;
            let open = first_region.open_token;
            let close = last_region
                .close_token
                .unwrap_or(last_region.end.saturating_sub(1));
            let (sentence_first, _) = self.sentence_bounds(open);
            let (_, sentence_end) = self.sentence_bounds(close);
            let parts = regions.get(start..=last).unwrap_or(&[]);
            let text_parts: Vec<&str> = parts
                .iter()
                .filter_map(|r| self.text.token_range_span(r.first, r.end.saturating_sub(1)))
                .map(|span| self.text.span_text(span))
                .collect();
            let quote_text = text_parts
                .join(" ")
                .trim()
                .trim_end_matches(',')
                .trim()
                .to_string();
            let words = (first_region.first..last_region.end)
                .filter(|&i| {
                    self.text
                        .tokens
                        .get(i)
                        .is_some_and(|t| matches!(t.kind, TokenKind::Word | TokenKind::Number))
                })
                .count();
            if words == 0 {
                continue;
            }
            let Some(span) = self
                .text
                .token_range_span(first_region.first, last_region.end.saturating_sub(1))
            else {
                continue;
            };
            let starts_clause = open == sentence_first || (open > 0 && self.word(open - 1) == ":");
            let kind = if starts_clause && words >= 3 {
                QuoteKind::Direct
            } else {
                QuoteKind::Partial
            };
            let mut cue = self
                .cue_after(close, sentence_end)
                .or_else(|| self.cue_before(open, sentence_first));
            // Scare quotes and titles ("the so-called "special operation"") have no cue; a
            // fragment after a speech verb is still someone's words ("The minister said the
            // response would be "measured"") even when the speaker is not known.
            if cue.is_none()
                && kind == QuoteKind::Partial
                && words <= 3
                && !self.is_speech_verb_before(open, sentence_first)
            {
                continue;
            }
            if cue.is_none() {
                cue = self.reporting_sentence_before(open);
            }
            if cue.is_none() {
                cue = self.continued_speaker(&previous, open);
            }
            let source = self.source_for(citations, sentence_first, sentence_end);
            let paragraph = self.text.tokens.get(open).map_or(0, |t| t.paragraph);
            previous = Some((paragraph, close, cue.clone()));
            let confidence = cue.as_ref().map_or(0.5, |c| c.confidence);
            quotes.push(Quote {
                id: String::new(),
                text: quote_text,
                span,
                kind,
                speaker: cue.as_ref().and_then(|c| self.speaker_from(c)),
                cue: cue.as_ref().and_then(|c| c.verb.clone()),
                source,
                confidence,
            });
        }
        inherit_headline_speakers(&mut quotes);
        quotes.extend(self.indirect_quotes());
        quotes.sort_by_key(|q| q.span);
        for (n, quote) in quotes.iter_mut().enumerate() {
            quote.id = format!("q{}", n + 1);
        }
        quotes
    }

    /// A quote with no cue of its own continues the previous quote's speaker when it opens a
    /// sentence in the same paragraph (`"…," Biden said. "…"`) or opens the next paragraph,
    /// and nobody else was named between.
    fn continued_speaker(
        &self,
        previous: &Option<(usize, usize, Option<Cue>)>,
        open: usize,
    ) -> Option<Cue> {
        let (prev_paragraph, prev_close, Some(prev_cue)) = previous.as_ref()? else {
            return None;
        };
        let token = self.text.tokens.get(open)?;
        let paragraph_index = token.paragraph;
        let paragraph = self.text.paragraphs.get(paragraph_index)?;
        let opens_paragraph = paragraph.first_token == open;
        let opens_sentence = self
            .text
            .sentences
            .get(token.sentence)
            .is_some_and(|s| s.first_token == open);
        let continues = (paragraph_index == *prev_paragraph && opens_sentence)
            || (paragraph_index == prev_paragraph + 1 && opens_paragraph);
        if !continues {
            return None;
        }
        // Only people named after the previous quote interrupt the run: the speaker's own
        // introduction ("Dave Prentis, general secretary of Unison, said") names others too.
        let someone_else = self
            .index
            .within(prev_close + 1, open)
            .any(|(f, _, e, _)| !self.is_quoted(f) && e != prev_cue.entity && self.is_person(e));
        if someone_else {
            return None;
        }
        Some(Cue {
            confidence: 0.6,
            mention_span: None,
            ..prev_cue.clone()
        })
    }

    /// A quote that opens a sentence with no cue of its own, right after a sentence of
    /// reported speech, is the words of that sentence's speaker: `In a statement, the Cabinet
    /// Office said it was reviewing the scheme. "Unions will be consulted ..."`.
    fn reporting_sentence_before(&self, open: usize) -> Option<Cue> {
        let token = self.text.tokens.get(open)?;
        let sentence = self.text.sentences.get(token.sentence)?;
        if sentence.first_token != open {
            return None;
        }
        let previous = self.text.sentences.get(token.sentence.checked_sub(1)?)?;
        let previous_paragraph = self
            .text
            .tokens
            .get(previous.first_token)
            .map(|t| t.paragraph)?;
        if previous_paragraph + 1 < token.paragraph {
            return None;
        }
        if (previous.first_token..previous.end_token).any(|i| self.is_quoted(i)) {
            return None;
        }
        // "The government was said to be rewriting it" reports hearsay, not a speaker.
        let v = (previous.first_token..previous.end_token).find(|&i| self.is_speech_verb(i))?;
        let passive = v > previous.first_token
            && matches!(
                self.lower(v - 1).as_str(),
                "was" | "is" | "were" | "are" | "been" | "be"
            );
        if passive {
            return None;
        }
        let mut cue = self.subject_before(v, previous.first_token)?;
        cue.verb = Some(self.word(v).to_string());
        cue.mention_span = None;
        cue.confidence = 0.6;
        Some(cue)
    }

    fn source_for(
        &self,
        citations: &[(Citation, usize, usize)],
        first: usize,
        end: usize,
    ) -> Option<String> {
        if let Some((c, _, _)) = citations.iter().find(|(_, f, _)| *f >= first && *f < end) {
            return Some(c.source.clone());
        }
        // A citation in the sentence just before relays this one only if it relayed no
        // quotation in its own sentence ("According to Sky News, ... . "…," he said.").
        let sentence = self.text.tokens.get(first)?.sentence;
        let previous = self.text.sentences.get(sentence.checked_sub(1)?)?;
        let relayed_own = (previous.first_token..previous.end_token).any(|i| self.is_quoted(i));
        if relayed_own {
            return None;
        }
        citations
            .iter()
            .find(|(_, f, _)| *f >= previous.first_token && *f < previous.end_token)
            .map(|(c, _, _)| c.source.clone())
    }

    /// Outlets cited: "according to X", "X reported", "reported by X", "told X"; with the
    /// token the cue starts at and the token after it.
    fn citation_spans(&self) -> Vec<(Citation, usize, usize)> {
        let mut out = Vec::new();
        // A wire dateline credits the agency: "KYIV, June 3 (Reuters) -".
        if let Some(paragraph) = self
            .text
            .paragraphs
            .iter()
            .find(|p| p.field == super::Field::Body)
        {
            let window_end = (paragraph.first_token + 12).min(paragraph.end_token);
            for i in paragraph.first_token..window_end {
                if self.word(i) != "(" {
                    continue;
                }
                if let Some((m_end, e, _)) = self.index.starting_at(i + 1) {
                    if self.is_media(e) && self.word(m_end) == ")" {
                        // It credits the whole story, not one quote: no anchor sentence.
                        out.push(self.citation(e, paragraph.first_token, m_end + 1, usize::MAX));
                    }
                }
                break;
            }
        }
        for sentence in &self.text.sentences {
            let (first, end) = (sentence.first_token, sentence.end_token);
            for i in first..end {
                if self.is_quoted(i) {
                    continue;
                }
                let lower = self.lower(i);
                // "according to (the Russian service of) BBC"
                if lower == "according" && self.lower(i + 1) == "to" {
                    if let Some((m_first, m_end, e)) = self.next_mention(i + 2, end, 6) {
                        if self.is_media(e)
                            || self
                                .entity(e)
                                .is_some_and(|x| x.entity_type == EntityType::Organization)
                        {
                            let _ = m_first;
                            out.push(self.citation(e, i, m_end, i));
                        }
                    }
                    continue;
                }
                // "reported by The Guardian"; "This was reported by X" cites the whole sentence.
                if self.reporting_kind(i) == Some(ReportingKind::Report)
                    && self.lower(i + 1) == "by"
                {
                    if let Some((_, m_end, e)) = self.next_mention(i + 2, end, 4) {
                        let cue_first = if (first..i).all(|k| {
                            matches!(
                                self.lower(k).as_str(),
                                "this" | "it" | "was" | "is" | "has" | "been" | "as"
                            )
                        }) {
                            first
                        } else {
                            i
                        };
                        let cue_end = if m_end + 1 == end
                            && self
                                .text
                                .tokens
                                .get(m_end)
                                .is_some_and(|t| t.kind == TokenKind::Terminal)
                        {
                            end
                        } else {
                            m_end
                        };
                        out.push(self.citation(e, cue_first, cue_end, i));
                    }
                    continue;
                }
                // "The Guardian reported", "Earlier, The Guardian reported"; "told Reuters".
                if let Some((m_end, e, _)) = self.index.starting_at(i) {
                    if self.is_media(e) && self.reporting_kind(m_end).is_some() {
                        let cue_first = if i > first && self.word(i - 1) == "," {
                            first
                        } else {
                            i
                        };
                        out.push(self.citation(e, cue_first, m_end + 1, i));
                    } else if self.is_media(e) && i > first {
                        // "told Reuters", "told the BBC"
                        let article = usize::from(self.lower(i - 1) == "the");
                        let verb = i.saturating_sub(1 + article);
                        if verb >= first && self.lower(verb) == "told" {
                            out.push(self.citation(e, verb, m_end, i));
                        }
                    }
                }
            }
        }
        out
    }

    fn next_mention(
        &self,
        from: usize,
        end: usize,
        within: usize,
    ) -> Option<(usize, usize, usize)> {
        self.index
            .within(from, (from + within).min(end))
            .find(|(_, _, e, _)| {
                self.entity(*e)
                    .is_some_and(|x| x.entity_type != EntityType::Norp)
            })
            .map(|(f, m_end, e, _)| (f, m_end, e))
    }

    fn citation(
        &self,
        e: usize,
        first: usize,
        end: usize,
        anchor: usize,
    ) -> (Citation, usize, usize) {
        let span = self
            .text
            .token_range_span(first, end.saturating_sub(1))
            .unwrap_or(Span {
                field: super::Field::Body,
                start: 0,
                end: 0,
            });
        let entity = self.entity(e);
        (
            Citation {
                source: entity.map(|x| x.name.clone()).unwrap_or_default(),
                entity_id: entity.map(|x| x.id.clone()),
                cue: self.text.span_text(span).to_string(),
                span,
            },
            anchor,
            end,
        )
    }

    /// Reported speech without quotation marks: `X said (that) CLAUSE`, `According to X,
    /// CLAUSE`, and headline `X: CLAUSE`. Clauses that contain quotation marks are left to the
    /// direct and partial quotes.
    fn indirect_quotes(&self) -> Vec<Quote> {
        let mut out = Vec::new();
        for sentence in &self.text.sentences {
            let (first, end) = (sentence.first_token, sentence.end_token);
            if (first..end).any(|i| self.is_quoted(i)) {
                continue;
            }
            // Headline: "Rubio: Ukraine needs sufficient deterrence".
            let is_heading = self
                .text
                .tokens
                .get(end.saturating_sub(1))
                .is_some_and(|t| t.kind != TokenKind::Terminal);
            if is_heading {
                if let Some(colon) = (first..end).find(|&i| self.word(i) == ":") {
                    if let Some(cue) = self.mention_ending_at(colon, first) {
                        if let Some(q) = self.indirect(cue, colon + 1, end, None) {
                            out.push(q);
                        }
                        continue;
                    }
                }
            }
            // "According to Rubio, CLAUSE" with a person.
            if self.lower(first) == "according" && self.lower(first + 1) == "to" {
                if let Some((m_first, m_end, e)) = self.next_mention(first + 2, end, 4) {
                    if self.is_person(e) && self.word(m_end) == "," {
                        let cue = self.mention_cue(
                            m_first,
                            m_end,
                            e,
                            Some("according to".to_string()),
                            0.75,
                        );
                        if let Some(q) = self.indirect(cue, m_end + 1, end, None) {
                            out.push(q);
                        }
                        continue;
                    }
                }
            }
            for v in first..end {
                if !self.is_speech_verb(v) || self.word(v).ends_with("ing") {
                    continue;
                }
                let mut c = v + 1;
                // "told reporters that", "told Reuters that"
                if self.lower(v) == "told" {
                    while c < end && c < v + 4 && self.lower(c) != "that" {
                        c += 1;
                    }
                    if self.lower(c) != "that" {
                        continue;
                    }
                }
                if self.lower(c) == "that" {
                    c += 1;
                } else {
                    let next = self.lower(c);
                    let opens_clause = matches!(
                        next.as_str(),
                        "he" | "she" | "they" | "it" | "we" | "i" | "the" | "there" | "this"
                    ) || self.index.starting_at(c).is_some();
                    if !opens_clause {
                        continue;
                    }
                }
                let Some(cue) = self.subject_before(v, first) else {
                    continue;
                };
                let verb = self.word(v).to_string();
                if let Some(q) = self.indirect(cue, c, end, Some(verb)) {
                    out.push(q);
                }
                break;
            }
        }
        out
    }

    fn indirect(&self, cue: Cue, first: usize, end: usize, verb: Option<String>) -> Option<Quote> {
        let mut last = end.checked_sub(1)?;
        while last > first
            && self
                .text
                .tokens
                .get(last)
                .is_some_and(|t| t.kind == TokenKind::Terminal)
        {
            last -= 1;
        }
        if last < first + 2 {
            return None;
        }
        let span = self.text.token_range_span(first, last)?;
        Some(Quote {
            id: String::new(),
            text: self.text.span_text(span).to_string(),
            span,
            kind: QuoteKind::Indirect,
            speaker: self.speaker_from(&cue),
            cue: verb.or(cue.verb.clone()),
            source: None,
            confidence: cue.confidence * 0.85,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Analysis, Document, Engine, QuoteKind};

    fn analyze(title: &str, body: &str) -> Analysis {
        let engine = Engine::new().expect("engine");
        engine.analyze(&Document {
            title,
            body,
            published: None,
        })
    }

    fn direct(analysis: &Analysis) -> Vec<(String, Option<String>)> {
        analysis
            .quotes
            .iter()
            .filter(|q| q.kind != QuoteKind::Indirect)
            .map(|q| (q.text.clone(), q.speaker.as_ref().map(|s| s.name.clone())))
            .collect()
    }

    fn said(text: &str, speaker: Option<&str>) -> (String, Option<String>) {
        (text.to_string(), speaker.map(str::to_string))
    }

    #[test]
    fn speakers_come_from_cues_before_and_after_the_quote() {
        let analysis = analyze(
            "Trump: \"We have people going to Russia right now\"",
            "US President Donald Trump spoke on Monday.\n\
             \"We are ready,\" said US Secretary of State Marco Rubio.\n\
             \"It will take time,\" he told reporters.\n\
             Trump said: \"Peace is close.\"",
        );
        assert_eq!(
            direct(&analysis),
            [
                said(
                    "We have people going to Russia right now",
                    Some("Donald Trump")
                ),
                said("We are ready", Some("Marco Rubio")),
                said("It will take time", Some("Marco Rubio")),
                said("Peace is close.", Some("Donald Trump")),
            ]
        );
    }

    #[test]
    fn an_unnamed_official_and_an_institution_by_its_head_noun() {
        let analysis = analyze(
            "",
            "President Aleksandar Vucic spoke in Belgrade on Sunday.\n\
             A senior government official said the cabinet would meet. \"Nothing is off the \
             table,\" the official said.\n\
             The U.S. Embassy in Belgrade called for calm. \"We urge restraint,\" the embassy \
             said.",
        );
        assert_eq!(
            direct(&analysis),
            [
                said("Nothing is off the table", None),
                said("We urge restraint", Some("U.S. Embassy in Belgrade")),
            ]
        );
    }

    #[test]
    fn described_speakers_stay_unnamed_and_institutions_speak_for_their_country() {
        let analysis = analyze(
            "",
            "The EU met Iran in Vienna.\n\
             \"Nobody wants this to be permanent,\" one senior EU diplomat said. \"We can talk.\"\n\
             Russia's foreign ministry said it would continue \"normal cooperation\" with Tehran.\n\
             \"We are ready,\" said one of the sources, who declined to be named.",
        );
        assert_eq!(
            direct(&analysis),
            [
                said("Nobody wants this to be permanent", None),
                said("We can talk.", None),
                said("normal cooperation", Some("Russia's foreign ministry")),
                said("We are ready", None),
            ]
        );
        let ministry = analysis
            .entities
            .iter()
            .find(|e| e.name == "Russia's foreign ministry")
            .expect("the ministry is an entity");
        assert_eq!(ministry.actor_code.as_deref(), Some("RUSGOV"));
    }

    #[test]
    fn a_headline_quote_takes_the_speaker_of_the_body_quote_it_repeats() {
        let analysis = analyze(
            "Iran vows 'decisive response' to EU sanctions",
            "The Iranian foreign ministry spokesperson, Hossein Karimi, who spoke in Tehran, \
             said Iran would deliver a \"decisive response at a time of its choosing\".",
        );
        assert_eq!(
            direct(&analysis),
            [
                said("decisive response", Some("Hossein Karimi")),
                said(
                    "decisive response at a time of its choosing",
                    Some("Hossein Karimi")
                ),
            ]
        );
    }

    #[test]
    fn asides_coordinated_verbs_and_closing_attributions_keep_the_subject() {
        let analysis = analyze(
            "",
            "Claire Dumont, who leads the CGT union, told the BBC the plan was \"not enough\".\n\
             \"We will not stop,\" Emma Hartley, a trade analyst at the Brookings Institution, \
             told Reuters.\n\
             Zhao Lan demanded that the United States \"correct its practices\" and warned \
             that China would \"take resolute countermeasures\".\n\
             The White House remained \"open to a fair deal\" and would host talks, Karen \
             Holloway said.\n\
             \"This is a provocation,\" the Chinese foreign ministry said, accusing Manila of \
             staging it.",
        );
        let speakers: Vec<Option<String>> = direct(&analysis).into_iter().map(|q| q.1).collect();
        assert_eq!(
            speakers,
            [
                Some("Claire Dumont".to_string()),
                Some("Emma Hartley".to_string()),
                Some("Zhao Lan".to_string()),
                Some("Zhao Lan".to_string()),
                Some("Karen Holloway".to_string()),
                Some("Chinese foreign ministry".to_string()),
            ]
        );
    }

    #[test]
    fn partial_quotes_take_the_reporting_subject_and_scare_quotes_are_dropped() {
        let analysis = analyze(
            "",
            "Marco Rubio warned of \"devastating\" sanctions. The so-called \"peace plan\" stalled.",
        );
        assert_eq!(
            direct(&analysis),
            [said("devastating", Some("Marco Rubio"))]
        );
        assert_eq!(analysis.quotes[0].kind, QuoteKind::Partial);
    }

    #[test]
    fn multi_paragraph_quotes_join_and_unattributed_quotes_stay_unknown() {
        let analysis = analyze(
            "",
            "\"The first part.\n\"The second part,\" said Marco Rubio.\n\
             Officials met later.\n\"Nobody knows who said this.\"",
        );
        assert_eq!(
            direct(&analysis),
            [
                said("The first part. The second part", Some("Marco Rubio")),
                said("Nobody knows who said this.", None),
            ]
        );
    }

    #[test]
    fn outlets_become_citations_and_quote_sources() {
        let analysis = analyze(
            "",
            "According to Sky News, talks resumed.\n\"We are close,\" Marco Rubio said.\n\
             \"It is over,\" Dmitry Peskov told Reuters.\nThis was reported by The Guardian.",
        );
        let sources: Vec<&str> = analysis
            .citations
            .iter()
            .map(|c| c.source.as_str())
            .collect();
        assert_eq!(sources, ["Sky News", "Reuters", "The Guardian"]);
        let quote_sources: Vec<Option<&str>> = analysis
            .quotes
            .iter()
            .filter(|q| q.kind == QuoteKind::Direct)
            .map(|q| q.source.as_deref())
            .collect();
        assert_eq!(quote_sources, [Some("Sky News"), Some("Reuters")]);
    }

    #[test]
    fn spaced_straight_quotes_and_split_contractions_pair_up() {
        let analysis = analyze(
            "",
            "Marco Rubio spoke . ' It 's a very complicated issue , ' Rubio said .",
        );
        assert_eq!(
            direct(&analysis),
            [said("It 's a very complicated issue", Some("Marco Rubio"))]
        );
    }

    #[test]
    fn reported_speech_is_an_indirect_quote() {
        let analysis = analyze(
            "",
            "Marco Rubio said that Washington is urging Russia to stop.",
        );
        let indirect: Vec<_> = analysis
            .quotes
            .iter()
            .filter(|q| q.kind == QuoteKind::Indirect)
            .collect();
        assert_eq!(indirect.len(), 1);
        assert_eq!(indirect[0].text, "Washington is urging Russia to stop");
        assert_eq!(indirect[0].cue.as_deref(), Some("said"));
    }

    #[test]
    fn run_together_paragraphs_of_a_quote_take_the_reporting_sentence_speaker() {
        let analysis = analyze(
            "",
            "In a statement, the Home Office said it was reviewing the rules. \
             \"Staff will be consulted. \"Nothing has been decided yet.\" Later Jane Ross spoke.",
        );
        let quotes = direct(&analysis);
        assert_eq!(quotes.len(), 1, "{quotes:?}");
        assert_eq!(quotes[0].1.as_deref(), Some("Home Office"));
        assert!(quotes[0].0.contains("Nothing has been decided"));
    }

    #[test]
    fn a_continuation_quote_shares_the_speaker_despite_earlier_names() {
        let analysis = analyze(
            "",
            "Jane Ross, who works with Peter Hall, spoke. \"We are ready,\" she said. \"We will not wait.\"",
        );
        let quotes = direct(&analysis);
        assert_eq!(
            quotes,
            [
                said("We are ready", Some("Jane Ross")),
                said("We will not wait.", Some("Jane Ross"))
            ]
        );
    }

    #[test]
    fn a_role_apposition_before_the_name_after_the_quote() {
        let analysis = analyze(
            "",
            "\"Prices will rise,\" the group's chief economist, Jane Ross, told reporters.",
        );
        assert_eq!(
            direct(&analysis),
            [said("Prices will rise", Some("Jane Ross"))]
        );
    }

    #[test]
    fn said_then_a_role_with_a_body_then_the_name() {
        let analysis = analyze(
            "",
            "\"It is a waste,\" said the chairman of the Commons transport committee, Jane Ross.",
        );
        assert_eq!(
            direct(&analysis),
            [said("It is a waste", Some("Jane Ross"))]
        );
    }

    #[test]
    fn an_organisation_in_apposition_does_not_take_the_speech() {
        let analysis = analyze(
            "",
            "Jane Ross, from the Home Office, said there would be no delay.",
        );
        let speakers: Vec<_> = analysis
            .quotes
            .iter()
            .filter_map(|q| q.speaker.as_ref().map(|s| s.name.clone()))
            .collect();
        assert_eq!(speakers, ["Jane Ross"]);
    }
}
