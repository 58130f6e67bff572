#!/usr/bin/env bash
# Checks that `newsanalysis eval gold` prints the same totals as the reference scorer
# (../shared/tools/score.py) on every gold file we have.
#
# usage: scripts/eval_agrees_with_scorer.sh BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: $0 path/to/newsanalysis}
SCORER=../shared/tools/score.py
[[ -f $SCORER ]] || { echo "missing $SCORER: check ../shared out beside the project" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/gold" "$WORK/pred"
GOLD_DIRS=(../shared/eval tests/gold tests/dev)
[[ -d tests/heldout ]] && GOLD_DIRS+=(tests/heldout)
for dir in "${GOLD_DIRS[@]}"; do cp "$dir"/*.gold.json "$WORK/gold/"; done
"$BIN" eval gold "${GOLD_DIRS[@]}" --text-dir seeds --json --write-predictions "$WORK/pred" >"$WORK/ours.json"
python3 "$SCORER" "$WORK/gold" "$WORK/pred" --json >"$WORK/reference.json"
python3 - "$WORK/ours.json" "$WORK/reference.json" <<'PY'
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
for key, value in ref.items():
    if abs(ours[key] - value) > 1e-9:
        sys.exit(f"eval disagrees with score.py on {key}: ours {ours[key]:.4f}, score.py {value:.4f}")
print("eval gold agrees with score.py:", " ".join(f"{k}={v:.3f}" for k, v in ref.items()))
PY
