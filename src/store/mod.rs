//! Stored articles and the event log.
//!
//! Articles are kept with the analysis made at ingest, so `Analyze` of a stored article is a
//! lookup, not a re-run. Every CREATED or UPDATED article appends its events to one log; each
//! entry gets the next sequence number, which is what `StreamEvents` clients resume from.
//!
//! Subscribers do not get their own copy of each event: they read the shared log at their own
//! pace and wait on a `watch` channel that carries the last sequence. A slow subscriber therefore
//! never blocks ingestion or other subscribers, and never misses an entry.
//!
//! This is the in-memory store; nothing survives a restart.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use tokio::sync::watch;

use crate::{
    article::{ArticleId, ValidArticle},
    engine,
    proto::v1 as pb,
};

/// An article as stored, with the analysis of its current revision.
#[derive(Debug)]
pub struct StoredArticle {
    pub article: pb::Article,
    pub content_hash: [u8; 32],
    /// 1 for the first version, +1 per update.
    pub revision: u64,
    pub analysis: Arc<engine::Analysis>,
    pub engine_version: String,
    pub analyzed_at: SystemTime,
    pub processing_time: Duration,
    /// The encoded proto `Analysis` per offset encoding, made on first request: Analyze of a
    /// stored article then sends these bytes as they are.
    encoded: [OnceLock<Bytes>; 3],
}

impl StoredArticle {
    /// The cached encoding of this article's analysis with spans in `encoding`; `encode` makes
    /// it the first time.
    pub fn encoded(&self, encoding: pb::EncodingType, encode: impl FnOnce() -> Bytes) -> Bytes {
        let slot = match encoding {
            pb::EncodingType::Utf8 => 0,
            pb::EncodingType::Utf16 => 1,
            pb::EncodingType::Utf32 | pb::EncodingType::Unspecified => 2,
        };
        self.encoded[slot].get_or_init(encode).clone()
    }
}

/// One event in the log.
#[derive(Debug)]
pub struct LogEntry {
    pub sequence: u64,
    pub article_id: String,
    pub article_revision: u64,
    pub appended_at: SystemTime,
    /// Spans in code points (the stream's documented encoding).
    pub event: pb::Event,
}

/// What storing an article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, Copy)]
pub struct PutResult {
    pub outcome: PutOutcome,
    pub revision: u64,
    /// Events appended to the log (0 when unchanged).
    pub events_appended: usize,
}

/// A freshly analysed article, ready to be stored.
pub struct AnalyzedArticle {
    pub article: ValidArticle,
    pub analysis: Arc<engine::Analysis>,
    pub engine_version: String,
    pub analyzed_at: SystemTime,
    pub processing_time: Duration,
    /// The analysis' events converted for the log.
    pub events: Vec<pb::Event>,
}

#[derive(Default)]
struct Inner {
    articles: HashMap<ArticleId, Arc<StoredArticle>>,
    /// `log[i]` has sequence `i + 1`.
    log: Vec<Arc<LogEntry>>,
}

/// The in-memory store.
pub struct MemoryStore {
    inner: RwLock<Inner>,
    last_sequence: watch::Sender<u64>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore {
            inner: RwLock::new(Inner::default()),
            last_sequence: watch::Sender::new(0),
        }
    }

    pub fn get(&self, id: &ArticleId) -> Option<Arc<StoredArticle>> {
        self.read().articles.get(id).cloned()
    }

    /// True when the store already holds exactly this content under this id, so the caller can
    /// skip the analysis.
    pub fn is_unchanged(&self, article: &ValidArticle) -> Option<u64> {
        self.read()
            .articles
            .get(&article.id)
            .filter(|stored| stored.content_hash == article.content_hash)
            .map(|stored| stored.revision)
    }

    /// Stores an analysed article and appends its events, atomically: a subscriber sees either
    /// none or all of an article's events. Content equal to the stored revision changes nothing,
    /// which makes retries safe even when two clients race.
    pub fn put(&self, analyzed: AnalyzedArticle) -> PutResult {
        let mut inner = self.write();
        let id = analyzed.article.id.clone();
        let previous = inner.articles.get(&id).cloned();
        if let Some(previous) = &previous {
            if previous.content_hash == analyzed.article.content_hash {
                return PutResult {
                    outcome: PutOutcome::Unchanged,
                    revision: previous.revision,
                    events_appended: 0,
                };
            }
        }
        let revision = previous.as_ref().map_or(1, |p| p.revision + 1);
        let appended_at = SystemTime::now();
        let events_appended = analyzed.events.len();
        for event in analyzed.events {
            let sequence = inner.log.len() as u64 + 1;
            inner.log.push(Arc::new(LogEntry {
                sequence,
                article_id: id.as_str().to_string(),
                article_revision: revision,
                appended_at,
                event,
            }));
        }
        let last = inner.log.len() as u64;
        inner.articles.insert(
            id,
            Arc::new(StoredArticle {
                article: analyzed.article.article,
                content_hash: analyzed.article.content_hash,
                revision,
                analysis: analyzed.analysis,
                engine_version: analyzed.engine_version,
                analyzed_at: analyzed.analyzed_at,
                processing_time: analyzed.processing_time,
                encoded: Default::default(),
            }),
        );
        drop(inner);
        self.last_sequence.send_replace(last);
        PutResult {
            outcome: if previous.is_some() {
                PutOutcome::Updated
            } else {
                PutOutcome::Created
            },
            revision,
            events_appended,
        }
    }

    /// Up to `limit` log entries with a sequence greater than `after`, in order.
    pub fn read_after(&self, after: u64, limit: usize) -> Vec<Arc<LogEntry>> {
        let inner = self.read();
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(inner.log.len());
        inner.log[start..].iter().take(limit).cloned().collect()
    }

    /// The sequence of the last entry appended (0 when the log is empty).
    pub fn last_sequence(&self) -> u64 {
        *self.last_sequence.borrow()
    }

    /// The sequence just before the first entry appended at or after `since`.
    pub fn sequence_before(&self, since: SystemTime) -> u64 {
        let inner = self.read();
        inner.log.partition_point(|entry| entry.appended_at < since) as u64
    }

    /// Wakes when the log grows: the receiver carries the last sequence.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.last_sequence.subscribe()
    }

    pub fn article_count(&self) -> usize {
        self.read().articles.len()
    }

    // A panic while holding the lock cannot leave `Inner` half-updated in a way readers could
    // misread (every mutation above is a push or an insert), so a poisoned lock is still usable.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}
