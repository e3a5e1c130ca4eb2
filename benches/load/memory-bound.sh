#!/usr/bin/env bash
# One memory bound: with `memory_mb = M` the proxy's resident set grows by at most 1.2 × M MiB,
# however many distinct queries it has seen (the answers' tier and the query memo count their
# real bytes, from the one budget).
#
# N distinct FSSP `legal` queries of about BYTES each (a long address: the query strings the
# memo remembers and the answers the memory tier keeps), CONCURRENCY at a time, through the
# release proxy (no Redis, the SQLite store) to the simulator. The resident set (VmRSS) is read
# after a warm-up and after the run; VmHWM is the peak.
#
#   bash benches/load/memory-bound.sh         # M=256 N=40000 BYTES=3900 CONCURRENCY=16
#
# A benchmark, not a test: prints the numbers and a SUMMARY line; exits non-zero only when it
# could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."

M=${M:-256}
N=${N:-40000}
BYTES=${BYTES:-3900}
CONCURRENCY=${CONCURRENCY:-16}
SANDBOX_PORT=${SANDBOX_PORT:-18095}
PROXY_PORT=${PROXY_PORT:-18096}

cargo build --release -q -p proverka-proxy -p proverka-sandbox
cargo build --release -q -p proverka-benches --bin proverka-load
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Enough FSSP balance for every query (the simulator bills each answer).
target/release/proverka-sandbox --listen "127.0.0.1:$SANDBOX_PORT" --set fssp.balance=10000000 \
  2>"$work/sandbox.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$SANDBOX_PORT/__sandbox/calls" >/dev/null 2>&1 && break
  sleep 0.1
done

# The simulator's FSSP token (proverka_sandbox::FSSP_TOKEN).
token=sandbox0fssp0token00000000000000
PROVERKA_LISTEN="127.0.0.1:$PROXY_PORT" PROVERKA_STORE_PATH="$work/store.sqlite" \
  PROVERKA_CACHE_MEMORY_MB="$M" \
  PROVERKA_PROVIDERS_FSSP_BASE_URL="http://127.0.0.1:$SANDBOX_PORT" \
  PROVERKA_PROVIDERS_FSSP_TOKEN="$token" RUST_LOG=warn \
  target/release/proverka-proxy 2>"$work/proxy.log" &
proxy=$!
pids+=("$proxy")
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PROXY_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$proxy/status"; }
base="http://127.0.0.1:$PROXY_PORT"
# Warm-up: the connection pools, the store, the first allocations.
target/release/proverka-load wide "$base" 200 "$BYTES" "$CONCURRENCY" >/dev/null
before=$(kib VmRSS)
run=$(target/release/proverka-load wide "$base" "$N" "$BYTES" "$CONCURRENCY")
after=$(kib VmRSS)
peak=$(kib VmHWM)
echo "run: $run"
metrics=$(curl -sf "$base/metrics")
echo "$metrics" | grep -E '^proverka_(cache|memo)_bytes|^proverka_cache_entries' || true
python3 - "$M" "$before" "$after" "$peak" <<'PY'
import sys
m, before, after, peak = (int(x) for x in sys.argv[1:])
growth = (after - before) / 1024
limit = 1.2 * m
print(f"SUMMARY memory_mb={m}: RSS {before/1024:.0f} MiB after warm-up, {after/1024:.0f} MiB after the run "
      f"(peak {peak/1024:.0f}); growth {growth:.0f} MiB = {growth/m:.2f}x memory_mb (target at most 1.2x: {limit:.0f} MiB)")
PY
