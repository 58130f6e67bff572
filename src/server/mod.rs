//! The `newsanalysis.v1.ArticleAnalysisService` handlers.
//!
//! Handlers validate, then hand CPU-bound analysis to the blocking pool (rayon spreads a batch
//! over cores there) so that other RPCs and open streams stay responsive while a large batch is
//! analysed. Analyze of a stored article serves the analysis made at ingest.

mod error;
mod stream;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub use error::{ApiError, ERROR_DOMAIN};

use crate::{
    analysis,
    article::{ArticleError, ArticleId, ArticleLimits, ValidArticle},
    convert::effective_encoding,
    engine::Engine,
    proto::v1::{self as pb, article_analysis_service_server::ArticleAnalysisService},
    store::{AnalyzedArticle, MemoryStore, PutOutcome},
};

/// Limits and sizes of the service, set from the command line.
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    /// Most articles in one Ingest call.
    pub max_batch: usize,
    pub article: ArticleLimits,
    /// Events buffered per StreamEvents subscriber before the sender waits for the client.
    pub stream_buffer: usize,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            max_batch: 1000,
            article: ArticleLimits::default(),
            stream_buffer: 256,
        }
    }
}

/// The service: the engine, the store, the limits and the shutdown signal streams watch.
#[derive(Clone)]
pub struct AnalysisService {
    engine: Arc<Engine>,
    store: Arc<MemoryStore>,
    limits: ServiceLimits,
    shutdown: CancellationToken,
}

impl AnalysisService {
    pub fn new(
        engine: Arc<Engine>,
        store: Arc<MemoryStore>,
        limits: ServiceLimits,
        shutdown: CancellationToken,
    ) -> AnalysisService {
        AnalysisService {
            engine,
            store,
            limits,
            shutdown,
        }
    }

    /// Validates, analyses and stores a batch; one result per article, in order. Public so that
    /// `--seed-dir` loading goes through exactly the same path as the RPC.
    ///
    /// Articles are analysed in parallel but stored in request order, so the log order and the
    /// outcome of an id repeated within one batch (CREATED, then UPDATED or UNCHANGED) do not
    /// depend on thread timing.
    pub async fn ingest_articles(
        &self,
        articles: Vec<pb::Article>,
    ) -> Result<Vec<pb::IngestResult>, ApiError> {
        let engine = Arc::clone(&self.engine);
        let store = Arc::clone(&self.store);
        let limits = self.limits.article;
        tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let prepared: Vec<Prepared> = articles
                .into_par_iter()
                .map(|article| prepare(&engine, &store, &limits, article))
                .collect();
            prepared
                .into_iter()
                .enumerate()
                .map(|(index, prepared)| commit(&store, index, prepared))
                .collect()
        })
        .await
        .map_err(|err| ApiError::Internal(format!("ingest task failed: {err}")))
    }
}

/// One article of a batch after the parallel phase.
enum Prepared {
    Rejected {
        client_id: String,
        error: ArticleError,
    },
    /// Stored already with this exact content: a retry, no analysis needed.
    Unchanged {
        article_id: String,
        revision: u64,
    },
    Analyzed(Box<AnalyzedArticle>),
}

fn prepare(
    engine: &Engine,
    store: &MemoryStore,
    limits: &ArticleLimits,
    article: pb::Article,
) -> Prepared {
    let client_id = article.id.clone();
    match ValidArticle::parse(article, limits) {
        Err(error) => Prepared::Rejected { client_id, error },
        Ok(valid) => match store.is_unchanged(&valid) {
            Some(revision) => Prepared::Unchanged {
                article_id: valid.id.to_string(),
                revision,
            },
            None => Prepared::Analyzed(Box::new(analysis::run(engine, valid))),
        },
    }
}

fn commit(store: &MemoryStore, index: usize, prepared: Prepared) -> pb::IngestResult {
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    match prepared {
        Prepared::Rejected { client_id, error } => pb::IngestResult {
            article_id: client_id,
            status: pb::IngestStatus::Rejected as i32,
            reason: error.to_string(),
            error_reason: error.reason().to_string(),
            index,
            ..pb::IngestResult::default()
        },
        Prepared::Unchanged {
            article_id,
            revision,
        } => pb::IngestResult {
            article_id,
            status: pb::IngestStatus::Unchanged as i32,
            revision,
            index,
            ..pb::IngestResult::default()
        },
        Prepared::Analyzed(analyzed) => {
            let article_id = analyzed.article.id.to_string();
            let put = store.put(*analyzed);
            let status = match put.outcome {
                PutOutcome::Created => pb::IngestStatus::Created,
                PutOutcome::Updated => pb::IngestStatus::Updated,
                PutOutcome::Unchanged => pb::IngestStatus::Unchanged,
            };
            pb::IngestResult {
                article_id,
                status: status as i32,
                event_count: u32::try_from(put.events_appended).unwrap_or(u32::MAX),
                revision: put.revision,
                index,
                ..pb::IngestResult::default()
            }
        }
    }
}

#[tonic::async_trait]
impl ArticleAnalysisService for AnalysisService {
    async fn ingest(
        &self,
        request: Request<pb::IngestRequest>,
    ) -> Result<Response<pb::IngestResponse>, Status> {
        let articles = request.into_inner().articles;
        if articles.is_empty() || articles.len() > self.limits.max_batch {
            return Err(ApiError::BatchSize {
                size: articles.len(),
                limit: self.limits.max_batch,
            }
            .into());
        }
        let results = self.ingest_articles(articles).await?;
        for result in &results {
            tracing::debug!(article_id = %result.article_id, status = result.status, events = result.event_count, "ingested");
        }
        Ok(Response::new(pb::IngestResponse { results }))
    }

    async fn analyze(
        &self,
        request: Request<pb::AnalyzeRequest>,
    ) -> Result<Response<pb::AnalyzeResponse>, Status> {
        let request = request.into_inner();
        let encoding = effective_encoding(request.encoding_type);
        let response = match request.target {
            Some(pb::analyze_request::Target::ArticleId(id)) => {
                let stored = ArticleId::parse(&id)
                    .ok()
                    .and_then(|id| self.store.get(&id))
                    .ok_or(ApiError::ArticleNotFound(id))?;
                pb::AnalyzeResponse::pre_encoded(analysis::encoded_stored(&stored, encoding))
            }
            Some(pb::analyze_request::Target::Article(article)) => {
                let valid =
                    ValidArticle::parse(article, &self.limits.article).map_err(ApiError::from)?;
                let engine = Arc::clone(&self.engine);
                let analysis = tokio::task::spawn_blocking(move || {
                    analysis::analyze_inline(&engine, valid, encoding)
                })
                .await
                .map_err(|err| ApiError::Internal(format!("analysis task failed: {err}")))?;
                pb::AnalyzeResponse::new(analysis)
            }
            None => return Err(ApiError::MissingTarget.into()),
        };
        Ok(Response::new(response))
    }

    type StreamEventsStream = stream::EventStream;

    async fn stream_events(
        &self,
        request: Request<pb::StreamEventsRequest>,
    ) -> Result<Response<Self::StreamEventsStream>, Status> {
        let start = stream::start_after(&self.store, request.into_inner().start)?;
        Ok(Response::new(stream::follow_log(
            Arc::clone(&self.store),
            start,
            self.limits.stream_buffer,
            self.shutdown.clone(),
        )))
    }
}
