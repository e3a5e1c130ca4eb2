#!/usr/bin/env bash
# What link-time optimisation would buy the release artifacts (scripts/package.sh builds them
# with the `dist` profile): for the `dist` profile as it is and with LTO (thin, fat with one
# codegen unit), the stripped size of proverka-proxy and proverka, the build time, and the
# proxy's in-process hit path in instructions (callgrind: repeatable on a shared machine, unlike
# times; N and 2N drop-in FSSP hits through `Proxy::handle`, per hit = (I(2N) - I(N)) / N).
# A benchmark, not a test; each variant builds into a target directory of its own:
#
#   bash benches/load/profiles.sh                 # N=20000, variants: off thin fat
#   VARIANTS="off fat" bash benches/load/profiles.sh
#
# The gnu target stands in for musl here (the same code generation; musl's allocator is
# measured by compare-nginx.sh against the artifact itself). Prints one line per variant.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
N=${N:-20000}
VARIANTS=${VARIANTS:-off thin fat}
command -v valgrind >/dev/null || { echo "profiles: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=benches/load/per-hit.sh
source benches/load/per-hit.sh

for variant in $VARIANTS; do
  case $variant in
    off) lto=false; units=16 ;;
    thin) lto=thin; units=16 ;;
    fat) lto=fat; units=1 ;;
    *) echo "profiles: unknown variant $variant" >&2; exit 1 ;;
  esac
  dir=$root/target/profiles-$variant
  start=$(date +%s)
  # Cargo reads a profile's settings from the environment too: no profile to add to Cargo.toml.
  CARGO_PROFILE_DIST_LTO=$lto CARGO_PROFILE_DIST_CODEGEN_UNITS=$units \
    cargo build --locked -q --profile dist --target-dir "$dir" \
    -p proverka-proxy -p proverka-cli -p proverka-benches --bin proverka-proxy --bin proverka --bin hit-path
  took=$(($(date +%s) - start))
  proxy=$(stat -c %s "$dir/dist/proverka-proxy")
  cli=$(stat -c %s "$dir/dist/proverka")
  hit=$(per_hit "$dir/dist/hit-path")
  echo "dist lto=$lto codegen-units=$units: proverka-proxy $proxy bytes, proverka $cli bytes, build ${took} s (cold for this target dir only the first time), hit path $hit instructions per hit"
done
