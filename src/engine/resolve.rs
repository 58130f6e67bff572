//! Mentions grouped into entities: one [`Entity`] per real-world thing.
//!
//! Resolution walks the article once, in reading order, because news refers back in a fixed
//! way: a person is introduced with title and full name ("US Secretary of State Marco Rubio"),
//! then called by surname ("Rubio"), by a role nominal ("the Secretary of State", "the
//! politician", "The American leader") or by a pronoun ("he"). So:
//! - proper names merge when one's words contain the other's (Trump / Donald Trump), and
//!   gazetteer names merge by gazetteer entry (Ukrainian / Ukrainians);
//! - a definite role nominal links to the most recent person whose title matches it exactly
//!   ("the US president" -> the person introduced as "US President"), or, for generic role
//!   nouns ("the politician", "the leader"), the most recent person with the same kind of role;
//!   a nationality in the nominal must agree with the person's country;
//! - "he"/"she" outside quotations link to the subject of the sentence if it comes first, else
//!   to the subject of the nearest earlier sentence that has a person subject (news continues a
//!   paragraph about the person it last named as subject: `"...," he told reporters`); "him"
//!   is someone other than the subject; a gendered title ("Ms", "spokesman") or an earlier
//!   pronoun rules out the other gender;
//! - wire datelines ("TBILISI, Georgia (AP) —") name a country whose own officials the story
//!   titles without nationality ("President Salome Zourabichvili"), so officials without a
//!   country take the dateline's, unless their paragraph names another country.

use std::collections::HashMap;

use super::data::{EngineData, HeadType, KnownKind};
use super::ner::NameMention;
use super::quotes::quoted_token_mask;
use super::text::{lookup_form, TextAnalysis, TokenKind};
use super::{Entity, EntityType, Mention, MentionKind, Span};

/// Pronouns that can refer back to one named person, with the gender they carry.
fn pronoun_gender(word: &str) -> Option<Gender> {
    match word {
        "he" | "him" | "his" => Some(Gender::Male),
        "she" | "her" | "hers" => Some(Gender::Female),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Male,
    Female,
}

/// Determiners that make a role noun refer to someone already named ("the politician").
const DEFINITE_DETERMINERS: &[&str] = &["the"];

/// Determiners that introduce someone new: "a senior official said" is nobody named so far.
const INDEFINITE_DETERMINERS: &[&str] = &["a", "an", "another"];

/// Role words that are also adjectives ("the private sector", "the general election").
const ADJECTIVE_TITLES: &[&str] = &[
    "acting",
    "chief",
    "deputy",
    "executive",
    "first",
    "general",
    "major",
    "private",
    "senior",
];

/// Words that may follow a role nominal used as a noun: "the general said", "the executive
/// has".
const NOMINAL_FOLLOWERS: &[&str] = &[
    "added", "also", "and", "had", "has", "is", "said", "says", "told", "was", "who", "will",
    "would",
];

/// Stands in the subject slots for a person the article does not name: "Tony Blair's
/// spokesman declined ..." has the spokesman, not Blair, as its subject, and a "he" after it
/// is the spokesman (an empty speaker beats a wrong one).
const UNNAMED_PERSON: usize = usize::MAX;

/// Nouns for people known through someone else: "X's wife", "X's lawyer". Role nouns from
/// `titles.tsv` ("X's spokesman", "X's aide") count as well.
const RELATION_NOUNS: &[&str] = &[
    "brother", "daughter", "family", "father", "friend", "husband", "mother", "partner", "sister",
    "son", "wife",
];

/// Whether the person name ending before token `end` is a possessor of another, unnamed
/// person: "Tony Blair's official spokesman", "Smith's lawyer".
fn possessor_of_person(data: &EngineData, text: &TextAnalysis<'_>, end: usize) -> bool {
    if !matches!(text.token_text(end), "'s" | "’s") {
        return false;
    }
    // Up to two modifiers before the noun: "official", "former chief".
    for k in end + 1..end + 4 {
        if text.tokens.get(k).is_none_or(|t| t.kind != TokenKind::Word) {
            return false;
        }
        let lower = lookup_form(text.token_text(k)).to_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        let person_noun = RELATION_NOUNS.contains(&lower.as_str())
            || data
                .titles
                .get(&lower)
                .or_else(|| data.titles.get(singular))
                .is_some_and(|t| !t.before_name || t.role.is_some());
        if person_noun {
            return true;
        }
    }
    false
}

#[derive(Debug, Clone, Default)]
struct Draft {
    name: String,
    entity_type: Option<EntityType>,
    mentions: Vec<(usize, Mention)>,
    titles: Vec<String>,
    title_keys: Vec<String>,
    roles: Vec<String>,
    country: Option<String>,
    actor_code: Option<String>,
    org_actor: Option<String>,
    known: Option<usize>,
    /// Token position of the latest mention, for recency.
    last_token: usize,
    /// From gendered titles ("Ms", "spokeswoman") or an earlier pronoun.
    gender: Option<Gender>,
}

/// Groups the recognised names, role nominals and pronouns into entities.
pub fn resolve(data: &EngineData, text: &TextAnalysis<'_>, names: &[NameMention]) -> Vec<Entity> {
    let quoted = quoted_token_mask(text);
    let institutions = institution_phrases(data, text, names);
    let merged: Vec<NameMention>;
    let names = if institutions.is_empty() {
        names
    } else {
        merged = names
            .iter()
            .filter(|n| {
                // The bare head the tagger found ("Embassy") is part of the phrase.
                !institutions.iter().any(|(inst, _)| {
                    n.known.is_none()
                        && n.first_token > inst.first_token
                        && n.first_token < inst.end_token
                        && n.entity_type == EntityType::Organization
                })
            })
            .cloned()
            .chain(institutions.iter().map(|(n, _)| n.clone()))
            .collect();
        &merged[..]
    };
    let mut drafts: Vec<Draft> = Vec::new();
    let mut by_known: HashMap<usize, usize> = HashMap::new();
    let mut by_text: HashMap<(String, u8), usize> = HashMap::new();
    // The token ranges covered by names, so nominal detection does not re-read them.
    // The longest name starting at each token; names nested at the same start ("U.S." in
    // "U.S. State Department") are kept in `nested_at`.
    let mut name_at: HashMap<usize, usize> = HashMap::new();
    let mut nested_at: HashMap<usize, Vec<usize>> = HashMap::new();
    for (n, name) in names.iter().enumerate() {
        if let Some(previous) = name_at.insert(name.first_token, n) {
            let (keep, nested) = match names.get(previous) {
                Some(p) if p.end_token > name.end_token => (previous, n),
                _ => (n, previous),
            };
            name_at.insert(name.first_token, keep);
            nested_at.entry(name.first_token).or_default().push(nested);
        }
    }
    // The entity each name mention went to, to find sentence subjects.
    let mut person_at_token: Vec<(usize, usize)> = Vec::new();

    let mut sentence_subject: HashMap<usize, usize> = HashMap::new();
    // Subjects of earlier sentences, most recent last.
    let mut subject_history: Vec<usize> = Vec::new();
    // Every person named or described so far, most recent last.
    let mut person_history: Vec<usize> = Vec::new();
    // The latest person named, with its sentence.
    let mut last_person: Option<(usize, usize)> = None;
    let mut current_sentence = usize::MAX;
    // Role heads of people introduced without a name ("a senior official"), with the position.
    let mut unnamed_roles: Vec<(String, usize)> = Vec::new();

    let mut i = 0;
    while i < text.tokens.len() {
        let Some(token) = text.tokens.get(i) else {
            break;
        };
        if token.sentence != current_sentence {
            if let Some(subject) = sentence_subject.get(&current_sentence) {
                subject_history.retain(|d| d != subject);
                subject_history.push(*subject);
            }
            current_sentence = token.sentence;
        }
        let in_quote = quoted.get(i).copied().unwrap_or(false);
        if let Some(&n) = name_at.get(&i) {
            let Some(name) = names.get(n) else {
                i += 1;
                continue;
            };
            for &inner in nested_at.get(&i).map_or(&[][..], Vec::as_slice) {
                if let Some(inner) = names.get(inner) {
                    add_name(data, &mut drafts, &mut by_known, &mut by_text, inner);
                }
            }
            // Places inside an institution's name ("U.S. Embassy in Belgrade") are mentions
            // of their own.
            for inner in names
                .iter()
                .filter(|n| n.first_token > name.first_token && n.end_token <= name.end_token)
            {
                add_name(data, &mut drafts, &mut by_known, &mut by_text, inner);
            }
            let d = add_name(data, &mut drafts, &mut by_known, &mut by_text, name);
            if let Some((_, institution)) = institutions
                .iter()
                .find(|(n, _)| n.first_token == name.first_token && n.end_token == name.end_token)
            {
                if let Some(draft) = drafts.get_mut(d) {
                    if draft.country.is_none() {
                        draft.country = institution.country.clone();
                    }
                    draft
                        .actor_code
                        .get_or_insert_with(|| institution.actor_code.clone());
                }
            }
            if name.entity_type == EntityType::Person {
                person_at_token.push((i, d));
                last_person = Some((token.sentence, d));
                person_history.retain(|p| *p != d);
                person_history.push(d);
                if !in_quote {
                    let subject = if possessor_of_person(data, text, name.end_token) {
                        UNNAMED_PERSON
                    } else {
                        d
                    };
                    sentence_subject.entry(token.sentence).or_insert(subject);
                }
            }
            i = name.end_token.max(i + 1);
            continue;
        }
        if in_quote || token.kind != TokenKind::Word {
            i += 1;
            continue;
        }
        let word = text.token_text(i);
        let lower = lookup_form(word).to_lowercase();
        if INDEFINITE_DETERMINERS.contains(&lower.as_str()) && !after_apposition_comma(text, i) {
            if let Some(head) = unnamed_role_at(data, text, &name_at, i) {
                unnamed_roles.push((head, i));
                sentence_subject
                    .entry(token.sentence)
                    .or_insert(UNNAMED_PERSON);
            }
        }
        if DEFINITE_DETERMINERS.contains(&lower.as_str()) {
            let previous_subject = token
                .sentence
                .checked_sub(1)
                .and_then(|s| sentence_subject.get(&s))
                .copied();
            let link = link_nominal(data, text, names, &name_at, &drafts, i, previous_subject);
            // "A senior government official said ... the official said": the role names the
            // unnamed person introduced after the last mention of anyone holding it.
            let unnamed = link.as_ref().is_some_and(|link| {
                let head = link.key.rsplit(' ').next().unwrap_or(&link.key);
                let named_at = drafts.get(link.draft).map_or(0, |d| d.last_token);
                unnamed_roles
                    .iter()
                    .any(|(h, at)| h == head && *at >= named_at)
            });
            if unnamed {
                sentence_subject
                    .entry(token.sentence)
                    .or_insert(UNNAMED_PERSON);
            } else if let Some((end, d)) = link_organization_nominal(data, text, &drafts, i) {
                if let Some(span) = text.token_range_span(i + 1, end - 1) {
                    push_mention(&mut drafts, d, i + 1, end, span, text, MentionKind::Nominal);
                    i = end;
                    continue;
                }
            }
            if let Some(link) = link.filter(|_| !unnamed) {
                let (end, d) = (link.end, link.draft);
                if let Some(span) = text.token_range_span(i, end - 1) {
                    push_mention(&mut drafts, d, i, end, span, text, MentionKind::Nominal);
                    learn_from_nominal(&mut drafts, &link);
                    sentence_subject.entry(token.sentence).or_insert(d);
                    last_person = Some((token.sentence, d));
                    // A nationality inside the nominal ("The American leader") is still a
                    // mention of its own, so resolution goes on inside the nominal.
                    i += 1;
                    continue;
                }
            }
        }
        if let Some(gender) = pronoun_gender(&lower) {
            let subject = sentence_subject.get(&token.sentence).copied();
            let fits = |d: &usize| {
                drafts
                    .get(*d)
                    .is_some_and(|x| x.gender.is_none_or(|g| g == gender))
            };
            // Earlier subjects first; then anyone named whose gender fits ("Mr Smith met Ms
            // Doe. She said ...").
            // After a sentence about an unnamed person ("X's spokesman said ..."), "he" is
            // that person: nobody we can name.
            let unnamed_before = subject_history.last() == Some(&UNNAMED_PERSON);
            let earlier = subject_history
                .iter()
                .rev()
                .chain(person_history.iter().rev())
                .copied()
                .filter(|_| !unnamed_before)
                .find(|d| fits(d) && (lower != "him" || Some(*d) != subject));
            let antecedent = if lower == "him" {
                // An object pronoun is not the clause's subject: "he is expected to urge him"
                // means someone else named in the sentence, else an earlier subject.
                last_person
                    .filter(|&(sentence, d)| {
                        sentence == token.sentence && Some(d) != subject && fits(&d)
                    })
                    .map(|(_, d)| d)
                    .or(earlier)
            } else if subject == Some(UNNAMED_PERSON) {
                None
            } else {
                subject.filter(fits).or(earlier)
            };
            if let Some(d) = antecedent {
                // The pronoun tells the person's gender for later pronouns.
                if let Some(draft) = drafts.get_mut(d) {
                    draft.gender.get_or_insert(gender);
                }
                push_mention(
                    &mut drafts,
                    d,
                    i,
                    i + 1,
                    token.span(),
                    text,
                    MentionKind::Pronoun,
                );
                if lower == "he" || lower == "she" {
                    sentence_subject.entry(token.sentence).or_insert(d);
                }
            }
        }
        i += 1;
    }
    assign_person_countries(data, text, names, &quoted, &mut drafts);
    assign_organization_countries(data, &mut drafts);
    finish(drafts)
}

/// Institutions news names by their country and a common noun: "Russia's embassy in New
/// Delhi", "The Russian embassy in Copenhagen", "the European Union's delegation in Serbia",
/// "U.S. Embassy in Belgrade", "India's foreign ministry", "Sudan's government". They speak
/// and act for their country, so they are organisations with that country and a CAMEO role;
/// the place after "in"/"to" is part of the name, as it tells one embassy from another.
const INSTITUTION_HEADS: &[(&str, &str)] = &[
    ("consulate", "GOV"),
    ("coastguard", "MIL"),
    ("delegation", "GOV"),
    ("embassy", "GOV"),
    ("guard", "MIL"),
    ("government", "GOV"),
    ("ministry", "GOV"),
    ("mission", "GOV"),
    ("presidency", "GOV"),
];

/// Words that may stand between the owner and the head: "India's foreign ministry".
const INSTITUTION_MODIFIERS: &[&str] = &[
    "coast", "commerce", "defence", "defense", "economy", "external", "finance", "foreign",
    "health", "interior", "justice", "trade", "military",
];

/// What an institution phrase tells about its organisation.
struct Institution {
    country: Option<String>,
    actor_code: String,
}

/// Institution phrases with their country and CAMEO actor code.
fn institution_phrases(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    names: &[NameMention],
) -> Vec<(NameMention, Institution)> {
    let lower = |k: usize| lookup_form(text.token_text(k)).to_lowercase();
    let mut out: Vec<(NameMention, Institution)> = Vec::new();
    for owner in names {
        let Some(known) = owner.known.and_then(|s| data.entities.get(s.entity)) else {
            continue;
        };
        let country = match (&known.kind, &known.country) {
            (KnownKind::Country | KnownKind::Nationality, Some(c)) => Some(c.clone()),
            // The EU, the UN: bodies without a country.
            (KnownKind::Organization(_), None) => None,
            _ => continue,
        };
        let mut k = owner.end_token;
        if matches!(text.token_text(k), "'s" | "’s") {
            k += 1;
        }
        let mut modifiers = 0;
        while modifiers < 2 && INSTITUTION_MODIFIERS.contains(&lower(k).as_str()) {
            k += 1;
            modifiers += 1;
        }
        let head = lower(k);
        let Some(&(_, role)) = INSTITUTION_HEADS.iter().find(|(h, _)| *h == head) else {
            continue;
        };
        // "the Ukrainian delegation" is a group of envoys at talks; "the EU's delegation in
        // Serbia" is a standing mission.
        if matches!(head.as_str(), "delegation" | "mission")
            && matches!(known.kind, KnownKind::Nationality)
        {
            continue;
        }
        // A name the gazetteer knows ("Russian Foreign Ministry") is not rebuilt; an unknown
        // name the tagger found ("Embassy") is.
        let covered = names.iter().any(|n| {
            n.first_token <= k
                && k < n.end_token
                && n.first_token != owner.first_token
                && n.known.is_some()
        });
        if covered || owner.end_token == owner.first_token {
            continue;
        }
        let mut end = k + 1;
        if matches!(lower(end).as_str(), "in" | "to") {
            if let Some(place) = names
                .iter()
                .find(|n| n.first_token == end + 1 && n.entity_type == EntityType::Gpe)
            {
                end = place.end_token;
            }
        }
        let Some(span) = text.token_range_span(owner.first_token, end - 1) else {
            continue;
        };
        // "the European Union's delegation": a body without a country keeps its own code.
        let actor_code = match (&country, &known.actor_code) {
            (Some(country), _) => format!("{country}{role}"),
            (None, Some(code)) => code.clone(),
            (None, None) => continue,
        };
        out.push((
            NameMention {
                span,
                first_token: owner.first_token,
                end_token: end,
                text: text.span_text(span).to_string(),
                entity_type: EntityType::Organization,
                known: None,
                title: None,
            },
            Institution {
                country,
                actor_code,
            },
        ));
    }
    out
}

/// Gives people named without a nationality the country the text ties them to, because
/// CAMEO codes a person by the country they act for. In order:
/// - a country right before their role in apposition ("Pakistan's military spokesman, Maj.
///   Gen. Tariq Mehmood"; "Tariq Mehmood, Pakistan's military spokesman,");
/// - wire datelines ("TBILISI, Georgia (AP) —") name a country whose own officials the story
///   titles without nationality ("President Salome Zourabichvili"), unless the official's
///   paragraph names another country;
/// - else, for an official, the country their paragraph names first outside quotations ("Pakistan
///   denied any role. Foreign Minister Saima Rahman called ..."), or the first one named after
///   them in their sentence ("Foreign Secretary Arvind Mehra told reporters in New Delhi").
fn assign_person_countries(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    names: &[NameMention],
    quoted: &[bool],
    drafts: &mut [Draft],
) {
    // Countries named, by position: (first token, end token, country).
    let countries: Vec<(usize, usize, String)> = names
        .iter()
        .filter(|name| !quoted.get(name.first_token).copied().unwrap_or(false))
        .filter_map(|name| {
            let known = data.entities.get(name.known?.entity)?;
            if matches!(known.kind, KnownKind::Organization(_)) {
                return None;
            }
            Some((name.first_token, name.end_token, known.country.clone()?))
        })
        .collect();
    let dateline = dateline_country(data, text, names);
    let paragraph_of = |token: usize| text.tokens.get(token).map(|t| t.paragraph);
    let sentence_of = |token: usize| text.tokens.get(token).map(|t| t.sentence);
    for draft in drafts.iter_mut() {
        if draft.entity_type != Some(EntityType::Person)
            || draft.country.is_some()
            || draft.org_actor.is_some()
        {
            continue;
        }
        let Some(&(first, ref mention)) = draft.mentions.first() else {
            continue;
        };
        let end = text.token_at_or_after(mention.span.field, mention.span.end);
        if let Some(country) = apposition_country(data, text, &countries, first, end) {
            draft.country = Some(country);
            continue;
        }
        let paragraph = paragraph_of(first);
        let others: Vec<&(usize, usize, String)> = countries
            .iter()
            .filter(|(f, _, c)| paragraph_of(*f) == paragraph && Some(c) != dateline.as_ref())
            .collect();
        if let Some(country) = dateline.as_ref().filter(|_| others.is_empty()) {
            if !draft.roles.is_empty() {
                draft.country = Some(country.clone());
            }
            continue;
        }
        if draft.roles.is_empty() {
            continue;
        }
        let before = countries
            .iter()
            .find(|(f, _, _)| paragraph_of(*f) == paragraph && *f < first);
        // After them only as a place: "told reporters in New Delhi", not "accused Washington".
        let after_in_sentence = countries.iter().find(|(f, _, _)| {
            *f >= end
                && sentence_of(*f) == sentence_of(first)
                && f.checked_sub(1).is_some_and(|p| {
                    matches!(
                        lookup_form(text.token_text(p)).to_lowercase().as_str(),
                        "in" | "from"
                    )
                })
        });
        if let Some((_, _, country)) = before.or(after_in_sentence) {
            draft.country = Some(country.clone());
        }
    }
}

/// CAMEO roles of organisations by the last word of their name.
const ORGANIZATION_ROLES: &[(&str, &str)] = &[
    ("Army", "MIL"),
    ("Assembly", "LEG"),
    ("Command", "MIL"),
    ("Commission", "GOV"),
    ("Court", "JUD"),
    ("Force", "MIL"),
    ("Forces", "MIL"),
    ("Government", "GOV"),
    ("Guard", "MIL"),
    ("Ministry", "GOV"),
    ("Navy", "MIL"),
    ("Office", "GOV"),
    ("Parliament", "LEG"),
    ("Police", "COP"),
    ("Presidency", "GOV"),
    ("Senate", "LEG"),
];

/// Organisations the gazetteer does not know take the country their name carries ("Royal Thai
/// Army", "Malawi Electoral Commission", "Cambodian Ministry of National Defence"), with the
/// role their head word implies, so that they can act in events.
fn assign_organization_countries(data: &EngineData, drafts: &mut [Draft]) {
    for draft in drafts.iter_mut() {
        if draft.entity_type != Some(EntityType::Organization)
            || draft.known.is_some()
            || draft.country.is_some()
        {
            continue;
        }
        let words: Vec<&str> = draft.name.split_whitespace().collect();
        let country = words.iter().find_map(|w| {
            let w = w.trim_end_matches("'s").trim_end_matches("’s");
            data.names.get(w)?.iter().find_map(|sense| {
                let known = data.entities.get(sense.entity)?;
                matches!(known.kind, KnownKind::Country | KnownKind::Nationality)
                    .then(|| known.country.clone())
                    .flatten()
            })
        });
        let Some(country) = country else {
            continue;
        };
        let role = words.iter().rev().find_map(|w| {
            ORGANIZATION_ROLES
                .iter()
                .find(|(head, _)| head == w)
                .map(|(_, role)| *role)
        });
        draft
            .actor_code
            .get_or_insert_with(|| format!("{country}{}", role.unwrap_or("")));
        draft.country = Some(country);
    }
}

/// The country of a role set off by commas next to a name: "Pakistan's military spokesman,
/// Maj. Gen. Tariq Mehmood" or "Tariq Mehmood, Pakistan's military spokesman,"; the country
/// must be followed by a role word within three words.
fn apposition_country(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    countries: &[(usize, usize, String)],
    first: usize,
    end: usize,
) -> Option<String> {
    let sentence = text.tokens.get(first)?.sentence;
    let role_follows = |from: usize| {
        (from..from + 4).any(|k| {
            text.tokens.get(k).is_some_and(|t| t.sentence == sentence)
                && match_title_at(data, text, k).is_some()
        })
    };
    let skip_possessive = |k: usize| {
        if matches!(text.token_text(k), "'s" | "’s" | "'" | "’") {
            k + 1
        } else {
            k
        }
    };
    // Before: "<country>['s] ... <role>, <titles> NAME".
    let comma_before = (first.saturating_sub(7)..first)
        .rev()
        .find(|&k| text.token_text(k) == ",");
    if let Some(comma) = comma_before {
        let found = countries.iter().rev().find(|(f, e, _)| {
            *e <= comma
                && *f + 8 >= comma
                && text.tokens.get(*f).is_some_and(|t| t.sentence == sentence)
                && role_follows(skip_possessive(*e))
        });
        if let Some((_, _, country)) = found {
            return Some(country.clone());
        }
    }
    // After: "NAME, <country>['s] <role>".
    if text.token_text(end) == "," {
        let found = countries.iter().find(|(f, e, _)| {
            (*f == end + 1 || *f == end + 2) && role_follows(skip_possessive(*e))
        });
        if let Some((_, _, country)) = found {
            return Some(country.clone());
        }
    }
    None
}

/// The country of a dateline ("KYIV, June 3 (Reuters) -", "TBILISI, Georgia (AP) —",
/// "WASHINGTON (AP) —"): the first body paragraph opens with a place name, and a bracket or
/// dash follows within a few words.
pub fn dateline_country(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    names: &[NameMention],
) -> Option<String> {
    let paragraph = text
        .paragraphs
        .iter()
        .find(|p| p.field == super::Field::Body)?;
    let name = names
        .iter()
        .find(|n| n.first_token == paragraph.first_token)?;
    if name.entity_type != EntityType::Gpe
        || !matches!(text.token_text(name.end_token), "," | "(" | "—" | "–" | "-")
    {
        return None;
    }
    let window_end = (paragraph.first_token + 12).min(paragraph.end_token);
    let marked =
        (name.end_token..window_end).any(|i| matches!(text.token_text(i), "(" | "—" | "–" | "-"));
    if !marked {
        return None;
    }
    data.entities.get(name.known?.entity)?.country.clone()
}

fn push_mention(
    drafts: &mut [Draft],
    d: usize,
    first: usize,
    end: usize,
    span: Span,
    text: &TextAnalysis<'_>,
    kind: MentionKind,
) {
    if let Some(draft) = drafts.get_mut(d) {
        draft.mentions.push((
            first,
            Mention {
                text: text.span_text(span).to_string(),
                span,
                kind,
            },
        ));
        draft.last_token = draft.last_token.max(end);
    }
}

fn add_name(
    data: &EngineData,
    drafts: &mut Vec<Draft>,
    by_known: &mut HashMap<usize, usize>,
    by_text: &mut HashMap<(String, u8), usize>,
    name: &NameMention,
) -> usize {
    let mention = Mention {
        text: name.text.clone(),
        span: name.span,
        kind: MentionKind::Proper,
    };
    let d = if let Some(sense) = name.known {
        *by_known.entry(sense.entity).or_insert_with(|| {
            let known = data.entities.get(sense.entity);
            drafts.push(Draft {
                name: known.map(|k| k.name.clone()).unwrap_or_default(),
                entity_type: Some(name.entity_type),
                country: known.and_then(|k| k.country.clone()),
                actor_code: known.and_then(|k| k.actor_code.clone()),
                known: Some(sense.entity),
                ..Draft::default()
            });
            drafts.len() - 1
        })
    } else if name.entity_type == EntityType::Person {
        match find_person(drafts, &name.text) {
            Some(d) => d,
            None => {
                drafts.push(Draft {
                    name: name.text.clone(),
                    entity_type: Some(EntityType::Person),
                    ..Draft::default()
                });
                drafts.len() - 1
            }
        }
    } else {
        let key = (name.text.clone(), type_tag(name.entity_type));
        *by_text.entry(key).or_insert_with(|| {
            drafts.push(Draft {
                name: name.text.clone(),
                entity_type: Some(name.entity_type),
                ..Draft::default()
            });
            drafts.len() - 1
        })
    };
    if let Some(draft) = drafts.get_mut(d) {
        // The canonical name is the fullest proper name seen.
        if name.known.is_none()
            && name.text.split_whitespace().count() > draft.name.split_whitespace().count()
        {
            draft.name = name.text.clone();
        }
        if let Some(title) = &name.title {
            if draft.gender.is_none() {
                draft.gender = title_gender(data, &title.text);
            }
            if !draft.titles.contains(&title.text) {
                draft.titles.push(title.text.clone());
            }
            if !draft.title_keys.contains(&title.key) {
                draft.title_keys.push(title.key.clone());
            }
            if let Some(role) = &title.role {
                if !draft.roles.contains(role) {
                    draft.roles.push(role.clone());
                }
            }
            if draft.country.is_none() {
                draft.country = title.country.clone();
            }
            if draft.org_actor.is_none() {
                draft.org_actor = title.org_actor.clone();
            }
        }
        draft.mentions.push((name.first_token, mention));
        draft.last_token = draft.last_token.max(name.end_token);
    }
    d
}

/// The gender a title implies, from any of its words ("Ms", "spokeswoman", "Sir").
fn title_gender(data: &EngineData, title: &str) -> Option<Gender> {
    title.split_whitespace().find_map(|word| {
        let key = lookup_form(word).to_lowercase();
        match data.gendered_words.get(&key)? {
            'F' => Some(Gender::Female),
            'M' => Some(Gender::Male),
            _ => None,
        }
    })
}

fn type_tag(entity_type: EntityType) -> u8 {
    entity_type as u8
}

/// The person entity a name refers to: one whose name words contain the mention's words, or
/// are contained in them (a later full name completes an earlier surname); the most recent
/// wins when two share a surname.
fn find_person(drafts: &[Draft], text: &str) -> Option<usize> {
    let words: Vec<&str> = text.split_whitespace().collect();
    drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| d.entity_type == Some(EntityType::Person) && d.known.is_none())
        .filter_map(|(k, d)| {
            let existing: Vec<&str> = d.name.split_whitespace().collect();
            let contains = |a: &[&str], b: &[&str]| b.iter().all(|w| a.contains(w));
            let same_last = existing.last() == words.last();
            let by_surname = (contains(&existing, &words)
                && (words.len() > 1 || same_last || existing.len() == 1))
                || (contains(&words, &existing) && same_last)
                || (words.len() == 1 && existing.last() == words.first());
            // British usage calls knights by first name ("Sir Keir"): a lone first name is a
            // weaker match than a surname.
            let by_first_name =
                words.len() == 1 && existing.len() > 1 && existing.first() == words.first();
            if by_surname {
                Some((2u8, d.last_token, k))
            } else if by_first_name {
                Some((1u8, d.last_token, k))
            } else {
                None
            }
        })
        .max()
        .map(|(_, _, d)| d)
}

/// A role nominal linked to a person.
struct NominalLink {
    /// Token after the nominal.
    end: usize,
    draft: usize,
    /// The title key ("prime minister").
    key: String,
    role: Option<String>,
    /// The nationality in the nominal ("The American leader" -> USA).
    country: Option<String>,
}

/// What a nominal tells about its person: "The prime minister said" gives Sir Keir Starmer an
/// office, "The American leader" a country.
fn learn_from_nominal(drafts: &mut [Draft], link: &NominalLink) {
    let Some(draft) = drafts.get_mut(link.draft) else {
        return;
    };
    if !draft.title_keys.contains(&link.key) {
        draft.title_keys.push(link.key.clone());
        draft.titles.push(link.key.clone());
    }
    if let Some(role) = &link.role {
        if !draft.roles.contains(role) {
            draft.roles.push(role.clone());
        }
    }
    if draft.country.is_none() {
        draft.country = link.country.clone();
    }
}

/// Reads a definite role nominal starting at the determiner `first` ("the US president",
/// "The American leader", "the Secretary of State") and links it to a person.
fn link_nominal(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    names: &[NameMention],
    name_at: &HashMap<usize, usize>,
    drafts: &[Draft],
    first: usize,
    previous_subject: Option<usize>,
) -> Option<NominalLink> {
    let mut i = first + 1;
    let mut nationality: Option<String> = None;
    // An optional nationality or country before the role: "the US president".
    if let Some(&n) = name_at.get(&i) {
        let name = names.get(n)?;
        let known = data.entities.get(name.known?.entity)?;
        if !matches!(
            known.kind,
            KnownKind::Country | KnownKind::Nationality | KnownKind::Organization(_)
        ) {
            return None;
        }
        nationality = known.country.clone();
        i = name.end_token;
    }
    let (len, key, info) = match_title_at(data, text, i)?;
    let end = i + len;
    // "the US Secretary of State Marco Rubio": the title belongs to the name that follows.
    if name_at.contains_key(&end) {
        return None;
    }
    // Titles that are also adjectives describe a noun after them: "the private sector", "the
    // general election", "the executive committee".
    if ADJECTIVE_TITLES.contains(&key.as_str()) {
        let next = text.tokens.get(end);
        let next_word = lookup_form(text.token_text(end)).to_lowercase();
        let noun_follows = next.is_some_and(|t| t.kind == TokenKind::Word)
            && !super::text::is_capitalised(text.token_text(end))
            && !NOMINAL_FOLLOWERS.contains(&next_word.as_str());
        if noun_follows {
            return None;
        }
    }
    // Plural roles ("the officials") are groups, not one of the people named.
    if key.ends_with('s') && data.titles.contains_key(key.trim_end_matches('s')) {
        return None;
    }
    let role = info.role.clone();
    let exact_title_needed = info.before_name;
    let mut best: Option<(u8, usize, usize)> = None;
    let sentence = text.tokens.get(first).map(|t| t.sentence);
    for (d, draft) in drafts.iter().enumerate() {
        if draft.entity_type != Some(EntityType::Person) || draft.mentions.is_empty() {
            continue;
        }
        // A role nominal does not point back into its own sentence: in "Zelenskyy thanked the
        // president", the president is someone else.
        let in_this_sentence = draft
            .mentions
            .iter()
            .any(|(pos, _)| text.tokens.get(*pos).map(|t| t.sentence) == sentence);
        if in_this_sentence {
            continue;
        }
        if let (Some(wanted), Some(have)) = (&nationality, &draft.country) {
            if wanted != have {
                continue;
            }
        }
        // "the minister" after "Thai Defence Minister Somchai Rattanakorn": the role is the
        // head of the person's title.
        let head_of_title = !key.contains(' ')
            && draft
                .title_keys
                .iter()
                .any(|k| k.rsplit(' ').next() == Some(key.as_str()));
        let score = if draft.title_keys.contains(&key) {
            3
        } else if head_of_title {
            2
        } else if exact_title_needed {
            // "the president" is not the Secretary of State; but a person introduced without
            // an office ("Sir Keir Starmer") may be named by it later ("The prime minister
            // said"), weakly.
            let has_office = draft
                .title_keys
                .iter()
                .any(|k| data.titles.get(k).is_some_and(|t| t.role.is_some()));
            if has_office {
                continue;
            }
            // Only right after a sentence about that person: "Sir Keir Starmer spoke on
            // Monday. The prime minister said ..."; further away an office says nothing about
            // an untitled person ("the chancellor" is not whoever was named last).
            if previous_subject != Some(d) {
                continue;
            }
            1
        } else {
            match &role {
                Some(r) if draft.roles.contains(r) => 2,
                _ if draft.roles.is_empty() => 1,
                None => 1,
                _ => continue,
            }
        };
        let candidate = (score, draft.last_token, d);
        if best.is_none_or(|b| (candidate.0, candidate.1) > (b.0, b.1)) {
            best = Some(candidate);
        }
    }
    best.map(|(_, _, d)| NominalLink {
        end,
        draft: d,
        key,
        role,
        country: nationality,
    })
}

/// Whether the determiner at `i` opens an apposition to the name before it ("Milica
/// Jovanović, a law student, said"), which describes that person rather than a new one.
fn after_apposition_comma(text: &TextAnalysis<'_>, i: usize) -> bool {
    i.checked_sub(1)
        .is_some_and(|k| matches!(text.token_text(k), "," | "(" | "—" | "–"))
}

/// The role head of an indefinite description of a person at the determiner `first`: "a
/// senior government official" -> "official"; none when a name follows the role ("a
/// spokesman, John Smith" is named).
fn unnamed_role_at(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    name_at: &HashMap<usize, usize>,
    first: usize,
) -> Option<String> {
    for k in first + 1..first + 5 {
        let token = text.tokens.get(k)?;
        if token.kind != TokenKind::Word || name_at.contains_key(&k) {
            return None;
        }
        if let Some((len, key, _)) = match_title_at(data, text, k) {
            let after = k + len;
            let named = name_at.contains_key(&after)
                || (text.token_text(after) == "," && name_at.contains_key(&(after + 1)));
            if named {
                return None;
            }
            if ADJECTIVE_TITLES.contains(&key.as_str()) {
                continue;
            }
            return key.rsplit(' ').next().map(str::to_string);
        }
    }
    None
}

/// An organisation called by its head noun: "the ministry said" after "the Interior
/// Ministry", "the embassy" after "the U.S. Embassy"; the most recent organisation whose
/// name ends with that noun (a head listed as an organisation head in `name_heads.tsv`).
fn link_organization_nominal(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    drafts: &[Draft],
    first: usize,
) -> Option<(usize, usize)> {
    let k = first + 1;
    let word = text.token_text(k);
    if text.tokens.get(k)?.kind != TokenKind::Word || super::text::is_capitalised(word) {
        return None;
    }
    let mut head = word.to_string();
    if let Some(c) = head.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    if data.name_heads.get(&head) != Some(&HeadType::Organization) {
        return None;
    }
    // "the ministry of health" is a name of its own.
    if text.token_text(k + 1) == "of" {
        return None;
    }
    drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.entity_type == Some(EntityType::Organization)
                && d.last_token <= first
                && d.name.rsplit(' ').next() == Some(head.as_str())
        })
        .max_by_key(|(_, d)| d.last_token)
        .map(|(d, _)| (k + 1, d))
}

fn match_title_at(
    data: &EngineData,
    text: &TextAnalysis<'_>,
    i: usize,
) -> Option<(usize, String, super::data::TitleInfo)> {
    let first = lookup_form(text.token_text(i)).to_lowercase();
    let longest = *data.title_first_tokens.get(&first)?;
    let mut n = longest;
    while n > 0 {
        let key = (i..i + n)
            .map(|k| lookup_form(text.token_text(k)).to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(info) = data.titles.get(&key) {
            return Some((n, key, info.clone()));
        }
        n -= 1;
    }
    None
}

fn finish(drafts: Vec<Draft>) -> Vec<Entity> {
    let mut entities: Vec<(usize, Entity)> = drafts
        .into_iter()
        .filter_map(|mut draft| {
            draft.mentions.sort_by_key(|(pos, _)| *pos);
            let first = draft.mentions.first().map(|(pos, _)| *pos)?;
            let entity_type = draft.entity_type?;
            let actor_code = if entity_type == EntityType::Person {
                person_actor_code(&draft)
            } else {
                draft.actor_code.clone()
            };
            Some((
                first,
                Entity {
                    id: String::new(),
                    name: draft.name,
                    entity_type,
                    mentions: draft.mentions.into_iter().map(|(_, m)| m).collect(),
                    salience: 0.0,
                    titles: draft.titles,
                    country_code: draft.country,
                    actor_code,
                },
            ))
        })
        .collect();
    entities.sort_by_key(|(first, _)| *first);
    entities
        .into_iter()
        .enumerate()
        .map(|(k, (_, mut entity))| {
            entity.id = format!("e{}", k + 1);
            entity
        })
        .collect()
}

/// CAMEO codes people by the country they serve plus their role: a US secretary of state is
/// USAGOV; an official of a coded organisation takes its code (White House -> USAGOV).
fn person_actor_code(draft: &Draft) -> Option<String> {
    if let Some(org) = &draft.org_actor {
        return Some(org.clone());
    }
    let country = draft.country.as_ref()?;
    match draft.roles.first() {
        Some(role) => Some(format!("{country}{role}")),
        None => Some(country.clone()),
    }
}

/// Salience in 0..=1 from how often, how early and in what role an entity is mentioned.
pub fn score_salience(entities: &mut [Entity], text: &TextAnalysis<'_>) {
    let total = (text.title.len() + text.body.len()).max(1) as f32;
    let max_mentions = entities
        .iter()
        .map(|e| e.mentions.len())
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    for entity in entities.iter_mut() {
        let frequency = entity.mentions.len() as f32 / max_mentions;
        let in_title = entity
            .mentions
            .iter()
            .any(|m| m.span.field == super::Field::Title);
        let first_offset = entity
            .mentions
            .iter()
            .filter(|m| m.span.field == super::Field::Body)
            .map(|m| m.span.start)
            .min()
            .map_or(1.0, |start| start as f32 / total);
        let earliness = 1.0 - first_offset.clamp(0.0, 1.0);
        let role = if entity.titles.is_empty() { 0.0 } else { 1.0 };
        let score =
            0.5 * frequency + 0.2 * earliness + 0.2 * f32::from(u8::from(in_title)) + 0.1 * role;
        entity.salience = score.clamp(0.0, 1.0);
    }
}

/// Which entity mention covers each token: how quotes and events find speakers and actors.
#[derive(Debug, Clone, Default)]
pub struct MentionIndex {
    /// (first token, end token, entity index, kind), sorted by first token.
    spans: Vec<(usize, usize, usize, MentionKind)>,
}

impl MentionIndex {
    pub fn new(text: &TextAnalysis<'_>, entities: &[Entity]) -> MentionIndex {
        let mut spans = Vec::new();
        for (e, entity) in entities.iter().enumerate() {
            for mention in &entity.mentions {
                let first = text.token_at_or_after(mention.span.field, mention.span.start);
                let end = text.token_at_or_after(mention.span.field, mention.span.end);
                if end > first {
                    spans.push((first, end, e, mention.kind));
                }
            }
        }
        spans.sort_by_key(|s| s.0);
        MentionIndex { spans }
    }

    /// The mention starting at token `i`, if any: (end token, entity index, kind).
    pub fn starting_at(&self, i: usize) -> Option<(usize, usize, MentionKind)> {
        let k = self.spans.partition_point(|s| s.0 < i);
        self.spans
            .get(k)
            .filter(|s| s.0 == i)
            .map(|s| (s.1, s.2, s.3))
    }

    /// Mentions starting inside `[first, end)`, in order: (first, end, entity, kind).
    pub fn within(
        &self,
        first: usize,
        end: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, MentionKind)> + '_ {
        let k = self.spans.partition_point(|s| s.0 < first);
        self.spans
            .get(k..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |s| s.0 < end)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ner;

    fn entities(body: &str) -> Vec<Entity> {
        let data = EngineData::embedded().expect("data");
        let text = TextAnalysis::new("", body);
        let names = ner::recognize(&data, &text);
        resolve(&data, &text, &names)
    }

    fn mentions_of<'e>(entities: &'e [Entity], name: &str) -> Vec<&'e str> {
        entities
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.mentions.iter().map(|m| m.text.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn surnames_titles_and_nominals_join_the_person() {
        let found = entities(
            "Trump spoke first.\nUS President Donald Trump said talks went well.\n\
             The American leader noted that peace was near.\n\"We will see,\" the US president stressed.",
        );
        let trump = found
            .iter()
            .find(|e| e.name == "Donald Trump")
            .expect("Trump");
        assert_eq!(trump.actor_code.as_deref(), Some("USAGOV"));
        assert!(trump.titles.contains(&"US President".to_string()));
        let texts = mentions_of(&found, "Donald Trump");
        assert!(texts.contains(&"Trump"));
        assert!(texts.contains(&"The American leader"));
        assert!(texts.contains(&"the US president"));
    }

    #[test]
    fn role_nominals_pick_the_matching_title_and_pronouns_the_subject() {
        let found = entities(
            "US President Donald Trump spoke. US Secretary of State Marco Rubio spoke later.\n\
             The Secretary of State said talks went well.\n\"Fine,\" he told reporters.\n\
             However, the politician said he would wait.",
        );
        let rubio = mentions_of(&found, "Marco Rubio");
        assert!(rubio.contains(&"The Secretary of State"));
        assert!(rubio.contains(&"he"));
        assert!(rubio.contains(&"the politician"));
        assert!(!mentions_of(&found, "Donald Trump").contains(&"he"));
    }

    #[test]
    fn object_pronouns_and_first_names_and_offices_learned_from_nominals() {
        let found = entities(
            "Sir Keir Starmer spoke on Monday.\nThe prime minister said Sir Keir would meet \
             US President Donald Trump, where he is expected to urge him to help.",
        );
        let starmer = mentions_of(&found, "Keir Starmer");
        assert!(starmer.contains(&"The prime minister"));
        assert!(starmer.contains(&"Keir"));
        assert!(starmer.contains(&"he"));
        assert!(mentions_of(&found, "Donald Trump").contains(&"him"));
    }

    #[test]
    fn dateline_gives_untitled_officials_their_country() {
        let found = entities(
            "TBILISI, Georgia (AP) — Prime Minister Irakli Kobakhidze rejected the criticism.",
        );
        let pm = found
            .iter()
            .find(|e| e.name == "Irakli Kobakhidze")
            .expect("PM");
        assert_eq!(pm.actor_code.as_deref(), Some("GEOGOV"));
    }

    #[test]
    fn pronouns_respect_gendered_titles() {
        let found = entities("Mr John Smith met Ms Jane Doe on Monday.\nShe said talks went well.");
        assert!(mentions_of(&found, "Jane Doe").contains(&"She"));
        assert!(!mentions_of(&found, "John Smith").contains(&"She"));
    }

    #[test]
    fn demonyms_share_one_nationality_entity_with_a_country_code() {
        let found = entities("Ukrainian officials met. Ukrainians cheered in Kyiv.");
        let norp = found.iter().find(|e| e.name == "Ukrainian").expect("NORP");
        assert_eq!(norp.entity_type, EntityType::Norp);
        assert_eq!(norp.mentions.len(), 2);
        assert_eq!(norp.country_code.as_deref(), Some("UKR"));
        let kyiv = found.iter().find(|e| e.name == "Kyiv").expect("Kyiv");
        assert_eq!(kyiv.actor_code.as_deref(), Some("UKR"));
    }

    #[test]
    fn role_nominals_need_a_compatible_title() {
        // Nobody here is a chancellor: the nominal stays unresolved.
        let found = entities(
            "Opposition leader John Smith visited a school.\nTeachers met on Friday.\n\
             Anger grew over the chancellor's plans.",
        );
        assert!(!mentions_of(&found, "John Smith").contains(&"the chancellor"));
    }

    #[test]
    fn a_possessed_role_is_someone_else() {
        let found = entities(
            "John Smith's official spokesman declined to comment.\nHe said the matter was closed.",
        );
        assert!(!mentions_of(&found, "John Smith").contains(&"He"));
    }

    #[test]
    fn adjective_titles_before_a_noun_are_not_nominals() {
        let found =
            entities("Sir John Smith spoke on Monday.\nThe private sector said little about it.");
        assert!(!mentions_of(&found, "John Smith").contains(&"The private"));
    }
}
