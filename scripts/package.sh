#!/usr/bin/env bash
# Builds the release artifacts from a clean checkout, into target/artifacts (or $OUT):
#
#   proverka-<v>-x86_64-linux-musl.tar.gz   proverka and proverka-proxy, static (musl)
#   proverka-<v>-x86_64-windows.zip         proverka.exe
#   proverka-proxy_<v>-1_amd64.deb          the proxy, its systemd unit, user and config
#   proverka_<v>-1_amd64.deb                the command line
#   SHA256SUMS
#
# Every archive and package carries README.md, both license texts and the example config.
# `--version` of each binary says the workspace version and the git commit.
#
#   bash scripts/package.sh            # then: bash scripts/test-artifacts.sh
#
# Installs what the build lacks (musl-tools, the mingw-w64 cross compiler, the two Rust targets);
# nothing is fetched beyond the Debian and crates.io registries.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
OUT=${OUT:-$root/target/artifacts}
export CARGO_TERM_COLOR=never

linux=x86_64-unknown-linux-musl
windows=x86_64-pc-windows-gnu

# --- what the build needs ------------------------------------------------------------------
need=()
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "package: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
installed=$(rustup target list --installed)
for t in "$linux" "$windows"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

version=$(cargo pkgid --locked -p proverka-proxy | sed 's/.*[#@]//')
commit=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
# Archives get the commit's time, so the same commit packs the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
echo "package: proverka $version ($commit) into $OUT"

# --- the binaries ----------------------------------------------------------------------------
# The dist profile (Cargo.toml): release, no debug info, symbols stripped.
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --locked --profile dist --target "$linux" -p proverka-proxy -p proverka-cli
CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
  cargo build --locked --profile dist --target "$windows" -p proverka-cli
bin_linux=$root/target/$linux/dist
bin_windows=$root/target/$windows/dist
for b in proverka proverka-proxy; do
  # Static: no interpreter and no shared library, so it runs on any x86_64 Linux.
  if readelf -l "$bin_linux/$b" | grep -q 'INTERP' || readelf -d "$bin_linux/$b" | grep -q NEEDED; then
    echo "package: $b is not a static binary" >&2
    exit 1
  fi
  "$bin_linux/$b" --version | grep -qF "$version ($commit" || {
    echo "package: $b --version does not say $version ($commit…)" >&2
    exit 1
  }
done

rm -rf "$OUT"
mkdir -p "$OUT"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The files every artifact carries.
common() {
  install -m 0644 README.md LICENSE-MIT LICENSE-APACHE proverka.example.toml "$1/"
}

# --- archives --------------------------------------------------------------------------------
name=proverka-$version-x86_64-linux-musl
mkdir -p "$stage/$name"
install -m 0755 "$bin_linux/proverka" "$bin_linux/proverka-proxy" "$stage/$name/"
common "$stage/$name"
install -m 0644 packaging/proverka-proxy.service docs/examples/contractors.csv "$stage/$name/"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -czf "$OUT/$name.tar.gz" "$name"

name=proverka-$version-x86_64-windows
mkdir -p "$stage/$name"
install -m 0755 "$bin_windows/proverka.exe" "$stage/$name/"
common "$stage/$name"
install -m 0644 docs/examples/contractors.csv "$stage/$name/"
# Windows readers expect CRLF in the text files they open with Notepad.
for f in README.md LICENSE-MIT LICENSE-APACHE proverka.example.toml; do
  sed -i 's/\r*$/\r/' "$stage/$name/$f"
done
# python3's zipfile: no `zip` package needed; entries in name order, stamped with the commit.
python3 - "$stage" "$name" "$OUT/$name.zip" <<'PY'
import os, sys, time, zipfile
stage, name, out = sys.argv[1:]
stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(os.path.join(stage, name))):
        info = zipfile.ZipInfo(f"{name}/{f}", stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o100755 << 16 if f.endswith(".exe") else 0o100644 << 16
        with open(os.path.join(stage, name, f), "rb") as src:
            z.writestr(info, src.read())
PY

# --- Debian packages -------------------------------------------------------------------------
# Hand-made with dpkg-deb (Debian's own tool, always present): two static binaries need no
# shlibs, and the maintainer scripts are ours to read in packaging/deb. cargo-deb would be one
# more tool to build on every CI run for the same result.
deb_docs() { # package root, package name
  local doc=$1/usr/share/doc/$2
  install -d "$doc"
  install -m 0644 README.md LICENSE-MIT LICENSE-APACHE proverka.example.toml "$doc/"
  gzip -9n <CHANGELOG.md >"$doc/changelog.gz"
  cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: proverka
Source: https://example.invalid/proverka

Files: *
Copyright: the proverka authors
License: MIT or Apache-2.0
 The full texts are in /usr/share/doc/$2/LICENSE-MIT and
 /usr/share/doc/$2/LICENSE-APACHE.
EOF
}
deb_control() { # package root, package name, section, depends, short description, long description
  install -d "$1/DEBIAN"
  cat >"$1/DEBIAN/control" <<EOF
Package: $2
Version: $version-1
Architecture: amd64
Maintainer: proverka maintainers <proverka@example.invalid>
Section: $3
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$1" | cut -f1)
Homepage: https://example.invalid/proverka
${4:+Depends: $4
}Description: $5
$6
EOF
}
# The --help text, readable where the binary is not at hand.
help_text() { # binary, output file
  "$1" --help >"$2"
  chmod 0644 "$2"
}

pkg=$stage/deb-proxy
install -D -m 0755 "$bin_linux/proverka-proxy" "$pkg/usr/bin/proverka-proxy"
install -D -m 0644 packaging/proverka-proxy.service "$pkg/lib/systemd/system/proverka-proxy.service"
# Watch lists' timer, beside the proxy's unit (the proverka package's command runs it; not
# enabled: `systemctl enable --now proverka-watch.timer`, docs/watch.md).
install -m 0644 packaging/proverka-watch.service packaging/proverka-watch.timer "$pkg/lib/systemd/system/"
# The example, with the store of record in the service's state directory (not an environment
# setting in the unit, which would silently override an operator's store_path).
install -d "$pkg/etc/proverka"
sed 's|^# store_path = "/var/lib/proverka/store.sqlite"$|store_path = "/var/lib/proverka/store.sqlite"|' \
  proverka.example.toml >"$pkg/etc/proverka/proverka.toml"
grep -q '^store_path = "/var/lib/proverka/store.sqlite"$' "$pkg/etc/proverka/proverka.toml" || {
  echo "package: proverka.example.toml lost its store_path line" >&2
  exit 1
}
chmod 0644 "$pkg/etc/proverka/proverka.toml"
deb_docs "$pkg" proverka-proxy
help_text "$bin_linux/proverka-proxy" "$pkg/usr/share/doc/proverka-proxy/proverka-proxy.help.txt"
# passwd: useradd and groupadd, for the service's user (postinst).
deb_control "$pkg" proverka-proxy net passwd \
  "caching proxy for paid Russian check APIs (FSSP, court, NPD, Alfa-Bank)" \
  " proverka-proxy sits in front of the providers' paid check APIs: a query the company has
 paid for is never paid again, budgets are reserved before a paid call, and every provider
 call leaves a ledger record in the store of record (/var/lib/proverka).
 .
 The service is installed, not started: give it its credentials, then
 systemctl enable --now proverka-proxy (see /usr/share/doc/proverka-proxy/README.md)."
install -m 0755 packaging/deb/proverka-proxy/postinst packaging/deb/proverka-proxy/prerm \
  packaging/deb/proverka-proxy/postrm "$pkg/DEBIAN/"
echo /etc/proverka/proverka.toml >"$pkg/DEBIAN/conffiles"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$OUT/proverka-proxy_${version}-1_amd64.deb" >/dev/null

pkg=$stage/deb-cli
install -D -m 0755 "$bin_linux/proverka" "$pkg/usr/bin/proverka"
deb_docs "$pkg" proverka
install -m 0644 docs/cli.md docs/examples/contractors.csv "$pkg/usr/share/doc/proverka/"
help_text "$bin_linux/proverka" "$pkg/usr/share/doc/proverka/proverka.help.txt"
deb_control "$pkg" proverka utils "" \
  "command line for paid Russian check APIs: one query or whole Excel lists" \
  " proverka checks one query or a whole CSV, XLSX or JSONL list against FSSP, court
 jurisdiction, NPD and Alfa-Bank, straight or through proverka-proxy, resumably and
 without paying twice for a query. proverka --sandbox tries it with no token."
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$OUT/proverka_${version}-1_amd64.deb" >/dev/null

# --- checksums -------------------------------------------------------------------------------
(cd "$OUT" && sha256sum -- *.tar.gz *.zip *.deb >SHA256SUMS)
echo "package: done"
ls -l "$OUT"
