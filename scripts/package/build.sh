#!/usr/bin/env bash
# npm run package -- --arch arm64|amd64: the Debian package release/bodycam_<version>_<arch>.deb, built here with
# Debian's own tools (dpkg-deb) from the production build of scripts/package/lib.sh: /opt/bodycam with its own Node 24
# and production node_modules for that architecture, /usr/bin/bodycam, the camera's and the dock's systemd units, the
# service user (sysusers.d), the GPIO udev rule, and the maintainer scripts in scripts/package/deb. Nothing is
# installed on the host and its configuration is never changed: a missing tool is named (exit 2); downloads and
# builds are cached under .cache/build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/package/lib.sh
source "$here/lib.sh"
repo=$BUILD_REPO

usage() {
  cat <<'USAGE'
usage: npm run package -- --arch arm64|amd64 [--out DIR]

Writes DIR/bodycam_<version>_<arch>.deb (DIR: release/). arm64 is the camera (Raspberry Pi OS 64-bit); amd64 is for
docks and the lab. Needs dpkg-deb, npm, make, python3 and a C++ compiler for the architecture (g++ or
g++-aarch64-linux-gnu): scripts/setup.sh installs them.
USAGE
}

arch=""
out=$repo/release
while (($# > 0)); do
  case "$1" in
    --arch)
      arch=${2:-}
      shift
      ;;
    --out)
      out=${2:?--out needs a directory}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "package: unknown option $1 (try --help)" >&2
      exit 2
      ;;
  esac
  shift
done
case "$arch" in
  arm64 | amd64) ;;
  *)
    echo "package: --arch arm64 or --arch amd64 is needed (got '${arch}')" >&2
    exit 2
    ;;
esac
command -v dpkg-deb >/dev/null 2>&1 || {
  echo "package: dpkg-deb is missing (Debian package dpkg)" >&2
  exit 2
}
build_ensure_tools "$arch"
strip_tool=strip
[ "$arch" = arm64 ] && strip_tool=aarch64-linux-gnu-strip
command -v "$strip_tool" >/dev/null 2>&1 || {
  echo "package: $strip_tool is missing (Debian package binutils$([ "$arch" = arm64 ] && echo -aarch64-linux-gnu))" >&2
  exit 2
}

# What a device needs of node_modules, for Debian's rules: only this architecture's glibc binaries (prebuilt packages
# carry every platform's), stripped and not executable; no build sources or intermediates, tests, docs, type
# declarations, source maps or dotfiles. Node loads all of it; nothing in it is run as a command. The Node binary
# is stripped too (its dynamic symbols, which addons link against, stay).
prune_for_package() {
  local app=$1 arch=$2 want strip=strip f
  want=$(build_want_machine "$arch")
  [ "$arch" = arm64 ] && strip=aarch64-linux-gnu-strip
  local nm=$app/node_modules
  rm -rf "$nm/.bin" "$nm/.package-lock.json" "$nm/better-sqlite3/deps" "$nm/better-sqlite3/src"
  find "$nm" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name fixture -o -name fixtures -o -name .github -o -name example \
    -o -name examples -o -name docs -o -name doc -o -name benchmarks -o -name obj.target -o -name .deps \) -exec rm -rf {} +
  # Hidden directories too (editor settings some packages publish): a release bundle (`bodycam bundle pack` of this
  # tree) takes no hidden path, nor a name with a space (test fixtures, removed above).
  find "$nm" -depth -mindepth 1 -type d -name '.*' -exec rm -rf {} +
  find "$nm" -type f \( -name '*.md' -o -name '*.markdown' -o -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' \
    -o -name '*.d.cts' -o -name '.*' -o -name '*.gyp' -o -name '*.gypi' -o -name Makefile -o -name '*.mk' \
    -o -name '*.target.mk' -o -name config.gypi -o -name '*.Makefile' \) -delete
  while IFS= read -r -d '' f; do
    case "$f" in
      *musl*) rm -f "$f" ;;
      *) [ "$(build_elf_machine "$f")" = "$want" ] || rm -f "$f" ;;
    esac
  done < <(find "$nm" -name '*.node' -type f -print0)
  find "$nm" -type f -exec chmod 0644 {} +
  find "$nm" -name '*.node' -type f -exec "$strip" --strip-unneeded {} +
  "$strip" --strip-unneeded "$app/node/bin/node"
}

started=$SECONDS
version=$(build_release)
maintainer=${BODYCAM_MAINTAINER:-"bodycam maintainers <maintainers@bodycam.invalid>"}
stage=$BUILD_CACHE/$arch/deb
root=$stage/bodycam_${version}_$arch
rm -rf "$stage"
mkdir -p "$root/DEBIAN"

# /opt/bodycam: the application, its Node and the command.
app=$root/opt/bodycam
build_assemble_app "$arch" "$app"
mkdir -p "$app/node/bin" "$app/bin"
install -m 0755 "$BUILD_NODE_DIR/bin/node" "$app/node/bin/node"
install -m 0644 "$BUILD_NODE_DIR/LICENSE" "$app/node/LICENSE"
install -m 0755 "$here/deb/bodycam" "$app/bin/bodycam"
install -m 0755 "$here/deb/bodycam-start" "$app/bin/bodycam-start"
prune_for_package "$app" "$arch"
mkdir -p "$root/usr/bin"
ln -s /opt/bodycam/bin/bodycam "$root/usr/bin/bodycam"

# The system's side: units, service user, udev rule.
install -D -m 0644 "$repo/hardware/systemd/bodycam.service" "$root/lib/systemd/system/bodycam.service"
install -D -m 0644 "$repo/hardware/systemd/bodycam-dock.service" "$root/lib/systemd/system/bodycam-dock.service"
install -D -m 0644 "$repo/hardware/sysusers/bodycam.conf" "$root/usr/lib/sysusers.d/bodycam.conf"
install -D -m 0644 "$repo/hardware/udev/60-bodycam-gpio.rules" "$root/lib/udev/rules.d/60-bodycam-gpio.rules"

# Documentation: copyright, the changelog (Debian's format for dpkg, the project's own beside it), the guides.
doc=$root/usr/share/doc/bodycam
install -D -m 0644 "$here/deb/copyright" "$doc/copyright"
date_line=$("$BUILD_HOST_NODE" -e '
  const m = /^## (\S+) \((\d{4}-\d{2}-\d{2})\)/m.exec(require("node:fs").readFileSync(process.argv[1], "utf8"));
  if (!m || m[1] !== process.argv[2]) { console.error(`CHANGELOG.md has no entry for ${process.argv[2]} first`); process.exit(1); }
  console.log(new Date(`${m[2]}T12:00:00Z`).toUTCString().replace("GMT", "+0000"));
' "$repo/CHANGELOG.md" "$version")
{
  printf 'bodycam (%s) stable; urgency=medium\n\n' "$version"
  printf '  * Release %s: see /usr/share/doc/bodycam/CHANGELOG.md.gz.\n\n' "$version"
  printf ' -- %s  %s\n' "$maintainer" "$date_line"
} | gzip -9n >"$doc/changelog.gz"
gzip -9nc "$repo/CHANGELOG.md" >"$doc/CHANGELOG.md.gz"
gzip -9nc "$repo/README.md" >"$doc/README.md.gz"
install -m 0644 "$repo/docs/technician-guide.md" "$doc/technician-guide.md"
install -D -m 0644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/bodycam"

# Maintainer scripts and control.
for script in postinst prerm postrm; do install -m 0755 "$here/deb/$script" "$root/DEBIAN/$script"; done
depends='libc6 (>= 2.28), libgcc-s1, libstdc++6 (>= 5.2), systemd, init-system-helpers (>= 1.52), ffmpeg, alsa-utils, espeak-ng'
recommends='mosquitto, openssl'
[ "$arch" = arm64 ] && recommends="$recommends, rpicam-apps"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: bodycam
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: $recommends
Suggests: age
Section: video
Priority: optional
Description: firmware for police body-worn cameras and their dock station
 bodycam keeps the last 30 seconds of video in RAM only and, on a press of the
 record button, writes them and everything after them to age-encrypted
 segments that only the evidence custodians can decrypt, each signed and
 chained so that any change shows. The dock station pulls the footage from
 docked cameras over MQTT with TLS client certificates, verifies it and keeps
 it.
 .
 This package runs its own Node.js 24 from /opt/bodycam, installs the camera's
 (bodycam.service) and the dock's (bodycam-dock.service) systemd units, the
 bodycam system user (groups video, audio, gpio, i2c) and the GPIO udev rule
 of Raspberry Pi OS where the system lacks it. Removing or purging it never
 deletes evidence.
CONTROL
# md5sums of every file (not the links), as dpkg --verify reads them.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') \
  >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/bodycam_${version}_$arch.deb
build_log "staged in $((SECONDS - started)) s; compressing"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "package: wrote $deb ($(du -h "$deb" | cut -f1), Node $(build_node_version) for $arch) in $((SECONDS - started)) s"
