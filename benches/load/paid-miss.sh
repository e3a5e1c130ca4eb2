#!/usr/bin/env bash
# What the store of record adds to a paid miss: N distinct NPD queries, one after the other,
# through the proxy to the simulator at 0 ms, measured end to end (latency percentiles):
#
#   - before: the proxy as it was before the store (commit BASE, built in a worktree);
#   - sqlite: today's proxy on the embedded store (WAL, synchronous = FULL);
#   - postgres: today's proxy on a local PostgreSQL (initdb into a temporary folder).
#
# Targets (docs/performance.md): a paid miss adds at most 2 ms at p50 with SQLite and 5 ms with
# a local PostgreSQL. A benchmark, not a test:
#
#   bash benches/load/paid-miss.sh            # N=500 BASE=9857fdc
#
# Prints one line per target and a SUMMARY line; exits non-zero only when it could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

N=${N:-500}
BASE=${BASE:-9857fdc}
SANDBOX_PORT=${SANDBOX_PORT:-18092}
PROXY_PORT=${PROXY_PORT:-18093}
PG_PORT=${PG_PORT:-18094}

cargo build --release -q -p proverka-proxy -p proverka-sandbox
cargo build --release -q -p proverka-benches --bin proverka-load
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  git worktree remove --force "$work/base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The proxy before the store, from its own commit.
git worktree add -f "$work/base" "$BASE" >/dev/null 2>&1
(cd "$work/base" && cargo build --release -q -p proverka-proxy --target-dir "$root/target/paid-miss-base")
before_bin="$root/target/paid-miss-base/release/proverka-proxy"

target/release/proverka-sandbox --listen "127.0.0.1:$SANDBOX_PORT" 2>"$work/sandbox.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$SANDBOX_PORT/__sandbox/calls" >/dev/null 2>&1 && break
  sleep 0.1
done

# A local PostgreSQL (as the postgres user when run as root: PostgreSQL refuses root).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
mkdir -p "$work/pg" && { [ "$(id -u)" -ne 0 ] || chown postgres "$work/pg"; }
"${as_pg[@]}" "$pg_bin/initdb" -U postgres -A trust -D "$work/pg/data" >/dev/null
"${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg/data" -p "$PG_PORT" -k "$work/pg" \
  -c listen_addresses=127.0.0.1 >"$work/pg.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p "$PG_PORT" -q && break; sleep 0.1; done
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE proverka"

# Runs one proxy ($2) with extra environment ($3…), warms it, measures N misses.
measure() {
  local label=$1 bin=$2
  shift 2
  env "$@" PROVERKA_LISTEN="127.0.0.1:$PROXY_PORT" \
    PROVERKA_PROVIDERS_NPD_BASE_URL="http://127.0.0.1:$SANDBOX_PORT" \
    PROVERKA_PROVIDERS_NPD_KEY=bench PROVERKA_PROVIDERS_NPD_PRICE_RUB=1.50 RUST_LOG=warn \
    "$bin" 2>"$work/$label.log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PROXY_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  target/release/proverka-load misses "http://127.0.0.1:$PROXY_PORT" 50 1000000 >/dev/null
  local out
  out=$(target/release/proverka-load misses "http://127.0.0.1:$PROXY_PORT" "$N" 2000000)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$label: $out"
  eval "p50_$label=$(echo "$out" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/')"
}

measure before "$before_bin"
measure sqlite target/release/proverka-proxy PROVERKA_STORE_PATH="$work/store.sqlite"
measure postgres target/release/proverka-proxy \
  PROVERKA_STORE_URL="postgres://postgres@127.0.0.1:$PG_PORT/proverka"

sqlite_adds=$(python3 -c "print(f'{$p50_sqlite - $p50_before:.2f}')")
pg_adds=$(python3 -c "print(f'{$p50_postgres - $p50_before:.2f}')")
echo "SUMMARY paid miss p50: before ${p50_before} ms; SQLite ${p50_sqlite} ms (+${sqlite_adds}, target +2); PostgreSQL ${p50_postgres} ms (+${pg_adds}, target +5)"
