//! Property tests: whatever the text, analysis never panics and every span it reports lies on
//! character boundaries inside its field and slices out exactly the text it claims, in every
//! offset encoding.

use newsanalysis::{
    analysis::analyze_inline,
    article::{ArticleLimits, ValidArticle},
    engine::Engine,
    proto::v1 as pb,
};
use proptest::prelude::*;

/// Text that looks enough like news to reach every stage: names, titles, quotes of every
/// style, dates, dashes, emoji and combining marks, in any order.
fn newsish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "President",
        "Donald",
        "Trump",
        "said",
        "told reporters",
        "“",
        "”",
        "\"",
        "'",
        "‘",
        "’",
        "«",
        "»",
        "„",
        "Kyiv",
        "Ukraine’s",
        "U.S.",
        "Gen.",
        "the",
        "he",
        "she",
        "they",
        "Russia",
        "agreed to a ceasefire",
        "warned of sanctions",
        "March 11",
        "30-day",
        "on Tuesday",
        "(…)",
        "—",
        "–",
        "...",
        ".",
        ",",
        ":",
        "\n",
        "\n\n",
        " ",
        "🇺🇦",
        "👍🏽",
        "e\u{301}",
        "Zürich",
        "according to Reuters",
        "The Guardian reported",
        "$4,275",
        "12.5%",
        "https://x.org/a?b=1",
        "ÅNGSTRÖM",
        "ß",
        "İstanbul",
        "\u{200b}",
        "\t",
        "\r\n",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(String::from), any::<String>()],
        0..60,
    )
    .prop_map(|parts| parts.join(" "))
}

fn slice(text: &str, span: &pb::TextSpan, encoding: pb::EncodingType) -> Option<String> {
    let (start, end) = (span.start as usize, span.end as usize);
    if start > end {
        return None;
    }
    match encoding {
        pb::EncodingType::Utf8 => text.get(start..end).map(str::to_string),
        pb::EncodingType::Utf16 => {
            let units: Vec<u16> = text.encode_utf16().collect();
            String::from_utf16(units.get(start..end)?).ok()
        }
        _ => {
            let count = text.chars().count();
            (end <= count).then(|| text.chars().skip(start).take(end - start).collect())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn spans_slice_out_their_text_in_every_encoding(title in newsish(), body in newsish()) {
        let engine = Engine::new().unwrap();
        let article = pb::Article { id: "p".into(), title: title.clone(), body: format!("x {body}"), ..Default::default() };
        let Ok(valid) = ValidArticle::parse(article, &ArticleLimits::default()) else { return Ok(()) };
        let body = valid.article.body.clone();
        for encoding in [pb::EncodingType::Utf8, pb::EncodingType::Utf16, pb::EncodingType::Utf32] {
            let analysis = analyze_inline(&engine, valid.clone(), encoding);
            let field = |span: &pb::TextSpan| if span.field == pb::TextField::Title as i32 { title.as_str() } else { body.as_str() };
            for entity in &analysis.entities {
                for mention in &entity.mentions {
                    let span = mention.span.as_ref().unwrap();
                    prop_assert_eq!(slice(field(span), span, encoding), Some(mention.text.clone()));
                }
            }
            for temporal in &analysis.temporal_expressions {
                let span = temporal.span.as_ref().unwrap();
                prop_assert_eq!(slice(field(span), span, encoding), Some(temporal.text.clone()));
            }
            for quote in &analysis.quotes {
                let span = quote.span.as_ref().unwrap();
                prop_assert!(slice(field(span), span, encoding).is_some(), "quote span {:?}", span);
            }
            for event in &analysis.events {
                for span in [event.span.as_ref().unwrap(), event.trigger_span.as_ref().unwrap()] {
                    prop_assert!(slice(field(span), span, encoding).is_some(), "event span {:?}", span);
                }
            }
        }
    }
}
