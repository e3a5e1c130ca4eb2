#!/usr/bin/env bash
# Time to the first answer of `proverka-proxy --sandbox`: from starting the process to the first
# NPD drop-in answer (a paid miss against the in-process simulator), RUNS times, with an empty
# store each time. A benchmark, not a test (it asks until the port answers):
#
#   bash benches/load/first-answer.sh                                   # the release build
#   PROXY_BIN=target/x86_64-unknown-linux-musl/dist/proverka-proxy bash benches/load/first-answer.sh
#
# Prints each run in ms and a SUMMARY line with the median.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-7}
if [ -z "${PROXY_BIN:-}" ]; then
  cargo build --release -q -p proverka-proxy
  PROXY_BIN=target/release/proverka-proxy
fi
PROXY_BIN=$(realpath "$PROXY_BIN")
python3 - "$PROXY_BIN" "$RUNS" <<'PY'
import os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

binary, runs = sys.argv[1], int(sys.argv[2])
took = []
for _ in range(runs):
    with tempfile.TemporaryDirectory() as work:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        env = {"PATH": "/usr/bin:/bin", "PROVERKA_STORE_PATH": os.path.join(work, "store.sqlite")}
        url = f"http://127.0.0.1:{port}/parser/nalog_npd_api/?inn=540304378234"
        start = time.perf_counter()
        proxy = subprocess.Popen([binary, "--sandbox", "--listen", f"127.0.0.1:{port}"],
                                 env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    body = urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.001)
            took.append((time.perf_counter() - start) * 1000)
            assert b'"success":1' in body, body
        finally:
            proxy.terminate(); proxy.wait()
print(" ".join(f"{t:.0f}" for t in took), "ms")
print(f"SUMMARY first answer of {binary} --sandbox: median {statistics.median(took):.0f} ms over {runs} runs")
PY
