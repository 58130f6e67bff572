#!/usr/bin/env bash
# Unary gRPC load with h2load (Debian package nghttp2-client) against the release server:
# Analyze of a stored article (served from the analysis made at ingest) next to
# grpc.health.v1.Health/Check, in the same run, so the ratio is meaningful on a noisy machine.
#
# usage: benches/grpc_load.sh [REQUESTS] [CLIENTS] [STREAMS_PER_CLIENT]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
CLIENTS=${2:-4}
STREAMS=${3:-16}
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
cargo build --release --locked --bin newsanalysis >/dev/null 2>&1
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/newsanalysis serve --addr "127.0.0.1:$PORT" --seed-dir seeds >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
python3 - "$PORT" "$WORK" <<'PY'
import socket, struct, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); break
    except OSError:
        time.sleep(0.05)
def frame(message):  # gRPC length-prefixed message, uncompressed
    return b"\x00" + struct.pack(">I", len(message)) + message
article_id = b"000_be13e59bd146fa3f"
open(f"{work}/analyze.bin", "wb").write(frame(b"\x0a" + bytes([len(article_id)]) + article_id))
open(f"{work}/health.bin", "wb").write(frame(b""))
PY
run() {
  h2load -n "$N" -c "$CLIENTS" -m "$STREAMS" -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$2" \
    "http://127.0.0.1:$PORT$1" 2>&1 | tee "$WORK/out" | grep -E "^(finished in|requests:|status codes:)"
  rps=$(grep -oE '[0-9.]+ req/s' "$WORK/out" | head -1 | cut -d' ' -f1)
}
echo "== Health/Check"
run /grpc.health.v1.Health/Check "$WORK/health.bin"; health=$rps
echo "== Analyze (stored article, code-point offsets)"
run /newsanalysis.v1.ArticleAnalysisService/Analyze "$WORK/analyze.bin"; analyze=$rps
python3 -c "print(f'Analyze/Health ratio: {float($analyze)/float($health):.2f}')"
