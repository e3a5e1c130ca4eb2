#!/usr/bin/env bash
# The artifacts of scripts/package.sh, tested as a user installs them (CI runs this after the
# package script; .ci/run):
#
#   1. SHA256SUMS matches every artifact; each carries README, both licenses, the example config.
#   2. The musl binaries from the .tar.gz, in an empty directory with an empty environment (no
#      Rust, no target/): --version, a sandbox check, a batch CSV -> XLSX read back by openpyxl,
#      and the proxy's --check-config.
#   3. The .deb files installed with dpkg -i: the user, the state directory, the conffile;
#      `systemd-analyze verify` of the installed unit; proverka-proxy --check-config with the
#      installed config as the service's user; then started as the unit starts it (its user, its
#      working directory and environment) with --sandbox, answering the five providers' routes
#      and /readyz, stopped by SIGTERM; an upgrade keeps an edited config; removed and purged.
#   4. proverka.exe from the .zip under wine: --version, a --sandbox check and a batch
#      CSV -> XLSX read back by openpyxl.
#
#   bash scripts/package.sh && bash scripts/test-artifacts.sh
#
# It installs and removes the packages system-wide, so it refuses to run where proverka-proxy
# or proverka is already installed (a machine of yours, not a CI machine). Needs root for dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ART=${ART:-$root/target/artifacts}
export CARGO_TERM_COLOR=never

fail() { echo "test-artifacts: FAIL: $*" >&2; exit 1; }
# A command that fails outside a check still says where.
trap 'echo "test-artifacts: FAIL at line $LINENO: $BASH_COMMAND" >&2' ERR
ok() { echo "test-artifacts: ok: $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i); run it on a CI machine"
need=()
command -v wine >/dev/null 2>&1 || need+=(wine)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1 || need+=(python3-openpyxl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "test-artifacts: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
chmod 0755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # A failed run leaves no package behind.
  dpkg --purge proverka-proxy proverka >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. checksums and contents -------------------------------------------------------------
(cd "$ART" && sha256sum --check --strict SHA256SUMS) || fail "SHA256SUMS"
tarball=$(ls "$ART"/proverka-*-x86_64-linux-musl.tar.gz)
zipfile=$(ls "$ART"/proverka-*-x86_64-windows.zip)
deb_proxy=$(ls "$ART"/proverka-proxy_*_amd64.deb)
deb_cli=$(ls "$ART"/proverka_*_amd64.deb)
version=$(basename "$tarball" | sed 's/^proverka-\(.*\)-x86_64-linux-musl.tar.gz$/\1/')
# (Listings read whole first: `grep -q` on a pipe would cut it short under pipefail.)
in_tar=$(tar -tzf "$tarball")
in_zip=$(python3 -m zipfile -l "$zipfile")
for f in README.md LICENSE-MIT LICENSE-APACHE proverka.example.toml; do
  grep -qx "proverka-$version-x86_64-linux-musl/$f" <<<"$in_tar" || fail "$f not in $tarball"
  grep -q "^proverka-$version-x86_64-windows/$f " <<<"$in_zip" || fail "$f not in $zipfile"
done
for deb in "$deb_proxy" "$deb_cli"; do
  in_deb=$(dpkg-deb -c "$deb")
  for f in LICENSE-MIT LICENSE-APACHE README.md copyright; do
    grep -q "/usr/share/doc/[a-z-]*/$f$" <<<"$in_deb" || fail "$f not in $deb"
  done
done
ok "checksums; README, licenses and the example config in every artifact"

# Reads column HEADER of the first sheet of an XLSX with openpyxl (not calamine, which wrote
# nothing but is what the command line reads with): one value per row, empty as "".
column() { # file, header
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]
rows = list(sheet.iter_rows(values_only=True))
at = list(rows[0]).index(sys.argv[2])
print("|".join("" if r[at] is None else str(r[at]) for r in rows[1:]))
PY
}
# The sandbox's answers for docs/examples/contractors.csv (docs/cli.md shows the same as CSV).
check_batch() { # xlsx file, what ran it
  local status selfemployed
  status=$(column "$1" "статус") || fail "$2: $1 cannot be read back"
  selfemployed=$(column "$1" "самозанятый")
  [ "$status" = "готово|готово|готово|неверная строка" ] || fail "$2: statuses $status"
  [ "$selfemployed" = "да|нет|да|" ] || fail "$2: self-employed $selfemployed"
}

# --- 2. the musl binaries, from an empty directory ----------------------------------------
musl=$work/musl
mkdir -p "$musl/home"
tar -C "$musl" -xzf "$tarball"
dir=$musl/proverka-$version-x86_64-linux-musl
bare() { # a command with nothing of this machine's environment
  (cd "$dir" && env -i PATH=/usr/bin:/bin HOME="$musl/home" "$@")
}
bare ./proverka --version | grep -q "^proverka $version (" || fail "musl proverka --version"
bare ./proverka-proxy --version | grep -q "^proverka-proxy $version (" || fail "musl proverka-proxy --version"
out=$(bare ./proverka --sandbox npd --inn 540304378234 --date 2024-03-01) || fail "musl sandbox check: $out"
grep -Eq "^self_employed +true" <<<"$out" || fail "musl sandbox check says: $out"
bare ./proverka --sandbox batch --input contractors.csv --check npd --out checked.xlsx --yes >/dev/null ||
  fail "musl batch"
check_batch "$dir/checked.xlsx" "musl batch"
bare ./proverka-proxy --config proverka.example.toml --check-config >/dev/null || fail "musl --check-config"
ok "musl binaries from an empty directory: --version, a sandbox check, a batch to XLSX, --check-config"

# --- 3. the Debian packages ----------------------------------------------------------------
for p in proverka-proxy proverka; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    fail "$p is installed on this machine already: this test installs and purges it; run it on CI"
  fi
done
dpkg -i "$deb_proxy" "$deb_cli" >/dev/null || fail "dpkg -i"
getent passwd proverka >/dev/null || fail "no proverka user"
[ "$(stat -c '%U:%G %a' /var/lib/proverka)" = "proverka:proverka 750" ] || fail "/var/lib/proverka: $(stat -c '%U:%G %a' /var/lib/proverka)"
[ "$(stat -c '%U:%G %a' /etc/proverka/proverka.toml)" = "root:proverka 640" ] || fail "config permissions"
dpkg-query -W -f='${Conffiles}' proverka-proxy | grep -q "/etc/proverka/proverka.toml" || fail "not a conffile"
# The packaged config is the example with the store in the state directory.
diff <(grep -v '^store_path = ' /etc/proverka/proverka.toml) <(grep -v '^# store_path = ' /usr/share/doc/proverka-proxy/proverka.example.toml) >/dev/null ||
  fail "/etc/proverka/proverka.toml is not the example"
/usr/bin/proverka --version | grep -q "^proverka $version (" || fail "installed proverka --version"
unit=/lib/systemd/system/proverka-proxy.service
complaints=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $complaints"
if grep -q "proverka-proxy.service" <<<"$complaints"; then fail "systemd-analyze verify: $complaints"; fi
# The watch lists' service and timer, installed beside it (not enabled), run the command the
# other package installed.
for watch_unit in /lib/systemd/system/proverka-watch.service /lib/systemd/system/proverka-watch.timer; do
  [ -f "$watch_unit" ] || fail "$watch_unit is not installed"
  complaints=$(systemd-analyze verify "$watch_unit" 2>&1) || fail "systemd-analyze verify $watch_unit: $complaints"
  if grep -q "proverka-watch" <<<"$complaints"; then fail "systemd-analyze verify: $complaints"; fi
done

# The service as its unit runs it: its user and group, its working directory, its umask and
# environment, its command line split as systemd splits it. One simple command, so that a
# background job's PID is the proxy's own (for SIGTERM).
unit_env=()
while IFS= read -r line; do unit_env+=("$line"); done < <(sed -n 's/^Environment=//p' "$unit")
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
as_service=(setpriv --reuid=proverka --regid=proverka --clear-groups
  env -i -C "$(sed -n 's/^WorkingDirectory=//p' "$unit")" PATH=/usr/bin:/bin "${unit_env[@]}"
  sh -c "umask $(sed -n 's/^UMask=//p' "$unit") && exec \"\$0\" \"\$@\"" "${exec_start[@]}")
"${as_service[@]}" --check-config >"$work/check.txt" || fail "--check-config: $(cat "$work/check.txt")"
grep -q "/var/lib/proverka/store.sqlite" "$work/check.txt" || fail "the store is not in the state directory: $(cat "$work/check.txt")"

log=$work/proxy.log
# Made first: the background job opens it in its own process, which `tail` may outrun.
: >"$log"
"${as_service[@]}" --sandbox --listen 127.0.0.1:0 2>"$log" &
pids+=($!)
# Waits on the "listening" line (an event: the socket queues connections from then on).
line=$(timeout 60 grep -m1 "proverka-proxy listening" <(tail -n +1 -f "$log")) || fail "never listened: $(cat "$log")"
port=${line##*addr=127.0.0.1:}
base=http://127.0.0.1:${port%% *}
expect() { # what, text it must contain, curl arguments…
  local what=$1 want=$2 body
  shift 2
  body=$(curl -sS --max-time 60 "$@") || fail "$what: no answer"
  grep -qF -- "$want" <<<"$body" || fail "$what: $body"
}
expect "fssp" '"records":[{' -G "$base/api/fssp.php" --data-urlencode type=physical \
  --data-urlencode lastname=Иванов --data-urlencode firstname=Иван \
  --data-urlencode birthdate=31.03.1980 --data-urlencode region=77
expect "court" 'Казань' -G "$base/api" --data-urlencode "address=Казань, Московская 1"
expect "npd" '"found":1,"success":1' "$base/parser/nalog_npd_api/?inn=540304378234"
expect "alfa" '"requestId":"4e817e78-5876-4608-a873-bcc141454045"' -H "Authorization: Bearer demo" \
  "$base/api/semp/v1/selfemployed/registries/add-selfemployed/4e817e78-5876-4608-a873-bcc141454045"
expect "fns" '"self_employed":true' "$base/v1/fns?inn=540304378234&date=2024-03-01"
expect "readyz" '"ready":true' "$base/readyz"
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || fail "the proxy did not stop cleanly on SIGTERM: $(cat "$log")"
unset 'pids[-1]'
[ "$(stat -c '%U %a' /var/lib/proverka/store.sqlite)" = "proverka 600" ] ||
  fail "the store is not the service user's alone: $(stat -c '%U %a' /var/lib/proverka/store.sqlite)"
ok "installed .deb: user, state directory, conffile, unit verified, --check-config, five routes and /readyz as the service"

# An upgrade (the same package again) keeps the operator's edit of the config.
echo "# edited by the operator" >>/etc/proverka/proverka.toml
dpkg -i "$deb_proxy" >/dev/null || fail "dpkg -i over an installed package"
grep -q "edited by the operator" /etc/proverka/proverka.toml || fail "the upgrade replaced an edited config"
dpkg -r proverka-proxy proverka >/dev/null || fail "dpkg -r"
for f in /usr/bin/proverka-proxy /usr/bin/proverka "$unit"; do
  [ ! -e "$f" ] || fail "$f left after dpkg -r"
done
[ -f /etc/proverka/proverka.toml ] || fail "dpkg -r removed the config (a conffile stays until purge)"
dpkg --purge proverka-proxy proverka >/dev/null || fail "dpkg --purge"
[ ! -e /etc/proverka ] || fail "/etc/proverka left after purge"
# The store of record (what was paid) stays on purpose (packaging/deb/proverka-proxy/postrm).
[ -f /var/lib/proverka/store.sqlite ] || fail "purge removed the store of record"
rm -rf /var/lib/proverka
userdel proverka
ok "upgrade keeps the edited config; remove leaves the config; purge leaves only the store"

# --- 4. proverka.exe under wine ------------------------------------------------------------
win=$work/windows
mkdir -p "$win"
python3 -m zipfile -e "$zipfile" "$win"
dir=$win/proverka-$version-x86_64-windows
# wine 8 lacks ProcessPrng, which Rust's standard library imports: a stand-in for the test
# only, never in an artifact (packaging/wine/bcryptprimitives.c).
x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" packaging/wine/bcryptprimitives.c -ladvapi32
export WINEPREFIX=$win/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# The new prefix made first, and waited for: a program's first run in a prefix still being made
# may lose its output (seen once in CI).
wineboot --init >/dev/null 2>&1 || fail "wineboot --init"
wineserver -w
wine_run() { (cd "$dir" && wine ./proverka.exe "$@") 2>"$win/wine.log"; }
wine_run --version | tr -d '\r' | grep -q "^proverka $version (" || fail "proverka.exe --version: $(cat "$win/wine.log")"
out=$(wine_run --sandbox npd --inn 540304378234 --date 2024-03-01) || fail "proverka.exe sandbox check: $(cat "$win/wine.log")"
tr -d '\r' <<<"$out" | grep -Eq "^self_employed +true" || fail "proverka.exe sandbox check says: $out"
wine_run --sandbox batch --input contractors.csv --check npd --out checked.xlsx --yes >/dev/null ||
  fail "proverka.exe batch: $(cat "$win/wine.log")"
check_batch "$dir/checked.xlsx" "proverka.exe batch"
ok "proverka.exe under wine: --version, a sandbox check, a batch to XLSX"
echo "test-artifacts: all passed"
