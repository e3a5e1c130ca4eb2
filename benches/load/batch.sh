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
source benches/load/lib.sh

ROWS=${ROWS:-2000}
DUP_PERCENT=${DUP_PERCENT:-20}
LATENCY_MS=${LATENCY_MS:-50}
CONCURRENCY=${CONCURRENCY:-8}
PORT=${PORT:-18091}

cargo build --release --quiet -p proverka-cli -p proverka-sandbox
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

start_sandbox "$PORT" "$work/sandbox.log"
npd_latency "$PORT" "$LATENCY_MS"

# Valid individual INNs, DUP_PERCENT % of the rows repeating earlier ones.
distinct_rows=$((ROWS - ROWS * DUP_PERCENT / 100))
valid_inns 7700000000 "$distinct_rows" >"$work/inns.txt"
python3 - "$ROWS" "$work/inns.txt" >"$work/in.csv" <<'PY'
import random, sys
rows, inns = int(sys.argv[1]), open(sys.argv[2]).read().split()
random.seed(7)
all_rows = inns + [random.choice(inns) for _ in range(rows - len(inns))]
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

calls=$(npd_calls "$PORT")
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
