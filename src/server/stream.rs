//! StreamEvents: replay the log from a start position, then follow it live.
//!
//! Each subscriber gets a task that walks the shared log with its own cursor and a bounded
//! channel to the client (the pattern of tokio-console's watchers): when the client reads slowly
//! the task waits on its own channel while ingestion and other subscribers go on. Replay and
//! live are the same loop, so there is no gap and no duplicate at the hand-over.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::ApiError;
use crate::{
    convert::{system_time, timestamp},
    proto::v1::{self as pb, stream_events_request::Start},
    store::{LogEntry, MemoryStore},
};

pub type EventStream = ReceiverStream<Result<pb::StreamEventsResponse, Status>>;

/// Entries read from the log per lock acquisition.
const READ_CHUNK: usize = 256;

/// How long a stream waits to deliver its UNAVAILABLE notice at shutdown.
const SHUTDOWN_NOTICE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The sequence after which the stream starts.
pub fn start_after(store: &MemoryStore, start: Option<Start>) -> Result<u64, ApiError> {
    let last = store.last_sequence();
    match start {
        None => Ok(last),
        Some(Start::Position(position)) => match pb::StartPosition::try_from(position) {
            Ok(pb::StartPosition::Earliest) => Ok(0),
            _ => Ok(last),
        },
        Some(Start::AfterSequence(after)) if after > last => Err(ApiError::SequenceAhead {
            requested: after,
            last,
        }),
        Some(Start::AfterSequence(after)) => Ok(after),
        Some(Start::Since(since)) => {
            let since = system_time(&since).ok_or(ApiError::InvalidSince)?;
            Ok(store.sequence_before(since))
        }
    }
}

/// Streams every entry after `cursor`, then waits for new ones until the client goes away or the
/// server shuts down (then the stream ends with UNAVAILABLE so the client reconnects).
pub fn follow_log(
    store: Arc<MemoryStore>,
    mut cursor: u64,
    buffer: usize,
    shutdown: CancellationToken,
) -> EventStream {
    let (tx, rx) = mpsc::channel(buffer.max(1));
    tokio::spawn(async move {
        let mut appended = store.subscribe();
        loop {
            // Mark the current sequence seen before reading, so an append that lands after the
            // read wakes `changed()` below.
            appended.borrow_and_update();
            let entries = store.read_after(cursor, READ_CHUNK);
            if entries.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tx.closed() => return,
                    changed = appended.changed() => if changed.is_err() { break },
                }
                continue;
            }
            for entry in entries {
                tokio::select! {
                    sent = tx.send(Ok(response(&entry))) => if sent.is_err() { return },
                    _ = shutdown.cancelled() => break,
                }
                cursor = entry.sequence;
            }
            if shutdown.is_cancelled() {
                break;
            }
        }
        // Bounded wait: a client that stopped reading must not hold up shutdown. Nothing is lost
        // either way; the client resumes from its cursor.
        let _ = tokio::time::timeout(
            SHUTDOWN_NOTICE_WAIT,
            tx.send(Err(ApiError::ShuttingDown.into())),
        )
        .await;
    });
    ReceiverStream::new(rx)
}

fn response(entry: &LogEntry) -> pb::StreamEventsResponse {
    pb::StreamEventsResponse {
        sequence: entry.sequence,
        article_id: entry.article_id.clone(),
        event: Some(entry.event.clone()),
        appended_at: Some(timestamp(entry.appended_at)),
        article_revision: entry.article_revision,
    }
}
