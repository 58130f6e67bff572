//! StreamEvents: replay the log from a start position, then follow it live.
//!
//! Each subscriber gets a task that walks the shared log with its own cursor and a bounded
//! channel to the client (the pattern of tokio-console's watchers): a slow client makes only its
//! own task wait, never ingestion or other subscribers. Replay and live are the same loop, so
//! there is no gap and no duplicate at the hand-over.
//!
//! The cursor is the latest sequence examined: every event up to it was sent or did not match
//! the filter. Heartbeats and the caught-up marker carry it, so a filtered, quiet stream still
//! advances the client's resume point. Whenever the server ends a stream (too slow, compacted,
//! shutting down), the final status carries the cursor as `resume_after_sequence`; one slot of
//! the channel is kept free for that status so it always reaches the client after the events
//! already queued.

use std::{collections::HashSet, sync::Arc, time::Duration};

use tokio::{
    sync::mpsc,
    time::{timeout, Instant},
};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::ApiError;
use crate::{
    convert::system_time,
    proto::v1::{self as pb, stream_events_request::Start, stream_events_response::Payload},
    store::{LogEntry, Store},
};

pub type EventStream = ReceiverStream<Result<pb::StreamEventsResponse, Status>>;

/// Entries read from the log at a time.
const READ_CHUNK: usize = 256;

/// How often a subscriber blocked on a full buffer re-checks its lag and the shutdown signal.
const BLOCKED_RECHECK: Duration = Duration::from_millis(50);

/// Per-subscriber limits, set from the command line.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Messages buffered for a client before the server waits for it to read.
    pub buffer: usize,
    /// A subscriber whose buffer is full and that is more than this many events behind the end
    /// of the log is ended with RESOURCE_EXHAUSTED.
    pub max_lag: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            buffer: 256,
            max_lag: 10_000,
        }
    }
}

/// The sequence after which the stream starts, checked against what the log retains.
pub async fn start_after(store: &dyn Store, start: Option<Start>) -> Result<u64, ApiError> {
    let bounds = store.bounds();
    let after = match start {
        None => bounds.last,
        Some(Start::Position(position)) => match pb::StartPosition::try_from(position) {
            Ok(pb::StartPosition::Earliest) => bounds.oldest - 1,
            _ => bounds.last,
        },
        Some(Start::AfterSequence(after)) if after > bounds.last => {
            return Err(ApiError::SequenceAhead {
                requested: after,
                last: bounds.last,
            })
        }
        Some(Start::AfterSequence(after)) => after,
        Some(Start::Since(since)) => {
            let since = system_time(&since).ok_or(ApiError::InvalidSince)?;
            if bounds
                .compacted_at
                .is_some_and(|compacted| compacted >= since)
            {
                return Err(ApiError::SequenceCompacted {
                    requested: bounds.oldest - 1,
                    oldest: bounds.oldest,
                });
            }
            store.sequence_before(since).await?
        }
    };
    if after + 1 < bounds.oldest {
        return Err(ApiError::SequenceCompacted {
            requested: after,
            oldest: bounds.oldest,
        });
    }
    Ok(after)
}

/// Which events a subscriber wants.
#[derive(Debug, Default)]
pub struct Filter {
    root_codes: HashSet<String>,
    quad_classes: HashSet<i32>,
    actor_codes: Vec<String>,
    entity_names: HashSet<String>,
    article_ids: HashSet<String>,
    min_confidence: f32,
}

impl Filter {
    pub fn new(filter: pb::EventFilter) -> Filter {
        Filter {
            root_codes: filter.root_codes.into_iter().collect(),
            quad_classes: filter.quad_classes.into_iter().collect(),
            actor_codes: filter.actor_codes,
            entity_names: filter
                .entity_names
                .iter()
                .map(|n| n.to_lowercase())
                .collect(),
            article_ids: filter.article_ids.into_iter().collect(),
            min_confidence: filter.min_confidence,
        }
    }

    fn matches(&self, entry: &LogEntry) -> bool {
        let event = &entry.event;
        let actors = || event.source.iter().chain(event.target.iter());
        (self.root_codes.is_empty() || self.root_codes.contains(&event.root_code))
            && (self.quad_classes.is_empty() || self.quad_classes.contains(&event.quad_class))
            && (self.actor_codes.is_empty()
                || actors().any(|a| {
                    self.actor_codes
                        .iter()
                        .any(|c| a.code.starts_with(c.as_str()))
                }))
            && (self.entity_names.is_empty()
                || actors()
                    .map(|a| a.name.as_str())
                    .chain(event.location.iter().map(|l| l.name.as_str()))
                    .any(|name| self.entity_names.contains(&name.to_lowercase())))
            && (self.article_ids.is_empty() || self.article_ids.contains(&entry.article_id))
            && event.confidence >= self.min_confidence
    }
}

/// One client's stream.
pub struct Subscription {
    pub store: Arc<dyn Store>,
    /// The latest sequence examined.
    pub cursor: u64,
    pub filter: Filter,
    pub heartbeat: Option<Duration>,
    pub limits: StreamLimits,
    pub shutdown: CancellationToken,
}

type Sender = mpsc::Sender<Result<pb::StreamEventsResponse, Status>>;

/// Why a subscription stopped: the client left, or the server ends it with a status.
enum Stop {
    ClientGone,
    End(ApiError),
}

impl From<ApiError> for Stop {
    fn from(err: ApiError) -> Stop {
        Stop::End(err)
    }
}

impl Subscription {
    pub fn spawn(self) -> EventStream {
        // One slot more than the buffer: the final status always fits.
        let (tx, rx) = mpsc::channel(self.limits.buffer.max(1) + 1);
        tokio::spawn(self.run(tx));
        ReceiverStream::new(rx)
    }

    async fn run(mut self, tx: Sender) {
        if let Err(Stop::End(err)) = self.follow(&tx).await {
            let _ = tx.try_send(Err(err.into()));
        }
    }

    async fn follow(&mut self, tx: &Sender) -> Result<(), Stop> {
        let mut appended = self.store.subscribe();
        let mut caught_up = false;
        let mut last_sent = Instant::now();
        loop {
            // Mark the current sequence seen before reading, so an append that lands after the
            // read wakes `changed()` below.
            appended.borrow_and_update();
            let bounds = self.store.bounds();
            if self.cursor + 1 < bounds.oldest {
                return Err(ApiError::SequenceCompacted {
                    requested: self.cursor,
                    oldest: bounds.oldest,
                }
                .into());
            }
            let entries = self
                .store
                .read_after(self.cursor, READ_CHUNK)
                .await
                .map_err(ApiError::from)?;
            if entries.is_empty() {
                if !caught_up {
                    caught_up = true;
                    let marker = Payload::CaughtUp(pb::CaughtUp {
                        last_sequence: bounds.last,
                    });
                    self.send(tx, self.checkpoint(marker)).await?;
                    last_sent = Instant::now();
                    continue;
                }
                let heartbeat_due = self.heartbeat.map(|interval| last_sent + interval);
                tokio::select! {
                    _ = self.shutdown.cancelled() => return Err(self.shutting_down()),
                    _ = tx.closed() => return Err(Stop::ClientGone),
                    changed = appended.changed() => if changed.is_err() { return Err(self.shutting_down()) },
                    _ = sleep_until(heartbeat_due) => {
                        self.send_heartbeat(tx).await?;
                        last_sent = Instant::now();
                    }
                }
                continue;
            }
            for entry in entries {
                if entry.sequence != self.cursor + 1 {
                    // Entries were dropped by retention between two reads.
                    return Err(ApiError::SequenceCompacted {
                        requested: self.cursor,
                        oldest: entry.sequence,
                    }
                    .into());
                }
                if self.filter.matches(&entry) {
                    self.send(tx, entry.to_response()).await?;
                    last_sent = Instant::now();
                } else if self
                    .heartbeat
                    .is_some_and(|interval| last_sent.elapsed() >= interval)
                {
                    // A long filtered replay still tells the client how far it got.
                    self.send_heartbeat(tx).await?;
                    last_sent = Instant::now();
                }
                self.cursor = entry.sequence;
            }
            if self.shutdown.is_cancelled() {
                return Err(self.shutting_down());
            }
        }
    }

    fn checkpoint(&self, payload: Payload) -> pb::StreamEventsResponse {
        pb::StreamEventsResponse {
            sequence: self.cursor,
            payload: Some(payload),
            ..pb::StreamEventsResponse::default()
        }
    }

    async fn send_heartbeat(&self, tx: &Sender) -> Result<(), Stop> {
        let heartbeat = Payload::Heartbeat(pb::Heartbeat {
            last_sequence: self.store.bounds().last,
        });
        self.send(tx, self.checkpoint(heartbeat)).await
    }

    fn shutting_down(&self) -> Stop {
        Stop::End(ApiError::ShuttingDown {
            resume_after: self.cursor,
        })
    }

    /// Queues a message, keeping one slot free for a final status. While the client's buffer is
    /// full, checks whether the client has fallen too far behind the log.
    async fn send(&self, tx: &Sender, message: pb::StreamEventsResponse) -> Result<(), Stop> {
        loop {
            tokio::select! {
                permits = timeout(BLOCKED_RECHECK, tx.reserve_many(2)) => match permits {
                    Ok(Ok(mut permits)) => {
                        if let Some(permit) = permits.next() {
                            permit.send(Ok(message));
                        }
                        return Ok(());
                    }
                    Ok(Err(_)) => return Err(Stop::ClientGone),
                    Err(_) => {
                        let lag = self.store.bounds().last.saturating_sub(self.cursor);
                        if lag > self.limits.max_lag {
                            return Err(ApiError::SubscriberTooSlow { resume_after: self.cursor }.into());
                        }
                    }
                },
                _ = self.shutdown.cancelled() => return Err(self.shutting_down()),
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
