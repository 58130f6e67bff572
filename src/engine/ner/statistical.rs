//! Where the rules and the trained tagger meet.
//!
//! The rules in `ner.rs` know titles, gazetteers and news conventions, and they decline to
//! guess: an unknown single capitalised word is dropped, an unknown multi-word name defaults to
//! PERSON. The CoNLL-trained tagger has seen 200,000 tokens of Reuters news and guesses well
//! exactly there. So the tagger only fills the rules' gaps:
//! - an unknown name the rules typed PERSON by default takes the tagger's type when the tagger
//!   is confident it is an organisation, a place or a miscellaneous name;
//! - a name the rules did not find at all is added when the tagger is confident, unless it
//!   overlaps a title or a name the rules already have.
//!
//! Known names (gazetteer entries) and titled persons are never changed: the rules are right
//! about them more often than a general model is.

use std::collections::{HashMap, HashSet};

use super::model::{spans, EntityLabel, NerModel};
use super::NameMention;
use crate::engine::{
    data::EngineData,
    text::{TextAnalysis, TokenKind},
    EntityType, Span,
};

// The tagger's confidence is a squashed Viterbi margin, not a probability: most correct spans
// score 0.1 to 0.5. 0.2 was the best of 0.1 / 0.2 / 0.3 / 0.6 on the project's gold articles
// (entity F1 0.958 / 0.979 / 0.978 / 0.978).
/// Tagger confidence needed to override a default PERSON.
const RETYPE_CONFIDENCE: f32 = 0.2;
/// Tagger confidence needed to add a name the rules did not find.
const ADD_CONFIDENCE: f32 = 0.2;

/// The tagger's input: the article's sentences as plain tokens, with the text token each came
/// from. Possessive endings are split off as CoNLL's tokenisation does ("Ukraine 's").
struct TaggerInput<'a> {
    sentences: Vec<Vec<&'a str>>,
    /// For each sentence, the text token index of each tagger token.
    origins: Vec<Vec<usize>>,
}

fn tagger_input<'a>(text: &TextAnalysis<'a>) -> TaggerInput<'a> {
    let mut sentences = Vec::with_capacity(text.sentences.len());
    let mut origins = Vec::with_capacity(text.sentences.len());
    for sentence in &text.sentences {
        let mut words = Vec::new();
        let mut from = Vec::new();
        for index in sentence.first_token..sentence.end_token {
            let word = text.token_text(index);
            let possessive = ["'s", "’s"].iter().find_map(|s| {
                word.strip_suffix(s)
                    .filter(|stem| !stem.is_empty())
                    .map(|stem| (stem, &word[stem.len()..]))
            });
            match possessive {
                Some((stem, ending)) => {
                    words.extend([stem, ending]);
                    from.extend([index, index]);
                }
                None => {
                    words.push(word);
                    from.push(index);
                }
            }
        }
        sentences.push(words);
        origins.push(from);
    }
    TaggerInput { sentences, origins }
}

fn overlaps(a: Span, b: Span) -> bool {
    a.field == b.field && a.start < b.end && b.start < a.end
}

fn entity_type(label: EntityLabel) -> EntityType {
    match label {
        EntityLabel::Per => EntityType::Person,
        EntityLabel::Org => EntityType::Organization,
        // Places the gazetteers do not know are mostly towns and cities in news.
        EntityLabel::Loc => EntityType::Gpe,
        EntityLabel::Misc => EntityType::Misc,
    }
}

/// Retypes and adds mentions from the tagger's confident guesses; keeps reading order.
pub fn refine(
    model: &NerModel,
    data: &EngineData,
    text: &TextAnalysis<'_>,
    mentions: &mut Vec<NameMention>,
) {
    // One sense per name per article: a name the rules typed elsewhere keeps that type, and a
    // person's surname alone is that person ("Rubio: Ukraine needs ..." in a headline).
    let mut known_types: HashMap<String, EntityType> = HashMap::new();
    let mut surnames: HashSet<String> = HashSet::new();
    for mention in mentions.iter() {
        known_types.insert(mention.text.clone(), mention.entity_type);
        let mut words = mention.text.split_whitespace();
        if let (EntityType::Person, Some(surname), Some(_)) =
            (mention.entity_type, words.next_back(), words.next())
        {
            surnames.insert(surname.to_string());
        }
    }
    for surname in &surnames {
        known_types.insert(surname.clone(), EntityType::Person);
    }
    let input = tagger_input(text);
    let tagged = model.tag_document_scored(&input.sentences);
    let mut added = Vec::new();
    for ((tags, origin), _) in tagged.iter().zip(&input.origins).zip(&input.sentences) {
        for found in spans(tags) {
            let (Some(&first), Some(&last)) = (
                origin.get(found.start),
                found.end.checked_sub(1).and_then(|e| origin.get(e)),
            ) else {
                continue;
            };
            let Some(span) = text.token_range_span(first, last) else {
                continue;
            };
            let guessed = entity_type(found.label);
            let touching: Vec<usize> = mentions
                .iter()
                .enumerate()
                .filter(|(_, m)| {
                    overlaps(m.span, span)
                        || m.title.as_ref().is_some_and(|t| overlaps(t.span, span))
                })
                .map(|(i, _)| i)
                .collect();
            if let [only] = touching[..] {
                let mention = &mut mentions[only];
                let default_person = mention.entity_type == EntityType::Person
                    && mention.known.is_none()
                    && mention.title.is_none()
                    && !surnames.contains(&mention.text);
                if default_person
                    && mention.span == span
                    && guessed != EntityType::Person
                    && found.confidence >= RETYPE_CONFIDENCE
                {
                    mention.entity_type = guessed;
                }
                continue;
            }
            if !touching.is_empty() || found.confidence < ADD_CONFIDENCE {
                continue;
            }
            // Names are written with capitals; a lower-case guess is the tagger overreaching.
            let capitalised = (first..=last).all(|i| {
                let token = &text.tokens[i];
                token.kind != TokenKind::Word
                    || text
                        .token_text(i)
                        .chars()
                        .next()
                        .is_some_and(|c| !c.is_lowercase())
            });
            // Words the rules know are never names on their own ("MPs", "TV", "Former").
            let single = first == last;
            let word = text.token_text(first);
            let never_a_name = single
                && (super::is_plural_abbreviation(word)
                    || data.common_words.contains(&word.to_lowercase()));
            if !capitalised || never_a_name {
                continue;
            }
            let name = text.span_text(span);
            added.push(NameMention {
                span,
                first_token: first,
                end_token: last + 1,
                text: name.to_string(),
                entity_type: known_types.get(name).copied().unwrap_or(guessed),
                known: None,
                title: None,
            });
        }
    }
    if !added.is_empty() {
        mentions.extend(added);
        mentions.sort_by_key(|m| (m.span.field, m.span.start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refined(title: &str, body: &str) -> (Vec<NameMention>, Vec<NameMention>) {
        let data = EngineData::embedded().unwrap();
        let model = NerModel::shared().unwrap();
        let text = TextAnalysis::new(title, body);
        let rules = super::super::recognize(&data, &text);
        let mut both = rules.clone();
        refine(model, &data, &text, &mut both);
        (rules, both)
    }

    #[test]
    fn the_tagger_fills_gaps_without_touching_known_names_or_overlapping() {
        let (rules, both) = refine_sample();
        for mention in rules
            .iter()
            .filter(|m| m.known.is_some() || m.title.is_some())
        {
            assert!(
                both.contains(mention),
                "known or titled name changed: {mention:?}"
            );
        }
        for (i, a) in both.iter().enumerate() {
            for b in &both[i + 1..] {
                assert!(!overlaps(a.span, b.span), "{a:?} overlaps {b:?}");
            }
        }
        assert!(both
            .windows(2)
            .all(|w| (w[0].span.field, w[0].span.start) <= (w[1].span.field, w[1].span.start)));
        assert!(both.len() >= rules.len());
    }

    fn refine_sample() -> (Vec<NameMention>, Vec<NameMention>) {
        refined(
            "Tobacco makers win appeal",
            "A US appeals court ruled that Altria Group, Lorillard Tobacco and Liggett Group \
             need not pay the damages sought by the Clinton administration, the companies said \
             in Washington on Friday. Shares of Lorillard rose 3%.",
        )
    }
}
