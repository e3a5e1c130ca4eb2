#!/usr/bin/env bash
# proverka-proxy vs nginx (proxy_cache + proxy_cache_lock on, defaults otherwise), side by side
# in one run, in front of the same sandbox provider, all on loopback.
#
#   bash benches/load/compare-nginx.sh            # full run (~4 minutes)
#   DURATION=3s PAIRS=1 COLD_LATENCY_MS=6000 MIXED_TOTAL=1000 bash benches/load/compare-nginx.sh   # smoke run
#   PROXY_BIN=target/x86_64-unknown-linux-musl/dist/proverka-proxy bash benches/load/compare-nginx.sh
#                                                  # a release artifact instead (scripts/package.sh)
#
# Prints: the hit path (wrk --latency, A B A B …: req/s, p50, p99, ratio per pair and median),
# the cold concurrent path (provider calls and time to the last answer), the mixed workload
# (provider calls = rubles paid), and one SUMMARY line last. Exits non-zero only when it could
# not run (a tool missing and not installable, a port not answering).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PAIRS=${PAIRS:-3}
COLD_N=${COLD_N:-200}
COLD_LATENCY_MS=${COLD_LATENCY_MS:-20000}
MIXED_TOTAL=${MIXED_TOTAL:-10000}
MIXED_DISTINCT=${MIXED_DISTINCT:-1000}
MIXED_CONCURRENCY=${MIXED_CONCURRENCY:-100}
MIXED_LATENCY_MS=${MIXED_LATENCY_MS:-6000}

die() { echo "compare-nginx: $*" >&2; exit 1; }

# shellcheck source=benches/load/lib.sh
source benches/load/lib.sh
install_missing nginx wrk curl || die "the tools above are needed"

echo "== building (release)"
cargo build --release -q -p proverka-sandbox -p proverka-proxy
cargo build --release -q -p proverka-benches --bin proverka-load
BIN=target/release

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SB=$(free_port); PX=$(free_port); NG=$(free_port)
WORK=$(mktemp -d); chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  die "nothing answers on port $1"
}

"$BIN/proverka-sandbox" --listen "127.0.0.1:$SB" --set fssp.balance=10000000 2>"$WORK/sandbox.log" & PIDS+=($!)
wait_port "$SB"
cat > "$WORK/proxy.toml" <<TOML
listen = "127.0.0.1:$PX"
[providers.fssp]
base_url = "http://127.0.0.1:$SB"
token = "sandbox0fssp0token00000000000000"
max_concurrency = 1000
TOML
# Request lines at warn: nginx runs with access_log off, the same footing.
PROXY_BIN=${PROXY_BIN:-$BIN/proverka-proxy}
echo "== proxy: $PROXY_BIN ($("$PROXY_BIN" --version))"
RUST_LOG=warn "$PROXY_BIN" --config "$WORK/proxy.toml" 2>"$WORK/proxy.log" & PIDS+=($!)
wait_port "$PX"
mkdir -p "$WORK/cache" "$WORK/tmp"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
user root;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp/body;
  proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi;
  uwsgi_temp_path $WORK/tmp/uwsgi;
  scgi_temp_path $WORK/tmp/scgi;
  proxy_cache_path $WORK/cache levels=1:2 keys_zone=providers:50m max_size=1g inactive=1d use_temp_path=off;
  upstream sandbox { server 127.0.0.1:$SB; keepalive 64; }
  server {
    listen 127.0.0.1:$NG;
    location / {
      proxy_pass http://sandbox;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 600s;
      proxy_cache providers;
      proxy_cache_key \$request_uri;
      proxy_cache_valid 200 1h;
      proxy_cache_lock on;
      add_header X-Cache \$upstream_cache_status;
    }
  }
}
NGINX
nginx -p "$WORK" -c "$WORK/nginx.conf" || die "nginx did not start"
wait_port "$NG"

TOKEN=sandbox0fssp0token00000000000000
LASTNAME=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2; FIRSTNAME=%D0%98%D0%B2%D0%B0%D0%BD
fssp_path() { echo "/api/fssp.php?type=physical&lastname=$LASTNAME&firstname=$FIRSTNAME&birthdate=$1&region=$2&token=$TOKEN"; }
control() { curl -s -X "$1" "http://127.0.0.1:$SB/__sandbox/$2" ${3:+-d "$3"} >/dev/null; }
fssp_calls() { curl -s "http://127.0.0.1:$SB/__sandbox/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("fssp",0))'; }

# ---------------------------------------------------------------- hit path
HIT=$(fssp_path 12.12.1982 50)
for port in $PX $NG; do curl -s -o /dev/null "http://127.0.0.1:$port$HIT"; curl -s -o /dev/null "http://127.0.0.1:$port$HIT"; done
SIZE=$(curl -s "http://127.0.0.1:$PX$HIT" | wc -c)
echo "== hit path: one FSSP answer of $SIZE bytes warmed in both; wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, alternating"
PX_CACHE=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PX$HIT" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')
NG_CACHE=$(curl -s -D - -o /dev/null "http://127.0.0.1:$NG$HIT" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')
echo "   warm check: proverka X-Cache=$PX_CACHE, nginx X-Cache=$NG_CACHE"

run_wrk() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$1$HIT" 2>&1; }
to_ms() { python3 -c "
import re,sys
v=sys.argv[1]; m=re.match(r'([0-9.]+)(us|ms|s)',v)
print(round(float(m.group(1))*{'us':0.001,'ms':1,'s':1000}[m.group(2)],3) if m else 'nan')" "$1"; }
RATIOS=(); PX_P99S=(); NG_P99S=()
for pair in $(seq 1 "$PAIRS"); do
  for who in proverka nginx; do
    port=$PX; [ "$who" = nginx ] && port=$NG
    out=$(run_wrk "$port")
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    p50=$(to_ms "$(echo "$out" | awk '$1=="50%"{print $2}')")
    p99=$(to_ms "$(echo "$out" | awk '$1=="99%"{print $2}')")
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/{print}' | tr '\n' ' ')
    printf "   pair %d %-8s %10s req/s   p50 %8s ms   p99 %8s ms %s\n" "$pair" "$who" "$rps" "$p50" "$p99" "$errors"
    if [ "$who" = proverka ]; then PX_RPS=$rps; PX_P99S+=("$p99"); else NG_RPS=$rps; NG_P99S+=("$p99"); fi
  done
  ratio=$(python3 -c "print(round($PX_RPS/$NG_RPS,2))")
  RATIOS+=("$ratio")
  echo "   pair $pair ratio proverka/nginx: $ratio"
done
MEDIAN=$(python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" "${RATIOS[@]}")
PX_P99=$(python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" "${PX_P99S[@]}")
NG_P99=$(python3 -c "import statistics,sys; print(statistics.median([float(x) for x in sys.argv[1:]]))" "${NG_P99S[@]}")
echo "   median ratio: $MEDIAN   median p99: proverka $PX_P99 ms, nginx $NG_P99 ms"

# ---------------------------------------------------------------- cold concurrent path
echo "== cold concurrent: $COLD_N identical cold queries at once, provider latency ${COLD_LATENCY_MS} ms"
control POST "faults/fssp" "{\"fault\":{\"kind\":\"latency\",\"ms\":$COLD_LATENCY_MS}}"
COLD_RESULTS=()
for who in proverka nginx; do
  port=$PX; region=51; [ "$who" = nginx ] && { port=$NG; region=52; }
  before=$(fssp_calls)
  out=$("$BIN/proverka-load" burst "http://127.0.0.1:$port$(fssp_path 13.01.1983 $region)" "$COLD_N")
  calls=$(( $(fssp_calls) - before ))
  printf "   %-8s provider calls: %4d   %s\n" "$who" "$calls" "$out"
  COLD_RESULTS+=("$calls")
done
control DELETE faults

# ---------------------------------------------------------------- mixed workload
echo "== mixed: $MIXED_TOTAL queries Zipf-drawn from $MIXED_DISTINCT distinct, concurrency $MIXED_CONCURRENCY, provider latency ${MIXED_LATENCY_MS} ms"
control POST "faults/fssp" "{\"fault\":{\"kind\":\"latency\",\"ms\":$MIXED_LATENCY_MS}}"
MIXED_RESULTS=()
for who in proverka nginx; do
  port=$PX; [ "$who" = nginx ] && port=$NG
  before=$(fssp_calls)
  out=$("$BIN/proverka-load" zipf "http://127.0.0.1:$port" "$MIXED_TOTAL" "$MIXED_DISTINCT" "$MIXED_CONCURRENCY" 7)
  calls=$(( $(fssp_calls) - before ))
  printf "   %-8s provider calls (= paid queries): %5d   %s\n" "$who" "$calls" "$out"
  MIXED_RESULTS+=("$calls")
done
control DELETE faults
DISTINCT_DRAWN=$(python3 - "$MIXED_DISTINCT" "$MIXED_TOTAL" <<'PY'
import sys
n, total = int(sys.argv[1]), int(sys.argv[2])
w = [1/k for k in range(1, n+1)]; s = sum(w); cdf = []; a = 0
for x in w: a += x/s; cdf.append(a)
state = 7
def nxt():
    global state
    M = (1 << 64) - 1
    state ^= (state << 13) & M; state ^= state >> 7; state ^= (state << 17) & M
    return (state >> 11) / (1 << 53)
import bisect
print(len({min(bisect.bisect_left(cdf, nxt()), n-1) for _ in range(total)}))
PY
)
echo "   distinct queries drawn: $DISTINCT_DRAWN"
echo "SUMMARY hit_rps_ratio_median=$MEDIAN p99_ms proverka=$PX_P99 nginx=$NG_P99 cold_calls proverka=${COLD_RESULTS[0]} nginx=${COLD_RESULTS[1]} mixed_calls proverka=${MIXED_RESULTS[0]} nginx=${MIXED_RESULTS[1]} distinct=$DISTINCT_DRAWN"
