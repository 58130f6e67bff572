//! Running the engine on a validated article and rendering the result as proto.
//!
//! One path for every caller: Ingest stores what [`run`] returns, Analyze of a stored article
//! sends that stored result (no re-run), inline Analyze and the CLI run and render at once.

use std::time::{Instant, SystemTime};

use crate::{
    article::ValidArticle,
    convert::{reencode_event_spans, reencode_spans, timestamp, ArticleOffsets, ProtoConverter},
    engine::{Engine, ENGINE_VERSION},
    proto::v1 as pb,
    store::AnalyzedArticle,
};

/// The encoding of spans in the event log and in `StreamEvents`.
pub const LOG_ENCODING: pb::EncodingType = pb::EncodingType::Utf32;

/// Analyses an article. CPU-bound: call it from a blocking thread, not from async code.
pub fn run(engine: &Engine, article: ValidArticle) -> AnalyzedArticle {
    let analyzed_at = SystemTime::now();
    let started = Instant::now();
    let result = engine.analyze(&article.document());
    let processing_time = started.elapsed();
    let mut analysis = ProtoConverter.analysis(&result);
    analysis.article_id = article.id.to_string();
    analysis.engine_version = ENGINE_VERSION.to_string();
    analysis.analyzed_at = Some(timestamp(analyzed_at));
    analysis.processing_time = Some(pbjson_types::Duration {
        seconds: i64::try_from(processing_time.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(processing_time.subsec_nanos()).unwrap_or(0),
    });
    let log_offsets =
        ArticleOffsets::new(&article.article.title, &article.article.body, LOG_ENCODING);
    let events = analysis
        .events
        .iter()
        .cloned()
        .map(|mut event| {
            reencode_event_spans(&mut event, &log_offsets);
            event
        })
        .collect();
    AnalyzedArticle {
        article,
        analysis,
        events,
    }
}

/// Analyses an article that is not stored (inline Analyze, the CLI), spans in `encoding`.
pub fn analyze_inline(
    engine: &Engine,
    article: ValidArticle,
    encoding: pb::EncodingType,
) -> pb::Analysis {
    let AnalyzedArticle {
        article,
        mut analysis,
        ..
    } = run(engine, article);
    let offsets = ArticleOffsets::new(&article.article.title, &article.article.body, encoding);
    reencode_spans(&mut analysis, &offsets);
    analysis
}
