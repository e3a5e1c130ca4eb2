#!/usr/bin/env bash
# A watch list of 10,000 NPD subjects against the sandbox at 50 ms a call, 8 calls at once:
# the dry run's estimate of provider calls against the calls the run then makes (target: within
# 5 %), and the run's time against its ideal (calls x 50 ms / 8; target: within 1.15x).
# A benchmark, not a test:
#
#   bash benches/load/watch.sh          # SUBJECTS=10000 LATENCY_MS=50 CONCURRENCY=8
#
# Prints the figures and one SUMMARY line; exits non-zero only when it could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benches/load/lib.sh

SUBJECTS=${SUBJECTS:-10000}
LATENCY_MS=${LATENCY_MS:-50}
CONCURRENCY=${CONCURRENCY:-8}
PORT=${PORT:-18092}

cargo build --release --quiet -p proverka-cli -p proverka-sandbox
work=$(mktemp -d)
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

start_sandbox "$PORT" "$work/sandbox.log"
npd_latency "$PORT" "$LATENCY_MS"
{ echo "ИНН"; valid_inns 7800000000 "$SUBJECTS"; } >"$work/in.csv"

export PROVERKA_PROVIDERS_NPD_BASE_URL="http://127.0.0.1:$PORT" PROVERKA_PROVIDERS_NPD_KEY=bench \
  PROVERKA_PROVIDERS_NPD_PRICE_RUB=1.50 PROVERKA_STORE="$work/store.sqlite" \
  PROVERKA_CACHE_ENCRYPTION_KEY=$(python3 -c 'print("ab" * 32)')
target/release/proverka watch add --list bench --check npd --input "$work/in.csv" 2>"$work/add.log"
target/release/proverka watch run --dry-run >"$work/dry.txt" 2>"$work/dry.log"
estimate=$(grep -o 'at most [0-9]* provider calls' "$work/dry.txt" | grep -o '[0-9]*')

start=$(date +%s.%N)
target/release/proverka watch run --concurrency "$CONCURRENCY" 2>"$work/run.log"
end=$(date +%s.%N)
calls=$(npd_calls "$PORT")

python3 - "$start" "$end" "$estimate" "$calls" "$LATENCY_MS" "$CONCURRENCY" "$SUBJECTS" <<'PY'
import sys
start, end, estimate, calls, latency, conc, subjects = map(float, sys.argv[1:])
elapsed = end - start
ideal = calls * latency / 1000 / conc
off = abs(estimate - calls) / calls if calls else 0.0
print(f"subjects={int(subjects)} dry_run_estimate={int(estimate)} provider_calls={int(calls)} "
      f"estimate_off={off * 100:.2f}% (target <= 5%)")
print(f"elapsed={elapsed:.2f}s ideal={ideal:.2f}s ratio={elapsed / ideal:.3f} (target <= 1.15)")
met = off <= 0.05 and elapsed / ideal <= 1.15
print(f"SUMMARY watch_ratio={elapsed / ideal:.3f} estimate_off={off * 100:.2f}% "
      f"calls={int(calls)} target_met={'yes' if met else 'no'}")
PY
tail -n 1 "$work/run.log"
