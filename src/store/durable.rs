//! The durable store (`--data-dir`): articles and the event log in one redb database, a
//! copy-on-write B-tree with crash-safe commits. Each put is one write transaction committed with
//! an fsync before Ingest answers, so after a crash (even `kill -9`) every acknowledged article
//! and event is there and sequences continue where they stopped.
//!
//! Layout: `articles` maps an article id to an `ArticleRecord`; `log` maps a sequence to the
//! encoded `StreamEventsResponse` it is streamed as; `meta` keeps when retention last dropped
//! entries. Decoded articles are cached in memory (bounded) so repeated Analyze calls keep their
//! encoded responses.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use prost::Message;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tokio::sync::watch;

use super::{
    AnalyzedArticle, ArticleRecord, LogBounds, LogEntry, PutResult, Retention, Store, StoreError,
    StoredArticle,
};
use crate::{
    article::{ArticleId, ValidArticle},
    convert::timestamp,
    proto::v1 as pb,
};

const ARTICLES: TableDefinition<&str, &[u8]> = TableDefinition::new("articles");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Nanoseconds since the epoch at which the newest entry dropped by retention was appended.
const COMPACTED_AT: &str = "compacted_at_ns";
/// The last sequence ever appended: kept apart from the log so that it survives retention.
const LAST_SEQUENCE: &str = "last_sequence";
const DATABASE_FILE: &str = "newsanalysis.redb";
/// Decoded articles kept in memory; past this the cache starts over.
const CACHE_ARTICLES: usize = 10_000;

pub struct DurableStore {
    db: Arc<Database>,
    retention: Retention,
    bounds: Mutex<LogBounds>,
    last_sequence: watch::Sender<u64>,
    cache: Mutex<HashMap<ArticleId, Arc<StoredArticle>>>,
}

fn backend(err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(err.to_string())
}

fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

fn nanos_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl DurableStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path, retention: Retention) -> Result<DurableStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| backend(format!("cannot create {}: {e}", dir.display())))?;
        let db = Database::create(dir.join(DATABASE_FILE)).map_err(backend)?;
        // Create the tables so that readers never find them missing.
        let txn = db.begin_write().map_err(backend)?;
        {
            txn.open_table(ARTICLES).map_err(backend)?;
            txn.open_table(LOG).map_err(backend)?;
            txn.open_table(META).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        let bounds = read_bounds(&db)?;
        Ok(DurableStore {
            db: Arc::new(db),
            retention,
            last_sequence: watch::Sender::new(bounds.last),
            bounds: Mutex::new(bounds),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, id: &ArticleId) -> Option<Arc<StoredArticle>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn remember(&self, id: ArticleId, article: Arc<StoredArticle>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ARTICLES {
            cache.clear();
        }
        cache.insert(id, article);
    }

    /// Runs blocking database work off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| backend(format!("database task failed: {e}")))?
    }
}

fn read_bounds(db: &Database) -> Result<LogBounds, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let log = txn.open_table(LOG).map_err(backend)?;
    let meta = txn.open_table(META).map_err(backend)?;
    let first = log.first().map_err(backend)?.map(|(k, _)| k.value());
    let last = meta
        .get(LAST_SEQUENCE)
        .map_err(backend)?
        .map_or(0, |v| v.value());
    let compacted_at = meta
        .get(COMPACTED_AT)
        .map_err(backend)?
        .map(|v| SystemTime::UNIX_EPOCH + Duration::from_nanos(v.value()));
    Ok(LogBounds {
        oldest: first.unwrap_or(last + 1),
        last,
        compacted_at,
    })
}

/// One write transaction: the article, its events, retention. Nothing is written when the
/// content is unchanged.
fn put_in(
    db: &Database,
    analyzed: AnalyzedArticle,
    retention: Retention,
) -> Result<(PutResult, Option<StoredArticle>), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    let (result, stored) = {
        let mut articles = txn.open_table(ARTICLES).map_err(backend)?;
        let mut log = txn.open_table(LOG).map_err(backend)?;
        let mut meta = txn.open_table(META).map_err(backend)?;
        let previous = articles
            .get(analyzed.article.id.as_str())
            .map_err(backend)?
            .map(|b| ArticleRecord::decode(b.value()).map_err(corrupt))
            .transpose()?;
        if let Some(previous) = &previous {
            if previous.has_content(&analyzed.article.content_hash) {
                let unchanged = PutResult::unchanged(previous.revision());
                return Ok((unchanged, None));
            }
        }
        let revision = previous.as_ref().map_or(1, |p| p.revision() + 1);
        let last = meta
            .get(LAST_SEQUENCE)
            .map_err(backend)?
            .map_or(0, |v| v.value());
        let appended_at = timestamp(SystemTime::now());
        let events_appended = analyzed.events.len();
        for (sequence, event) in (last + 1..).zip(analyzed.events) {
            let response = pb::StreamEventsResponse {
                sequence,
                article_id: analyzed.article.id.to_string(),
                payload: Some(pb::stream_events_response::Payload::Event(event)),
                appended_at: Some(appended_at),
                article_revision: revision,
            };
            log.insert(sequence, response.encode_to_vec().as_slice())
                .map_err(backend)?;
        }
        meta.insert(LAST_SEQUENCE, last + events_appended as u64)
            .map_err(backend)?;
        while log.len().map_err(backend)? > retention.max_events as u64 {
            let Some((_, bytes)) = log.pop_first().map_err(backend)? else {
                break;
            };
            let dropped = decode_entry(bytes.value())?;
            meta.insert(COMPACTED_AT, nanos_since_epoch(dropped.appended_at))
                .map_err(backend)?;
        }
        let ValidArticle {
            article,
            content_hash,
            ..
        } = analyzed.article;
        let record = ArticleRecord::new(&article, content_hash, revision, &analyzed.analysis);
        articles
            .insert(article.id.as_str(), record.encode_to_vec().as_slice())
            .map_err(backend)?;
        let result = PutResult::written(revision, events_appended);
        let stored = StoredArticle::new(article, content_hash, revision, analyzed.analysis);
        (result, Some(stored))
    };
    txn.commit().map_err(backend)?;
    Ok((result, stored))
}

fn decode_article(bytes: &[u8]) -> Result<StoredArticle, StoreError> {
    ArticleRecord::decode(bytes).map_err(corrupt)?.into_stored()
}

fn decode_entry(bytes: &[u8]) -> Result<LogEntry, StoreError> {
    let response = pb::StreamEventsResponse::decode(bytes).map_err(corrupt)?;
    let sequence = response.sequence;
    LogEntry::from_response(response, sequence)
}

#[tonic::async_trait]
impl Store for DurableStore {
    async fn get(&self, id: &ArticleId) -> Result<Option<Arc<StoredArticle>>, StoreError> {
        if let Some(article) = self.cached(id) {
            return Ok(Some(article));
        }
        let key = id.as_str().to_string();
        let stored = self
            .blocking(move |db| {
                let txn = db.begin_read().map_err(backend)?;
                let articles = txn.open_table(ARTICLES).map_err(backend)?;
                let bytes = articles.get(key.as_str()).map_err(backend)?;
                bytes.map(|b| decode_article(b.value())).transpose()
            })
            .await?
            .map(Arc::new);
        if let Some(article) = &stored {
            self.remember(id.clone(), Arc::clone(article));
        }
        Ok(stored)
    }

    async fn put(&self, analyzed: AnalyzedArticle) -> Result<PutResult, StoreError> {
        let retention = self.retention;
        let id = analyzed.article.id.clone();
        let (result, stored, bounds) = self
            .blocking(move |db| {
                let (result, stored) = put_in(db, analyzed, retention)?;
                Ok((result, stored, read_bounds(db)?))
            })
            .await?;
        if let Some(stored) = stored {
            self.remember(id, Arc::new(stored));
        }
        *self.bounds.lock().unwrap_or_else(|p| p.into_inner()) = bounds;
        self.last_sequence.send_replace(bounds.last);
        Ok(result)
    }

    async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<LogEntry>>, StoreError> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let log = txn.open_table(LOG).map_err(backend)?;
            let mut entries = Vec::new();
            for item in log
                .range(after.saturating_add(1)..)
                .map_err(backend)?
                .take(limit)
            {
                let (_, bytes) = item.map_err(backend)?;
                entries.push(Arc::new(decode_entry(bytes.value())?));
            }
            Ok(entries)
        })
        .await
    }

    fn bounds(&self) -> LogBounds {
        *self.bounds.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.last_sequence.subscribe()
    }
}
