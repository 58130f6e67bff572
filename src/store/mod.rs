//! Stored articles and the event log, behind one trait with one implementation per deployment:
//! [`MemoryStore`] (the default; nothing survives a restart) and [`DurableStore`] (`--data-dir`,
//! crash-safe on one machine) and [`NatsStore`] (`--nats URL`, shared by several replicas).
//!
//! Articles are kept with the analysis made at ingest, so `Analyze` of a stored article is a
//! lookup, not a re-run. Every CREATED or UPDATED article appends its events to one log; each
//! entry gets the next sequence number, which is what `StreamEvents` clients resume from.
//!
//! Subscribers do not get their own copy of each event: they read the shared log at their own
//! pace and wait on a `watch` channel that carries the last sequence. A slow subscriber therefore
//! never blocks ingestion or other subscribers.

mod durable;
mod memory;
mod nats;

use std::{
    sync::{Arc, OnceLock},
    time::SystemTime,
};

use bytes::Bytes;
use prost::Message;
use tokio::sync::watch;

pub use durable::DurableStore;
pub use memory::{MemoryStore, Retention};
pub use nats::NatsStore;

use crate::{
    article::{ArticleId, ValidArticle},
    convert::{reencode_spans, system_time, timestamp, ArticleOffsets},
    proto::v1 as pb,
};

/// An article as stored, with the analysis of its current revision.
#[derive(Debug)]
pub struct StoredArticle {
    pub article: pb::Article,
    pub content_hash: [u8; 32],
    /// 1 for the first version, +1 per update.
    pub revision: u64,
    /// The analysis with UTF-8 offsets, `article_id` and `article_revision` set.
    pub analysis: pb::Analysis,
    /// The encoded analysis per offset encoding, made on first request: Analyze of a stored
    /// article then sends these bytes as they are.
    encoded: [OnceLock<Bytes>; 3],
}

impl StoredArticle {
    pub fn new(
        article: pb::Article,
        content_hash: [u8; 32],
        revision: u64,
        mut analysis: pb::Analysis,
    ) -> StoredArticle {
        analysis.article_id = article.id.clone();
        analysis.article_revision = revision;
        StoredArticle {
            article,
            content_hash,
            revision,
            analysis,
            encoded: Default::default(),
        }
    }

    /// The encoded proto `Analysis` with spans in `encoding`.
    pub fn encoded_analysis(&self, encoding: pb::EncodingType) -> Bytes {
        let slot = match encoding {
            pb::EncodingType::Utf8 => 0,
            pb::EncodingType::Utf16 => 1,
            pb::EncodingType::Utf32 | pb::EncodingType::Unspecified => 2,
        };
        self.encoded[slot]
            .get_or_init(|| {
                let mut analysis = self.analysis.clone();
                let offsets =
                    ArticleOffsets::new(&self.article.title, &self.article.body, encoding);
                reencode_spans(&mut analysis, &offsets);
                analysis.encode_to_vec().into()
            })
            .clone()
    }
}

/// How the durable and NATS stores keep an article: the article, its content hash and revision,
/// the analysis with UTF-8 offsets.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ArticleRecord {
    #[prost(message, optional, tag = "1")]
    article: Option<pb::Article>,
    #[prost(bytes = "vec", tag = "2")]
    content_hash: Vec<u8>,
    #[prost(uint64, tag = "3")]
    revision: u64,
    #[prost(message, optional, tag = "4")]
    analysis: Option<pb::Analysis>,
}

impl ArticleRecord {
    pub(crate) fn new(
        article: &pb::Article,
        content_hash: [u8; 32],
        revision: u64,
        analysis: &pb::Analysis,
    ) -> ArticleRecord {
        ArticleRecord {
            article: Some(article.clone()),
            content_hash: content_hash.to_vec(),
            revision,
            analysis: Some(analysis.clone()),
        }
    }

    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn has_content(&self, content_hash: &[u8; 32]) -> bool {
        self.content_hash == content_hash
    }

    pub(crate) fn into_stored(self) -> Result<StoredArticle, StoreError> {
        let content_hash: [u8; 32] = self
            .content_hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("article content hash is not 32 bytes".into()))?;
        Ok(StoredArticle::new(
            self.article.unwrap_or_default(),
            content_hash,
            self.revision,
            self.analysis.unwrap_or_default(),
        ))
    }
}

/// One event in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub sequence: u64,
    pub article_id: String,
    pub article_revision: u64,
    pub appended_at: SystemTime,
    /// Spans in code points (the stream's documented encoding).
    pub event: pb::Event,
}

impl LogEntry {
    pub fn to_response(&self) -> pb::StreamEventsResponse {
        pb::StreamEventsResponse {
            sequence: self.sequence,
            article_id: self.article_id.clone(),
            payload: Some(pb::stream_events_response::Payload::Event(
                self.event.clone(),
            )),
            appended_at: Some(timestamp(self.appended_at)),
            article_revision: self.article_revision,
        }
    }

    /// The entry a stored `StreamEventsResponse` stands for (how the durable and NATS stores keep
    /// their logs); `sequence` overrides the message's own when the backend assigns it.
    pub(crate) fn from_response(
        response: pb::StreamEventsResponse,
        sequence: u64,
    ) -> Result<LogEntry, StoreError> {
        let Some(pb::stream_events_response::Payload::Event(event)) = response.payload else {
            return Err(StoreError::Corrupt("log entry without an event".into()));
        };
        Ok(LogEntry {
            sequence,
            article_id: response.article_id,
            article_revision: response.article_revision,
            appended_at: response
                .appended_at
                .as_ref()
                .and_then(system_time)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            event,
        })
    }

    /// Approximate memory held by the entry, for byte-based retention.
    pub fn size(&self) -> usize {
        std::mem::size_of::<LogEntry>() + self.article_id.len() + self.event.encoded_len()
    }
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

impl PutResult {
    /// The stored content already was this revision: nothing written.
    pub fn unchanged(revision: u64) -> PutResult {
        PutResult {
            outcome: PutOutcome::Unchanged,
            revision,
            events_appended: 0,
        }
    }

    /// A new revision was written: the first (created) or a later one (updated).
    pub fn written(revision: u64, events_appended: usize) -> PutResult {
        PutResult {
            outcome: if revision == 1 {
                PutOutcome::Created
            } else {
                PutOutcome::Updated
            },
            revision,
            events_appended,
        }
    }
}

/// A freshly analysed article, ready to be stored.
#[derive(Debug)]
pub struct AnalyzedArticle {
    pub article: ValidArticle,
    /// UTF-8 offsets.
    pub analysis: pb::Analysis,
    /// The analysis' events with code-point offsets, for the log.
    pub events: Vec<pb::Event>,
}

/// The sequences the log holds: `oldest..=last`, empty when `oldest > last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBounds {
    /// The oldest sequence still retained (`last + 1` when the log is empty).
    pub oldest: u64,
    /// The sequence of the last entry ever appended (0 when none was).
    pub last: u64,
    /// When the newest entry dropped by retention had been appended (None: nothing dropped).
    /// A `since` at or before it may have missed events.
    pub compacted_at: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend failed: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Articles and the event log.
#[tonic::async_trait]
pub trait Store: Send + Sync + 'static {
    async fn get(&self, id: &ArticleId) -> Result<Option<Arc<StoredArticle>>, StoreError>;

    /// The stored revision when exactly this content is stored under this id, so the caller
    /// can skip the analysis.
    async fn unchanged_revision(&self, article: &ValidArticle) -> Result<Option<u64>, StoreError> {
        Ok(self
            .get(&article.id)
            .await?
            .filter(|stored| stored.content_hash == article.content_hash)
            .map(|stored| stored.revision))
    }

    /// Stores an analysed article and appends its events, atomically: a subscriber sees either
    /// none or all of an article's events. Content equal to the stored revision changes nothing,
    /// which makes retries safe even when two clients race.
    async fn put(&self, analyzed: AnalyzedArticle) -> Result<PutResult, StoreError>;

    /// Up to `limit` log entries with a sequence greater than `after`, in order (starting at the
    /// oldest retained one when `after` is older).
    async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<LogEntry>>, StoreError>;

    /// The sequence just before the first retained entry appended at or after `since`.
    ///
    /// Entries are appended in time order, so this scans from the oldest; stores that can
    /// search by time override it.
    async fn sequence_before(&self, since: SystemTime) -> Result<u64, StoreError> {
        let mut cursor = self.bounds().oldest.saturating_sub(1);
        loop {
            let entries = self.read_after(cursor, 1024).await?;
            let Some(last) = entries.last() else {
                return Ok(cursor);
            };
            if let Some(hit) = entries.iter().find(|e| e.appended_at >= since) {
                return Ok(hit.sequence - 1);
            }
            cursor = last.sequence;
        }
    }

    fn bounds(&self) -> LogBounds;

    /// Wakes when the log grows: the receiver carries the last sequence.
    fn subscribe(&self) -> watch::Receiver<u64>;
}
