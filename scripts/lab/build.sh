#!/usr/bin/env bash
# Device lab, step 1: Debian's own kernel (linux-image-amd64, fetched with apt-get download, unpacked with dpkg -x,
# modules indexed with depmod -b) and a tiny initramfs (busybox-static, the virtio, netfs, fscache and 9p modules,
# scripts/lab/init) that mounts this machine's root over 9p and runs a command there. Built once under
# .cache/lab (or $BODYCAM_LAB_CACHE); prints the cache directory. A second run only checks the cache.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${BODYCAM_LAB_CACHE:-$repo/.cache/lab}"
stamp="$cache/ready"
# Rebuild when the guest's init changes.
want="$(sha256sum "$here/init" "$here/build.sh" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$cache"
  exit 0
fi

for tool in apt-get dpkg depmod modprobe cpio busybox; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] ||
    { echo "lab build: $tool is missing (scripts/setup.sh installs it)" >&2; exit 3; }
done
busybox="$(command -v busybox)"
# busybox must be the static build: the initramfs has no libc.
if ldd "$busybox" >/dev/null 2>&1; then
  echo "lab build: $busybox is dynamically linked; install busybox-static" >&2
  exit 3
fi
export PATH="$PATH:/usr/sbin:/sbin"

rm -rf "$cache.tmp"
mkdir -p "$cache.tmp/debs"
(
  cd "$cache.tmp/debs"
  apt-get download -q linux-image-amd64 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
  meta="$(ls linux-image-amd64_*.deb)"
  image="$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/ .*//; s/^ *//' | grep '^linux-image-[0-9]' | head -n1)"
  [ -n "$image" ] || { echo "lab build: no kernel package named by $meta" >&2; exit 1; }
  apt-get download -q "$image" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
)
kdeb="$(ls "$cache.tmp"/debs/linux-image-[0-9]*.deb)"
dpkg -x "$kdeb" "$cache.tmp/kernel"
version="$(ls "$cache.tmp/kernel/lib/modules")"
depmod -b "$cache.tmp/kernel" "$version"
cp "$cache.tmp/kernel/boot/vmlinuz-$version" "$cache.tmp/vmlinuz"
echo "$version" >"$cache.tmp/kernel-version"

# The initramfs: busybox, /init, and the modules that reach the 9p root, in load order.
ird="$cache.tmp/initramfs"
mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/newroot"
cp "$busybox" "$ird/bin/busybox"
cp "$here/init" "$ird/init"
chmod 755 "$ird/init"
n=0
for mod in virtio_pci virtio_rng 9pnet_virtio 9p; do
  modprobe -d "$cache.tmp/kernel" -S "$version" --show-depends "$mod" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  n=$((n + 1))
  cp "$ko" "$ird/modules/$(printf '%02d' "$n")-$(basename "$ko")"
done
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 >"$cache.tmp/initramfs.gz")
rm -rf "$cache.tmp/debs" "$ird"

rm -rf "$cache"
mv "$cache.tmp" "$cache"
echo "$want" >"$stamp"
echo "$cache"
