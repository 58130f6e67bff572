//! Building and running the server, the same way for `main` and for the tests.
//!
//! [`Application::build`] binds the listener (port 0 gives a free port, which the tests use),
//! loads the engine and the seed articles; [`Application::run`] serves until its shutdown token is
//! cancelled, then lets in-flight calls finish and ends open streams with UNAVAILABLE.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use tokio::net::TcpListener;
use tokio_stream::{wrappers::TcpListenerStream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::{codec::CompressionEncoding, transport::Server};

use crate::{
    article::read_article_file,
    engine::{Engine, EngineError},
    proto::{self, v1::article_analysis_service_server::ArticleAnalysisServiceServer},
    server::{AnalysisService, ServiceLimits},
    store::{DurableStore, MemoryStore, NatsStore, Retention, Store, StoreError},
};

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub limits: ServiceLimits,
    /// Largest gRPC message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// Articles ingested at start-up (`--seed-dir`).
    pub seed_dir: Option<PathBuf>,
    /// How much of the event log the store keeps.
    pub retention: Retention,
    /// Where articles and the event log live.
    pub storage: Storage,
}

/// The store behind the service.
#[derive(Debug, Clone, Default)]
pub enum Storage {
    /// In memory: nothing survives a restart.
    #[default]
    Memory,
    /// A crash-safe database in this directory (`--data-dir`).
    Durable(PathBuf),
    /// A JetStream stream and key-value bucket on this NATS server (`--nats`), shared with
    /// other replicas.
    Nats(String),
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            limits: ServiceLimits::default(),
            max_message_bytes: 64 * 1024 * 1024,
            seed_dir: None,
            retention: Retention::default(),
            storage: Storage::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot read seed directory {dir}: {source}")]
    SeedDir { dir: String, source: std::io::Error },
    #[error("seed article: {0}")]
    SeedArticle(#[from] crate::article::ArticleFileError),
    #[error("seed article {id} rejected: {reason}")]
    SeedRejected { id: String, reason: String },
    #[error("ingesting seed articles failed: {0}")]
    SeedIngest(#[from] crate::server::ApiError),
    #[error("reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("server error: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// A bound, loaded server, ready to run.
pub struct Application {
    listener: TcpListener,
    service: AnalysisService,
    settings: Settings,
    shutdown: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let engine = Arc::new(Engine::new()?);
        let store: Arc<dyn Store> = match &settings.storage {
            Storage::Memory => Arc::new(MemoryStore::new(settings.retention)),
            Storage::Durable(dir) => Arc::new(DurableStore::open(dir, settings.retention)?),
            Storage::Nats(url) => Arc::new(NatsStore::connect(url, settings.retention).await?),
        };
        let shutdown = CancellationToken::new();
        let service = AnalysisService::new(engine, store, settings.limits, shutdown.clone());
        if let Some(dir) = &settings.seed_dir {
            ingest_seed_dir(&service, dir).await?;
        }
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        Ok(Application {
            listener,
            service,
            settings,
            shutdown,
        })
    }

    /// The address actually bound (the real port when the settings asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.settings.addr)
    }

    /// Cancel it to shut the server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run(self) -> Result<(), StartupError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<ArticleAnalysisServiceServer<AnalysisService>>()
            .await;
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        let addr = self.local_addr();
        let max = self.settings.max_message_bytes;
        let analysis = ArticleAnalysisServiceServer::new(self.service)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);

        // Small unary responses should not wait for Nagle's algorithm.
        let incoming = TcpListenerStream::new(self.listener).map(|conn| {
            conn.inspect(|stream| {
                let _ = stream.set_nodelay(true);
            })
        });
        let shutdown = self.shutdown.clone();
        let stop_health = async move {
            shutdown.cancelled().await;
            health
                .set_not_serving::<ArticleAnalysisServiceServer<AnalysisService>>()
                .await;
            tracing::info!("shutting down: finishing in-flight calls");
        };
        tracing::info!(%addr, "newsanalysis listening");
        Server::builder()
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(analysis)
            .serve_with_incoming_shutdown(incoming, stop_health)
            .await?;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Ingests every regular file in `dir` (sorted by name) through the Ingest path.
async fn ingest_seed_dir(
    service: &AnalysisService,
    dir: &std::path::Path,
) -> Result<(), StartupError> {
    let dir_error = |source| StartupError::SeedDir {
        dir: dir.display().to_string(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_error)? {
        let path = entry.map_err(dir_error)?.path();
        if path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let articles = paths
        .iter()
        .map(|path| read_article_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    if articles.is_empty() {
        tracing::warn!(dir = %dir.display(), "seed directory holds no articles");
        return Ok(());
    }
    for result in service.ingest_articles(articles).await? {
        if !result.reason.is_empty() {
            return Err(StartupError::SeedRejected {
                id: result.article_id,
                reason: result.reason,
            });
        }
        tracing::info!(article_id = %result.article_id, events = result.event_count, "seed article ingested");
    }
    Ok(())
}
