//! Engine throughput on whole news articles, one core: text + NER (rules and tagger) +
//! resolution, and the full analysis (adding time, quotes, events); the share of the quote and
//! event stages; model load time; peak memory.
//!
//! ```sh
//! cargo bench --bench engine_throughput                     # CoNLL eng.testa documents as text
//! CONLL=../shared/data/conll2003/eng.train cargo bench --bench engine_throughput
//! ARTICLES=tests/gold cargo bench --bench engine_throughput  # a directory of .txt articles
//! ```
//!
//! The CoNLL documents (Reuters, 1996) are rebuilt as plain text: one line per sentence, the
//! first sentence as the title. Tokens are counted as CoNLL counts them; in ARTICLES they are
//! whitespace-separated words. A stage "adds" its own time over the rest of the analysis.

use std::time::Instant;

use newsanalysis::engine::{
    events, ner, quotes, resolve, text::TextAnalysis, time, Document, Engine,
};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Articles from a directory of news text files (title on the first line, as in the BBC
/// corpus and `tests/gold`), with whitespace-separated words as tokens.
fn read_articles(dir: &str) -> Vec<(String, String, usize)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("ARTICLES directory reads")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| {
            let (title, body) = text.split_once('\n').unwrap_or(("", text.as_str()));
            let tokens = text.split_whitespace().count();
            (title.to_string(), body.trim_start().to_string(), tokens)
        })
        .collect()
}

/// CoNLL documents rebuilt as plain text: one line per sentence, the first as the title.
fn read_conll(path: &str) -> Vec<(String, String, usize)> {
    let docs = ner::conll::read_file(std::path::Path::new(path)).expect("CoNLL file reads");
    docs.iter()
        .map(|doc| {
            let lines: Vec<String> = doc.token_lists().iter().map(|s| s.join(" ")).collect();
            let tokens = doc.token_count();
            let title = lines.first().cloned().unwrap_or_default();
            (title, lines[1.min(lines.len())..].join("\n"), tokens)
        })
        .collect()
}

fn main() {
    let (path, articles) = match std::env::var("ARTICLES") {
        Ok(dir) => (dir.clone(), read_articles(&dir)),
        Err(_) => {
            let path = std::env::var("CONLL")
                .unwrap_or_else(|_| "../shared/data/conll2003/eng.testa".into());
            let articles = read_conll(&path);
            (path, articles)
        }
    };
    let tokens: usize = articles.iter().map(|a| a.2).sum();

    let started = Instant::now();
    let engine = Engine::new().expect("engine loads");
    // The first analysis parses the lexicons the tagger shares; count it as loading.
    engine.analyze(&Document {
        title: "",
        body: "Warm-up.",
        published: None,
    });
    let load = started.elapsed();

    let data = engine.data();
    let best_of = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let entities_only = best_of(&|| {
        for (title, body, _) in &articles {
            let text = TextAnalysis::new(title, body);
            let names = engine.recognize_names(&text);
            std::hint::black_box(resolve::resolve(data, &text, &names));
        }
    });
    let full = best_of(&|| {
        for (title, body, _) in &articles {
            std::hint::black_box(engine.analyze(&Document {
                title,
                body,
                published: None,
            }));
        }
    });
    // Each stage on its own, from inputs prepared outside the timed loop.
    let prepared: Vec<_> = articles
        .iter()
        .map(|(title, body, _)| {
            let text = TextAnalysis::new(title, body);
            let names = engine.recognize_names(&text);
            let entities = resolve::resolve(data, &text, &names);
            let temporals = time::extract(&text, None);
            let (found, _) = quotes::extract(data, &text, &entities);
            (text, entities, temporals, found)
        })
        .collect();
    let quotes_only = best_of(&|| {
        for (text, entities, _, _) in &prepared {
            std::hint::black_box(quotes::extract(data, text, entities));
        }
    });
    let events_only = best_of(&|| {
        for (text, entities, temporals, found) in &prepared {
            std::hint::black_box(events::extract(
                data, text, entities, found, temporals, None,
            ));
        }
    });
    println!("{} documents, {tokens} tokens ({path})", articles.len());
    println!(
        "engine load (lexicons + NER model): {:.1} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "text + NER + resolution: {:.0} tokens/s   (best of 5, one thread)",
        tokens as f64 / entities_only
    );
    println!(
        "full analysis (+ time, quotes, events): {:.0} tokens/s; quotes and events add {:.0}%",
        tokens as f64 / full,
        (full / entities_only - 1.0) * 100.0
    );
    println!(
        "quotes add {:.0}% to the rest of the analysis ({:.0}% of it); events add {:.0}% ({:.0}% of it)",
        quotes_only / (full - quotes_only) * 100.0,
        quotes_only / full * 100.0,
        events_only / (full - events_only) * 100.0,
        events_only / full * 100.0
    );
    println!(
        "peak memory (VmHWM): {:.1} MB",
        peak_rss_kib() as f64 / 1024.0
    );
}
