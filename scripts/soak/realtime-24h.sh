#!/bin/sh
# 24-hour real-time soak on camera hardware: the daemon runs for a day on the board's own capture (real camera,
# microphone, encoder and storage), recording at a fixed cadence, while its RSS, ffmpeg's RSS, open descriptors and
# the index are sampled into a CSV. The verdict at the end is the accelerated soak's (scripts/soak/verdict.ts);
# exit status 1 means growth beyond the evidence or a fault the camera reported.
#
#   scripts/soak/realtime-24h.sh --config /etc/bodycam/soak.json [options]
#
#   --config FILE  the camera config to run (default: a fresh sim camera, synthetic source at real time)
#   --hours H      length in hours of footage, = wall hours at real time (default 24)
#   --every M      minutes from one activation to the next (default 30; 0 = buffering only)
#   --record S     seconds each activation records (default 300)
#   --sample M     minutes between samples while buffering (default 5)
#   --out DIR      where samples.csv, soak.json and soak.log go (default ./soak-YYYYmmdd-HHMM)
#
# Activations are pressed through the control socket, which needs `gpio.driver: "sim"`: copy the camera's config,
# set that one key (capture, storage and speaker stay the real ones) and stop the service first
# (`systemctl stop bodycam`), since the script starts its own daemon with the production Node flags. With the real
# GPIO driver, pass --every 0 and press the record button by hand; the samples are the same.
# Evidence recorded by the soak stays in the config's storage directory like any other footage.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
config=""
hours=24
every=30
record=300
sample=5
out="soak-$(date +%Y%m%d-%H%M)"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --hours) hours=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --record) record=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
entry="$here/dist/cli/bodycam.js"
if [ ! -f "$entry" ] || [ -n "$(find "$here/src" -newer "$entry" -print -quit)" ]; then
  (cd "$here" && node_modules/.bin/tsc -p tsconfig.build.json) || exit 1
fi
set -- --hours "$hours" --speed 1 --every "$every" --record "$record" --sample "$sample" \
  --csv "$out/samples.csv" --json "$out/soak.json"
[ -n "$config" ] && set -- "$@" --config "$config"
echo "soak: $hours h, samples in $out/samples.csv, log in $out/soak.log"
"$here/node_modules/.bin/node" "$here/scripts/soak/accelerated.ts" "$@" 2>&1 | tee "$out/soak.log"
# The pipeline's status is tee's: read the verdict line instead.
grep -q '^verdict: flat' "$out/soak.log"
