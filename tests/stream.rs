//! StreamEvents as a pipeline uses it: filters, resuming with a cursor, retention, slow
//! consumers, heartbeats. The real server on port 0, the generated tonic client.

use std::time::Duration;

use newsanalysis::{
    proto::v1::{
        self as pb, article_analysis_service_client::ArticleAnalysisServiceClient,
        stream_events_request::Start, stream_events_response::Payload,
    },
    server::{ServiceLimits, StreamLimits},
    startup::{Application, Settings, Storage},
    store::Retention,
};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{transport::Channel, Code, Status, Streaming};
use tonic_types::StatusExt;

type Client = ArticleAnalysisServiceClient<Channel>;

mod common;

/// Runs a test against each store: in memory, durable, NATS JetStream.
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::$test(Storage::Memory).await
            }

            #[tokio::test]
            async fn durable() {
                let dir = tempfile::tempdir().unwrap();
                super::$test(Storage::Durable(dir.path().to_path_buf())).await
            }

            #[tokio::test]
            async fn nats() {
                let nats = common::NatsServer::start();
                super::$test(Storage::Nats(nats.url.clone())).await
            }
        }
    )*};
}

on_every_store!(
    since_a_time_replays_exactly_what_was_appended_after_it,
    two_subscribers_with_different_filters_get_only_their_events,
    a_client_that_resumes_with_its_cursor_gets_exactly_what_it_missed,
    a_cursor_older_than_retention_is_out_of_range_never_a_silent_skip,
    a_slow_consumer_is_cut_with_a_resumable_error_while_a_fast_one_continues,
    heartbeats_advance_the_cursor_of_a_filtered_quiet_stream
);

async fn start(settings: Settings) -> (Client, CancellationToken) {
    let (client, shutdown, _) = start_at(settings).await;
    (client, shutdown)
}

async fn start_at(settings: Settings) -> (Client, CancellationToken, std::net::SocketAddr) {
    let settings = Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..settings
    };
    let app = Application::build(settings).await.unwrap();
    let addr = app.local_addr();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run());
    let client = ArticleAnalysisServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    (client, shutdown, addr)
}

/// Short articles whose events are easy to tell apart: a Russian strike, a Ukrainian appeal,
/// an American-French meeting.
fn articles(tag: &str) -> Vec<pb::Article> {
    let article = |id: &str, body: &str| pb::Article {
        id: format!("{id}-{tag}"),
        body: body.to_string(),
        ..Default::default()
    };
    vec![
        article("strike", "Russian forces shelled Kharkiv on Monday, killing three civilians, Ukrainian officials said."),
        article("appeal", "Ukraine urged Germany on Tuesday to deliver more air defence systems."),
        article("meeting", "US Secretary of State Antony Blinken met French President Emmanuel Macron in Paris on Wednesday."),
    ]
}

async fn ingest(client: &mut Client, articles: Vec<pb::Article>) -> u64 {
    let results = client
        .ingest(pb::IngestRequest { articles })
        .await
        .unwrap()
        .into_inner()
        .results;
    results.iter().map(|r| u64::from(r.event_count)).sum()
}

async fn open(
    client: &mut Client,
    request: pb::StreamEventsRequest,
) -> Streaming<pb::StreamEventsResponse> {
    client.stream_events(request).await.unwrap().into_inner()
}

async fn next(
    stream: &mut Streaming<pb::StreamEventsResponse>,
) -> Result<pb::StreamEventsResponse, Status> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a message within 10 s")
        .expect("the stream is still open")
}

/// Reads until `count` events arrived; returns them and the checkpoints seen on the way.
async fn events(
    stream: &mut Streaming<pb::StreamEventsResponse>,
    count: usize,
) -> (Vec<pb::StreamEventsResponse>, Vec<pb::StreamEventsResponse>) {
    let (mut events, mut checkpoints) = (Vec::new(), Vec::new());
    while events.len() < count {
        let message = next(stream).await.expect("no error");
        match message.payload {
            Some(Payload::Event(_)) => events.push(message),
            _ => checkpoints.push(message),
        }
    }
    (events, checkpoints)
}

/// Reads events until the caught-up marker; returns the events and the marker.
async fn until_caught_up(
    stream: &mut Streaming<pb::StreamEventsResponse>,
) -> (Vec<pb::StreamEventsResponse>, pb::StreamEventsResponse) {
    let mut events = Vec::new();
    loop {
        let message = next(stream).await.expect("no error");
        match message.payload {
            Some(Payload::Event(_)) => events.push(message),
            Some(Payload::CaughtUp(_)) => return (events, message),
            _ => {}
        }
    }
}

fn earliest() -> Option<Start> {
    Some(Start::Position(pb::StartPosition::Earliest as i32))
}

fn event_of(message: &pb::StreamEventsResponse) -> &pb::Event {
    match &message.payload {
        Some(Payload::Event(event)) => event,
        other => panic!("not an event: {other:?}"),
    }
}

async fn two_subscribers_with_different_filters_get_only_their_events(storage: Storage) {
    let (mut client, shutdown) = start(Settings {
        storage,
        ..Settings::default()
    })
    .await;
    let total = ingest(&mut client, articles("a")).await;
    assert!(total >= 3, "each test article yields an event ({total})");

    let mut conflict = open(
        &mut client,
        pb::StreamEventsRequest {
            start: earliest(),
            filter: Some(pb::EventFilter {
                quad_classes: vec![pb::QuadClass::MaterialConflict as i32],
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let mut american = open(
        &mut client,
        pb::StreamEventsRequest {
            start: earliest(),
            filter: Some(pb::EventFilter {
                actor_codes: vec!["USA".into()],
                article_ids: vec!["meeting-a".into(), "strike-a".into()],
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let (got, caught_up) = until_caught_up(&mut conflict).await;
    assert!(!got.is_empty());
    for message in &got {
        assert_eq!(message.article_id, "strike-a");
        assert_eq!(
            event_of(message).quad_class,
            pb::QuadClass::MaterialConflict as i32
        );
    }
    // The marker's cursor is the end of the log, though the filter skipped events.
    assert_eq!(caught_up.sequence, total);
    let (got, _) = until_caught_up(&mut american).await;
    assert!(!got.is_empty());
    for message in &got {
        assert_eq!(message.article_id, "meeting-a");
        let event = event_of(message);
        assert!(event
            .source
            .iter()
            .chain(&event.target)
            .any(|a| a.code.starts_with("USA")));
    }

    // Live events are filtered the same way.
    ingest(&mut client, articles("b")).await;
    let (got, _) = events(&mut conflict, 1).await;
    assert_eq!(got[0].article_id, "strike-b");
    assert_eq!(
        event_of(&got[0]).quad_class,
        pb::QuadClass::MaterialConflict as i32
    );
    shutdown.cancel();
}

async fn a_client_that_resumes_with_its_cursor_gets_exactly_what_it_missed(storage: Storage) {
    let (mut client, shutdown) = start(Settings {
        storage,
        ..Settings::default()
    })
    .await;
    let first = ingest(&mut client, articles("a")).await;
    let mut stream = open(
        &mut client,
        pb::StreamEventsRequest {
            start: earliest(),
            ..Default::default()
        },
    )
    .await;
    let (seen, _) = events(&mut stream, first as usize).await;
    let cursor = seen.last().unwrap().sequence;
    drop(stream); // the pipeline goes away...

    let missed = ingest(&mut client, articles("b")).await; // ...events arrive meanwhile...
    let mut stream = open(
        &mut client,
        pb::StreamEventsRequest {
            start: Some(Start::AfterSequence(cursor)),
            ..Default::default()
        },
    )
    .await; // ...and it resumes
    let (resumed, _) = events(&mut stream, missed as usize).await;
    let sequences: Vec<u64> = resumed.iter().map(|m| m.sequence).collect();
    assert_eq!(
        sequences,
        ((cursor + 1)..=(cursor + missed)).collect::<Vec<_>>()
    );
    assert!(resumed.iter().all(|m| m.article_id.ends_with("-b")));
    // Nothing more: the next message is the caught-up marker, not a duplicate.
    let marker = next(&mut stream).await.unwrap();
    assert!(matches!(marker.payload, Some(Payload::CaughtUp(_))));
    assert_eq!(marker.sequence, cursor + missed);
    shutdown.cancel();
}

async fn a_cursor_older_than_retention_is_out_of_range_never_a_silent_skip(storage: Storage) {
    let settings = Settings {
        retention: Retention {
            max_events: 2,
            max_bytes: usize::MAX,
        },
        storage,
        ..Settings::default()
    };
    let (mut client, shutdown) = start(settings).await;
    let total = ingest(&mut client, articles("a")).await;
    assert!(total > 2);
    let err = client
        .stream_events(pb::StreamEventsRequest {
            start: Some(Start::AfterSequence(0)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange);
    let info = err.get_details_error_info().unwrap();
    assert_eq!(info.reason, "SEQUENCE_COMPACTED");
    assert_eq!(info.metadata["oldest_sequence"], (total - 1).to_string());
    // EARLIEST means the oldest retained, which is allowed.
    let mut stream = open(
        &mut client,
        pb::StreamEventsRequest {
            start: earliest(),
            ..Default::default()
        },
    )
    .await;
    let (got, _) = events(&mut stream, 2).await;
    assert_eq!(got[0].sequence, total - 1);
    shutdown.cancel();
}

async fn a_slow_consumer_is_cut_with_a_resumable_error_while_a_fast_one_continues(
    storage: Storage,
) {
    let settings = Settings {
        limits: ServiceLimits {
            stream: StreamLimits {
                buffer: 4,
                max_lag: 50,
            },
            ..ServiceLimits::default()
        },
        storage,
        ..Settings::default()
    };
    let (mut client, shutdown, addr) = start_at(settings).await;
    // The slow consumer has its own connection with a small HTTP/2 window, so that what it does
    // not read backs up to the server instead of sitting in its client's buffers.
    let slow_channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .initial_stream_window_size(Some(16 * 1024))
        .initial_connection_window_size(Some(16 * 1024))
        .connect()
        .await
        .unwrap();
    let mut slow = ArticleAnalysisServiceClient::new(slow_channel)
        .stream_events(pb::StreamEventsRequest {
            start: earliest(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut fast = open(
        &mut client,
        pb::StreamEventsRequest {
            start: earliest(),
            ..Default::default()
        },
    )
    .await;
    let _ = next(&mut slow).await; // the caught-up marker; then it stops reading

    // Enough events to fill every buffer between the server and the slow client.
    let seed = newsanalysis::article::read_article_file(std::path::Path::new(
        "seeds/000_be13e59bd146fa3f.txt",
    ))
    .unwrap();
    let mut appended = 0;
    let mut fast_seen = Vec::new();
    for round in 0..8 {
        let batch = (0..25)
            .map(|i| pb::Article {
                id: format!("seed-{round}-{i}"),
                ..seed.clone()
            })
            .collect();
        appended += ingest(&mut client, batch).await;
        let (got, _) = events(&mut fast, appended as usize - fast_seen.len()).await;
        fast_seen.extend(got.into_iter().map(|m| m.sequence));
    }
    assert_eq!(
        fast_seen,
        (1..=appended).collect::<Vec<_>>(),
        "the fast consumer missed nothing"
    );

    // The slow one gets what was queued for it, then RESOURCE_EXHAUSTED telling where to resume.
    let mut delivered = Vec::new();
    let status = loop {
        match next(&mut slow).await {
            Ok(message) if matches!(message.payload, Some(Payload::Event(_))) => {
                delivered.push(message.sequence)
            }
            Ok(_) => {}
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "SUBSCRIBER_TOO_SLOW");
    let resume_after: u64 = info.metadata["resume_after_sequence"].parse().unwrap();
    assert_eq!(
        delivered,
        (1..=resume_after).collect::<Vec<_>>(),
        "every event up to the resume point, in order"
    );
    assert!(resume_after < appended);
    // Resuming from there gets the rest.
    let mut resumed = open(
        &mut client,
        pb::StreamEventsRequest {
            start: Some(Start::AfterSequence(resume_after)),
            ..Default::default()
        },
    )
    .await;
    let (rest, _) = events(&mut resumed, (appended - resume_after) as usize).await;
    assert_eq!(rest.first().map(|m| m.sequence), Some(resume_after + 1));
    shutdown.cancel();
}

async fn heartbeats_advance_the_cursor_of_a_filtered_quiet_stream(storage: Storage) {
    let (mut client, shutdown) = start(Settings {
        storage,
        ..Settings::default()
    })
    .await;
    let mut stream = open(
        &mut client,
        pb::StreamEventsRequest {
            start: Some(Start::Position(pb::StartPosition::Latest as i32)),
            filter: Some(pb::EventFilter {
                root_codes: vec!["20".into()], // mass violence: nothing in these articles
                ..Default::default()
            }),
            heartbeat_interval: Some(pbjson_types::Duration {
                seconds: 0,
                nanos: 200_000_000,
            }),
        },
    )
    .await;
    let marker = next(&mut stream).await.unwrap();
    assert!(matches!(marker.payload, Some(Payload::CaughtUp(_))));
    assert_eq!(marker.sequence, 0);
    let total = ingest(&mut client, articles("a")).await;
    // Within a few heartbeats the cursor reaches the end of the log, with no event sent.
    let mut cursor = 0;
    for _ in 0..20 {
        let message = next(&mut stream).await.unwrap();
        assert!(
            matches!(message.payload, Some(Payload::Heartbeat(_))),
            "{message:?}"
        );
        cursor = message.sequence;
        if cursor == total {
            break;
        }
    }
    assert_eq!(cursor, total);

    let bad = client
        .stream_events(pb::StreamEventsRequest {
            heartbeat_interval: Some(pbjson_types::Duration {
                seconds: 0,
                nanos: 1_000,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    shutdown.cancel();
}

async fn since_a_time_replays_exactly_what_was_appended_after_it(storage: Storage) {
    let (mut client, shutdown) = start(Settings {
        storage,
        ..Settings::default()
    })
    .await;
    let before = ingest(&mut client, articles("a")).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = newsanalysis::convert::timestamp(std::time::SystemTime::now());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after = ingest(&mut client, articles("b")).await;
    let mut stream = open(
        &mut client,
        pb::StreamEventsRequest {
            start: Some(Start::Since(since)),
            ..Default::default()
        },
    )
    .await;
    let (got, caught_up) = until_caught_up(&mut stream).await;
    assert_eq!(
        got.iter().map(|m| m.sequence).collect::<Vec<_>>(),
        (before + 1..=before + after).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|m| m.article_id.ends_with("-b")));
    assert_eq!(caught_up.sequence, before + after);
    shutdown.cancel();
}
