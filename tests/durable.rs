//! The durable store as an operator meets it: the real binary with `--data-dir`, killed with
//! SIGKILL mid-life and started again on the same directory.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use newsanalysis::proto::v1::{
    self as pb, article_analysis_service_client::ArticleAnalysisServiceClient,
    stream_events_request::Start, stream_events_response::Payload,
};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// Starts `newsanalysis serve` on a free port and returns it with a connected client.
async fn serve(data_dir: &std::path::Path) -> (Child, ArticleAnalysisServiceClient<Channel>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsanalysis"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = child.stderr.take().unwrap();
    let addr = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.split("addr=").nth(1).map(|a| a.trim().to_string()))
            .expect("the server logs its address");
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        addr
    })
    .await
    .unwrap();
    let client = ArticleAnalysisServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    (child, client)
}

fn article(id: &str, body: &str) -> pb::Article {
    pb::Article {
        id: id.into(),
        body: body.into(),
        ..Default::default()
    }
}

async fn ingest(
    client: &mut ArticleAnalysisServiceClient<Channel>,
    articles: Vec<pb::Article>,
) -> Vec<pb::IngestResult> {
    client
        .ingest(pb::IngestRequest { articles })
        .await
        .unwrap()
        .into_inner()
        .results
}

/// Every event in the log, from the earliest, until the caught-up marker.
async fn whole_log(client: &mut ArticleAnalysisServiceClient<Channel>) -> Vec<(u64, String)> {
    let mut stream = client
        .stream_events(pb::StreamEventsRequest {
            start: Some(Start::Position(pb::StartPosition::Earliest as i32)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut log = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match message.payload {
            Some(Payload::Event(_)) => log.push((message.sequence, message.article_id)),
            Some(Payload::CaughtUp(_)) => return log,
            _ => {}
        }
    }
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_after_kill_9_and_sequences_continue() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, mut client) = serve(dir.path()).await;
    let first = ingest(
        &mut client,
        vec![
            article(
                "strike",
                "Russian forces shelled Kharkiv on Monday, Ukrainian officials said.",
            ),
            article(
                "appeal",
                "Ukraine urged Germany on Tuesday to deliver more air defence systems.",
            ),
        ],
    )
    .await;
    let appended: u64 = first.iter().map(|r| u64::from(r.event_count)).sum();
    assert!(appended >= 2);
    let before = whole_log(&mut client).await;
    assert_eq!(before.len() as u64, appended);

    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.wait().unwrap();

    let (mut server, mut client) = serve(dir.path()).await;
    assert_eq!(
        whole_log(&mut client).await,
        before,
        "the log survived, in order"
    );
    let analysis = client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::ArticleId("strike".into())),
            encoding_type: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .analysis
        .unwrap();
    assert_eq!(analysis.article_revision, 1);
    assert!(analysis.entities.iter().any(|e| e.name == "Kharkiv"));

    let retry = ingest(
        &mut client,
        vec![article(
            "strike",
            "Russian forces shelled Kharkiv on Monday, Ukrainian officials said.",
        )],
    )
    .await;
    assert_eq!(
        retry[0].status,
        pb::IngestStatus::Unchanged as i32,
        "idempotence survives restarts"
    );
    let more = ingest(
        &mut client,
        vec![article(
            "talks",
            "US envoy Steve Witkoff met Russian President Vladimir Putin in Moscow.",
        )],
    )
    .await;
    assert!(more[0].event_count > 0, "{more:?}");
    let after = whole_log(&mut client).await;
    let new_sequences: Vec<u64> = after[before.len()..].iter().map(|(s, _)| *s).collect();
    assert_eq!(
        new_sequences,
        (appended + 1..=appended + u64::from(more[0].event_count)).collect::<Vec<_>>(),
        "sequences continue after the restart"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
