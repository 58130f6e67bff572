//! The `newsanalysis.v1.ArticleAnalysisService` handlers.
//!
//! Handlers validate, then hand CPU-bound analysis to the blocking pool (rayon spreads a batch
//! over cores there) so that other RPCs and open streams stay responsive while a large batch is
//! analysed. Analyze of a stored article serves the analysis made at ingest.

mod error;
mod stream;

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub use error::{ApiError, ERROR_DOMAIN};
pub use stream::StreamLimits;

use crate::{
    analysis,
    article::{ArticleError, ArticleId, ArticleLimits, ValidArticle},
    convert::effective_encoding,
    engine::{Engine, ENGINE_VERSION},
    proto::v1::{self as pb, article_analysis_service_server::ArticleAnalysisService},
    store::{AnalyzedArticle, PutOutcome, Store, StoredArticle},
};

/// Limits and sizes of the service, set from the command line.
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    /// Most articles in one Ingest call.
    pub max_batch: usize,
    pub article: ArticleLimits,
    pub stream: StreamLimits,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            max_batch: 1000,
            article: ArticleLimits::default(),
            stream: StreamLimits::default(),
        }
    }
}

/// The service: the engine, the store, the limits and the shutdown signal streams watch.
#[derive(Clone)]
pub struct AnalysisService {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    limits: ServiceLimits,
    shutdown: CancellationToken,
}

/// One article of a batch on its way through Ingest.
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
    ToAnalyze(Box<ValidArticle>),
    Analyzed(Box<AnalyzedArticle>),
}

impl AnalysisService {
    pub fn new(
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
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
        let mut batch = Vec::with_capacity(articles.len());
        for article in articles {
            let client_id = article.id.clone();
            batch.push(match ValidArticle::parse(article, &self.limits.article) {
                Err(error) => Prepared::Rejected { client_id, error },
                Ok(valid) => match self.store.unchanged_revision(&valid).await? {
                    Some(revision) => Prepared::Unchanged {
                        article_id: valid.id.to_string(),
                        revision,
                    },
                    None => Prepared::ToAnalyze(Box::new(valid)),
                },
            });
        }
        let engine = Arc::clone(&self.engine);
        let batch = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            batch
                .into_par_iter()
                .map(|prepared| match prepared {
                    Prepared::ToAnalyze(valid) => {
                        Prepared::Analyzed(Box::new(analysis::run(&engine, *valid)))
                    }
                    other => other,
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|err| ApiError::Internal(format!("analysis task failed: {err}")))?;
        let mut results = Vec::with_capacity(batch.len());
        for (index, prepared) in batch.into_iter().enumerate() {
            results.push(self.commit(index, prepared).await?);
        }
        Ok(results)
    }

    async fn reanalyze(
        &self,
        stored: &StoredArticle,
        encoding: pb::EncodingType,
    ) -> Result<pb::AnalyzeResponse, ApiError> {
        let valid = ValidArticle::parse(stored.article.clone(), &self.limits.article)?;
        let engine = Arc::clone(&self.engine);
        let revision = stored.revision;
        let mut analysis =
            tokio::task::spawn_blocking(move || analysis::analyze_inline(&engine, valid, encoding))
                .await
                .map_err(|err| ApiError::Internal(format!("analysis task failed: {err}")))?;
        analysis.article_revision = revision;
        Ok(pb::AnalyzeResponse::new(analysis))
    }

    async fn commit(&self, index: usize, prepared: Prepared) -> Result<pb::IngestResult, ApiError> {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let result = match prepared {
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
            Prepared::ToAnalyze(_) => {
                return Err(ApiError::Internal("an article escaped analysis".into()));
            }
            Prepared::Analyzed(analyzed) => {
                let article_id = analyzed.article.id.to_string();
                let put = self.store.put(*analyzed).await?;
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
        };
        Ok(result)
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
                let stored = match ArticleId::parse(&id) {
                    Ok(article_id) => self.store.get(&article_id).await?,
                    Err(_) => None,
                };
                let stored = stored.ok_or(ApiError::ArticleNotFound(id))?;
                if stored.analysis.engine_version == ENGINE_VERSION {
                    pb::AnalyzeResponse::pre_encoded(stored.encoded_analysis(encoding))
                } else {
                    // Stored by an older engine (a durable or shared store outlives upgrades):
                    // serve a fresh analysis of the stored article. Its logged events stay as
                    // they were published.
                    self.reanalyze(&stored, encoding).await?
                }
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
        let request = request.into_inner();
        let heartbeat = heartbeat_interval(request.heartbeat_interval.as_ref())?;
        let start = stream::start_after(self.store.as_ref(), request.start).await?;
        let subscription = stream::Subscription {
            store: Arc::clone(&self.store),
            cursor: start,
            filter: stream::Filter::new(request.filter.unwrap_or_default()),
            heartbeat,
            limits: self.limits.stream,
            shutdown: self.shutdown.clone(),
        };
        Ok(Response::new(subscription.spawn()))
    }
}

const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
const MAX_HEARTBEAT: Duration = Duration::from_secs(3600);

fn heartbeat_interval(
    requested: Option<&pbjson_types::Duration>,
) -> Result<Option<Duration>, ApiError> {
    let Some(requested) = requested else {
        return Ok(None);
    };
    if requested.seconds == 0 && requested.nanos == 0 {
        return Ok(None);
    }
    let interval = u64::try_from(requested.seconds)
        .ok()
        .zip(u32::try_from(requested.nanos).ok())
        .filter(|(_, nanos)| *nanos < 1_000_000_000)
        .map(|(seconds, nanos)| Duration::new(seconds, nanos))
        .filter(|d| (MIN_HEARTBEAT..=MAX_HEARTBEAT).contains(d));
    interval.map(Some).ok_or(ApiError::InvalidHeartbeat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn an_analysis_stored_by_an_older_engine_is_made_afresh() {
        let engine = Arc::new(Engine::new().unwrap());
        let store = Arc::new(MemoryStore::default());
        let article = pb::Article {
            id: "old".into(),
            body: "Ukraine urged Germany on Tuesday to deliver more air defence systems.".into(),
            ..Default::default()
        };
        let valid = ValidArticle::parse(article, &ArticleLimits::default()).unwrap();
        let mut analyzed = analysis::run(&engine, valid);
        analyzed.analysis.engine_version = "0.0.0+old".into();
        analyzed.analysis.entities.clear();
        store.put(analyzed).await.unwrap();
        let service = AnalysisService::new(
            engine,
            store,
            ServiceLimits::default(),
            CancellationToken::new(),
        );
        let response = service
            .analyze(Request::new(pb::AnalyzeRequest {
                target: Some(pb::analyze_request::Target::ArticleId("old".into())),
                encoding_type: 0,
            }))
            .await
            .unwrap()
            .into_inner();
        let analysis = response.analysis.unwrap();
        assert_eq!(analysis.engine_version, ENGINE_VERSION);
        assert_eq!(analysis.article_revision, 1);
        assert!(analysis.entities.iter().any(|e| e.name == "Germany"));
    }
}
