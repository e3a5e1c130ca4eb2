#!/usr/bin/env bash
# The whole test suite, as README.md documents it. Installs what the tests need on a fresh
# Debian machine (redis-server, which tests start themselves on loopback ports; systemd-analyze;
# promtool; chromium), then runs every test of the workspace: unit, integration, property,
# snapshot and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export CI="${CI:-}"
exec cargo test --workspace --locked "$@"
