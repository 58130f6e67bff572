//! Engine types to proto types, in one place.
//!
//! The engine counts offsets in UTF-8 bytes of the title or the body, and [`ProtoConverter`]
//! keeps them so: the stored form of an analysis is a proto `Analysis` with UTF-8 offsets. Clients
//! ask for UTF-8, UTF-16 code units or code points (`EncodingType`, as Google's Natural Language
//! API does), so [`reencode_spans`] rewrites every span of a proto analysis or event through an
//! [`OffsetMap`] built once per field.

use std::time::{Duration, SystemTime};

use crate::{
    engine::{self, Field},
    proto::v1 as pb,
};

/// The encoding used when a request leaves `encoding_type` unset: code points, which is what
/// Python's `str` slicing (the most common client) uses.
pub const DEFAULT_ENCODING: pb::EncodingType = pb::EncodingType::Utf32;

/// Resolves `ENCODING_TYPE_UNSPECIFIED` (and unknown values) to the default.
pub fn effective_encoding(requested: i32) -> pb::EncodingType {
    match pb::EncodingType::try_from(requested) {
        Ok(pb::EncodingType::Unspecified) | Err(_) => DEFAULT_ENCODING,
        Ok(encoding) => encoding,
    }
}

/// Maps UTF-8 byte offsets of one text to offsets in another encoding.
pub struct OffsetMap {
    /// `units[byte]` = code units before `byte`; empty when offsets are unchanged (UTF-8
    /// requested, or ASCII text where every encoding agrees).
    units: Vec<u32>,
}

impl OffsetMap {
    pub fn new(text: &str, encoding: pb::EncodingType) -> OffsetMap {
        let identity = matches!(encoding, pb::EncodingType::Utf8) || text.is_ascii();
        if identity {
            return OffsetMap { units: Vec::new() };
        }
        let mut units = Vec::with_capacity(text.len() + 1);
        let mut count = 0u32;
        for ch in text.chars() {
            let width = match encoding {
                pb::EncodingType::Utf16 => ch.len_utf16() as u32,
                _ => 1,
            };
            // Offsets inside a character are never produced; give them the character's start.
            units.extend(std::iter::repeat_n(count, ch.len_utf8()));
            count += width;
        }
        units.push(count);
        OffsetMap { units }
    }

    fn is_identity(&self) -> bool {
        self.units.is_empty()
    }

    pub fn map(&self, byte: usize) -> u32 {
        if self.units.is_empty() {
            return u32::try_from(byte).unwrap_or(u32::MAX);
        }
        let last = self.units.len() - 1;
        self.units[byte.min(last)]
    }
}

/// The offset maps of one article's title and body.
pub struct ArticleOffsets {
    title: OffsetMap,
    body: OffsetMap,
    encoding: pb::EncodingType,
}

impl ArticleOffsets {
    pub fn new(title: &str, body: &str, encoding: pb::EncodingType) -> ArticleOffsets {
        ArticleOffsets {
            title: OffsetMap::new(title, encoding),
            body: OffsetMap::new(body, encoding),
            encoding,
        }
    }

    fn reencode(&self, span: &mut pb::TextSpan) {
        let map = if span.field == pb::TextField::Title as i32 {
            &self.title
        } else {
            &self.body
        };
        span.start = map.map(span.start as usize);
        span.end = map.map(span.end as usize);
    }
}

/// Rewrites every span of an analysis made with UTF-8 offsets (what [`ProtoConverter`] makes) to
/// the offsets' encoding.
pub fn reencode_spans(analysis: &mut pb::Analysis, offsets: &ArticleOffsets) {
    analysis.encoding_type = offsets.encoding as i32;
    if offsets.title.is_identity() && offsets.body.is_identity() {
        return;
    }
    let mut spans: Vec<&mut pb::TextSpan> = Vec::new();
    for entity in &mut analysis.entities {
        spans.extend(entity.mentions.iter_mut().filter_map(|m| m.span.as_mut()));
    }
    for quote in analysis
        .quotes
        .iter_mut()
        .chain(analysis.reported_speech.iter_mut())
    {
        spans.extend(quote.span.as_mut());
        spans.extend(quote.speaker.as_mut().and_then(|s| s.span.as_mut()));
    }
    spans.extend(
        analysis
            .temporal_expressions
            .iter_mut()
            .filter_map(|t| t.span.as_mut()),
    );
    spans.extend(
        analysis
            .citations
            .iter_mut()
            .filter_map(|c| c.span.as_mut()),
    );
    for span in spans {
        offsets.reencode(span);
    }
    for event in &mut analysis.events {
        reencode_event_spans(event, offsets);
    }
}

/// Rewrites every span of an event made with UTF-8 offsets to the offsets' encoding.
pub fn reencode_event_spans(event: &mut pb::Event, offsets: &ArticleOffsets) {
    let time_span = event.time.as_mut().and_then(|t| t.span.as_mut());
    for span in [event.trigger_span.as_mut(), event.span.as_mut(), time_span]
        .into_iter()
        .flatten()
    {
        offsets.reencode(span);
    }
}

/// Converts engine output for one article to proto messages, offsets in UTF-8 bytes.
pub struct ProtoConverter;

impl ProtoConverter {
    pub fn span(&self, span: &engine::Span) -> pb::TextSpan {
        let field = match span.field {
            Field::Title => pb::TextField::Title,
            Field::Body => pb::TextField::Body,
        };
        pb::TextSpan {
            start: u32::try_from(span.start).unwrap_or(u32::MAX),
            end: u32::try_from(span.end).unwrap_or(u32::MAX),
            field: field as i32,
        }
    }

    /// The analysis with UTF-8 offsets; the caller fills in the article id, version and timing.
    pub fn analysis(&self, analysis: &engine::Analysis) -> pb::Analysis {
        pb::Analysis {
            language: analysis.language.clone(),
            entities: analysis.entities.iter().map(|e| self.entity(e)).collect(),
            quotes: analysis
                .quotes
                .iter()
                .filter(|q| q.kind != engine::QuoteKind::Indirect)
                .map(|q| self.quote(q))
                .collect(),
            reported_speech: analysis
                .quotes
                .iter()
                .filter(|q| q.kind == engine::QuoteKind::Indirect)
                .map(|q| self.quote(q))
                .collect(),
            events: analysis.events.iter().map(|e| self.event(e)).collect(),
            temporal_expressions: analysis
                .temporals
                .iter()
                .map(|t| self.temporal(t))
                .collect(),
            citations: analysis
                .citations
                .iter()
                .map(|c| self.citation(c))
                .collect(),
            encoding_type: pb::EncodingType::Utf8 as i32,
            ..pb::Analysis::default()
        }
    }

    pub fn entity(&self, entity: &engine::Entity) -> pb::Entity {
        pb::Entity {
            id: entity.id.clone(),
            name: entity.name.clone(),
            r#type: entity_type(entity.entity_type) as i32,
            mentions: entity
                .mentions
                .iter()
                .map(|m| pb::EntityMention {
                    text: m.text.clone(),
                    span: Some(self.span(&m.span)),
                    kind: mention_kind(m.kind) as i32,
                })
                .collect(),
            salience: entity.salience,
            titles: entity.titles.clone(),
            country_code: entity.country_code.clone().unwrap_or_default(),
            actor_code: entity.actor_code.clone().unwrap_or_default(),
        }
    }

    pub fn quote(&self, quote: &engine::Quote) -> pb::Quote {
        pb::Quote {
            id: quote.id.clone(),
            text: quote.text.clone(),
            span: Some(self.span(&quote.span)),
            kind: quote_kind(quote.kind) as i32,
            speaker: quote.speaker.as_ref().map(|s| pb::Speaker {
                entity_id: s.entity_id.clone(),
                name: s.name.clone(),
                span: s.mention_span.as_ref().map(|span| self.span(span)),
            }),
            cue: quote.cue.clone().unwrap_or_default(),
            source: quote.source.clone().unwrap_or_default(),
            confidence: quote.confidence,
        }
    }

    pub fn event(&self, event: &engine::Event) -> pb::Event {
        pb::Event {
            id: event.id.clone(),
            code: event.code.clone(),
            root_code: event.root_code.clone(),
            quad_class: quad_class(event.quad_class) as i32,
            goldstein: event.goldstein,
            source: event.source.as_ref().map(actor),
            target: event.target.as_ref().map(actor),
            trigger: event.trigger.clone(),
            trigger_span: Some(self.span(&event.trigger_span)),
            span: Some(self.span(&event.span)),
            time: event.time.as_ref().map(|t| self.temporal(t)),
            location: event.location.as_ref().map(|p| pb::Place {
                entity_id: p.entity_id.clone().unwrap_or_default(),
                name: p.name.clone(),
                country_code: p.country_code.clone().unwrap_or_default(),
            }),
            modality: modality(event.modality) as i32,
            quote_id: event.quote_id.clone().unwrap_or_default(),
            confidence: event.confidence,
        }
    }

    pub fn temporal(&self, temporal: &engine::Temporal) -> pb::TemporalExpression {
        pb::TemporalExpression {
            text: temporal.text.clone(),
            span: Some(self.span(&temporal.span)),
            kind: temporal_kind(temporal.kind) as i32,
            value: temporal.value.clone(),
        }
    }

    pub fn citation(&self, citation: &engine::Citation) -> pb::Citation {
        pb::Citation {
            source: citation.source.clone(),
            entity_id: citation.entity_id.clone().unwrap_or_default(),
            cue: citation.cue.clone(),
            span: Some(self.span(&citation.span)),
        }
    }
}

fn actor(actor: &engine::Actor) -> pb::Actor {
    pb::Actor {
        entity_id: actor.entity_id.clone().unwrap_or_default(),
        name: actor.name.clone(),
        code: actor.code.clone(),
    }
}

pub fn timestamp(at: SystemTime) -> pbjson_types::Timestamp {
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    pbjson_types::Timestamp {
        seconds: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since_epoch.subsec_nanos()).unwrap_or(0),
    }
}

/// The instant a proto timestamp names; None when it is out of range.
pub fn system_time(ts: &pbjson_types::Timestamp) -> Option<SystemTime> {
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    if ts.seconds >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::new(ts.seconds as u64, nanos))
    } else {
        SystemTime::UNIX_EPOCH
            .checked_sub(Duration::from_secs(ts.seconds.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

fn entity_type(t: engine::EntityType) -> pb::EntityType {
    use engine::EntityType as E;
    match t {
        E::Person => pb::EntityType::Person,
        E::Organization => pb::EntityType::Organization,
        E::Gpe => pb::EntityType::Gpe,
        E::Location => pb::EntityType::Location,
        E::Norp => pb::EntityType::Norp,
        E::Facility => pb::EntityType::Facility,
        E::Event => pb::EntityType::Event,
        E::Product => pb::EntityType::Product,
        E::Law => pb::EntityType::Law,
        E::WorkOfArt => pb::EntityType::WorkOfArt,
        E::Misc => pb::EntityType::Misc,
    }
}

fn mention_kind(k: engine::MentionKind) -> pb::MentionKind {
    match k {
        engine::MentionKind::Proper => pb::MentionKind::Proper,
        engine::MentionKind::Nominal => pb::MentionKind::Nominal,
        engine::MentionKind::Pronoun => pb::MentionKind::Pronoun,
    }
}

fn quote_kind(k: engine::QuoteKind) -> pb::QuoteKind {
    match k {
        engine::QuoteKind::Direct => pb::QuoteKind::Direct,
        engine::QuoteKind::Partial => pb::QuoteKind::Partial,
        engine::QuoteKind::Indirect => pb::QuoteKind::Indirect,
    }
}

fn quad_class(q: u8) -> pb::QuadClass {
    match q {
        1 => pb::QuadClass::VerbalCooperation,
        2 => pb::QuadClass::MaterialCooperation,
        3 => pb::QuadClass::VerbalConflict,
        4 => pb::QuadClass::MaterialConflict,
        _ => pb::QuadClass::Unspecified,
    }
}

fn modality(m: engine::Modality) -> pb::Modality {
    match m {
        engine::Modality::Asserted => pb::Modality::Asserted,
        engine::Modality::Negated => pb::Modality::Negated,
        engine::Modality::Hypothetical => pb::Modality::Hypothetical,
        engine::Modality::Intended => pb::Modality::Intended,
    }
}

fn temporal_kind(k: engine::TemporalKind) -> pb::TemporalKind {
    use engine::TemporalKind as T;
    match k {
        T::Date => pb::TemporalKind::Date,
        T::Time => pb::TemporalKind::Time,
        T::Duration => pb::TemporalKind::Duration,
        T::Set => pb::TemporalKind::Set,
        T::Money => pb::TemporalKind::Money,
        T::Percent => pb::TemporalKind::Percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice_by(text: &str, encoding: pb::EncodingType, start: u32, end: u32) -> String {
        let (start, end) = (start as usize, end as usize);
        match encoding {
            pb::EncodingType::Utf8 => text[start..end].to_string(),
            pb::EncodingType::Utf16 => {
                let units: Vec<u16> = text.encode_utf16().collect();
                String::from_utf16(&units[start..end]).unwrap()
            }
            _ => text.chars().skip(start).take(end - start).collect(),
        }
    }

    #[test]
    fn offsets_point_at_the_same_text_in_every_encoding() {
        let text = "Zelensky’s aide 🇺🇦 met Ångström in Kyiv 👍🏽 today";
        let start = text.find("Ångström").unwrap();
        let end = start + "Ångström".len();
        for encoding in [
            pb::EncodingType::Utf8,
            pb::EncodingType::Utf16,
            pb::EncodingType::Utf32,
        ] {
            let map = OffsetMap::new(text, encoding);
            assert_eq!(
                slice_by(text, encoding, map.map(start), map.map(end)),
                "Ångström",
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn unspecified_encoding_means_code_points() {
        assert_eq!(effective_encoding(0), pb::EncodingType::Utf32);
        assert_eq!(effective_encoding(99), pb::EncodingType::Utf32);
        assert_eq!(effective_encoding(2), pb::EncodingType::Utf16);
    }

    #[test]
    fn timestamps_round_trip() {
        let now = SystemTime::now();
        assert_eq!(system_time(&timestamp(now)), Some(now));
        assert_eq!(
            system_time(&pbjson_types::Timestamp {
                seconds: 0,
                nanos: -1
            }),
            None
        );
    }
}
