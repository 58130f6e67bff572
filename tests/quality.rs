//! Quality floors on annotated articles, through the same path as `newsanalysis eval gold`.
//!
//! The seed's gold lives in ../shared/eval (CI checks the project out with ../shared beside it);
//! tests/gold holds articles the project annotated itself. A drop below these floors is a
//! regression, whatever the cause.

use std::path::PathBuf;

use newsanalysis::{
    engine::Engine,
    eval::{analyze_case, load_cases, score, Scores},
};

fn scores_of(gold_dir: &str, text_dir: &str) -> (usize, Scores) {
    let gold_dir = PathBuf::from(gold_dir);
    assert!(
        gold_dir.is_dir(),
        "{} is missing: check ../shared out beside the project",
        gold_dir.display()
    );
    let engine = Engine::new().unwrap();
    let cases = load_cases(&[gold_dir], &[PathBuf::from(text_dir)]).unwrap();
    let mut total = Scores::default();
    for case in &cases {
        let analysis = analyze_case(&engine, case).unwrap();
        total.add(&score(&case.gold, &analysis));
    }
    (cases.len(), total)
}

#[test]
fn the_seed_article_is_read_completely() {
    let (docs, s) = scores_of("../shared/eval", "seeds");
    assert!(docs >= 1);
    assert_eq!(s.entities.f1(), 1.0, "{s}");
    assert_eq!(s.quotes.tp, 11, "all 11 direct and partial quotes: {s}");
    assert_eq!(s.speaker_accuracy(), 1.0, "every speaker right: {s}");
    assert!(s.events.f1() >= 0.8, "event F1 >= 0.8: {s}");
}

#[test]
fn project_gold_articles_stay_above_their_floors() {
    let (docs, s) = scores_of("tests/gold", "tests/gold");
    assert!(docs >= 2);
    assert!(s.entities.f1() >= 0.9, "{s}");
    assert!(s.quote_speaker().f1() >= 0.9, "{s}");
    assert!(s.events.f1() >= 0.8, "{s}");
}

/// tests/dev: 19 articles annotated blind by helpers who never ran the engine, then used to
/// develop the quote and event rules; the floors sit a little under the scores they reached.
#[test]
fn development_articles_stay_above_their_floors() {
    let (docs, s) = scores_of("tests/dev", "tests/dev");
    assert!(docs >= 19);
    assert!(s.entities.f1() >= 0.85, "{s}");
    assert!(s.quote_speaker().f1() >= 0.85, "{s}");
    assert!(s.events.f1() >= 0.62, "{s}");
}
