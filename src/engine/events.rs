//! CAMEO-coded events: who did what to whom, when and where.
//!
//! A shallow, dictionary-driven coder in the spirit of TABARI/PETRARCH but without a parse:
//! triggers come from `data/event_dictionary.tsv` (lemma patterns, longest match wins) and the
//! actors from the clause around the trigger. Sentences are cut into clauses at commas,
//! semicolons and subordinators ("that", "if", "where", "while"), because news packs several
//! events into one sentence ("..., where Kyiv agreed to a ceasefire with Russia, and the US
//! pledged to resume aid"). Conventions relied on:
//! - the source is the clause subject: the first actor of the trigger's clause, or of the
//!   nearest earlier clause that has one ("Rubio confirmed that during negotiations with ...");
//! - the target follows the trigger ("urging Russia", "against Russia", "with Russia",
//!   "between X and Y"); "in X" only places the event;
//! - an event noun ("talks", "meeting") is an event only when its participants are named with
//!   it, so "if negotiations fail" codes nothing;
//! - an event reported inside the complement of an appeal or promise ("pledged to resume
//!   intelligence sharing") is that appeal or promise, not a second event;
//! - the same event retold later in the article ("After the US-Ukraine talks in Saudi
//!   Arabia...") is kept once;
//! - unnamed groups act for a country ("Russian drones", "Police" under a TBILISI dateline,
//!   "the government of Georgia"), coded country + role (RUSMIL, GEOCOP, GEOGOV);
//! - a person we cannot code still occupies the subject position, so that the clause's other
//!   actors are not mistaken for the subject: no event beats a wrongly attributed one.

use super::data::{EngineData, EventPattern, PatternItem};
use super::resolve::MentionIndex;
use super::text::{lookup_form, TextAnalysis, TokenKind};
use super::{
    Actor, Date, Entity, EntityType, Event, Modality, Place, Quote, Span, Temporal, TemporalKind,
};

/// Words that open a new clause inside a sentence.
const CLAUSE_OPENERS: &[&str] = &[
    "that", "if", "unless", "where", "while", "whereas", "when", "because", "although", "but",
    "whether", "as", "after", "before",
];

/// Prepositions that introduce a place, not a participant.
const PLACE_PREPOSITIONS: &[&str] = &[
    "in",
    "at",
    "near",
    "inside",
    "across",
    "throughout",
    "through",
    "outside",
];

/// Words that may stand between a trigger and its TARGET slot: "visit the Ukrainian capital".
const TARGET_FILLERS: &[&str] = &[
    "the",
    "a",
    "an",
    "its",
    "their",
    "his",
    "her",
    "neighbouring",
    "neighboring",
];

const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "these", "those", "its", "their", "our", "his", "her", "my",
];

/// How many words a `*` in a pattern may skip: "pledged $325 million in new military aid".
const MAX_GAP: usize = 6;

/// Words before a trigger that deny it: "did not attack", "denied sending missiles".
const NEGATIONS: &[&str] = &[
    "not", "n't", "never", "no", "denied", "denies", "deny", "denying",
];
const INTENT_MARKERS: &[&str] = &[
    "would", "will", "could", "may", "might", "shall", "plan", "plans", "planned", "want", "wants",
    "ready", "intend", "intends", "hope", "hopes", "hoped", "expect", "expects", "should", "to",
];

/// Nouns for the two parties of a conflict or dispute: "both sides", "the two governments".
const BOTH_SIDES_NOUNS: &[&str] = &[
    "sides",
    "countries",
    "governments",
    "parties",
    "nations",
    "neighbours",
    "neighbors",
    "capitals",
    "leaders",
];

/// The root of a pattern's code, or of the code that replaces it.
fn root_code_of<'p>(pattern: &'p EventPattern, code_override: Option<&'p str>) -> &'p str {
    let code = code_override.unwrap_or(pattern.code.as_str());
    code.get(..2).unwrap_or(code)
}

/// Event roots whose infinitive complement restates the same event: appeals (02), promises
/// (03), demands (10), rejections (12) and threats (13).
const COMPLEMENT_TAKING_ROOTS: &[&str] = &["02", "03", "10", "12", "13"];

#[derive(Debug, Clone)]
struct Match {
    pattern: usize,
    first: usize,
    /// Exclusive.
    end: usize,
    specificity: usize,
    target: Option<usize>,
}

/// Whether an actor is an armed force: a military or an armed non-state group.
fn is_armed(actor: &ActorMention) -> bool {
    let role = actor.code.get(3..).unwrap_or("");
    role.starts_with("MIL") || role.starts_with("REB")
}

/// Whether `target` can be the target of `source`: not the same actor, and not a state acting
/// on its own parts ("the State Department ... said Washington": USAGOV and USA are one side).
/// Different parts of one country can act on each other (police on protesters).
fn plausible_pair(source: &ActorMention, target: &ActorMention) -> bool {
    if source.code == target.code {
        return false;
    }
    !(same_country(source, target) && (source.code.len() <= 3 || target.code.len() <= 3))
}

fn same_country(a: &ActorMention, b: &ActorMention) -> bool {
    a.country_code() == b.country_code()
}

/// What makes two coded events the same happening.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    root: String,
    /// The acting entity, except for symmetric consultations.
    source_entity: Option<String>,
    /// Source and target countries (ordered for symmetric consultations).
    actors: (String, String),
    place: Option<String>,
    time: Option<String>,
    /// For unnamed groups ("officers", "protesters"), the trigger's first word: with no
    /// entity to tell two acts apart, "Officers fired tear gas" and "people were arrested"
    /// are two acts of coercion.
    unnamed_trigger: Option<String>,
}

impl Identity {
    /// The same event told twice: same root, actor countries and acting entity, and no conflicting place or
    /// date (a retelling often drops them: "after the talks with Kyiv").
    fn same_event(&self, other: &Identity) -> bool {
        let compatible = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        self.root == other.root
            && self.unnamed_trigger == other.unnamed_trigger
            && self.source_entity == other.source_entity
            && self.actors == other.actors
            && compatible(&self.place, &other.place)
            && compatible(&self.time, &other.time)
    }
}

/// The lemma candidates of each token of the article.
struct TokenLemmas {
    lemmas: Vec<Vec<String>>,
}

impl TokenLemmas {
    fn at(&self, i: usize) -> &[String] {
        self.lemmas.get(i).map_or(&[], Vec::as_slice)
    }
}

/// A mention that can act in an event, with its CAMEO code.
#[derive(Debug, Clone)]
struct ActorMention {
    first: usize,
    end: usize,
    entity: Option<usize>,
    code: String,
    name: String,
}

impl ActorMention {
    /// The actor's country: the first three letters of its CAMEO code.
    fn country_code(&self) -> &str {
        self.code.get(..3).unwrap_or(&self.code)
    }

    /// A country standing as an actor the text implies rather than names, at token `at`.
    fn country(country: &str, at: usize) -> ActorMention {
        ActorMention {
            first: at,
            end: at,
            entity: None,
            code: country.to_string(),
            name: country.to_string(),
        }
    }
}

/// Codes the events of the article.
pub fn extract(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    entities: &[Entity],
    quotes: &[Quote],
    temporals: &[Temporal],
    published: Option<Date>,
) -> Vec<Event> {
    let index = MentionIndex::new(text, entities);
    let counts = country_counts(entities);
    let story_country = dominant_country(&counts);
    let story_sides = story_sides(&counts);
    let dateline_country = dateline_country(text, entities, &index).or(story_country.clone());
    let lowers = (0..text.tokens.len())
        .map(|i| lookup_form(text.token_text(i)).to_lowercase())
        .collect();
    let lemmas = TokenLemmas {
        lemmas: text
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| match t.kind {
                TokenKind::Word => data.lemma_candidates(text.token_text(i)),
                _ => Vec::new(),
            })
            .collect(),
    };
    let coder = Coder {
        data,
        text,
        lowers,
        lemmas,
        entities,
        index,
        quotes,
        temporals,
        dateline_country,
        story_country,
        story_sides,
        published,
    };
    let mut events = Vec::new();
    let mut seen: Vec<Identity> = Vec::new();
    for sentence in 0..text.sentences.len() {
        for event in coder.code_sentence(sentence) {
            let identity = coder.identity(&event);
            if !seen.iter().any(|s| s.same_event(&identity)) {
                seen.push(identity);
                events.push(event);
            }
        }
    }
    drop_headline_restatements(&mut events);
    for (n, event) in events.iter_mut().enumerate() {
        event.id = format!("v{}", n + 1);
    }
    events
}

/// A headline sums up an event the body tells in full ("EU envoy urges Georgian government"
/// over "Kaja Kallas urged Tbilisi ..."): a title event with the same root and actor
/// countries as a body event is that event, and the body's telling (named actors, time,
/// place) is the one kept.
fn drop_headline_restatements(events: &mut Vec<Event>) {
    let country = |a: &Option<Actor>| {
        a.as_ref()
            .map(|a| a.code.chars().take(3).collect::<String>())
            .unwrap_or_default()
    };
    let key = |e: &Event| (e.root_code.clone(), country(&e.source), country(&e.target));
    let body: Vec<_> = events
        .iter()
        .filter(|e| e.span.field == super::Field::Body)
        .map(key)
        .collect();
    events.retain(|e| e.span.field == super::Field::Body || !body.contains(&key(e)));
}

/// The country of the dateline ("KYIV, June 3 (Reuters) -", "TBILISI, Georgia (AP) —"): the
/// place a wire story is filed from, which unnamed police, protesters and governments in it
/// belong to unless the text says otherwise.
fn dateline_country(
    text: &TextAnalysis<'_>,
    entities: &[Entity],
    index: &MentionIndex,
) -> Option<String> {
    let paragraph = text
        .paragraphs
        .iter()
        .find(|p| p.field == super::Field::Body)?;
    let (end, e, _) = index.starting_at(paragraph.first_token)?;
    let entity = entities.get(e)?;
    if entity.entity_type != EntityType::Gpe || text.token_text(end) != "," {
        return None;
    }
    let window = paragraph.first_token..(paragraph.first_token + 12).min(paragraph.end_token);
    let has_dateline_mark = window
        .into_iter()
        .any(|i| matches!(text.token_text(i), "(" | "—" | "–" | "-"));
    if has_dateline_mark {
        entity.country_code.clone()
    } else {
        None
    }
}

/// Countries by how often the article names them, their places, people and bodies
/// ("Malawi", "Lilongwe", "Malawian", "Downing Street"), most named first. An organisation
/// counts only for a country the article names as a place or nationality too (if it names
/// any country that way): its country
/// comes from a gazetteer that cannot tell Malawi's Democratic Progressive Party from
/// Taiwan's.
fn country_counts(entities: &[Entity]) -> Vec<(String, usize)> {
    let is_place = |e: &Entity| {
        matches!(
            e.entity_type,
            EntityType::Gpe | EntityType::Norp | EntityType::Location
        )
    };
    let places_named = entities
        .iter()
        .any(|e| is_place(e) && e.country_code.is_some());
    let mut counts: Vec<(String, usize)> = Vec::new();
    for entity in entities {
        if entity.entity_type == EntityType::Person {
            continue;
        }
        let Some(code) = entity.country_code.as_deref() else {
            continue;
        };
        if !is_place(entity)
            && places_named
            && !entities
                .iter()
                .any(|e| is_place(e) && e.country_code.as_deref() == Some(code))
        {
            continue;
        }
        let n = entity.mentions.len();
        match counts.iter_mut().find(|(c, _)| c == code) {
            Some((_, count)) => *count += n,
            None => counts.push((code.to_string(), n)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
}

/// The country a story without a dateline is about: BBC and newspaper copy carries no
/// dateline, but a domestic story names its own country's bodies again and again (Downing
/// Street, the TUC, the NHS). A country counts when it has at least three mentions, twice as
/// many as any other country and a third of the mentions of entities with a country.
fn dominant_country(counts: &[(String, usize)]) -> Option<String> {
    let total: usize = counts.iter().map(|c| c.1).sum();
    let (code, n) = counts.first()?;
    let runner_up = counts.get(1).map_or(0, |c| c.1);
    (*n >= 3 && *n >= 2 * runner_up && n * 3 >= total).then(|| code.clone())
}

/// The two sides of a story about two countries (India and Pakistan trading strikes,
/// Thailand and Cambodia extending a truce): the two most named, each with at least three
/// mentions and together twice as many as any third country.
fn story_sides(counts: &[(String, usize)]) -> Option<(String, String)> {
    let (a, na) = counts.first()?;
    let (b, nb) = counts.get(1)?;
    let third = counts.get(2).map_or(0, |c| c.1);
    (*nb >= 3 && *nb >= 2 * third && *na < 2 * nb).then(|| (a.clone(), b.clone()))
}

/// Nouns that an event word before them only modifies ("assault rifles", "attack helicopters").
const MODIFIED_NOUNS: &[&str] = &[
    "aircraft",
    "boat",
    "boats",
    "craft",
    "dog",
    "dogs",
    "force",
    "group",
    "helicopter",
    "helicopters",
    "plane",
    "planes",
    "rifle",
    "rifles",
    "song",
    "songs",
    "squad",
    "submarine",
    "submarines",
    "team",
    "unit",
    "units",
    "vehicle",
    "vehicles",
    "weapon",
    "weapons",
];

/// Roles of actors whose "strike" is a walk-out, not an attack.
const LABOUR_ROLES: &[&str] = &["LAB", "CVL"];

struct Coder<'d, 't, 'a, 'e> {
    data: &'d EngineData,
    text: &'t TextAnalysis<'a>,
    /// Each token's lower-case form and lemma candidates, computed once: the coder looks at
    /// every word several times (triggers, clauses, agents).
    lowers: Vec<String>,
    lemmas: TokenLemmas,
    entities: &'e [Entity],
    index: MentionIndex,
    quotes: &'e [Quote],
    temporals: &'e [Temporal],
    dateline_country: Option<String>,
    /// The country most of the article names, if one dominates.
    story_country: Option<String>,
    /// The two countries a bilateral story is about.
    story_sides: Option<(String, String)>,
    published: Option<Date>,
}

impl<'d, 't, 'a, 'e> Coder<'d, 't, 'a, 'e> {
    fn word(&self, i: usize) -> &'a str {
        self.text.token_text(i)
    }

    fn lower(&self, i: usize) -> &str {
        self.lowers.get(i).map_or("", String::as_str)
    }

    fn identity(&self, event: &Event) -> Identity {
        let country = |a: &Actor| a.code.chars().take(3).collect::<String>();
        let source = event.source.as_ref().map_or(String::new(), country);
        let target = event.target.as_ref().map_or(String::new(), country);
        // Consultations are symmetric: a meeting of X with Y is one of Y with X.
        let (a, b) = if event.root_code == "04" && target < source {
            (target, source)
        } else {
            (source, target)
        };
        // A consultation retold is the same meeting whichever side's official is the subject;
        // an appeal, threat or promise is one actor's act.
        let symmetric = event.root_code == "04";
        Identity {
            root: event.root_code.clone(),
            source_entity: if symmetric {
                None
            } else {
                event.source.as_ref().and_then(|a| a.entity_id.clone())
            },
            actors: (a, b),
            place: event.location.as_ref().map(|p| p.name.clone()),
            time: event.time.as_ref().map(|t| t.value.clone()),
            unnamed_trigger: event
                .source
                .as_ref()
                .is_some_and(|a| a.entity_id.is_none() && !symmetric)
                .then(|| {
                    let first = event.trigger.split_whitespace().next().unwrap_or("");
                    first.to_lowercase()
                }),
        }
    }

    fn code_sentence(&self, sentence: usize) -> Vec<Event> {
        let Some(s) = self.text.sentences.get(sentence) else {
            return Vec::new();
        };
        let (first, end) = (s.first_token, s.end_token);
        let lemmas = &self.lemmas;
        let clause = self.clauses(first, end);
        let clause_of = |i: usize| {
            i.checked_sub(first)
                .and_then(|k| clause.get(k))
                .copied()
                .unwrap_or(0)
        };
        let actors = self.actors(first, end);

        // Trigger matches, most specific first, without overlaps.
        let mut matches = Vec::new();
        for i in first..end {
            if !self.can_trigger(i) {
                continue;
            }
            for lemma in lemmas.at(i) {
                for &p in self
                    .data
                    .event_index
                    .get(lemma)
                    .map_or(&[][..], Vec::as_slice)
                {
                    let noun = self.data.event_patterns.get(p).is_some_and(|x| x.noun);
                    if !noun && self.after_determiner(i) {
                        continue;
                    }
                    if let Some(m) = self.match_pattern(p, i, end, lemmas, &actors) {
                        if m.end == i + 1 && self.modifies_noun(i) {
                            continue;
                        }
                        matches.push(m);
                    }
                }
            }
        }
        matches.sort_by(|a, b| {
            b.specificity
                .cmp(&a.specificity)
                .then(a.first.cmp(&b.first))
        });
        let mut chosen: Vec<Match> = Vec::new();
        for m in matches {
            if chosen.iter().all(|c| m.end <= c.first || m.first >= c.end) {
                chosen.push(m);
            }
        }
        chosen.sort_by_key(|m| m.first);

        let sentence_span = self.text.token_range_span(first, end.saturating_sub(1));
        let bilateral = self.bilateral_pairs(first, end, &actors);
        // Events already coded in this sentence: a later act of the same subject without a
        // named target is towards the same target ("welcomed Zelenskyy ... and pledged $325
        // million").
        let mut coded_pairs: Vec<(ActorMention, ActorMention)> = Vec::new();
        let mut events = Vec::new();
        for (k, m) in chosen.iter().enumerate() {
            let Some(pattern) = self.data.event_patterns.get(m.pattern) else {
                continue;
            };
            if self.restates_earlier(chosen.get(..k).unwrap_or(&[]), m) {
                continue;
            }
            let mut code_override: Option<&'static str> = None;
            // Whether the target is the other half of a coordinated subject.
            let mut joint = false;
            let (source, target) = if pattern.noun {
                match self.noun_participants(m, first, end, &actors, &clause_of) {
                    Some(pair) => pair,
                    None => continue,
                }
            } else {
                // A verb in a "that" clause has its own subject there or none: in "Moscow
                // warned Berlin that supplying missiles would...", Moscow supplies nothing.
                let clause_start = (first..m.first).find(|&i| clause_of(i) == clause_of(m.first));
                let floor = match clause_start {
                    Some(c) if self.lower(c) == "that" => c,
                    _ => first,
                };
                let mut source = self.subject(m.first, floor, &actors, &clause_of);
                // "was attacked by X" (passive: the subject is the target) and "attacks by X"
                // (a noun read as a verb: the subject is neither side) name the source after
                // "by".
                let passive = m.first > first
                    && matches!(
                        self.lower(m.first - 1),
                        "was" | "were" | "been" | "being" | "is" | "are" | "be"
                    );
                let by_agent = (m.end < end && self.lower(m.end) == "by")
                    .then(|| self.by_agent(m.end, end, &actors))
                    .flatten();
                let mut passive_target = None;
                let has_agent = by_agent.is_some();
                if let Some(agent) = by_agent {
                    passive_target = if passive { source.take() } else { None };
                    source = Some(agent);
                }
                // Workers and unions strike by walking out (143), and a walk-out stated as a
                // possibility ("staff could strike if ...", "will strike unless ...") is a
                // threat of one (133).
                if let Some(code) = self.labour_code(pattern.code.as_str(), m, source.as_ref()) {
                    let modality = self.modality(m, first, &clause_of);
                    code_override = Some(match modality {
                        Modality::Asserted | Modality::Negated => code,
                        Modality::Hypothetical | Modality::Intended => "133",
                    });
                }
                let target = match (m.target, has_agent) {
                    (Some(t), _) => actors.get(t).cloned(),
                    (None, true) => passive_target,
                    (None, false) => self.object(m, end, &actors, &clause_of, source.as_ref()),
                };
                let root: String = code_override
                    .unwrap_or(pattern.code.as_str())
                    .chars()
                    .take(2)
                    .collect();
                // "Russian and Ukrainian delegations met", "Thailand and Cambodia agreed to
                // extend the truce": the two sides of the subject act on each other.
                let coordinated = source
                    .as_ref()
                    .filter(|_| !has_agent)
                    .and_then(|s| self.coordinated_with(s, &actors));
                // Not "sites bombed by Israel and the United States": agents acting together.
                joint = coordinated.is_some() && target.is_none();
                let target = target.or(coordinated).or_else(|| {
                    match root.as_str() {
                        // Violence without a named victim falls on the country where it
                        // happens: "Indian missiles hit an air base in Punjab province".
                        "17" | "18" | "19" | "20" => self
                            .sentence_place_country(first, end)
                            .map(|country| ActorMention::country(&country, m.first)),
                        // A protest (or the threat of one) without a named target is against
                        // the government where it takes place.
                        "14" | "13" if code_override.is_some() || root == "14" => self
                            .sentence_place_country(first, end)
                            .or_else(|| self.dateline_country.clone())
                            .map(|country| ActorMention {
                                code: format!("{country}GOV"),
                                name: format!("{country} government"),
                                ..ActorMention::country(&country, m.first)
                            }),
                        _ => None,
                    }
                });
                (source, target)
            };
            let source = source.or_else(|| self.speaker_actor(m.first));
            let Some(source) = source else {
                continue;
            };
            let target = target.or_else(|| {
                let same_subject = coded_pairs
                    .iter()
                    .find(|(s, _)| same_country(s, &source))
                    .map(|(_, t)| t.clone());
                bilateral
                    .iter()
                    .find_map(|(a, b)| {
                        if same_country(a, &source) {
                            Some(b.clone())
                        } else if same_country(b, &source) {
                            Some(a.clone())
                        } else {
                            None
                        }
                    })
                    .or(same_subject)
            });
            if source.code.is_empty() {
                continue;
            }
            // An act that names no target is done to the country the story is about ("Pakistan
            // denied any role", "police detained 37 people"); a target we cannot code is as
            // good as none.
            let named_target = target
                .filter(|t| plausible_pair(&source, t))
                .filter(|t| !t.code.is_empty());
            // Only an act that happened stands without a named target: "Russia would agree"
            // inside a hope or a condition is part of another event.
            let modality = self.modality(m, first, &clause_of);
            if named_target.is_none() && modality != Modality::Asserted {
                continue;
            }
            // "urged both countries to exercise restraint": the two sides of the story.
            let both = named_target
                .is_none()
                .then(|| self.both_sides_after(m, end, &source))
                .flatten();
            // A target the story implies rather than the sentence names is less certain.
            let inferred_target = named_target.is_none();
            let Some(target) = named_target
                .or_else(|| both.as_ref().map(|(first_side, _)| first_side.clone()))
                .or_else(|| {
                    let arrest = root_code_of(pattern, code_override) == "17";
                    self.story_target(&source, m.first, arrest)
                })
            else {
                continue;
            };
            if self.is_match_result(m, &source, &target) {
                continue;
            }
            coded_pairs.push((source.clone(), target.clone()));
            // What "X and Y" do to each other, each side does to the other: "Thailand and
            // Cambodia agreed to extend the truce", "Ethiopia and Eritrea traded accusations".
            let mut also = Vec::new();
            if joint {
                also.push((target.clone(), source.clone()));
            }
            if let Some((_, second_side)) = both {
                also.push((source.clone(), second_side));
            }
            let Some(trigger_span) = self.text.token_range_span(m.first, m.end.saturating_sub(1))
            else {
                continue;
            };
            let Some(span) = sentence_span else {
                continue;
            };
            let mut code = code_override.map_or_else(|| pattern.code.clone(), str::to_string);
            // Killing and destruction by soldiers or armed groups are the use of military
            // force (19), not assault or seizure: "Troops killed 38 bandits and destroyed
            // several camps", "Israeli warplanes ... killing".
            if (code.starts_with("18") || code == "1712") && is_armed(&source) {
                code = "190".to_string();
            }
            let root_code: String = code.chars().take(2).collect();
            let cameo = self
                .data
                .cameo
                .get(&code)
                .or_else(|| self.data.cameo.get(&root_code));
            let event = Event {
                id: String::new(),
                code,
                root_code,
                quad_class: cameo.map_or(0, |c| c.quad_class),
                goldstein: cameo.map_or(0.0, |c| c.goldstein),
                source: Some(self.actor(&source)),
                target: Some(self.actor(&target)),
                trigger: self.text.span_text(trigger_span).to_string(),
                trigger_span,
                span,
                time: self
                    .time_in(span)
                    .or_else(|| self.publication_time(trigger_span, modality)),
                location: self.location(m, first, end),
                modality,
                quote_id: self.quote_at(trigger_span),
                confidence: (0.45 + 0.1 * m.specificity as f32).min(0.9)
                    * if inferred_target { 0.75 } else { 1.0 },
            };
            for (source, target) in also {
                events.push(Event {
                    source: Some(self.actor(&source)),
                    target: Some(self.actor(&target)),
                    ..event.clone()
                });
            }
            events.push(event);
        }
        events
    }

    /// An event word used as a modifier names a thing, not an event: "assault rifles",
    /// "attack helicopters", "strike aircraft", "protest songs".
    fn modifies_noun(&self, i: usize) -> bool {
        let next = self.lower(i + 1);
        self.text
            .tokens
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::Word)
            && MODIFIED_NOUNS.contains(&next)
    }

    /// "Spain beat Portugal 2-1", "Australia beat the United States": sports results, not
    /// assaults. A beating codes an event only when it has a person or group on one side
    /// (police beat protesters); two bare countries are two teams.
    fn is_match_result(&self, m: &Match, source: &ActorMention, target: &ActorMention) -> bool {
        let beat = (m.first..m.end).any(|i| {
            self.lemmas
                .at(i)
                .iter()
                .any(|l| l == "beat" || l == "defeat")
        });
        beat && source.code.len() == 3 && target.code.len() == 3
    }

    /// The code of a "strike" by workers or a union: a walk-out (143), not an attack.
    fn labour_code(
        &self,
        pattern_code: &str,
        m: &Match,
        source: Option<&ActorMention>,
    ) -> Option<&'static str> {
        let source = source?;
        let labour = LABOUR_ROLES
            .iter()
            .any(|role| source.code.len() > 3 && source.code.ends_with(role));
        let strike = (m.first..m.end).any(|i| self.lower(i).starts_with("strik"));
        if !(labour && strike && (pattern_code.starts_with("19") || pattern_code.starts_with("18")))
        {
            return None;
        }
        // "unions threaten strike", "warned of a strike": the walk-out is threatened.
        let threatened = (m.first.saturating_sub(3)..m.first).any(|i| {
            let lower = self.lower(i);
            lower.starts_with("threat") || lower.starts_with("warn")
        });
        Some(if threatened { "133" } else { "143" })
    }

    /// A verb that only reports ("said", "noted"): the words after it are a new clause.
    /// Reporting verbs that are events themselves ("urged NATO", "warned Berlin") keep their
    /// object.
    fn is_reporting_verb(&self, i: usize) -> bool {
        if !self
            .text
            .tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Word)
            || super::text::is_capitalised(self.word(i))
        {
            return false;
        }
        let lemmas = self.lemmas.at(i);
        lemmas
            .iter()
            .any(|l| self.data.reporting_verbs.contains_key(l))
            && !lemmas.iter().any(|l| self.data.event_index.contains_key(l))
    }

    /// Triggers are ordinary words: a capital mid-sentence makes a name ("March 12", "Strike
    /// Group"), except in headlines and at the start of a sentence.
    fn can_trigger(&self, i: usize) -> bool {
        let Some(token) = self.text.tokens.get(i) else {
            return false;
        };
        // A plural before an auxiliary is a noun subject: "Strikes will not change ...".
        let noun_subject = self.lower(i).ends_with('s')
            && matches!(
                self.lower(i + 1),
                "will" | "would" | "can" | "could" | "are" | "were" | "have" | "had" | "may"
            );
        if noun_subject {
            return false;
        }
        if token.kind != TokenKind::Word || !super::text::is_capitalised(self.word(i)) {
            return true;
        }
        token.clause_initial
            || self
                .text
                .paragraphs
                .get(token.paragraph)
                .is_some_and(|p| p.headline_case)
    }

    /// A word after a determiner is a noun ("the protests", "a strike"), so verb patterns do
    /// not start there.
    fn after_determiner(&self, i: usize) -> bool {
        i.checked_sub(1)
            .is_some_and(|p| DETERMINERS.contains(&self.lower(p)))
    }

    /// Clause number of each token of the sentence `[first, end)`.
    fn clauses(&self, first: usize, end: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(end.saturating_sub(first));
        let mut clause = 0;
        for i in first..end {
            let word = self.word(i);
            let lower = self.lower(i);
            let punct_boundary = matches!(word, "," | ";" | ":" | "(" | ")" | "—" | "–");
            // "He said Russia had launched...": the reported clause after a reporting verb
            // has its own subject, with or without "that".
            let after_reporting = i > first && lower != "that" && self.is_reporting_verb(i - 1);
            if punct_boundary || after_reporting || CLAUSE_OPENERS.contains(&lower) {
                clause += 1;
            }
            out.push(clause);
        }
        out
    }

    /// Mentions in the sentence that can act: entities with an actor code, minus outlets and
    /// anything named inside an "according to ..." attribution.
    fn actors(&self, first: usize, end: usize) -> Vec<ActorMention> {
        let mut attribution_until = first;
        let mut out = Vec::new();
        for i in first..end {
            if self.lower(i) == "according" && self.lower(i + 1) == "to" {
                attribution_until = (i..end).find(|&k| self.word(k) == ",").unwrap_or(i + 2);
            }
        }
        let mut first_attribution = None;
        for i in first..end {
            if self.lower(i) == "according" && self.lower(i + 1) == "to" {
                first_attribution = Some(i);
                break;
            }
        }
        let mentions: Vec<_> = self.index.within(first, end).collect();
        for (k, &(m_first, m_end, e, _)) in mentions.iter().enumerate() {
            // "US Secretary of State Marco Rubio": the country qualifies the person, who is the
            // actor.
            let qualifies_person = mentions.get(k + 1).is_some_and(|&(n_first, _, n, _)| {
                n_first >= m_end
                    && n_first <= m_end + 5
                    && self
                        .entities
                        .get(n)
                        .is_some_and(|x| x.entity_type == EntityType::Person)
                    && self
                        .entities
                        .get(e)
                        .is_some_and(|x| x.entity_type != EntityType::Person)
                    && self.is_title_between(m_end, n_first)
            });
            if qualifies_person {
                continue;
            }
            if let Some(a) = first_attribution {
                if m_first > a && m_first < attribution_until {
                    continue;
                }
            }
            let Some(entity) = self.entities.get(e) else {
                continue;
            };
            if entity
                .actor_code
                .as_deref()
                .is_some_and(|c| c.ends_with("MED"))
            {
                continue;
            }
            // A person we cannot code still holds the subject or object position, so that
            // the clause's other actors are not mistaken for it; events with such an actor
            // are dropped.
            // People in a story about one country are that country's unless the text says
            // otherwise ("Mr Prado thanked his supporters").
            let code = match (&entity.actor_code, entity.entity_type) {
                (Some(code), _) => code.clone(),
                (None, EntityType::Person) => self.story_country.clone().unwrap_or_default(),
                (None, _) => continue,
            };
            out.push(ActorMention {
                first: m_first,
                end: m_end,
                entity: Some(e),
                code,
                name: entity.name.clone(),
            });
        }
        self.add_agents(first, end, &mentions, &mut out);
        out.sort_by_key(|a| a.first);
        out
    }

    /// Unnamed groups acting for a country: "Russian drones", "Ukraine's air force", "the
    /// government of Georgia", "Police" in a story filed from Tbilisi.
    fn add_agents(
        &self,
        first: usize,
        end: usize,
        mentions: &[(usize, usize, usize, super::MentionKind)],
        out: &mut Vec<ActorMention>,
    ) {
        let sentence_country = self.sentence_place_country(first, end);
        for i in first..end {
            if self.text.tokens.get(i).map(|t| t.kind) != Some(TokenKind::Word) {
                continue;
            }
            if mentions.iter().any(|&(f, e, _, _)| f <= i && i < e) {
                continue;
            }
            let Some(agent) = self
                .lemmas
                .at(i)
                .iter()
                .find_map(|l| self.data.agent_nouns.get(l))
            else {
                continue;
            };
            let role = &agent.role;
            // A singular agent noun before a plural noun modifies it: "civilian buildings",
            // "government forces".
            let next = self.lower(i + 1);
            let modifier = !self.word(i).ends_with('s')
                && next.len() > 3
                && next.ends_with('s')
                && !self.data.common_words.contains(next)
                && self
                    .text
                    .tokens
                    .get(i + 1)
                    .is_some_and(|t| t.kind == TokenKind::Word);
            if modifier {
                continue;
            }
            // The country named right before ("Russian drones", "Ukraine's forces"), up to
            // two words back, or "of X" right after.
            // Only a country or nationality qualifies the group: in "The Conservatives
            // accused the government", the party is the subject, not the government's owner.
            let is_country = |e: usize| {
                self.entities
                    .get(e)
                    .is_some_and(|x| matches!(x.entity_type, EntityType::Gpe | EntityType::Norp))
            };
            let before = mentions.iter().rev().find(|&&(f, e, x, _)| {
                e <= i
                    && e + 2 >= i
                    && f >= first
                    && is_country(x)
                    && (e..i).all(|k| {
                        self.text
                            .tokens
                            .get(k)
                            .is_some_and(|t| t.kind == TokenKind::Word)
                    })
            });
            let after = (self.lower(i + 1) == "of")
                .then(|| mentions.iter().find(|&&(f, _, _, _)| f == i + 2))
                .flatten();
            let named = before
                .or(after)
                .and_then(|&(_, _, e, _)| self.entities.get(e))
                .and_then(|x| {
                    matches!(x.entity_type, EntityType::Gpe | EntityType::Norp)
                        .then(|| x.country_code.clone())
                        .flatten()
                });
            let context = || {
                sentence_country
                    .clone()
                    .or_else(|| self.dateline_country.clone())
            };
            let country = if agent.country_from_context {
                named.or_else(context)
            } else {
                named
            };
            let Some(country) = country else {
                continue;
            };
            // The named country is already an actor mention; the agent refines its role.
            if let Some(&(f, _, _, _)) = before {
                out.retain(|a| a.first != f);
            }
            let start = before.map_or(i, |&(f, _, _, _)| f);
            out.push(ActorMention {
                first: start,
                end: i + 1,
                entity: None,
                code: format!("{country}{role}"),
                name: self
                    .text
                    .token_range_span(start, i)
                    .map_or_else(String::new, |sp| self.text.span_text(sp).to_string()),
            });
        }
    }

    /// The target of an act that names none: news reports what is done to or in the country
    /// the story is about (the one most of it names: "Germany pledged 25 million euros" in a
    /// story on Sudan, "police detained 37 people"), or, in a story about two countries, what
    /// one side does to the other ("Pakistan denied any role"). Not the dateline: a story
    /// filed from Kuala Lumpur may be about Thailand and Cambodia.
    fn story_target(
        &self,
        source: &ActorMention,
        at: usize,
        domestic: bool,
    ) -> Option<ActorMention> {
        let source_country = source.country_code();
        let country = match (&self.story_country, &self.story_sides) {
            (Some(country), _) => country.clone(),
            // Arrests and detentions are done at home: "police arrested two suspects".
            (None, Some(_)) if domestic => source_country.to_string(),
            (None, Some((a, b))) if a == source_country => b.clone(),
            (None, Some((a, b))) if b == source_country => a.clone(),
            _ => return None,
        };
        Some(ActorMention::country(&country, at))
    }

    /// "both countries", "the two governments", "all sides" after a trigger, in a story about
    /// two countries: both of them, when the source is neither.
    fn both_sides_after(
        &self,
        m: &Match,
        end: usize,
        source: &ActorMention,
    ) -> Option<(ActorMention, ActorMention)> {
        let (a, b) = self.story_sides.as_ref()?;
        let source_country = source.country_code();
        if source_country == a || source_country == b {
            return None;
        }
        let phrase = (m.end..(m.end + 4).min(end)).any(|i| {
            let (first, second) = (self.lower(i), self.lower(i + 1));
            let quantifier = matches!(first, "both" | "two" | "all");
            quantifier && BOTH_SIDES_NOUNS.contains(&second)
        });
        if !phrase {
            return None;
        }
        Some((
            ActorMention::country(a, m.first),
            ActorMention::country(b, m.first),
        ))
    }

    /// The country of a place the sentence names with "in/at/near".
    fn sentence_place_country(&self, first: usize, end: usize) -> Option<String> {
        self.index
            .within(first, end)
            .filter(|(f, _, _, _)| {
                f.checked_sub(1)
                    .is_some_and(|p| PLACE_PREPOSITIONS.contains(&self.lower(p)))
            })
            .find_map(|(_, _, e, _)| self.entities.get(e).and_then(|x| x.country_code.clone()))
    }

    /// Whether tokens `[first, end)` are one or more titles ("Secretary of State", "Prime
    /// Minister Sheikh").
    fn is_title_between(&self, first: usize, end: usize) -> bool {
        let mut i = first;
        'next: while i < end {
            for stop in (i + 1..=end).rev() {
                let key = (i..stop)
                    .map(|k| self.lower(k))
                    .collect::<Vec<_>>()
                    .join(" ");
                if self.data.titles.contains_key(&key) {
                    i = stop;
                    continue 'next;
                }
            }
            return false;
        }
        true
    }

    fn actor(&self, mention: &ActorMention) -> Actor {
        Actor {
            entity_id: mention
                .entity
                .and_then(|e| self.entities.get(e))
                .map(|e| e.id.clone()),
            name: mention.name.clone(),
            code: mention.code.clone(),
        }
    }

    fn is_place_object(&self, mention: &ActorMention) -> bool {
        mention
            .first
            .checked_sub(1)
            .is_some_and(|p| PLACE_PREPOSITIONS.contains(&self.lower(p)))
    }

    fn match_pattern(
        &self,
        pattern: usize,
        start: usize,
        end: usize,
        lemmas: &TokenLemmas,
        actors: &[ActorMention],
    ) -> Option<Match> {
        let items = &self.data.event_patterns.get(pattern)?.items;
        let mut target = None;
        let stop =
            self.match_items(items.get(1..)?, start + 1, end, lemmas, actors, &mut target)?;
        let words = items
            .iter()
            .filter(|i| matches!(i, PatternItem::Word(_)))
            .count();
        Some(Match {
            pattern,
            first: start,
            end: stop,
            specificity: words * 2 + usize::from(target.is_some()),
            target,
        })
    }

    /// Matches pattern items from token `i`; returns the end of the match.
    fn match_items(
        &self,
        items: &[PatternItem],
        i: usize,
        end: usize,
        lemmas: &TokenLemmas,
        actors: &[ActorMention],
        target: &mut Option<usize>,
    ) -> Option<usize> {
        let Some((item, rest)) = items.split_first() else {
            return Some(i);
        };
        match item {
            PatternItem::Word(w) => {
                if i < end && lemmas.at(i).iter().any(|l| l == w) {
                    self.match_items(rest, i + 1, end, lemmas, actors, target)
                } else {
                    None
                }
            }
            PatternItem::Gap => {
                for skip in 0..=MAX_GAP {
                    let k = i + skip;
                    if k > end {
                        break;
                    }
                    if skip > 0 {
                        let crossed = k - 1;
                        if matches!(self.word(crossed), "," | ";" | ":" | "." | "?" | "!") {
                            break;
                        }
                    }
                    if let Some(stop) = self.match_items(rest, k, end, lemmas, actors, target) {
                        return Some(stop);
                    }
                }
                None
            }
            PatternItem::Target => {
                let mut k = i;
                while k < end && k < i + 3 && TARGET_FILLERS.contains(&self.lower(k)) {
                    k += 1;
                }
                let found = actors.iter().position(|a| a.first == k)?;
                let stop = actors.get(found)?.end;
                *target = Some(found);
                self.match_items(rest, stop, end, lemmas, actors, target)
            }
        }
    }

    /// A trigger inside the complement of an earlier appeal or promise restates it
    /// ("pledged to resume intelligence sharing"), and one after "of"/"for" following an
    /// accusation is the allegation, not an event ("accused Iran of supplying drones").
    fn restates_earlier(&self, earlier: &[Match], m: &Match) -> bool {
        // The word before the trigger, skipping adverbs ("to immediately lift").
        let mut p = m.first;
        let linking = loop {
            let Some(previous) = p.checked_sub(1) else {
                break "";
            };
            let lower = self.lower(previous);
            let is_word = self
                .text
                .tokens
                .get(previous)
                .is_some_and(|t| t.kind == TokenKind::Word);
            if is_word && lower.ends_with("ly") && p + 3 > m.first {
                p = previous;
                continue;
            }
            break lower;
        };
        let wanted: &[&str] = match linking {
            "to" => COMPLEMENT_TAKING_ROOTS,
            "of" | "for" => &["11"],
            _ => return false,
        };
        earlier.iter().any(|e| {
            let root: String = self
                .data
                .event_patterns
                .get(e.pattern)
                .map(|p| p.code.chars().take(2).collect())
                .unwrap_or_default();
            wanted.contains(&root.as_str())
                && m.first > e.first
                && !(e.end..m.first).any(|i| matches!(self.word(i), ";" | "."))
        })
    }

    /// The clause subject before the trigger: the first actor of its clause, else of the
    /// nearest earlier clause that has one (a place after "in" never is).
    fn subject(
        &self,
        trigger: usize,
        first: usize,
        actors: &[ActorMention],
        clause_of: &dyn Fn(usize) -> usize,
    ) -> Option<ActorMention> {
        let candidates: Vec<&ActorMention> = actors
            .iter()
            .filter(|a| a.first >= first && a.end <= trigger && !self.is_place_object(a))
            .collect();
        let mut clause = clause_of(trigger);
        let lowest = clause_of(first);
        let trigger_clause = clause;
        // A relative clause's subject is the noun it hangs on: "Serbia, which has refused to
        // join sanctions", "Kovac, who accused the opposition".
        let clause_start = (first..trigger).find(|&i| clause_of(i) == trigger_clause);
        if let Some(start) = clause_start {
            let (comma, pronoun) = if self.word(start) == "," {
                (start, start + 1)
            } else {
                (start.saturating_sub(1), start)
            };
            let relative = matches!(self.lower(pronoun), "who" | "which")
                && self.word(comma) == ","
                && !candidates
                    .iter()
                    .any(|a| a.first > pronoun && a.end <= trigger);
            if relative {
                if let Some(antecedent) = candidates.iter().rev().find(|a| a.end == comma) {
                    return Some((*antecedent).clone());
                }
            }
        }
        loop {
            // Earlier relative clauses are asides about the subject, not the subject: "President
            // X, who has sided with the protesters, accused ...".
            let relative = clause != trigger_clause
                && (first..trigger)
                    .find(|&i| clause_of(i) == clause)
                    .is_some_and(|i| {
                        let w = if self.word(i) == "," {
                            self.lower(i + 1)
                        } else {
                            self.lower(i)
                        };
                        matches!(w, "who" | "which" | "whose" | "whom")
                    });
            if let Some(a) = candidates
                .iter()
                .find(|a| clause_of(a.first) == clause)
                .filter(|_| !relative)
            {
                return Some((*a).clone());
            }
            if clause <= lowest {
                return None;
            }
            clause -= 1;
        }
    }

    /// The target after a verb trigger in its clause (or its "that" complement): the first
    /// actor coded differently from the source ("contact between Americans and Russians" after
    /// an American subject), not a place.
    fn object(
        &self,
        m: &Match,
        end: usize,
        actors: &[ActorMention],
        clause_of: &dyn Fn(usize) -> usize,
        source: Option<&ActorMention>,
    ) -> Option<ActorMention> {
        let clause = clause_of(m.first);
        // A complement clause belongs to the verb: "expressed hope that Russia would agree".
        let complement = (m.end < end && self.lower(m.end) == "that").then(|| clause_of(m.end));
        actors
            .iter()
            .filter(|a| a.first >= m.first && a.first < end)
            .filter(|a| clause_of(a.first) == clause || Some(clause_of(a.first)) == complement)
            .filter(|a| !self.is_place_object(a))
            .find(|a| source.is_none_or(|s| plausible_pair(s, a)))
            .cloned()
    }

    /// Participants of an event noun: "between X and Y", "X-Y talks", "Russian attack on X",
    /// "talks with X" (source: the clause subject).
    fn noun_participants(
        &self,
        m: &Match,
        first: usize,
        end: usize,
        actors: &[ActorMention],
        clause_of: &dyn Fn(usize) -> usize,
    ) -> Option<(Option<ActorMention>, Option<ActorMention>)> {
        // "between Ukrainian and American delegations"
        let window_end = (m.end + 6).min(end);
        if let Some(b) = (m.end..window_end).find(|&i| self.lower(i) == "between") {
            let after: Vec<&ActorMention> = actors
                .iter()
                .filter(|a| a.first > b && a.first < (b + 8).min(end))
                .collect();
            if let (Some(x), Some(y)) = (after.first(), after.get(1)) {
                return Some((Some((*x).clone()), Some((*y).clone())));
            }
        }
        // "US-Ukraine talks", "Russian-Ukrainian negotiations", "the Russian attack"
        let before: Vec<&ActorMention> = actors
            .iter()
            .filter(|a| a.end <= m.first && a.end + 2 >= m.first && a.first >= first)
            .collect();
        let target_after = m.target.and_then(|t| actors.get(t)).cloned().or_else(|| {
            (m.end..(m.end + 2).min(end))
                .find(|&i| matches!(self.lower(i), "with" | "on" | "against" | "to"))
                .and_then(|p| {
                    actors
                        .iter()
                        .find(|a| {
                            a.first > p && a.first <= p + 3 && clause_of(a.first) == clause_of(p)
                        })
                        .cloned()
                })
        });
        if let Some(last) = before.last() {
            let pair = actors
                .iter()
                .position(|a| a.first == last.first)
                .and_then(|k| {
                    let previous = actors.get(k.checked_sub(1)?)?;
                    let dash = previous.end;
                    (previous.end + 1 == last.first && matches!(self.word(dash), "-" | "–" | "—"))
                        .then(|| previous.clone())
                });
            if let Some(previous) = pair {
                return Some((Some(previous), Some((*last).clone())));
            }
            if let Some(target) = target_after {
                return Some((Some((*last).clone()), Some(target)));
            }
        }
        let target = target_after?;
        // "a visit to Ukraine by Taiwan's vice president": the agent after "by" is the
        // source, not the clause subject.
        let source = self
            .by_agent(m.end, end, actors)
            .or_else(|| self.subject(m.first, first, actors, clause_of));
        Some((source, Some(target)))
    }

    /// The actor introduced by "by" within a few words after `from`: the agent of a passive
    /// verb or of an event noun ("attacks by government troops", "was shelled by Russia").
    fn by_agent(&self, from: usize, end: usize, actors: &[ActorMention]) -> Option<ActorMention> {
        let by = (from..(from + 5).min(end)).find(|&i| self.lower(i) == "by")?;
        // "by" must not follow a clause break: "..., by contrast" is no agent.
        if (from..by).any(|i| {
            self.text
                .tokens
                .get(i)
                .is_none_or(|t| t.kind != TokenKind::Word)
        }) {
            return None;
        }
        actors
            .iter()
            .find(|a| a.first > by && a.first <= by + 3)
            .cloned()
    }

    /// The actor joined to `actor` by "and": "Russian and Ukrainian delegations".
    fn coordinated_with(
        &self,
        actor: &ActorMention,
        actors: &[ActorMention],
    ) -> Option<ActorMention> {
        if self.lower(actor.end) != "and" {
            return None;
        }
        actors
            .iter()
            .find(|a| {
                a.first == actor.end + 1
                    || (a.first == actor.end + 2 && self.lower(actor.end + 1) == "the")
            })
            .cloned()
    }

    /// Pairs named together as the two sides of the sentence's talks or relations: "between X
    /// and Y", "X-Y". A party acting afterwards without a named target acts towards the other.
    fn bilateral_pairs(
        &self,
        first: usize,
        end: usize,
        actors: &[ActorMention],
    ) -> Vec<(ActorMention, ActorMention)> {
        let mut pairs = Vec::new();
        for i in first..end {
            if self.lower(i) == "between" {
                let after: Vec<&ActorMention> = actors
                    .iter()
                    .filter(|a| a.first > i && a.first < (i + 8).min(end))
                    .collect();
                if let (Some(x), Some(y)) = (after.first(), after.get(1)) {
                    pairs.push(((*x).clone(), (*y).clone()));
                }
            }
        }
        for w in actors.windows(2) {
            if let [a, b] = w {
                if a.end + 1 == b.first && matches!(self.word(a.end), "-" | "–") {
                    pairs.push((a.clone(), b.clone()));
                }
            }
        }
        pairs
    }

    /// Inside a quotation, the speaker is the actor of "we"/"I" and of events without a named
    /// subject.
    fn speaker_actor(&self, token: usize) -> Option<ActorMention> {
        let span = self.text.tokens.get(token)?.span();
        let quote = self.quotes.iter().find(|q| {
            q.kind != super::QuoteKind::Indirect
                && q.span.field == span.field
                && q.span.start <= span.start
                && span.end <= q.span.end
        })?;
        let speaker = quote.speaker.as_ref()?;
        let (e, entity) = self
            .entities
            .iter()
            .enumerate()
            .find(|(_, x)| x.id == speaker.entity_id)?;
        Some(ActorMention {
            first: token,
            end: token,
            entity: Some(e),
            code: entity.actor_code.clone()?,
            name: entity.name.clone(),
        })
    }

    fn quote_at(&self, span: Span) -> Option<String> {
        self.quotes
            .iter()
            .filter(|q| q.kind != super::QuoteKind::Indirect)
            .find(|q| {
                q.span.field == span.field && q.span.start <= span.start && span.end <= q.span.end
            })
            .map(|q| q.id.clone())
    }

    fn time_in(&self, sentence: Span) -> Option<Temporal> {
        self.temporals
            .iter()
            .find(|t| {
                t.kind == TemporalKind::Date
                    && t.span.field == sentence.field
                    && t.span.start >= sentence.start
                    && t.span.end <= sentence.end
            })
            .cloned()
    }

    /// News reports what just happened: an asserted event with no date in its sentence took
    /// place around publication. The value is the publication date; the text is empty and the
    /// span an empty range at the trigger, since no words of the article say it.
    fn publication_time(&self, trigger: Span, modality: Modality) -> Option<Temporal> {
        let date = self.published?;
        if modality != Modality::Asserted {
            return None;
        }
        Some(Temporal {
            text: String::new(),
            span: Span {
                field: trigger.field,
                start: trigger.start,
                end: trigger.start,
            },
            kind: TemporalKind::Date,
            value: format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
        })
    }

    /// "in Jeddah", "in Saudi Arabia": the nearest place phrase after the trigger, else before.
    fn location(&self, m: &Match, first: usize, end: usize) -> Option<Place> {
        let places: Vec<(usize, usize)> = self
            .index
            .within(first, end)
            .filter(|(f, _, e, _)| {
                f.checked_sub(1)
                    .is_some_and(|p| PLACE_PREPOSITIONS.contains(&self.lower(p)))
                    && self.entities.get(*e).is_some_and(|x| {
                        matches!(
                            x.entity_type,
                            EntityType::Gpe | EntityType::Location | EntityType::Facility
                        )
                    })
            })
            .map(|(f, _, e, _)| (f, e))
            .collect();
        let chosen = places
            .iter()
            .find(|(f, _)| *f >= m.end)
            .or_else(|| places.iter().rev().find(|(f, _)| *f < m.first))?;
        let entity = self.entities.get(chosen.1)?;
        Some(Place {
            entity_id: Some(entity.id.clone()),
            name: entity.name.clone(),
            country_code: entity.country_code.clone(),
        })
    }

    fn modality(&self, m: &Match, first: usize, clause_of: &dyn Fn(usize) -> usize) -> Modality {
        let clause = clause_of(m.first);
        let clause_start = (first..m.first)
            .find(|&i| clause_of(i) == clause)
            .unwrap_or(m.first);
        let opener = self.lower(clause_start);
        let window: Vec<&str> = (m.first.saturating_sub(4).max(clause_start)..m.first)
            .map(|i| self.lower(i))
            .collect();
        if window.iter().any(|w| NEGATIONS.contains(w)) {
            return Modality::Negated;
        }
        if opener == "if" || opener == "unless" || opener == "whether" {
            return Modality::Hypothetical;
        }
        if window.iter().any(|w| INTENT_MARKERS.contains(w)) {
            return Modality::Intended;
        }
        Modality::Asserted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Document;
    use crate::engine::Engine;

    fn events(body: &str) -> Vec<(String, String, String)> {
        let engine = Engine::new().expect("engine");
        let analysis = engine.analyze(&Document {
            title: "",
            body,
            published: None,
        });
        analysis
            .events
            .into_iter()
            .map(|e| {
                // Compared by country, as event data users aggregate them.
                let country = |a: Option<Actor>| {
                    a.map(|a| a.code.chars().take(3).collect())
                        .unwrap_or_default()
                };
                (e.root_code, country(e.source), country(e.target))
            })
            .collect()
    }

    fn triple(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_string(), b.to_string(), c.to_string())
    }

    #[test]
    fn subject_is_source_and_object_is_target() {
        assert_eq!(
            events("Washington is urging Russia to cease all hostilities."),
            [triple("02", "USA", "RUS")]
        );
        assert_eq!(
            events("Russia urged Washington to act."),
            [triple("02", "RUS", "USA")]
        );
    }

    #[test]
    fn clauses_give_each_event_its_own_actors() {
        let found = events(
            "On March 11, a meeting between Ukrainian and American delegations took place in Jeddah, \
             where Kyiv agreed to a 30-day ceasefire with Russia, and the US pledged to resume \
             intelligence sharing.",
        );
        assert!(found.contains(&triple("04", "UKR", "USA")));
        assert!(found.contains(&triple("08", "UKR", "RUS")));
        assert!(found.contains(&triple("03", "USA", "UKR")));
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn event_nouns_need_participants_and_places_are_not_targets() {
        assert!(events("Sanctions will follow if negotiations fail.").is_empty());
        assert!(events("Russia would agree to a ceasefire in Ukraine.").is_empty());
    }

    #[test]
    fn unnamed_groups_act_for_the_dateline_country() {
        let found = events(
            "TBILISI, Georgia (AP) — Police used water cannons and tear gas against protesters.",
        );
        assert_eq!(found, [triple("17", "GEO", "GEO")]);
    }

    #[test]
    fn retold_events_are_kept_once_and_uncoded_people_block_wrong_subjects() {
        let found = events(
            "Ukraine and the US held talks in Jeddah. After the US-Ukraine talks in Jeddah, \
             Kyiv agreed to a ceasefire with Russia.",
        );
        assert_eq!(found.iter().filter(|e| e.0 == "04").count(), 1);
        // "Zarqo Velt" is a person we cannot code: Russia must not become the subject.
        assert!(events("Russia said Zarqo Velt urged Ukraine to stop.").is_empty());
    }

    #[test]
    fn events_take_the_sentence_date_else_publication_and_places_from_in() {
        let engine = Engine::new().expect("engine");
        let analysis = engine.analyze(&Document {
            title: "",
            body: "On March 11, Russia attacked Kyiv. Moscow also shelled Kharkiv in Ukraine.",
            published: Some(Date {
                year: 2025,
                month: 3,
                day: 14,
            }),
        });
        let times: Vec<Option<&str>> = analysis
            .events
            .iter()
            .map(|e| e.time.as_ref().map(|t| t.value.as_str()))
            .collect();
        assert_eq!(times, [Some("2025-03-11"), Some("2025-03-14")]);
        let place = analysis.events.get(1).and_then(|e| e.location.as_ref());
        assert_eq!(place.map(|p| p.name.as_str()), Some("Ukraine"));
    }

    #[test]
    fn negation_and_hypotheticals_set_modality() {
        let engine = Engine::new().expect("engine");
        let analysis = engine.analyze(&Document {
            title: "",
            body: "Moscow did not attack Kyiv. If Russia attacks Ukraine, Washington will respond.",
            published: None,
        });
        let modalities: Vec<Modality> = analysis.events.iter().map(|e| e.modality).collect();
        assert_eq!(modalities, [Modality::Negated, Modality::Hypothetical]);
    }

    #[test]
    fn workers_strike_by_walking_out_and_conditional_strikes_are_threats() {
        // No dateline: the domestic bodies the story names give the country.
        let body = "Downing Street and the Home Office met. Downing Street said nothing. \
                    British workers will strike if the plan goes ahead. \
                    Dock workers went on strike against the government.";
        let found = events(body);
        assert!(found.contains(&triple("13", "GBR", "GBR")), "{found:?}");
        assert!(!found.iter().any(|(root, _, _)| root == "19"), "{found:?}");
    }

    #[test]
    fn an_act_without_a_named_target_is_done_to_the_story_country() {
        // A story about Sudan: Germany's pledge and the arrests are towards or in Sudan.
        let body = "Sudan's army fought in Khartoum. Sudan said aid to Sudan was blocked near \
                    Khartoum. Germany pledged 25 million euros for food. \
                    Police arrested 37 people in Omdurman, Sudan.";
        let found = events(body);
        assert!(found.contains(&triple("03", "DEU", "SDN")), "{found:?}");
        assert!(found.contains(&triple("17", "SDN", "SDN")), "{found:?}");
    }

    #[test]
    fn an_implied_target_lowers_the_confidence() {
        let engine = Engine::new().expect("engine");
        let pledge = |last: &str| {
            let body = format!(
                "Sudan's army fought in Khartoum. Sudan said aid to Sudan was blocked. {last}"
            );
            let analysis = engine.analyze(&Document {
                title: "",
                body: &body,
                published: None,
            });
            analysis
                .events
                .iter()
                .find(|e| e.root_code == "03")
                .map(|e| e.confidence)
                .expect("a pledge is coded")
        };
        let implied = pledge("Germany pledged 25 million euros for food.");
        let named = pledge("Germany pledged 25 million euros to Sudan.");
        assert!(implied < named, "{implied} vs {named}");
    }

    #[test]
    fn in_a_story_about_two_countries_one_side_acts_on_the_other() {
        let body = "India and Pakistan traded strikes. India said Pakistan sent drones. \
                    Pakistan denied any role. India closed its airspace. Pakistan vowed to \
                    retaliate. India and Pakistan have fought before.";
        let found = events(body);
        assert!(found.contains(&triple("01", "PAK", "IND")), "{found:?}");
        assert!(found.contains(&triple("16", "IND", "PAK")), "{found:?}");
    }

    #[test]
    fn a_joint_act_of_cooperation_is_coded_both_ways() {
        let found = events("Thailand and Cambodia agreed on Thursday to extend the ceasefire.");
        assert!(found.contains(&triple("08", "THA", "KHM")), "{found:?}");
        assert!(found.contains(&triple("08", "KHM", "THA")), "{found:?}");
    }

    #[test]
    fn violence_without_a_named_victim_falls_on_the_country_where_it_happens() {
        let found = events("Indian missiles hit an air base in Pakistan overnight.");
        assert!(found.contains(&triple("19", "IND", "PAK")), "{found:?}");
    }

    #[test]
    fn an_appeal_to_both_sides_goes_to_each_of_the_two_countries() {
        let body = "Ethiopia and Eritrea traded accusations. Ethiopia said Eritrea armed rebels. \
                    Eritrea denied it. The United States urged both countries to exercise \
                    restraint. Ethiopia and Eritrea fought a war in 1998.";
        let found = events(body);
        assert!(found.contains(&triple("11", "ETH", "ERI")), "{found:?}");
        assert!(found.contains(&triple("11", "ERI", "ETH")), "{found:?}");
        assert!(found.contains(&triple("02", "USA", "ETH")), "{found:?}");
        assert!(found.contains(&triple("02", "USA", "ERI")), "{found:?}");
    }

    #[test]
    fn relative_clauses_act_for_their_antecedent_and_armed_killing_is_force() {
        let found = events(
            "Brussels criticised Serbia, which has refused to join sanctions against Moscow.",
        );
        assert!(found.contains(&triple("12", "SRB", "RUS")), "{found:?}");
        assert!(
            !found.iter().any(|(r, s, _)| r == "12" && s == "IGO"),
            "{found:?}"
        );
        let found = events(
            "Nigeria's army fights bandits in Nigeria. Nigerian troops killed 38 bandits in \
             Zamfara state, the army said. Nigeria is large.",
        );
        assert!(
            found.iter().any(|(r, s, _)| r == "19" && s == "NGA"),
            "{found:?}"
        );
        assert!(!found.iter().any(|(r, _, _)| r == "18"), "{found:?}");
    }

    #[test]
    fn a_party_subject_is_not_the_owner_of_the_government() {
        let body = "Downing Street and the Home Office met. Downing Street said nothing. \
                    The Conservatives accused the government of failing.";
        assert!(events(body).contains(&triple("11", "GBR", "GBR")));
    }

    #[test]
    fn a_headline_event_told_again_in_the_body_is_kept_once() {
        let engine = Engine::new().expect("engine");
        let analysis = engine.analyze(&Document {
            title: "Russia urges Ukraine to talk",
            body: "Russian Foreign Minister Ivan Petrov urged Ukraine to return to talks.",
            published: None,
        });
        let urges: Vec<_> = analysis
            .events
            .iter()
            .filter(|e| e.root_code == "02")
            .collect();
        assert_eq!(urges.len(), 1, "{:?}", analysis.events);
        assert_eq!(urges[0].span.field, crate::engine::Field::Body);
    }

    #[test]
    fn the_agent_after_by_is_the_source_and_modifiers_are_not_events() {
        assert_eq!(
            events("Ukraine was attacked by Russia on Monday."),
            [triple("19", "RUS", "UKR")]
        );
        assert!(events("Ukraine protects Poland from attacks by Russia.")
            .iter()
            .all(|(_, source, _)| source != "UKR"));
        assert!(events("Serbia said France sold assault rifles to Croatia.")
            .iter()
            .all(|(root, _, _)| root != "18"));
    }

    #[test]
    fn two_countries_beating_each_other_is_a_match_result() {
        assert!(events("Spain beat Portugal 2-1 on Sunday.").is_empty());
    }
}
