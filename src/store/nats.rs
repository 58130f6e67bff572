//! The scale-out store (`--nats URL`): the event log is a JetStream stream and articles live in
//! a JetStream key-value bucket, so several `newsanalysis serve` replicas share one ordered log.
//! The log sequence *is* the JetStream stream sequence: an article ingested on replica A is
//! streamed by a client of replica B with the same sequences.
//!
//! Writes: an article's events are published first, each with a `Nats-Msg-Id` of
//! `article id : revision : index`, then the article record is written with a compare-and-set on
//! its key revision. A retry (or a second replica ingesting the same content) publishes the same
//! message ids, which JetStream's duplicate window drops, so an ingest that fails half-way can be
//! retried without double-counting. Unlike the other stores, a subscriber may see an article's
//! events before the article itself is stored, and the events of two articles ingested at once
//! on two replicas may interleave.
//!
//! Each replica learns that the log grew from a core NATS subscription on the events subject
//! (a wake-up only) and then asks the stream for its state.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, SystemTime},
};

use async_nats::{
    jetstream::{self, kv, stream},
    HeaderMap,
};
use prost::Message;
use tokio::sync::watch;
use tokio_stream::StreamExt;

use super::{
    AnalyzedArticle, ArticleRecord, LogBounds, LogEntry, PutResult, Retention, Store, StoreError,
    StoredArticle,
};
use crate::{
    article::{ArticleId, ValidArticle},
    convert::timestamp,
    proto::v1 as pb,
};

const STREAM: &str = "NEWSANALYSIS_EVENTS";
const SUBJECT: &str = "newsanalysis.events";
const BUCKET: &str = "newsanalysis_articles";
/// Retries and replica races within this window publish no duplicate events.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How often the log state is refreshed even without a wake-up.
const REFRESH_EVERY: Duration = Duration::from_secs(1);
/// Largest article record (the article and its analysis) accepted by the bucket.
const MAX_RECORD_BYTES: i32 = 8 * 1024 * 1024;

fn backend(err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(err.to_string())
}

fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

/// The replica's view of the log, kept current by [`follow_state`].
struct LogState {
    bounds: Mutex<LogBounds>,
    last_sequence: watch::Sender<u64>,
}

impl LogState {
    fn update(&self, bounds: LogBounds) {
        *self.bounds.lock().unwrap_or_else(|p| p.into_inner()) = bounds;
        self.last_sequence.send_if_modified(|last| {
            let grew = bounds.last > *last;
            *last = (*last).max(bounds.last);
            grew
        });
    }
}

pub struct NatsStore {
    jetstream: jetstream::Context,
    stream: stream::Stream,
    articles: kv::Store,
    state: Arc<LogState>,
    /// Decoded articles by id, with the bucket revision they were decoded from.
    cache: Mutex<HashMap<ArticleId, (u64, Arc<StoredArticle>)>>,
}

impl NatsStore {
    /// Connects and creates the stream and the bucket if they do not exist yet.
    pub async fn connect(url: &str, retention: Retention) -> Result<NatsStore, StoreError> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| backend(format!("cannot connect to NATS at {url}: {e}")))?;
        let jetstream = jetstream::new(client.clone());
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: STREAM.to_string(),
                subjects: vec![SUBJECT.to_string()],
                max_messages: i64::try_from(retention.max_events).unwrap_or(i64::MAX),
                // JetStream reserves max_bytes up front: "no limit" must be -1, not a huge number.
                max_bytes: i64::try_from(retention.max_bytes)
                    .ok()
                    .filter(|b| *b < i64::MAX / 2)
                    .unwrap_or(-1),
                discard: stream::DiscardPolicy::Old,
                allow_direct: true,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(backend)?;
        // The bucket's stream is made by hand, with the key-value conventions, rather than with
        // `create_key_value`: that call's response does not parse against the nats-server 2.9
        // that Debian ships.
        jetstream
            .get_or_create_stream(stream::Config {
                name: format!("KV_{BUCKET}"),
                subjects: vec![format!("$KV.{BUCKET}.>")],
                max_messages_per_subject: 1,
                max_message_size: MAX_RECORD_BYTES,
                discard: stream::DiscardPolicy::New,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                ..Default::default()
            })
            .await
            .map_err(backend)?;
        let articles = jetstream.get_key_value(BUCKET).await.map_err(backend)?;
        let bounds = read_state(&mut stream.clone()).await?;
        let state = Arc::new(LogState {
            bounds: Mutex::new(bounds),
            last_sequence: watch::Sender::new(bounds.last),
        });
        let wakeups = client.subscribe(SUBJECT).await.map_err(backend)?;
        tokio::spawn(follow_state(
            stream.clone(),
            wakeups,
            Arc::downgrade(&state),
        ));
        Ok(NatsStore {
            jetstream,
            stream,
            articles,
            state,
            cache: Mutex::new(HashMap::new()),
        })
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        self.state
            .update(read_state(&mut self.stream.clone()).await?);
        Ok(())
    }
}

/// Keys in a bucket allow only `[-/_=.a-zA-Z0-9]`; article ids allow any printable text.
fn key_of(id: &ArticleId) -> String {
    let hex: String = id.as_str().bytes().map(|b| format!("{b:02x}")).collect();
    format!("a{hex}")
}

async fn read_state(stream: &mut stream::Stream) -> Result<LogBounds, StoreError> {
    let info = stream.info().await.map_err(backend)?;
    let state = &info.state;
    let last = state.last_sequence;
    let oldest = if state.messages == 0 {
        last + 1
    } else {
        state.first_sequence
    };
    // JetStream does not say when it dropped what; anything before the oldest retained
    // message may be gone.
    let compacted_at = (oldest > 1).then(|| {
        let nanos = state.first_timestamp.unix_timestamp_nanos();
        SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    });
    Ok(LogBounds {
        oldest,
        last,
        compacted_at,
    })
}

/// Keeps the replica's view of the log current: on every wake-up (an event published by any
/// replica) and at least every [`REFRESH_EVERY`], until the store is dropped.
async fn follow_state(
    mut stream: stream::Stream,
    mut wakeups: async_nats::Subscriber,
    state: Weak<LogState>,
) {
    loop {
        if let Ok(None) = tokio::time::timeout(REFRESH_EVERY, wakeups.next()).await {
            return; // the connection is gone for good
        }
        // Drain a burst of wake-ups before asking once.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, wakeups.next()).await {}
        let Some(state) = state.upgrade() else {
            return;
        };
        if let Ok(bounds) = read_state(&mut stream).await {
            state.update(bounds);
        }
    }
}

fn decode_record(bytes: &[u8]) -> Result<StoredArticle, StoreError> {
    let record = ArticleRecord::decode(bytes).map_err(corrupt)?;
    record.into_stored()
}

#[tonic::async_trait]
impl Store for NatsStore {
    async fn get(&self, id: &ArticleId) -> Result<Option<Arc<StoredArticle>>, StoreError> {
        let Some(entry) = self.articles.entry(key_of(id)).await.map_err(backend)? else {
            return Ok(None);
        };
        if !matches!(entry.operation, kv::Operation::Put) {
            return Ok(None);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((revision, article)) = cache.get(id) {
            if *revision == entry.revision {
                return Ok(Some(Arc::clone(article)));
            }
        }
        let article = Arc::new(decode_record(&entry.value)?);
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(id.clone(), (entry.revision, Arc::clone(&article)));
        Ok(Some(article))
    }

    async fn put(&self, analyzed: AnalyzedArticle) -> Result<PutResult, StoreError> {
        let key = key_of(&analyzed.article.id);
        let previous = self.articles.entry(key.clone()).await.map_err(backend)?;
        let previous = match previous {
            Some(entry) if matches!(entry.operation, kv::Operation::Put) => Some((
                entry.revision,
                ArticleRecord::decode(entry.value.as_ref()).map_err(corrupt)?,
            )),
            _ => None,
        };
        if let Some((_, record)) = &previous {
            if record.has_content(&analyzed.article.content_hash) {
                return Ok(PutResult::unchanged(record.revision()));
            }
        }
        let revision = previous.as_ref().map_or(1, |(_, r)| r.revision() + 1);
        let appended_at = Some(timestamp(SystemTime::now()));
        let events_appended = analyzed.events.len();
        for (index, event) in analyzed.events.into_iter().enumerate() {
            let message = pb::StreamEventsResponse {
                sequence: 0, // the stream assigns it
                article_id: analyzed.article.id.to_string(),
                payload: Some(pb::stream_events_response::Payload::Event(event)),
                appended_at,
                article_revision: revision,
            };
            let mut headers = HeaderMap::new();
            headers.insert(
                "Nats-Msg-Id",
                format!("{}:{revision}:{index}", analyzed.article.id).as_str(),
            );
            self.jetstream
                .publish_with_headers(SUBJECT, headers, message.encode_to_vec().into())
                .await
                .map_err(backend)?
                .await
                .map_err(backend)?;
        }
        let ValidArticle {
            article,
            content_hash,
            ..
        } = analyzed.article;
        let record = ArticleRecord::new(&article, content_hash, revision, &analyzed.analysis);
        let bytes = record.encode_to_vec().into();
        let written = match &previous {
            Some((kv_revision, _)) => self
                .articles
                .update(&key, bytes, *kv_revision)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            None => self
                .articles
                .create(&key, bytes)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Err(conflict) = written {
            // Another replica stored this id meanwhile: same content is a retry, anything else
            // is a real conflict the client should retry.
            let id = ArticleId::parse(&article.id).map_err(corrupt)?;
            return match self.get(&id).await? {
                Some(stored) if stored.content_hash == content_hash => {
                    Ok(PutResult::unchanged(stored.revision))
                }
                _ => Err(backend(format!(
                    "article {id} was changed concurrently: {conflict}"
                ))),
            };
        }
        self.refresh().await?;
        Ok(PutResult::written(revision, events_appended))
    }

    async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<LogEntry>>, StoreError> {
        let bounds = self.bounds();
        let first = after.saturating_add(1).max(bounds.oldest);
        let mut entries = Vec::new();
        let mut sequence = first;
        while sequence <= bounds.last && entries.len() < limit {
            match self.stream.direct_get(sequence).await {
                Ok(message) => {
                    let response = pb::StreamEventsResponse::decode(message.payload.as_ref())
                        .map_err(corrupt)?;
                    entries.push(Arc::new(LogEntry::from_response(
                        response,
                        message.sequence,
                    )?));
                }
                // Dropped by retention since the bounds were read: the caller sees the gap.
                Err(err) if err.kind() == stream::DirectGetErrorKind::NotFound => {}
                Err(err) => return Err(backend(err)),
            }
            sequence += 1;
        }
        Ok(entries)
    }

    fn bounds(&self) -> LogBounds {
        *self.state.bounds.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.state.last_sequence.subscribe()
    }
}
