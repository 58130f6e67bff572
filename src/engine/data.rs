//! The engine's lexicons and gazetteers, embedded at compile time and parsed once.
//!
//! Every file in `data/` is plain UTF-8 TSV (or one entry per line) so that it can be reviewed
//! like code; this module turns them into hash maps keyed by the same token forms the tokenizer
//! produces ([`text::phrase_tokens`]), so a multi-word name such as "Washington D.C." is found by
//! joining article tokens with single spaces. A malformed line is an [`EngineError::Data`] naming
//! the file and line: a broken lexicon must fail loudly at start-up, not silently lose entries.

use std::collections::{HashMap, HashSet};

use super::{text, EngineError, EntityType};

const COUNTRIES: &str = include_str!("../../data/countries.tsv");
const PLACES: &str = include_str!("../../data/places.tsv");
const ORGANIZATIONS: &str = include_str!("../../data/organizations.tsv");
const TITLES: &str = include_str!("../../data/titles.tsv");
const GIVEN_NAMES: &str = include_str!("../../data/given_names.txt");
const CAMEO_CODES: &str = include_str!("../../data/cameo_codes.tsv");
const EVENT_DICTIONARY: &str = include_str!("../../data/event_dictionary.tsv");
const REPORTING_VERBS: &str = include_str!("../../data/reporting_verbs.tsv");
const COMMON_WORDS: &str = include_str!("../../data/common_words.txt");
const NAME_HEADS: &str = include_str!("../../data/name_heads.tsv");
const IRREGULAR_VERBS: &str = include_str!("../../data/irregular_verbs.tsv");
const AGENT_NOUNS: &str = include_str!("../../data/agent_nouns.tsv");
const GENDERED_WORDS: &str = include_str!("../../data/gendered_words.tsv");

/// What a gazetteer entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownKind {
    Country,
    /// A demonym entity (NORP): "Ukrainian" / "Ukrainians".
    Nationality,
    Capital,
    City,
    State,
    /// Regions, waters, landforms: not GPEs.
    Geographic,
    Organization(OrgKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Gov,
    Mil,
    Rebel,
    Igo,
    Media,
    Party,
    Company,
    Ngo,
    Edu,
    Sport,
}

/// One real-world thing the gazetteers know.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownEntity {
    pub name: String,
    pub kind: KnownKind,
    pub entity_type: EntityType,
    pub country: Option<String>,
    pub actor_code: Option<String>,
}

/// How a surface form refers to a known entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameSense {
    pub entity: usize,
    /// "Americans" (people) rather than "American" (adjective).
    pub plural_people: bool,
    /// A nationality adjective ("American"), usable before a title: "the American leader".
    pub adjective: bool,
}

/// A group noun from `agent_nouns.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentNoun {
    /// CAMEO role appended to the country code.
    pub role: String,
    /// People ("police", "protesters") belong to the story's country when none is named;
    /// weapons ("drones") only act for a country the text names with them.
    pub country_from_context: bool,
}

/// A title or role noun from `titles.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleInfo {
    /// CAMEO role code (GOV, MIL, ...), if the title implies one.
    pub role: Option<String>,
    /// Can stand before a name ("President Trump").
    pub before_name: bool,
    /// Can stand for a person on its own ("the politician").
    pub nominal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportingKind {
    /// Introduces a speaker's words: said, told, stressed.
    Speech,
    /// Introduces a relaying outlet: reported.
    Report,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameoCode {
    pub quad_class: u8,
    pub goldstein: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadType {
    Organization,
    Location,
    Facility,
    /// Named events: "... Cup", "... Summit", "... Games".
    Event,
    /// Laws and treaties: "... Act", "... Treaty".
    Law,
    /// Not a head: a lower-case word after a name that makes it a product ("Patriot
    /// systems").
    ProductFollower,
}

/// One element of an event pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternItem {
    /// A word matched by lemma ("urge" matches urges, urging, urged).
    Word(String),
    /// Up to four words of anything except clause punctuation.
    Gap,
    /// The target actor must follow here (after determiners and adjectives).
    Target,
}

/// An event dictionary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    pub code: String,
    /// A noun trigger ("talks") needs its participants named with it ("with X", "between X and
    /// Y", "US-Ukraine talks"); a verb trigger takes the clause subject as source.
    pub noun: bool,
    pub items: Vec<PatternItem>,
}

#[derive(Debug, Clone, Default)]
pub struct EngineData {
    pub entities: Vec<KnownEntity>,
    /// Surface form (tokens joined by single spaces) -> senses.
    pub names: HashMap<String, Vec<NameSense>>,
    /// First token of a known name -> the longest name (in tokens) starting with it.
    pub name_first_tokens: HashMap<String, usize>,
    /// Lower-case title -> info.
    pub titles: HashMap<String, TitleInfo>,
    pub title_first_tokens: HashMap<String, usize>,
    pub given_names: HashSet<String>,
    pub cameo: HashMap<String, CameoCode>,
    pub event_patterns: Vec<EventPattern>,
    /// First-word lemma -> indexes into `event_patterns`.
    pub event_index: HashMap<String, Vec<usize>>,
    pub reporting_verbs: HashMap<String, ReportingKind>,
    pub common_words: HashSet<String>,
    pub name_heads: HashMap<String, HeadType>,
    /// Irregular inflected form -> lemma ("met" -> "meet").
    pub irregular_forms: HashMap<String, String>,
    /// Group noun lemma -> CAMEO role ("protester" -> CVL, "troop" -> MIL) and whether the
    /// story's context may supply its country (people) or the text must name it (weapons).
    pub agent_nouns: HashMap<String, AgentNoun>,
    /// Lower-case title word -> 'F' or 'M' ("ms" -> F, "spokesman" -> M).
    pub gendered_words: HashMap<String, char>,
}

type Fields<'a> = Vec<&'a str>;

/// Lines of a data file that carry entries: not blank, not `#` comments. Yields the 1-based
/// line number with the tab-split columns.
fn rows(content: &str) -> impl Iterator<Item = (usize, Fields<'_>)> {
    content.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            None
        } else {
            Some((i + 1, line.split('\t').map(str::trim).collect()))
        }
    })
}

fn column<'a>(
    file: &'static str,
    line: usize,
    fields: &[&'a str],
    index: usize,
) -> Result<&'a str, EngineError> {
    match fields.get(index) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(EngineError::Data {
            file,
            line,
            message: format!("expected at least {} tab-separated columns", index + 1),
        }),
    }
}

/// `a|b|c` -> [a, b, c]; `-` -> [].
fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "-")
}

fn optional(value: &str) -> Option<String> {
    if value == "-" || value.is_empty() {
        None
    } else {
        Some(value.to_string())
    }
}

/// Joins the tokens of a phrase as article text is joined for lookups.
pub fn phrase_key(phrase: &str) -> String {
    text::phrase_tokens(phrase).join(" ")
}

impl EngineData {
    /// Parses the files compiled into the binary.
    pub fn embedded() -> Result<EngineData, EngineError> {
        let mut data = EngineData::default();
        data.load_countries()?;
        data.load_places()?;
        data.load_organizations()?;
        data.load_titles()?;
        data.load_simple_lists()?;
        data.load_cameo()?;
        data.load_event_dictionary()?;
        Ok(data)
    }

    fn add_entity(&mut self, entity: KnownEntity) -> usize {
        self.entities.push(entity);
        self.entities.len() - 1
    }

    fn add_name(&mut self, surface: &str, sense: NameSense) {
        // Article text splits "Secretary-General" at a hyphen before a capital; lexicon
        // phrases are indexed both ways.
        if surface.contains('-') {
            self.add_name_tokens(&surface.replace('-', " - "), sense);
        }
        self.add_name_tokens(surface, sense);
    }

    fn add_name_tokens(&mut self, surface: &str, sense: NameSense) {
        let tokens = text::phrase_tokens(surface);
        let Some(first) = tokens.first() else {
            return;
        };
        let longest = self.name_first_tokens.entry(first.clone()).or_insert(0);
        *longest = (*longest).max(tokens.len());
        let senses = self.names.entry(tokens.join(" ")).or_default();
        if !senses.iter().any(|s| s.entity == sense.entity) {
            senses.push(sense);
        }
    }

    fn load_countries(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "countries.tsv";
        for (line, fields) in rows(COUNTRIES) {
            let code = column(FILE, line, &fields, 0)?;
            let name = column(FILE, line, &fields, 1)?;
            let aliases = fields.get(2).copied().unwrap_or("-");
            let adjectives = fields.get(3).copied().unwrap_or("-");
            let people = fields.get(4).copied().unwrap_or("-");
            if code.len() != 3 {
                return Err(EngineError::Data {
                    file: FILE,
                    line,
                    message: format!("country code {code:?} is not alpha-3"),
                });
            }
            let country = self.add_entity(KnownEntity {
                name: name.to_string(),
                kind: KnownKind::Country,
                entity_type: EntityType::Gpe,
                country: Some(code.to_string()),
                actor_code: Some(code.to_string()),
            });
            let sense = NameSense {
                entity: country,
                plural_people: false,
                adjective: false,
            };
            self.add_name(name, sense);
            for alias in list(aliases) {
                self.add_name(alias, sense);
            }
            // The nationality entity is named by its adjective ("Ukrainian"), the form news
            // uses most; "Ukrainians" is a mention of the same entity.
            let nationality_name = list(adjectives).next().or_else(|| list(people).next());
            if let Some(nationality_name) = nationality_name {
                let nationality = self.add_entity(KnownEntity {
                    name: nationality_name.to_string(),
                    kind: KnownKind::Nationality,
                    entity_type: EntityType::Norp,
                    country: Some(code.to_string()),
                    actor_code: Some(code.to_string()),
                });
                for adjective in list(adjectives) {
                    self.add_name(
                        adjective,
                        NameSense {
                            entity: nationality,
                            plural_people: false,
                            adjective: true,
                        },
                    );
                }
                for plural in list(people) {
                    let adjective = list(adjectives).any(|a| a == plural);
                    self.add_name(
                        plural,
                        NameSense {
                            entity: nationality,
                            plural_people: true,
                            adjective,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn load_places(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "places.tsv";
        for (line, fields) in rows(PLACES) {
            let name = column(FILE, line, &fields, 0)?;
            let kind_text = column(FILE, line, &fields, 1)?;
            let country = optional(fields.get(2).copied().unwrap_or("-"));
            let aliases = fields.get(3).copied().unwrap_or("-");
            let (kind, entity_type) = match kind_text {
                "CAPITAL" => (KnownKind::Capital, EntityType::Gpe),
                "CITY" => (KnownKind::City, EntityType::Gpe),
                "STATE" => (KnownKind::State, EntityType::Gpe),
                "REGION" | "WATER" | "LANDFORM" => (KnownKind::Geographic, EntityType::Location),
                other => {
                    return Err(EngineError::Data {
                        file: FILE,
                        line,
                        message: format!("unknown place kind {other:?}"),
                    })
                }
            };
            // A capital stands for its country's government in news ("Washington urged
            // Moscow"); a city or state is its country when attacked or visited ("drones
            // struck Kharkiv"). Regions, waters and landforms only locate events.
            let actor_code = match kind {
                KnownKind::Capital | KnownKind::City | KnownKind::State => country.clone(),
                _ => None,
            };
            let entity = self.add_entity(KnownEntity {
                name: name.to_string(),
                kind,
                entity_type,
                country,
                actor_code,
            });
            let sense = NameSense {
                entity,
                plural_people: false,
                adjective: false,
            };
            self.add_name(name, sense);
            for alias in list(aliases) {
                self.add_name(alias, sense);
            }
        }
        Ok(())
    }

    fn load_organizations(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "organizations.tsv";
        for (line, fields) in rows(ORGANIZATIONS) {
            let name = column(FILE, line, &fields, 0)?;
            let kind = match column(FILE, line, &fields, 1)? {
                "GOV" => OrgKind::Gov,
                "MIL" => OrgKind::Mil,
                "REB" => OrgKind::Rebel,
                "IGO" => OrgKind::Igo,
                "MEDIA" => OrgKind::Media,
                "PARTY" => OrgKind::Party,
                "COMPANY" => OrgKind::Company,
                "NGO" => OrgKind::Ngo,
                "EDU" => OrgKind::Edu,
                "SPORT" => OrgKind::Sport,
                other => {
                    return Err(EngineError::Data {
                        file: FILE,
                        line,
                        message: format!("unknown organization kind {other:?}"),
                    })
                }
            };
            let country = optional(fields.get(2).copied().unwrap_or("-"));
            let actor_code = optional(fields.get(3).copied().unwrap_or("-"));
            let aliases = fields.get(4).copied().unwrap_or("-");
            let entity = self.add_entity(KnownEntity {
                name: name.to_string(),
                kind: KnownKind::Organization(kind),
                entity_type: EntityType::Organization,
                country,
                actor_code,
            });
            let sense = NameSense {
                entity,
                plural_people: false,
                adjective: false,
            };
            self.add_name(name, sense);
            for alias in list(aliases) {
                self.add_name(alias, sense);
            }
        }
        Ok(())
    }

    fn load_titles(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "titles.tsv";
        for (line, fields) in rows(TITLES) {
            let title = column(FILE, line, &fields, 0)?;
            let role = optional(fields.get(1).copied().unwrap_or("-"));
            let (before_name, nominal) = match fields.get(2).copied().unwrap_or("BOTH") {
                "TITLE" => (true, false),
                "ROLE" => (false, true),
                "BOTH" => (true, true),
                other => {
                    return Err(EngineError::Data {
                        file: FILE,
                        line,
                        message: format!("unknown title kind {other:?}"),
                    })
                }
            };
            let info = TitleInfo {
                role,
                before_name,
                nominal,
            };
            let mut forms = vec![title.to_string()];
            if title.contains('-') {
                forms.push(title.replace('-', " - "));
            }
            for form in forms {
                let tokens: Vec<String> = text::phrase_tokens(&form)
                    .iter()
                    .map(|t| t.to_lowercase())
                    .collect();
                let Some(first) = tokens.first() else {
                    continue;
                };
                let longest = self.title_first_tokens.entry(first.clone()).or_insert(0);
                *longest = (*longest).max(tokens.len());
                self.titles.insert(tokens.join(" "), info.clone());
            }
        }
        Ok(())
    }

    fn load_simple_lists(&mut self) -> Result<(), EngineError> {
        for (_, fields) in rows(GIVEN_NAMES) {
            if let Some(name) = fields.first() {
                self.given_names.insert(text::lookup_form(name));
            }
        }
        for (_, fields) in rows(COMMON_WORDS) {
            if let Some(word) = fields.first() {
                self.common_words.insert(word.to_lowercase());
            }
        }
        const VERBS: &str = "reporting_verbs.tsv";
        for (line, fields) in rows(REPORTING_VERBS) {
            let lemma = column(VERBS, line, &fields, 0)?;
            let kind = match column(VERBS, line, &fields, 1)? {
                "SPEECH" => ReportingKind::Speech,
                "REPORT" => ReportingKind::Report,
                other => {
                    return Err(EngineError::Data {
                        file: VERBS,
                        line,
                        message: format!("unknown reporting verb kind {other:?}"),
                    })
                }
            };
            self.reporting_verbs.insert(lemma.to_string(), kind);
        }
        const HEADS: &str = "name_heads.tsv";
        for (line, fields) in rows(NAME_HEADS) {
            let word = column(HEADS, line, &fields, 0)?;
            let head = match column(HEADS, line, &fields, 1)? {
                "ORG" => HeadType::Organization,
                "LOC" => HeadType::Location,
                "FAC" => HeadType::Facility,
                "PRODUCT" => HeadType::ProductFollower,
                "EVENT" => HeadType::Event,
                "LAW" => HeadType::Law,
                other => {
                    return Err(EngineError::Data {
                        file: HEADS,
                        line,
                        message: format!("unknown name head type {other:?}"),
                    })
                }
            };
            self.name_heads.insert(word.to_string(), head);
        }
        const AGENTS: &str = "agent_nouns.tsv";
        for (line, fields) in rows(AGENT_NOUNS) {
            let noun = column(AGENTS, line, &fields, 0)?;
            let role = column(AGENTS, line, &fields, 1)?;
            let country_from_context = match column(AGENTS, line, &fields, 2)? {
                "CONTEXT" => true,
                "NAMED" => false,
                other => {
                    return Err(EngineError::Data {
                        file: AGENTS,
                        line,
                        message: format!("country source {other:?} is not CONTEXT or NAMED"),
                    })
                }
            };
            self.agent_nouns.insert(
                noun.to_string(),
                AgentNoun {
                    role: role.to_string(),
                    country_from_context,
                },
            );
        }
        const GENDERED: &str = "gendered_words.tsv";
        for (line, fields) in rows(GENDERED_WORDS) {
            let word = column(GENDERED, line, &fields, 0)?;
            let gender = match column(GENDERED, line, &fields, 1)? {
                "F" => 'F',
                "M" => 'M',
                other => {
                    return Err(EngineError::Data {
                        file: GENDERED,
                        line,
                        message: format!("gender {other:?} is not F or M"),
                    })
                }
            };
            self.gendered_words.insert(word.to_lowercase(), gender);
        }
        const IRREGULAR: &str = "irregular_verbs.tsv";
        for (line, fields) in rows(IRREGULAR_VERBS) {
            let lemma = column(IRREGULAR, line, &fields, 0)?;
            let forms = column(IRREGULAR, line, &fields, 1)?;
            for form in list(forms) {
                self.irregular_forms
                    .insert(form.to_string(), lemma.to_string());
            }
        }
        Ok(())
    }

    fn load_cameo(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "cameo_codes.tsv";
        for (line, fields) in rows(CAMEO_CODES) {
            let code = column(FILE, line, &fields, 0)?;
            let quad_class = column(FILE, line, &fields, 1)?;
            let goldstein = column(FILE, line, &fields, 2)?;
            let bad = |message: String| EngineError::Data {
                file: FILE,
                line,
                message,
            };
            let quad_class: u8 = quad_class
                .parse()
                .map_err(|_| bad(format!("quad class {quad_class:?} is not a number")))?;
            let goldstein: f32 = goldstein
                .parse()
                .map_err(|_| bad(format!("Goldstein value {goldstein:?} is not a number")))?;
            self.cameo.insert(
                code.to_string(),
                CameoCode {
                    quad_class,
                    goldstein,
                },
            );
        }
        Ok(())
    }

    fn load_event_dictionary(&mut self) -> Result<(), EngineError> {
        const FILE: &str = "event_dictionary.tsv";
        for (line, fields) in rows(EVENT_DICTIONARY) {
            let code = column(FILE, line, &fields, 0)?;
            let kind = column(FILE, line, &fields, 1)?;
            let pattern = column(FILE, line, &fields, 2)?;
            let bad = |message: String| EngineError::Data {
                file: FILE,
                line,
                message,
            };
            if code.len() < 2 || !code.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad(format!("event code {code:?} is not a CAMEO code")));
            }
            let noun = match kind {
                "VERB" => false,
                "NOUN" => true,
                other => return Err(bad(format!("unknown pattern kind {other:?}"))),
            };
            let items: Vec<PatternItem> = pattern
                .split_whitespace()
                .map(|word| match word {
                    "*" => PatternItem::Gap,
                    "TARGET" => PatternItem::Target,
                    w => PatternItem::Word(w.to_lowercase()),
                })
                .collect();
            let Some(PatternItem::Word(first)) = items.first().cloned() else {
                return Err(bad("a pattern must start with a word".to_string()));
            };
            self.event_index
                .entry(first)
                .or_default()
                .push(self.event_patterns.len());
            self.event_patterns.push(EventPattern {
                code: code.to_string(),
                noun,
                items,
            });
        }
        Ok(())
    }

    /// The senses of a surface form (tokens joined by spaces, apostrophes straightened).
    pub fn lookup_name(&self, key: &str) -> Option<&[NameSense]> {
        self.names.get(key).map(Vec::as_slice)
    }

    /// Lemmas a word form may have: the form itself, its irregular lemma, and regular
    /// de-inflections (urges/urged/urging -> urge; talks -> talk; ceasefires -> ceasefire).
    /// Over-generation is harmless: candidates are only compared with dictionary lemmas.
    pub fn lemma_candidates(&self, word: &str) -> Vec<String> {
        let lower = text::lookup_form(word).to_lowercase();
        let mut out = Vec::with_capacity(4);
        if let Some(lemma) = self.irregular_forms.get(&lower) {
            out.push(lemma.clone());
        }
        let mut push = |s: String| {
            if !s.is_empty() && !out.contains(&s) {
                out.push(s);
            }
        };
        if let Some(stem) = lower.strip_suffix("ies") {
            push(format!("{stem}y"));
        }
        if let Some(stem) = lower.strip_suffix("es") {
            push(stem.to_string());
        }
        if let Some(stem) = lower.strip_suffix('s') {
            if !stem.ends_with('s') {
                push(stem.to_string());
            }
        }
        if let Some(stem) = lower.strip_suffix("ied") {
            push(format!("{stem}y"));
        }
        for suffix in ["ed", "ing"] {
            if let Some(stem) = lower.strip_suffix(suffix) {
                if stem.chars().count() < 2 {
                    continue;
                }
                push(stem.to_string());
                push(format!("{stem}e"));
                // "stopped" -> "stop", "planning" -> "plan".
                let mut chars = stem.chars().rev();
                if let (Some(a), Some(b)) = (chars.next(), chars.next()) {
                    if a == b {
                        push(
                            stem.get(..stem.len() - a.len_utf8())
                                .unwrap_or("")
                                .to_string(),
                        );
                    }
                }
            }
        }
        if let Some(stem) = lower.strip_suffix('d') {
            if stem.ends_with('e') {
                push(stem.to_string());
            }
        }
        push(lower);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_loads() {
        let data = EngineData::embedded().expect("embedded data is valid");
        assert!(!data.entities.is_empty());
        assert!(!data.event_patterns.is_empty());
        let us = data.lookup_name("U.S.").expect("U.S. is known");
        assert_eq!(data.entities[us[0].entity].country.as_deref(), Some("USA"));
    }

    #[test]
    fn lemma_candidates_cover_regular_and_irregular_forms() {
        let data = EngineData::embedded().expect("embedded data is valid");
        for (form, lemma) in [
            ("urges", "urge"),
            ("urged", "urge"),
            ("urging", "urge"),
            ("stopped", "stop"),
            ("talks", "talk"),
            ("met", "meet"),
            ("pledged", "pledge"),
            ("ceasefires", "ceasefire"),
        ] {
            assert!(
                data.lemma_candidates(form).iter().any(|l| l == lemma),
                "{form} -> {lemma}"
            );
        }
    }

    #[test]
    fn event_dictionary_covers_every_root_with_known_codes() {
        let data = EngineData::embedded().expect("embedded data is valid");
        for root in 1..=20 {
            let root = format!("{root:02}");
            assert!(
                data.event_patterns
                    .iter()
                    .any(|p| p.code.starts_with(&root)),
                "no pattern for root {root}"
            );
        }
        for pattern in &data.event_patterns {
            assert!(
                data.cameo.contains_key(&pattern.code),
                "unknown code {}",
                pattern.code
            );
        }
    }

    #[test]
    fn malformed_rows_are_reported() {
        let err = column("x.tsv", 3, &["a"], 2).expect_err("missing column");
        assert!(err.to_string().contains("x.tsv"));
    }
}
