//! Running the engine on a validated article and rendering the result as proto.
//!
//! One path for every caller: Ingest stores what [`run`] returns, Analyze of a stored article
//! sends that stored result, encoded once (no re-run), inline Analyze and the CLI run and render at once.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use prost::Message;

use crate::{
    article::ValidArticle,
    convert::{AnalysisMeta, ProtoConverter},
    engine::{Engine, ENGINE_VERSION},
    proto::v1 as pb,
    store::{AnalyzedArticle, StoredArticle},
};

/// The encoding of spans in the event log and in `StreamEvents`.
pub const LOG_ENCODING: pb::EncodingType = pb::EncodingType::Utf32;

/// Analyses an article. CPU-bound: call it from a blocking thread, not from async code.
pub fn run(engine: &Engine, article: ValidArticle) -> AnalyzedArticle {
    let analyzed_at = SystemTime::now();
    let started = Instant::now();
    let analysis = engine.analyze(&article.document());
    let processing_time = started.elapsed();
    let converter =
        ProtoConverter::new(&article.article.title, &article.article.body, LOG_ENCODING);
    let events = analysis.events.iter().map(|e| converter.event(e)).collect();
    AnalyzedArticle {
        article,
        analysis: analysis.into(),
        engine_version: ENGINE_VERSION.to_string(),
        analyzed_at,
        processing_time,
        events,
    }
}

/// The encoded proto analysis of a stored article, spans in `encoding`; made once per encoding.
pub fn encoded_stored(stored: &StoredArticle, encoding: pb::EncodingType) -> Bytes {
    stored.encoded(encoding, || {
        let meta = AnalysisMeta {
            article_id: stored.article.id.clone(),
            article_revision: stored.revision,
            engine_version: stored.engine_version.clone(),
            analyzed_at: stored.analyzed_at,
            processing_time: stored.processing_time,
        };
        ProtoConverter::new(&stored.article.title, &stored.article.body, encoding)
            .analysis(&stored.analysis, &meta)
            .encode_to_vec()
            .into()
    })
}

/// Analyses an article that is not stored (inline Analyze, the CLI), spans in `encoding`.
pub fn analyze_inline(
    engine: &Engine,
    article: ValidArticle,
    encoding: pb::EncodingType,
) -> pb::Analysis {
    let analyzed = run(engine, article);
    let meta = AnalysisMeta {
        article_id: analyzed.article.id.to_string(),
        article_revision: 0,
        engine_version: analyzed.engine_version,
        analyzed_at: analyzed.analyzed_at,
        processing_time: analyzed.processing_time,
    };
    let pb_article = &analyzed.article.article;
    ProtoConverter::new(&pb_article.title, &pb_article.body, encoding)
        .analysis(&analyzed.analysis, &meta)
}
