//! The `newsanalysis` binary as a user runs it.

use std::process::Command;

use newsanalysis::proto::v1 as pb;

const SEED: &str = "seeds/000_be13e59bd146fa3f.txt";

fn newsanalysis(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_newsanalysis"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn analyze_prints_one_analyze_response_per_file_in_proto3_json() {
    let dir = tempfile::tempdir().unwrap();
    let json_article = dir.path().join("kyiv.json");
    std::fs::write(
        &json_article,
        r#"{"id": "kyiv-1", "title": "Talks in Kyiv", "body": "Ukrainian President Volodymyr Zelensky met Polish President Andrzej Duda in Kyiv on Monday.", "publishedAt": "2025-03-11T08:00:00Z"}"#,
    )
    .unwrap();
    let out = newsanalysis(&[
        "analyze",
        "--offsets",
        "utf8",
        SEED,
        json_article.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one JSON object per line");
    let responses: Vec<pb::AnalyzeResponse> = lines
        .iter()
        .map(|line| serde_json::from_str(line).expect("an AnalyzeResponse in proto3 JSON"))
        .collect();
    let seed = responses[0].analysis.as_ref().unwrap();
    assert_eq!(
        seed.article_id, "000_be13e59bd146fa3f",
        "the file stem names the article"
    );
    assert_eq!(seed.encoding_type, pb::EncodingType::Utf8 as i32);
    assert!(
        lines[0].contains(r#""type":"ENTITY_TYPE_PERSON""#),
        "enums by name, as grpcurl prints them"
    );
    let kyiv = responses[1].analysis.as_ref().unwrap();
    assert_eq!(kyiv.article_id, "kyiv-1");
    assert!(kyiv.entities.iter().any(|e| e.name == "Volodymyr Zelensky"));
}

#[test]
fn analyze_reports_unreadable_and_invalid_files_without_panicking() {
    let out = newsanalysis(&["analyze", "no/such/file.txt"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read no/such/file.txt"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"body": 42}"#).unwrap();
    let out = newsanalysis(&["analyze", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an Article"));

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n  \n").unwrap();
    let out = newsanalysis(&["analyze", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("article body is empty"));
}

#[test]
fn help_documents_the_commands_and_options() {
    let out = newsanalysis(&["serve", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--seed-dir",
        "--max-batch",
        "--max-message-bytes",
        "--log-format",
    ] {
        assert!(help.contains(flag), "serve --help lacks {flag}");
    }
    let out = newsanalysis(&["analyze", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--offsets") && help.contains("--pretty"));
}
