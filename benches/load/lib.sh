# Shared by the bench scripts that drive the sandbox (source it after `set -euo pipefail` and
# `cd` to the repository root).

# Installs the Debian packages named after the commands given as `command:package` (or a bare
# command named as its package) that are missing: as root with apt, else it says what to run.
install_missing() {
  local need=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  [ "${#need[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
      && return 0
    echo "could not install ${need[*]}" >&2
  else
    echo "missing ${need[*]}: sudo apt-get install -y ${need[*]}" >&2
  fi
  return 1
}

# Starts target/release/proverka-sandbox on 127.0.0.1:$1 (its stderr in $2), sets
# $sandbox_pid, and waits until it answers.
start_sandbox() {
  target/release/proverka-sandbox --listen "127.0.0.1:$1" 2>"$2" &
  sandbox_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/__sandbox/calls" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the sandbox did not start on port $1" >&2
  return 1
}

# Every NPD call on the sandbox at 127.0.0.1:$1 takes $2 ms.
npd_latency() {
  curl -sf -X POST "http://127.0.0.1:$1/__sandbox/faults/npd" \
    -d "{\"fault\":{\"kind\":\"latency\",\"ms\":$2}}" >/dev/null
}

# How many NPD calls the sandbox at 127.0.0.1:$1 has counted.
npd_calls() {
  curl -sf "http://127.0.0.1:$1/__sandbox/calls" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("npd", 0))'
}

# Valid individual INNs (both check digits), one a line: $2 of them from the ten-digit number
# $1 on.
valid_inns() {
  python3 - "$1" "$2" <<'PY'
import sys
start, count = int(sys.argv[1]), int(sys.argv[2])
def inn(n):
    d = [int(c) for c in f"{n:010d}"]
    w1 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    d.append(sum(a * b for a, b in zip(d, w1)) % 11 % 10)
    w2 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    d.append(sum(a * b for a, b in zip(d, w2)) % 11 % 10)
    return "".join(map(str, d))
for i in range(count):
    print(inn(start + i))
PY
}
