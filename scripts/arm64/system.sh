#!/usr/bin/env bash
# Everything the arm64 system test boots, built and cached: the Debian arm64 root (scripts/system/root.sh, with
# ffmpeg for capture and passwd for the service user), gpio-sim and irq_sim cross-built for its kernel and added to
# its modules, an initramfs (busybox-static for arm64, the virtio, 9p and overlay modules, scripts/arm64/system/init),
# and the application as the device runs it (scripts/arm64/lib.sh: dist/, production node_modules for arm64, Node 24
# for arm64). Prints one JSON line with the paths.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/arm64/lib.sh
source "$here/lib.sh"
export PATH="$PATH:/usr/sbin:/sbin"

root_dir=$(bash "$ARM64_REPO/scripts/system/root.sh" arm64 ffmpeg passwd)
version=$(cat "$root_dir/kernel-version")
extra="$root_dir/modules/lib/modules/$version/extra"
sim=$(bash "$ARM64_REPO/scripts/lab/gpio-modules.sh" arm64 "$version" "$ARM64_CACHE/gpio-sim-$version")
if ! cmp -s "$sim/gpio-sim.ko" "$extra/gpio-sim.ko" 2>/dev/null; then
  mkdir -p "$extra"
  cp "$sim/gpio-sim.ko" "$sim/irq_sim.ko" "$extra/"
  depmod -b "$root_dir/modules" "$version"
fi

initrd="$ARM64_CACHE/system-initramfs-$(cat "$here/system/init" "$0" "$root_dir/kernel-version" | sha256sum | cut -c1-12).gz"
if [ ! -f "$initrd" ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download -q busybox-static:arm64 2>&1 | grep -v unsandboxed >&2 || true)
  dpkg -x "$work"/busybox-static_*.deb "$work/bb"
  ird="$work/initramfs"
  mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev"
  cp "$work/bb/bin/busybox" "$ird/bin/busybox"
  cp "$here/system/init" "$ird/init"
  chmod 755 "$ird/init"
  n=0
  for mod in virtio_pci virtio_mmio virtio_rng 9pnet_virtio 9p overlay; do
    modprobe -d "$root_dir/modules" -S "$version" --show-depends "$mod" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' | while read -r ko; do
    n=$((n + 1))
    cp "$ko" "$ird/modules/$(printf '%02d' "$n")-$(basename "$ko")"
  done
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 >"$initrd.tmp")
  mv "$initrd.tmp" "$initrd"
  rm -rf "$work"
fi

arm64_prepare
app=$ARM64_CACHE/app
arm64_assemble_app "$app" >&2
# Node for arm64 lives in the build cache (scripts/package/lib.sh); the VM sees only $ARM64_CACHE, so it gets a copy.
node_dir=$ARM64_CACHE/$(basename "$ARM64_NODE_DIR")
if [ ! -x "$node_dir/bin/node" ]; then
  rm -rf "$node_dir.tmp"
  cp -a "$ARM64_NODE_DIR" "$node_dir.tmp"
  mv "$node_dir.tmp" "$node_dir"
fi
printf '{"root":"%s","kernel":"%s","modules":"%s","initrd":"%s","kernelVersion":"%s","arm64":"%s","app":"%s","node":"%s"}\n' \
  "$root_dir/root" "$root_dir/vmlinuz" "$root_dir/modules/lib/modules" "$initrd" "$version" "$ARM64_CACHE" \
  "/opt/arm64/app" "/opt/arm64/$(basename "$node_dir")/bin/node"
