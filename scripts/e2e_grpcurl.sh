#!/usr/bin/env bash
# Drives a real `newsanalysis serve` with real grpcurl, through server reflection only (no .proto
# files given to grpcurl): list, describe, Ingest the seed, Analyze it, StreamEvents, health,
# NOT_FOUND, then SIGTERM and a clean exit. Also runs the Python client example against it.
#
# usage: scripts/e2e_grpcurl.sh BINARY   (grpcurl and python3 with grpcio on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: $0 path/to/newsanalysis}
SEED=seeds/000_be13e59bd146fa3f.txt
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "e2e FAILED: $*" >&2; [[ -f "$WORK/server.log" ]] && tail -20 "$WORK/server.log" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
"$BIN" serve --addr "$ADDR" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grpcurl -plaintext "$ADDR" list >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited"
  sleep 0.1
done

step() { echo "--- $*"; }
G() { grpcurl -plaintext "$@"; }

step "list"
G "$ADDR" list | tee "$WORK/list"
grep -qx newsanalysis.v1.ArticleAnalysisService "$WORK/list" || fail "service not listed"
grep -qx grpc.health.v1.Health "$WORK/list" || fail "health not listed"

step "describe"
G "$ADDR" describe newsanalysis.v1.ArticleAnalysisService | tee "$WORK/describe"
grep -q "rpc StreamEvents" "$WORK/describe" || fail "describe lacks StreamEvents"
G "$ADDR" describe newsanalysis.v1.Article | grep -q "published_at" || fail "describe Article"

step "Ingest the seed"
python3 - "$SEED" >"$WORK/ingest.json" <<'PY'
import json, sys, pathlib
p = pathlib.Path(sys.argv[1])
title, _, body = p.read_text().lstrip("\n").partition("\n")
print(json.dumps({"articles": [{"id": p.stem, "title": title.strip(), "body": body}]}))
PY
G -d @ "$ADDR" newsanalysis.v1.ArticleAnalysisService/Ingest <"$WORK/ingest.json" | tee "$WORK/ingested"
python3 - "$WORK/ingested" <<'PY' || fail "ingest result"
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
assert r["status"] == "INGEST_STATUS_CREATED", r
assert int(r.get("eventCount", 0)) >= 3, r
PY

step "Analyze it"
G -d '{"articleId": "000_be13e59bd146fa3f"}' "$ADDR" newsanalysis.v1.ArticleAnalysisService/Analyze >"$WORK/analysis"
python3 - "$WORK/analysis" <<'PY' || fail "analysis content"
import json, sys
a = json.load(open(sys.argv[1]))["analysis"]
ents = {(e["name"], e["type"]) for e in a["entities"]}
for want in [("Donald Trump", "ENTITY_TYPE_PERSON"), ("Marco Rubio", "ENTITY_TYPE_PERSON"),
             ("Russia", "ENTITY_TYPE_GPE"), ("Ukraine", "ENTITY_TYPE_GPE")]:
    assert want in ents, f"missing entity {want}"
speakers = {q.get("speaker", {}).get("name") for q in a["quotes"]}
assert {"Donald Trump", "Marco Rubio"} <= speakers, speakers
assert len(a["events"]) >= 3, len(a["events"])
print(f"{len(a['entities'])} entities, {len(a['quotes'])} quotes, {len(a['events'])} events")
PY

step "StreamEvents from the beginning"
set +e
G -max-time 3 -d '{"position": "START_POSITION_EARLIEST"}' "$ADDR" \
  newsanalysis.v1.ArticleAnalysisService/StreamEvents >"$WORK/stream" 2>"$WORK/stream.err"
set -e
grep -q "DeadlineExceeded" "$WORK/stream.err" || fail "stream should stay open until the deadline: $(cat "$WORK/stream.err")"
python3 - "$WORK/stream" <<'PY' || fail "stream content"
import json, sys
text = open(sys.argv[1]).read()
dec, pos, msgs = json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    obj, pos = dec.raw_decode(text, pos)
    msgs.append(obj)
seqs = [int(m["sequence"]) for m in msgs if "event" in m]
assert any("caughtUp" in m for m in msgs), "no caught-up marker after the replay"
assert len(seqs) >= 3 and seqs == sorted(seqs) and seqs[0] == 1, seqs
print(f"{len(seqs)} events streamed, sequences {seqs[0]}..{seqs[-1]}")
PY

step "health"
G -d '{"service": "newsanalysis.v1.ArticleAnalysisService"}' "$ADDR" grpc.health.v1.Health/Check | tee "$WORK/health"
grep -q SERVING "$WORK/health" || fail "not serving"

step "NOT_FOUND"
set +e
G -d '{"articleId": "no-such-article"}' "$ADDR" newsanalysis.v1.ArticleAnalysisService/Analyze >"$WORK/nf" 2>&1
code=$?
set -e
[[ $code -ne 0 ]] && grep -q "NotFound" "$WORK/nf" || fail "expected NotFound: $(cat "$WORK/nf")"

step "Python client example"
python3 examples/python/client.py --addr "$ADDR" "$SEED" tests/data/*.txt || fail "python client"

step "Python consumer: checkpoint, stop, resume"
python3 examples/python/consumer.py --addr "$ADDR" --checkpoint "$WORK/cursor" --out "$WORK/events.jsonl" --stop-after 5 \
  || fail "consumer (first run)"
[[ $(cat "$WORK/cursor") == 5 ]] || fail "checkpoint after 5 events is $(cat "$WORK/cursor")"
python3 examples/python/consumer.py --addr "$ADDR" --checkpoint "$WORK/cursor" --out "$WORK/events.jsonl" --stop-after 3 \
  || fail "consumer (resumed)"
python3 - "$WORK/events.jsonl" <<'PY' || fail "consumer output"
import json, sys
seqs = [json.loads(line)["sequence"] for line in open(sys.argv[1])]
assert seqs == list(range(1, 9)), seqs
print("consumer resumed from its checkpoint: sequences", seqs[0], "..", seqs[-1], "no gap, no duplicate")
PY

step "SIGTERM"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "server still running 10 s after SIGTERM"
wait "$SERVER_PID" || fail "server exited with $?"
SERVER_PID=
grep -q "server stopped" "$WORK/server.log" || fail "no clean stop in the log"
echo "e2e OK"
