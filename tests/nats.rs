//! Scale-out: two `newsanalysis serve` replicas on one NATS JetStream share one ordered log.

mod common;

use std::time::Duration;

use newsanalysis::{
    proto::v1::{
        self as pb, article_analysis_service_client::ArticleAnalysisServiceClient,
        stream_events_request::Start, stream_events_response::Payload,
    },
    startup::{Application, Settings, Storage},
};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{transport::Channel, Streaming};

type Client = ArticleAnalysisServiceClient<Channel>;

async fn replica(nats_url: &str) -> (Client, CancellationToken) {
    let app = Application::build(Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        storage: Storage::Nats(nats_url.to_string()),
        ..Settings::default()
    })
    .await
    .unwrap();
    let addr = app.local_addr();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run());
    let client = ArticleAnalysisServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    (client, shutdown)
}

fn article(id: &str, body: &str) -> pb::Article {
    pb::Article {
        id: id.into(),
        body: body.into(),
        ..Default::default()
    }
}

async fn ingest(client: &mut Client, article: pb::Article) -> pb::IngestResult {
    let mut results = client
        .ingest(pb::IngestRequest {
            articles: vec![article],
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    results.remove(0)
}

async fn events(
    stream: &mut Streaming<pb::StreamEventsResponse>,
    count: usize,
) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while out.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        if let Some(Payload::Event(_)) = message.payload {
            out.push((message.sequence, message.article_id));
        }
    }
    out
}

async fn subscribe(client: &mut Client, start: Start) -> Streaming<pb::StreamEventsResponse> {
    client
        .stream_events(pb::StreamEventsRequest {
            start: Some(start),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn an_article_ingested_on_one_replica_is_streamed_by_the_other_with_the_same_sequences() {
    let nats = common::NatsServer::start();
    let (mut a, stop_a) = replica(&nats.url).await;
    let (mut b, stop_b) = replica(&nats.url).await;

    // A live subscriber on B, before anything happens.
    let mut live_on_b = subscribe(&mut b, Start::Position(pb::StartPosition::Latest as i32)).await;

    let strike = ingest(
        &mut a,
        article(
            "strike",
            "Russian forces shelled Kharkiv on Monday, Ukrainian officials said.",
        ),
    )
    .await;
    assert_eq!(strike.status, pb::IngestStatus::Created as i32);
    let n = strike.event_count as usize;
    assert!(n > 0);

    let seen_live_on_b = events(&mut live_on_b, n).await;
    assert_eq!(
        seen_live_on_b,
        (1..=n as u64)
            .map(|s| (s, "strike".to_string()))
            .collect::<Vec<_>>()
    );
    let replay_on_a = events(
        &mut subscribe(&mut a, Start::Position(pb::StartPosition::Earliest as i32)).await,
        n,
    )
    .await;
    assert_eq!(replay_on_a, seen_live_on_b, "both replicas see one log");

    // The article itself is shared: B analyses it and treats a retry as unchanged.
    let analysis = b
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::ArticleId("strike".into())),
            encoding_type: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .analysis
        .unwrap();
    assert!(analysis.entities.iter().any(|e| e.name == "Kharkiv"));
    let retry = ingest(
        &mut b,
        article(
            "strike",
            "Russian forces shelled Kharkiv on Monday, Ukrainian officials said.",
        ),
    )
    .await;
    assert_eq!(retry.status, pb::IngestStatus::Unchanged as i32);

    // And the other way round, continuing the sequence.
    let appeal = ingest(
        &mut b,
        article(
            "appeal",
            "Ukraine urged Germany on Tuesday to deliver more air defence systems.",
        ),
    )
    .await;
    let m = appeal.event_count as usize;
    assert!(m > 0);
    let mut after_on_a = subscribe(&mut a, Start::AfterSequence(n as u64)).await;
    let next_on_a = events(&mut after_on_a, m).await;
    assert_eq!(
        next_on_a,
        (n as u64 + 1..=(n + m) as u64)
            .map(|s| (s, "appeal".to_string()))
            .collect::<Vec<_>>()
    );

    stop_a.cancel();
    stop_b.cancel();
}
