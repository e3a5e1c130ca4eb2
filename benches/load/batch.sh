#!/usr/bin/env bash
# The batch command's throughput: a 2,000-row NPD list with 20 % duplicates against the sandbox
# at 50 ms a call, 8 calls at once. Ideal time = distinct rows x 50 ms / 8; the target is within
# 1.15x of it, with exactly one provider call per distinct valid row. A benchmark, not a test:
#
#   bash benches/load/batch.sh                # ROWS=2000 DUP_PERCENT=20 LATENCY_MS=50 CONCURRENCY=8
#
# Prints the figures and one SUMMARY line; exits non-zero only when it could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-2000}
DUP_PERCENT=${DUP_PERCENT:-20}
LATENCY_MS=${LATENCY_MS:-50}
CONCURRENCY=${CONCURRENCY:-8}
PORT=${PORT:-18091}

cargo build --release --quiet -p proverka-cli -p proverka-sandbox
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

target/release/proverka-sandbox --listen "127.0.0.1:$PORT" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/__sandbox/calls" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf -X POST "http://127.0.0.1:$PORT/__sandbox/faults/npd" \
  -d "{\"fault\":{\"kind\":\"latency\",\"ms\":$LATENCY_MS}}" >/dev/null

# Valid individual INNs (both check digits), DUP_PERCENT % of the rows repeating earlier ones.
python3 - "$ROWS" "$DUP_PERCENT" >"$work/in.csv" <<'PY'
import random, sys
rows, dup = int(sys.argv[1]), int(sys.argv[2])
def inn(n):
    d = [int(c) for c in f"{n:010d}"]
    w1 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    d.append(sum(a * b for a, b in zip(d, w1)) % 11 % 10)
    w2 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    d.append(sum(a * b for a, b in zip(d, w2)) % 11 % 10)
    return "".join(map(str, d))
distinct = rows - rows * dup // 100
inns = [inn(7_700_000_000 + i) for i in range(distinct)]
random.seed(7)
all_rows = inns + [random.choice(inns) for _ in range(rows - distinct)]
random.shuffle(all_rows)
print("ИНН,Дата")
for i in all_rows:
    print(f"{i},2024-02-01")
PY
distinct=$(tail -n +2 "$work/in.csv" | sort -u | wc -l)

start=$(date +%s.%N)
PROVERKA_PROVIDERS_NPD_BASE_URL="http://127.0.0.1:$PORT" PROVERKA_PROVIDERS_NPD_KEY=bench \
PROVERKA_PROVIDERS_NPD_PRICE_RUB=1.50 \
  target/release/proverka batch --yes --check npd --concurrency "$CONCURRENCY" \
  --input "$work/in.csv" --out "$work/out.csv" 2>"$work/cli.log"
end=$(date +%s.%N)

calls=$(curl -sf "http://127.0.0.1:$PORT/__sandbox/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("npd", 0))')
python3 - "$start" "$end" "$distinct" "$LATENCY_MS" "$CONCURRENCY" "$calls" "$ROWS" <<'PY'
import sys
start, end, distinct, latency, conc, calls, rows = map(float, sys.argv[1:])
elapsed = end - start
ideal = distinct * latency / 1000 / conc
print(f"rows={int(rows)} distinct={int(distinct)} provider_calls={int(calls)}")
print(f"elapsed={elapsed:.2f}s ideal={ideal:.2f}s ratio={elapsed / ideal:.3f} (target <= 1.15)")
print(f"SUMMARY batch_ratio={elapsed / ideal:.3f} calls={int(calls)} distinct={int(distinct)} "
      f"target_met={'yes' if elapsed / ideal <= 1.15 and calls == distinct else 'no'}")
PY
tail -n 1 "$work/cli.log"
