//! End-to-end tests: the real server on 127.0.0.1:0, called over TCP through the generated tonic
//! client.

use std::{path::Path, time::Duration};

use newsanalysis::{
    article::read_article_file,
    proto::v1::{
        self as pb, article_analysis_service_client::ArticleAnalysisServiceClient,
        stream_events_request::Start, stream_events_response::Payload,
    },
    server::ServiceLimits,
    startup::{Application, Settings},
};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{codec::CompressionEncoding, transport::Channel, Code};
use tonic_types::StatusExt;

const SEED: &str = "seeds/000_be13e59bd146fa3f.txt";

struct TestServer {
    channel: Channel,
    client: ArticleAnalysisServiceClient<Channel>,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

impl TestServer {
    async fn start() -> TestServer {
        TestServer::start_with(Settings::default()).await
    }

    async fn start_with(mut settings: Settings) -> TestServer {
        settings.addr = "127.0.0.1:0".parse().unwrap();
        let app = Application::build(settings).await.expect("server builds");
        let addr = app.local_addr();
        let shutdown = app.shutdown_token();
        let handle = tokio::spawn(async move { app.run().await.expect("server runs") });
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("client connects");
        TestServer {
            client: ArticleAnalysisServiceClient::new(channel.clone()),
            channel,
            shutdown,
            handle,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("server stops within 10 s")
            .expect("server task ends cleanly");
    }
}

fn article(id: &str, title: &str, body: &str) -> pb::Article {
    pb::Article {
        id: id.to_string(),
        title: title.to_string(),
        body: body.to_string(),
        ..pb::Article::default()
    }
}

fn seed_article() -> pb::Article {
    read_article_file(Path::new(SEED)).expect("seed article reads")
}

fn status_of(result: &pb::IngestResult) -> pb::IngestStatus {
    pb::IngestStatus::try_from(result.status).unwrap()
}

async fn ingest(
    client: &mut ArticleAnalysisServiceClient<Channel>,
    articles: Vec<pb::Article>,
) -> Vec<pb::IngestResult> {
    client
        .ingest(pb::IngestRequest { articles })
        .await
        .expect("ingest succeeds")
        .into_inner()
        .results
}

async fn analyze_id(
    client: &mut ArticleAnalysisServiceClient<Channel>,
    id: &str,
    encoding: pb::EncodingType,
) -> pb::Analysis {
    client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::ArticleId(id.to_string())),
            encoding_type: encoding as i32,
        })
        .await
        .expect("analyze succeeds")
        .into_inner()
        .analysis
        .expect("analysis present")
}

fn is_event(message: &pb::StreamEventsResponse) -> bool {
    matches!(message.payload, Some(Payload::Event(_)))
}

/// Collects stream events (skipping checkpoints) until `count` arrived (or panics after a
/// timeout).
async fn take_events(
    client: &mut ArticleAnalysisServiceClient<Channel>,
    start: Start,
    count: usize,
) -> Vec<pb::StreamEventsResponse> {
    let mut stream = client
        .stream_events(pb::StreamEventsRequest {
            start: Some(start),
            ..Default::default()
        })
        .await
        .expect("stream opens")
        .into_inner();
    let mut out = Vec::new();
    while out.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("event arrives within 10 s");
        let message = next.expect("stream still open").expect("event, not error");
        if is_event(&message) {
            out.push(message);
        }
    }
    out
}

#[tokio::test]
async fn a_batch_with_one_bad_article_rejects_only_that_one() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let results = ingest(
        &mut client,
        vec![
            seed_article(),
            article("empty", "Headline", "   "),
            article(
                "",
                "Protest in Paris",
                "Thousands of people protested in Paris on Saturday.",
            ),
        ],
    )
    .await;
    assert_eq!(results.len(), 3);
    assert_eq!(status_of(&results[0]), pb::IngestStatus::Created);
    assert!(
        results[0].event_count > 0,
        "the seed article produces events"
    );
    assert_eq!(results[0].revision, 1);
    assert_eq!(status_of(&results[1]), pb::IngestStatus::Rejected);
    assert_eq!(results[1].error_reason, "EMPTY_BODY");
    assert!(!results[1].reason.is_empty());
    assert_eq!(results[1].index, 1);
    assert_eq!(status_of(&results[2]), pb::IngestStatus::Created);
    assert_eq!(
        results[2].article_id.len(),
        16,
        "an id is derived from the content"
    );
    server.stop().await;
}

#[tokio::test]
async fn reingest_is_idempotent_and_new_content_is_a_new_revision() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let first = ingest(&mut client, vec![seed_article()]).await;
    let events_first = first[0].event_count as usize;
    assert!(events_first > 0);

    let again = ingest(&mut client, vec![seed_article()]).await;
    assert_eq!(status_of(&again[0]), pb::IngestStatus::Unchanged);
    assert_eq!(again[0].event_count, 0);
    assert_eq!(again[0].revision, 1);

    let mut updated = seed_article();
    updated
        .body
        .push_str("\nRussia later rejected the proposal, the Kremlin said on Friday.\n");
    let update = ingest(&mut client, vec![updated]).await;
    assert_eq!(status_of(&update[0]), pb::IngestStatus::Updated);
    assert_eq!(update[0].revision, 2);
    assert!(update[0].event_count > 0);

    // The log holds revision 1's events, then revision 2's, and nothing from the retry.
    let total = events_first + update[0].event_count as usize;
    let log = take_events(
        &mut client,
        Start::Position(pb::StartPosition::Earliest as i32),
        total,
    )
    .await;
    assert!(log[..events_first].iter().all(|e| e.article_revision == 1));
    assert!(log[events_first..].iter().all(|e| e.article_revision == 2));
    let analysis = analyze_id(
        &mut client,
        &first[0].article_id,
        pb::EncodingType::Unspecified,
    )
    .await;
    assert_eq!(analysis.article_revision, 2);
    server.stop().await;
}

#[tokio::test]
async fn an_id_repeated_in_one_batch_is_stored_in_request_order() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let first = article(
        "dup",
        "",
        "Kyiv agreed to a ceasefire with Russia on Monday.",
    );
    let second = article(
        "dup",
        "",
        "Russia rejected the ceasefire proposal, the Kremlin said.",
    );
    let results = ingest(&mut client, vec![first.clone(), second, first]).await;
    let statuses: Vec<_> = results.iter().map(status_of).collect();
    assert_eq!(
        statuses,
        [
            pb::IngestStatus::Created,
            pb::IngestStatus::Updated,
            pb::IngestStatus::Updated
        ]
    );
    assert_eq!(
        results.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let stored = analyze_id(&mut client, "dup", pb::EncodingType::Utf8).await;
    assert_eq!(stored.article_revision, 3);
    server.stop().await;
}

#[tokio::test]
async fn analyze_serves_the_stored_analysis_and_inline_articles_are_not_stored() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let id = ingest(&mut client, vec![seed_article()]).await[0]
        .article_id
        .clone();
    let stored = analyze_id(&mut client, &id, pb::EncodingType::Unspecified).await;
    assert_eq!(stored.article_id, id);
    assert_eq!(
        stored.encoding_type,
        pb::EncodingType::Utf32 as i32,
        "code points by default"
    );
    let again = analyze_id(&mut client, &id, pb::EncodingType::Unspecified).await;
    assert_eq!(
        stored.analyzed_at, again.analyzed_at,
        "served from the store, not re-run"
    );

    let person = |a: &pb::Analysis, name: &str| {
        a.entities
            .iter()
            .any(|e| e.name == name && e.r#type == pb::EntityType::Person as i32)
    };
    assert!(person(&stored, "Donald Trump"));
    assert!(person(&stored, "Marco Rubio"));
    assert!(stored
        .quotes
        .iter()
        .any(|q| q.speaker.as_ref().is_some_and(|s| s.name == "Donald Trump")));

    let inline = client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::Article(article(
                "inline-1",
                "",
                "Chancellor Olaf Scholz met French President Emmanuel Macron in Berlin on Monday.",
            ))),
            encoding_type: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .analysis
        .unwrap();
    assert!(person(&inline, "Emmanuel Macron"));
    let missing = client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::ArticleId("inline-1".into())),
            encoding_type: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn errors_carry_codes_and_error_info() {
    let settings = Settings {
        limits: ServiceLimits {
            max_batch: 2,
            ..ServiceLimits::default()
        },
        ..Settings::default()
    };
    let server = TestServer::start_with(settings).await;
    let mut client = server.client.clone();

    let not_found = client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::ArticleId("nope".into())),
            encoding_type: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(not_found.code(), Code::NotFound);
    let info = not_found
        .get_details_error_info()
        .expect("ErrorInfo detail");
    assert_eq!(info.reason, "ARTICLE_NOT_FOUND");
    assert_eq!(info.domain, "newsanalysis.v1");

    let too_many = client
        .ingest(pb::IngestRequest {
            articles: vec![
                article("a", "", "x"),
                article("b", "", "y"),
                article("c", "", "z"),
            ],
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
    let info = too_many.get_details_error_info().unwrap();
    assert_eq!(info.reason, "BATCH_SIZE");
    assert_eq!(info.metadata.get("limit").map(String::as_str), Some("2"));

    let empty = client
        .ingest(pb::IngestRequest { articles: vec![] })
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);

    let bad_inline = client
        .analyze(pb::AnalyzeRequest {
            target: Some(pb::analyze_request::Target::Article(article("a", "t", ""))),
            encoding_type: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_inline.code(), Code::InvalidArgument);
    assert_eq!(
        bad_inline.get_details_error_info().unwrap().reason,
        "EMPTY_BODY"
    );
    let violations = bad_inline
        .get_details_bad_request()
        .unwrap()
        .field_violations;
    assert_eq!(violations[0].field, "article.body");

    let no_target = client
        .analyze(pb::AnalyzeRequest {
            target: None,
            encoding_type: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(no_target.code(), Code::InvalidArgument);

    let ahead = client
        .stream_events(pb::StreamEventsRequest {
            start: Some(Start::AfterSequence(1_000)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(ahead.code(), Code::OutOfRange);
    server.stop().await;
}

/// Slices `text` by a span counted in `encoding`.
fn slice(text: &str, span: &pb::TextSpan, encoding: pb::EncodingType) -> String {
    let (start, end) = (span.start as usize, span.end as usize);
    match encoding {
        pb::EncodingType::Utf8 => text
            .get(start..end)
            .expect("UTF-8 span on char boundaries")
            .to_string(),
        pb::EncodingType::Utf16 => {
            let units: Vec<u16> = text.encode_utf16().collect();
            String::from_utf16(&units[start..end]).expect("UTF-16 span on char boundaries")
        }
        _ => text.chars().skip(start).take(end - start).collect(),
    }
}

#[tokio::test]
async fn offsets_point_at_the_mention_text_in_every_encoding() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let title = "🇺🇦 Zelensky’s envoy: “Kyiv is ready” 👍🏽";
    let body = "Ukraine’s President Volodymyr Zelensky — in Kyiv — said “we are ready” 🙏. \
        Ångström-born analysts in Zürich doubted it, according to Reuters.\n\
        French President Emmanuel Macron met Zelensky in Paris on March 11.";
    ingest(&mut client, vec![article("unicode", title, body)]).await;
    for encoding in [
        pb::EncodingType::Utf8,
        pb::EncodingType::Utf16,
        pb::EncodingType::Utf32,
    ] {
        let analysis = analyze_id(&mut client, "unicode", encoding).await;
        assert_eq!(analysis.encoding_type, encoding as i32);
        let field_text = |span: &pb::TextSpan| {
            if span.field == pb::TextField::Title as i32 {
                title
            } else {
                assert_eq!(span.field, pb::TextField::Body as i32);
                body
            }
        };
        let mut checked = 0;
        for entity in &analysis.entities {
            for mention in &entity.mentions {
                let span = mention.span.as_ref().unwrap();
                assert_eq!(
                    slice(field_text(span), span, encoding),
                    mention.text,
                    "{encoding:?}"
                );
                checked += 1;
            }
        }
        for quote in &analysis.quotes {
            let span = quote.span.as_ref().unwrap();
            assert!(
                slice(field_text(span), span, encoding).contains(quote.text.trim()),
                "{encoding:?}"
            );
        }
        assert!(
            checked >= 4,
            "mentions found in the non-ASCII text: {checked}"
        );
        assert!(analysis
            .entities
            .iter()
            .any(|e| e.name == "Emmanuel Macron"));
    }
    server.stop().await;
}

#[tokio::test]
async fn stream_replays_from_the_start_or_after_a_sequence_then_follows_live() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let seeded = ingest(&mut client, vec![seed_article()]).await[0].event_count as usize;
    assert!(seeded >= 3, "the seed yields several events");

    let all = take_events(
        &mut client,
        Start::Position(pb::StartPosition::Earliest as i32),
        seeded,
    )
    .await;
    let sequences: Vec<u64> = all.iter().map(|e| e.sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[1] > w[0]),
        "strictly increasing"
    );
    assert!(all.iter().all(|e| e.article_id == "000_be13e59bd146fa3f"));

    // Resuming after the second event gets exactly the rest.
    let rest = take_events(&mut client, Start::AfterSequence(sequences[1]), seeded - 2).await;
    assert_eq!(
        rest.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        sequences[2..].to_vec()
    );

    // A live subscriber sees only what is ingested after it subscribed, in order.
    let mut live_client = client.clone();
    let live = tokio::spawn(async move {
        take_events(
            &mut live_client,
            Start::Position(pb::StartPosition::Latest as i32),
            1,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut news = seed_article();
    news.id = "second".into();
    let added = ingest(&mut client, vec![news]).await;
    assert!(added[0].event_count > 0);
    let live = live.await.unwrap();
    assert_eq!(live[0].article_id, "second");
    assert_eq!(live[0].sequence, *sequences.last().unwrap() + 1);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_with_unavailable() {
    let server = TestServer::start().await;
    let mut client = server.client.clone();
    let mut stream = client
        .stream_events(pb::StreamEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    server.shutdown.cancel();
    let status = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("stream ends promptly");
        match next.expect("a final status") {
            Ok(message) => assert!(!is_event(&message), "no events were ingested"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable);
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "SHUTTING_DOWN");
    assert_eq!(
        info.metadata
            .get("resume_after_sequence")
            .map(String::as_str),
        Some("0")
    );
    tokio::time::timeout(Duration::from_secs(10), server.handle)
        .await
        .expect("server stops")
        .unwrap();
}

#[tokio::test]
async fn compressed_requests_and_responses_work() {
    let server = TestServer::start().await;
    for encoding in [CompressionEncoding::Gzip, CompressionEncoding::Zstd] {
        let mut client = server
            .client
            .clone()
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let results = ingest(&mut client, vec![seed_article()]).await;
        assert_ne!(status_of(&results[0]), pb::IngestStatus::Rejected);
        let analysis =
            analyze_id(&mut client, &results[0].article_id, pb::EncodingType::Utf8).await;
        assert!(!analysis.entities.is_empty());
    }
    server.stop().await;
}

#[tokio::test]
async fn health_reports_serving() {
    let server = TestServer::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel.clone());
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "newsanalysis.v1.ArticleAnalysisService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    server.stop().await;
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_both_list_the_service() {
    use tonic_reflection::pb::{v1, v1alpha};
    let server = TestServer::start().await;

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(server.channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.next().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        reply.message_response
    else {
        panic!("expected a service list, got {reply:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"newsanalysis.v1.ArticleAnalysisService".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "newsanalysis.v1.ArticleAnalysisService".into(),
            ),
        ),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.next().await.unwrap().unwrap();
    assert!(
        matches!(
            reply.message_response,
            Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
        ),
        "{reply:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn messages_over_the_configured_size_are_refused() {
    let settings = Settings {
        max_message_bytes: 4 * 1024,
        ..Settings::default()
    };
    let server = TestServer::start_with(settings).await;
    let mut client = server.client.clone();
    let big = article("big", "", &"Kyiv agreed to talks. ".repeat(500));
    let err = client
        .ingest(pb::IngestRequest {
            articles: vec![big],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    // The server is still fine for requests within the limit.
    let ok = ingest(
        &mut client,
        vec![article("small", "", "Kyiv agreed to talks.")],
    )
    .await;
    assert_eq!(status_of(&ok[0]), pb::IngestStatus::Created);
    server.stop().await;
}
