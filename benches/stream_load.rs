//! Ingest and StreamEvents throughput per store, and the memory an idle subscriber costs.
//!
//! ```sh
//! cargo bench --bench stream_load                       # all stores, seed copies
//! STORES=memory ARTICLES=2000 CORPUS=DIR cargo bench --bench stream_load
//! ```
//!
//! For each store (memory, durable in a temp dir, NATS JetStream on a fresh `nats-server -js`)
//! it starts the release server as its own process, ingests ARTICLES articles in batches of 100
//! (text files from CORPUS, e.g. the BBC News corpus, or copies of the seed article), then
//! replays the whole log to 1 and to 100 concurrent subscribers (from EARLIEST until the
//! caught-up marker), and finally opens 1,000 idle live subscribers and reads the server's
//! resident memory before and after.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use newsanalysis::{
    article::read_article_file,
    proto::v1::{
        self as pb, article_analysis_service_client::ArticleAnalysisServiceClient,
        stream_events_request::Start, stream_events_response::Payload,
    },
};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

type Client = ArticleAnalysisServiceClient<Channel>;

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a child and returns the first stderr line part after `marker`.
fn spawn_and_find(mut command: Command, marker: &str) -> (Process, String) {
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .expect("process starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let found = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split(marker).nth(1).map(|s| s.trim().to_string()))
        .expect("the process logs what we wait for");
    std::thread::spawn(move || lines.for_each(drop));
    (Process(child), found)
}

fn articles(count: usize) -> Vec<pb::Article> {
    let paths: Vec<PathBuf> = match std::env::var("CORPUS") {
        Ok(dir) => {
            let mut paths: Vec<PathBuf> = walk(Path::new(&dir));
            paths.sort();
            paths
        }
        Err(_) => vec![PathBuf::from("seeds/000_be13e59bd146fa3f.txt")],
    };
    // Files that are not valid UTF-8 (a few in the BBC corpus) are skipped.
    let sources: Vec<pb::Article> = paths
        .iter()
        .filter_map(|p| read_article_file(p).ok())
        .collect();
    assert!(!sources.is_empty(), "no readable articles");
    (0..count)
        .map(|i| pb::Article {
            id: format!("bench-{i}"),
            ..sources[i % sources.len()].clone()
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("corpus directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "txt") {
            out.push(path);
        }
    }
    out
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn replay(client: &mut Client) -> u64 {
    let mut stream = client
        .stream_events(pb::StreamEventsRequest {
            start: Some(Start::Position(pb::StartPosition::Earliest as i32)),
            ..Default::default()
        })
        .await
        .expect("stream opens")
        .into_inner();
    let mut events = 0;
    while let Some(message) = stream.next().await {
        match message.expect("no stream error").payload {
            Some(Payload::Event(_)) => events += 1,
            Some(Payload::CaughtUp(_)) => return events,
            _ => {}
        }
    }
    events
}

async fn bench_store(name: &str, binary: &Path, count: usize) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut nats = None;
    let mut command = Command::new(binary);
    command.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--max-subscriber-lag",
        "100000000",
    ]);
    match name {
        "durable" => {
            command.arg("--data-dir").arg(data_dir.path());
        }
        "nats" => {
            let server = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
            let mut nats_command = Command::new(server);
            nats_command
                .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
                .arg(data_dir.path().join("nats"));
            let (process, addr) =
                spawn_and_find(nats_command, "Listening for client connections on ");
            command.args(["--nats", &format!("nats://{addr}")]);
            nats = Some(process);
        }
        _ => {}
    }
    command.env("RUST_LOG", "info");
    let (server, addr) = spawn_and_find(command, "addr=");
    let pid = server.0.id();
    let mut client = Client::connect(format!("http://{addr}"))
        .await
        .expect("connects");

    let articles = articles(count);
    let started = Instant::now();
    let mut events = 0u64;
    for batch in articles.chunks(100) {
        let results = client
            .ingest(pb::IngestRequest {
                articles: batch.to_vec(),
            })
            .await
            .expect("ingest")
            .into_inner()
            .results;
        events += results
            .iter()
            .map(|r| u64::from(r.event_count))
            .sum::<u64>();
    }
    let ingest_time = started.elapsed();
    println!(
        "{name:8} ingest          {count} articles, {events} events in {:.2} s: {:.0} articles/s, {:.0} events/s",
        ingest_time.as_secs_f64(),
        count as f64 / ingest_time.as_secs_f64(),
        events as f64 / ingest_time.as_secs_f64()
    );

    for subscribers in [1usize, 100] {
        let started = Instant::now();
        let tasks: Vec<_> = (0..subscribers)
            .map(|_| {
                let mut client = client.clone();
                tokio::spawn(async move { replay(&mut client).await })
            })
            .collect();
        let mut delivered = 0;
        for task in tasks {
            let got = task.await.expect("subscriber task");
            assert_eq!(got, events, "every subscriber gets every event");
            delivered += got;
        }
        let elapsed = started.elapsed();
        println!(
            "{name:8} replay x{subscribers:<3}     {delivered} events delivered in {:.2} s: {:.0} events/s",
            elapsed.as_secs_f64(),
            delivered as f64 / elapsed.as_secs_f64()
        );
    }

    let before = rss_kib(pid);
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let stream = client
            .stream_events(pb::StreamEventsRequest::default())
            .await
            .expect("idle stream opens")
            .into_inner();
        idle.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    println!(
        "{name:8} idle subscribers 1000 open: server RSS {before} KiB -> {after} KiB, {:.1} KiB per subscriber",
        after.saturating_sub(before) as f64 / 1000.0
    );
    drop(idle);
    drop(server);
    drop(nats);
}

#[tokio::main]
async fn main() {
    let status = Command::new("cargo")
        .args(["build", "--release", "--locked", "--bin", "newsanalysis"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "release build failed");
    let binary = PathBuf::from("target/release/newsanalysis");
    let count: usize = std::env::var("ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let stores = std::env::var("STORES").unwrap_or_else(|_| "memory,durable,nats".into());
    for store in stores.split(',') {
        bench_store(store.trim(), &binary, count).await;
    }
}
