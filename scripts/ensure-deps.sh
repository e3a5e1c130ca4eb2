#!/usr/bin/env bash
# Installs the system packages the tests and benches need when they are missing.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
# `systemd-analyze verify` checks the documented unit (crates/proverka-proxy/tests/packaging.rs).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# `promtool check metrics|rules`, `promtool test rules` (tests/tests/prometheus.rs).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Headless Chromium renders the status page (tests/tests/ui.rs).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# PostgreSQL, the store of record for fleets: the tests run `initdb` into a temporary folder
# and start the server on a loopback port (proverka-testkit's postgres module).
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
# `sqlite3 .backup`, the documented backup of the embedded store (docs/deployment.md).
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# openpyxl reads the command line's workbooks back, independently of calamine
# (crates/proverka-cli/tests/lists.rs).
/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1 || need+=(python3-openpyxl)
# Certificates for the TLS Redis of the rediss:// tests (proverka-testkit).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The shell and PHP examples of the typed API, run as written (tests/tests/examples.rs).
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v php >/dev/null 2>&1 || need+=(php-cli)
# A virtual environment for PyPI's tools the tests run (Debian's python3 has no ensurepip
# without python3-venv).
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-deps: missing ${need[*]} and not root: install them with apt-get" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "ensure-deps: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PyPI's openapi-spec-validator, an independent check of the typed API's document
# (tests/tests/openapi.rs), and what the Python client's generator and tests need
# (clients/python/requirements-dev.txt, tests/tests/python_client.rs), in the repository's
# target/python.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/python"
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  echo "ensure-deps: installing openapi-spec-validator into $venv" >&2
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator==0.9.0'
fi
requirements="$root/clients/python/requirements-dev.txt"
if ! cmp -s "$requirements" "$venv/.client-requirements"; then
  echo "ensure-deps: installing the Python client's requirements into $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.client-requirements"
fi
