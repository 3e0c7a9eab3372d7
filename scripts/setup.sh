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
# (scripts/lab); GStreamer and python3-gi: the benchmark's comparison with a GStreamer pre-record pipeline
# (scripts/bench/compare; a value may name several packages); ceph-mon, ceph-osd, radosgw and ceph-common: the
# single-node Ceph cluster with the RADOS Gateway (S3 with Object Lock) that the object-storage tests and the store
# benchmark start (scripts/ceph).
declare -A providers=(
  [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [age]=age [espeak-ng]=espeak-ng [sox]=sox [aplay]=alsa-utils
  [mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [openssl]=openssl
  [qemu-system-x86_64]=qemu-system-x86 [modprobe]=kmod [depmod]=kmod [cpio]=cpio [busybox]=busybox-static
  [ceph-mon]=ceph-mon [ceph-osd]=ceph-osd [radosgw]=radosgw [radosgw-admin]=ceph-common [monmaptool]=ceph-base
  [gst-launch-1.0]="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad python3-gi gir1.2-gstreamer-1.0"
)
missing=()
for cmd in "${!providers[@]}"; do
  # Debian puts mosquitto in /usr/sbin, which is not on every user's PATH.
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || { read -ra pkgs <<<"${providers[$cmd]}"; missing+=("${pkgs[@]}"); }
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

if [ "$run_demo" -eq 1 ]; then
  npm run --silent demo
fi
