#!/usr/bin/env bash
# The proxy's in-process hit path in instructions (callgrind counts them: repeatable on a shared
# machine, unlike times), today's against commit BASE (before the store of record): N and 2N
# drop-in FSSP hits through `Proxy::handle`; instructions per hit = (I(2N) - I(N)) / N, on the
# thread that serves them. A benchmark, not a test:
#
#   bash benches/load/hit-path.sh            # N=20000 BASE=9857fdc
#
# Prints one line per build and a SUMMARY line; exits non-zero only when it could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
N=${N:-20000}
BASE=${BASE:-9857fdc}
command -v valgrind >/dev/null || { echo "hit-path: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

cargo build --release -q -p proverka-benches --bin hit-path
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -f "$work/base" "$BASE" >/dev/null 2>&1
# The same program, built against the older proxy.
mkdir -p "$work/base/benches/src/bin"
cp benches/src/bin/hit-path.rs "$work/base/benches/src/bin/hit-path.rs"
grep -q '^tracing = ' "$work/base/benches/Cargo.toml" ||
  sed -i 's/^thiserror = { workspace = true }$/thiserror = { workspace = true }\ntracing = { workspace = true }/' "$work/base/benches/Cargo.toml"
(cd "$work/base" && cargo build --release -q -p proverka-benches --bin hit-path --target-dir "$root/target/paid-miss-base")

# shellcheck source=benches/load/per-hit.sh
source benches/load/per-hit.sh
before=$(per_hit "$root/target/paid-miss-base/release/hit-path")
now=$(per_hit "$root/target/release/hit-path")
echo "before ($BASE): $before instructions per hit"
echo "now: $now instructions per hit"
python3 -c "print(f'SUMMARY hit path: {$now} instructions per hit, {($now - $before) / $before * 100:+.1f} % against {\"$BASE\"}')"
