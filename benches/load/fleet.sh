#!/usr/bin/env bash
# The shared tier at fleet scale (#31). A benchmark, not a test; all on loopback:
#
#   bash benches/load/fleet.sh            # both parts (~4 minutes), then docs/performance.md by hand
#   PARTS=miss bash benches/load/fleet.sh # only the distinct-miss comparison
#   PARTS=cluster bash benches/load/fleet.sh
#
# miss:    distinct NPD misses/s through one proxy, memory only against a local Redis (sealed,
#          compressed), the simulator at 0 ms, wrk sending only new INNs; PAIRS alternating
#          runs of DURATION each. Target: Redis at least 0.8x memory only.
# cluster: a Redis Cluster of 3 masters with a replica each, 3 proxies on it, a round-robin
#          client (`proverka-load fleet`): a cold burst (each of N new queries asked once on
#          every proxy at once: provider calls), tier-2 hits with the proxies' memory cold
#          (restarted), new misses, and a master failover (`CLUSTER FAILOVER` on a replica)
#          in the middle of a burst: requests failed, provider calls paid twice (must be 0),
#          time until a write to the failed-over slots answers again. FAILOVER=kill kills the
#          master (kill -9) instead: its slots go unanswered until the cluster promotes the
#          replica (cluster-node-timeout 2 s).
#
# Installs redis-server and wrk when missing (as root). Prints a SUMMARY line per part.
set -euo pipefail
cd "$(dirname "$0")/../.."

PARTS=${PARTS:-miss cluster}
FAILOVER=${FAILOVER:-graceful}
DURATION=${DURATION:-10s}
PAIRS=${PAIRS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
N=${N:-3000}
CONCURRENCY=${CONCURRENCY:-96}
KEY=6f7e6b6f6e6f6d6963732d62656e63682d6b65792d6e6f742d612d7365637265

die() { echo "fleet: $*" >&2; exit 1; }
# shellcheck source=benches/load/lib.sh
source benches/load/lib.sh
install_missing redis-server redis-cli:redis-tools wrk curl || die "the tools above are needed"

echo "== building (release)"
cargo build --release -q -p proverka-sandbox -p proverka-proxy
cargo build --release -q -p proverka-benches --bin proverka-load
BIN=target/release
WORK=$(mktemp -d /dev/shm/fleet.XXXXXX 2>/dev/null || mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A port for a cluster node: its bus listens 10000 higher, so both must be free and below 65536.
free_node_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
}
wait_http() { for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.05; done; die "nothing answers on $1$2"; }
wait_redis() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done; die "redis on $1 does not answer"; }

SB=$(free_port)
start_sandbox "$SB" "$WORK/sandbox.log" || die "no sandbox"
PIDS+=("$sandbox_pid")

# start_proxy PORT NAME [ENV…]: a proxy on PORT for the simulator's NPD, its store in tmpfs.
start_proxy() {
  local port=$1 name=$2
  shift 2
  env "$@" PROVERKA_LISTEN="127.0.0.1:$port" PROVERKA_STORE_PATH="$WORK/$name.sqlite" \
    PROVERKA_PROVIDERS_NPD_BASE_URL="http://127.0.0.1:$SB" PROVERKA_PROVIDERS_NPD_KEY=bench \
    PROVERKA_PROVIDERS_NPD_PRICE_RUB=1.50 PROVERKA_PROVIDERS_NPD_MAX_CONCURRENCY=1000 RUST_LOG=warn \
    "$BIN/proverka-proxy" 2>>"$WORK/$name.log" &
  PIDS+=($!)
  eval "PID_$name=$!"
  wait_http "$port" /readyz
}

# ------------------------------------------------------------------ distinct misses
if [[ " $PARTS " == *" miss "* ]]; then
  RP=$(free_port)
  redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 & PIDS+=($!)
  wait_redis "$RP"
  PM=$(free_port); PR=$(free_port)
  start_proxy "$PM" memory
  start_proxy "$PR" redis PROVERKA_CACHE_REDIS_URL="redis://127.0.0.1:$RP" PROVERKA_CACHE_ENCRYPTION_KEY=$KEY
  echo "== distinct misses: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, every request a new NPD INN, alternating"
  first=1000000
  MEM=(); RED=(); RATIOS=()
  for pair in $(seq 1 "$PAIRS"); do
    for who in memory redis; do
      port=$PM; [ "$who" = redis ] && port=$PR
      first=$((first + 400000000))
      rps=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s benches/load/distinct-npd.lua \
        "http://127.0.0.1:$port" -- "$first" 2>&1 | awk '/Requests\/sec/{print $2}')
      echo "   pair $pair $who: $rps misses/s"
      if [ "$who" = memory ]; then MEM+=("$rps"); m=$rps; else RED+=("$rps"); RATIOS+=("$(python3 -c "print(round($rps/$m,3))")"); fi
    done
  done
  keys=$(redis-cli -p "$RP" dbsize)
  redis-cli -p "$RP" --scan --pattern '*:v' >"$WORK/keys"
  bytes=$(sed -n 1,1000p "$WORK/keys" | while read -r k; do redis-cli -p "$RP" strlen "$k"; done | python3 -c 'import sys; v=[int(x) for x in sys.stdin if x.strip()]; print(round(sum(v)/max(len(v),1)))')
  body=$(curl -s "http://127.0.0.1:$PM/parser/nalog_npd_api/?inn=500100732259&date=2024-02-01" | wc -c)
  median() { python3 -c 'import sys,statistics; print(statistics.median([float(x) for x in sys.argv[1:]]))' "$@"; }
  echo "   Redis holds $keys keys; a value averages $bytes bytes for an NPD answer of $body bytes"
  echo "SUMMARY distinct misses/s: memory only median $(median "${MEM[@]}"), with Redis median $(median "${RED[@]}"); ratio per pair ${RATIOS[*]}, median $(median "${RATIOS[@]}") (target >= 0.8)"
  kill "$PID_memory" "$PID_redis" 2>/dev/null || true
fi

# ------------------------------------------------------------------ Redis Cluster
if [[ " $PARTS " == *" cluster "* ]]; then
  command -v redis-cli >/dev/null || die "redis-cli missing"
  NODES=(); NODE_PIDS=()
  for i in 1 2 3 4 5 6; do
    p=$(free_node_port); mkdir -p "$WORK/node$p"
    (cd "$WORK/node$p" && exec redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save '' --appendonly no \
      >"$WORK/node$p/log" 2>&1) & PIDS+=($!)
    NODES+=("$p")
  done
  for p in "${NODES[@]}"; do wait_redis "$p"; done
  redis-cli --cluster create $(for p in "${NODES[@]}"; do echo "127.0.0.1:$p"; done) \
    --cluster-replicas 1 --cluster-yes >"$WORK/cluster-create.log" 2>&1 || die "cluster create failed: $(tail -5 "$WORK/cluster-create.log")"
  for _ in $(seq 1 200); do
    [ "$(redis-cli -p "${NODES[0]}" cluster info | tr -d '\r' | awk -F: '/cluster_state/{print $2}')" = ok ] && break
    sleep 0.1
  done
  CLUSTER=$(for p in "${NODES[@]}"; do printf 'redis://127.0.0.1:%s,' "$p"; done); CLUSTER=${CLUSTER%,}
  PORTS=(); BASES=""
  for r in 1 2 3; do
    p=$(free_port); PORTS+=("$p"); BASES+="http://127.0.0.1:$p,"
    start_proxy "$p" "replica$r" PROVERKA_CACHE_REDIS_CLUSTER="$CLUSTER" PROVERKA_CACHE_ENCRYPTION_KEY=$KEY
  done
  BASES=${BASES%,}
  restart_replicas() {
    for r in 1 2 3; do eval "kill \$PID_replica$r"; done
    sleep 0.5
    for r in 1 2 3; do
      start_proxy "${PORTS[$((r-1))]}" "replica$r" PROVERKA_CACHE_REDIS_CLUSTER="$CLUSTER" PROVERKA_CACHE_ENCRYPTION_KEY=$KEY
    done
  }
  first=7000000000
  before=$(npd_calls "$SB")
  cold=$("$BIN/proverka-load" fleet "$BASES" "$N" 3 "$first" "$CONCURRENCY")
  calls=$(( $(npd_calls "$SB") - before ))
  echo "== cold burst: $N new queries, each asked on all 3 proxies at once: $cold; provider calls $calls (distinct $N)"
  restart_replicas
  before=$(npd_calls "$SB")
  warm=$("$BIN/proverka-load" fleet "$BASES" "$N" 1 "$first" "$CONCURRENCY")
  hit_calls=$(( $(npd_calls "$SB") - before ))
  echo "== tier-2 hits, memory tiers cold (proxies restarted): $warm; provider calls $hit_calls"
  before=$(npd_calls "$SB")
  misses=$("$BIN/proverka-load" fleet "$BASES" "$N" 1 $((first + 10 * N)) "$CONCURRENCY")
  miss_calls=$(( $(npd_calls "$SB") - before ))
  echo "== new misses across the fleet: $misses; provider calls $miss_calls"
  # Failover: a burst of new queries (each asked on every proxy at once); a replica takes over
  # its master in the middle of it.
  master_port=${NODES[0]}
  replica_port=""
  for p in "${NODES[@]}"; do
    of=$(redis-cli -p "$p" info replication | tr -d '\r' | awk -F: '/^master_port/{print $2}')
    if [ "$of" = "$master_port" ]; then replica_port=$p; fi
  done
  [ -n "$replica_port" ] || die "no replica of $master_port"
  before=$(npd_calls "$SB")
  fo_first=$((first + 20 * N))
  "$BIN/proverka-load" fleet "$BASES" $((N * 2)) 3 "$fo_first" "$CONCURRENCY" >"$WORK/failover.out" &
  load=$!
  sleep 1
  t0=$(date +%s.%N)
  if [ "$FAILOVER" = kill ]; then
    kill -9 "$(redis-cli -p "$master_port" info server | tr -d '\r' | awk -F: '/^process_id/{print $2}')"
  else
    redis-cli -p "$replica_port" cluster failover >/dev/null
  fi
  for _ in $(seq 1 400); do
    [ "$(redis-cli -p "$replica_port" role 2>/dev/null | sed -n 1p)" = master ] && break
    sleep 0.025
  done
  # Back when a write to a slot the old master served goes through again.
  for _ in $(seq 1 400); do
    redis-cli -c -p "$replica_port" set "fleet-probe-{a}" 1 >/dev/null 2>&1 && break
    sleep 0.025
  done
  t1=$(date +%s.%N)
  wait "$load"
  fo_calls=$(( $(npd_calls "$SB") - before ))
  echo "== failover ($FAILOVER: replica on $replica_port took over master $master_port): $(cat "$WORK/failover.out"); provider calls $fo_calls for $((N * 2)) distinct queries; recovered in $(python3 -c "print(round($t1-$t0,2))") s"
  failed=$(sed -E 's/.*statuses=//' "$WORK/failover.out" | tr ',' '\n' | awk -F: '$1!="200"{s+=$2} END{print s+0}')
  echo "SUMMARY cluster ($FAILOVER failover): cold burst $calls calls for $N queries asked 3x; tier-2 $(echo "$warm" | sed -E 's/.*rps=([0-9]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1 req\/s p50 \2 ms p99 \3 ms/'); misses $(echo "$misses" | sed -E 's/.*rps=([0-9]+).*/\1/')/s; failover: $failed failed, $((fo_calls - N * 2)) paid twice, recovered in $(python3 -c "print(round($t1-$t0,2))") s"
fi
