#!/usr/bin/env bash
# System test, step 1: what a fresh Debian 12 machine is made of, cached under .cache/system (or $BODYCAM_SYSTEM_CACHE):
# - a bookworm amd64 root built by mmdebstrap with systemd and what the bodycam package depends on and recommends,
#   as root.tar, keyed by its package list and this script (rebuilt when either changes);
# - Debian's own kernel (the device lab's: scripts/lab/build.sh) and a busybox initramfs that mounts an ext4 root on
#   /dev/vda and starts its systemd (scripts/system/init).
# Prints the cache directory. Exit 3 when a tool is missing (scripts/setup.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${BODYCAM_SYSTEM_CACHE:-$repo/.cache/system}"
export PATH="$PATH:/usr/sbin:/sbin"

# The root's packages: init and device handling, what the package Depends on and Recommends (mosquitto, openssl),
# age for decrypting in the guest, and the tools the checks use.
PACKAGES=(systemd-sysv udev ffmpeg alsa-utils espeak-ng mosquitto openssl age procps iproute2 kmod ca-certificates)

for tool in mmdebstrap mkfs.ext4 cpio busybox qemu-system-x86_64; do
  command -v "$tool" >/dev/null 2>&1 || { echo "system build: $tool is missing (scripts/setup.sh installs it)" >&2; exit 3; }
done
mkdir -p "$cache"

# The kernel: the device lab's (fetched and unpacked once).
lab="$(bash "$repo/scripts/lab/build.sh" | tail -n 1)"
version="$(cat "$lab/kernel-version")"

# The initramfs: busybox and the modules that reach an ext4 root on a virtio disk, in load order.
want_ird="$(cat "$here/init" "$here/build.sh" "$lab/kernel-version" | sha256sum | cut -c1-16)"
if [ "$(cat "$cache/initramfs.key" 2>/dev/null)" != "$want_ird" ]; then
  ird="$cache/initramfs.tmp"
  rm -rf "$ird"
  mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/newroot"
  cp "$(command -v busybox)" "$ird/bin/busybox"
  install -m 0755 "$here/init" "$ird/init"
  n=0
  for mod in virtio_pci virtio_blk ext4 crc32c_generic; do
    modprobe -d "$lab/kernel" -S "$version" --show-depends "$mod" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' | while read -r ko; do
    n=$((n + 1))
    case "$ko" in
      *.ko.xz) xz -dc "$ko" >"$ird/modules/$(printf '%02d' "$n")-$(basename "$ko" .xz)" ;;
      *) cp "$ko" "$ird/modules/$(printf '%02d' "$n")-$(basename "$ko")" ;;
    esac
  done
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 >"$cache/initramfs.gz")
  rm -rf "$ird"
  echo "$want_ird" >"$cache/initramfs.key"
fi
cp "$lab/vmlinuz" "$cache/vmlinuz"

# The root: bookworm from the host's own Debian sources, with systemd as init, and the /etc/hosts every installed
# Debian has (mmdebstrap writes none; without it `localhost` goes to DNS, which the VM lacks: EAI_AGAIN).
want_root="$(printf '%s\n' "${PACKAGES[@]}" | cat - "$here/build.sh" | sha256sum | cut -c1-16)"
if [ "$(cat "$cache/root.key" 2>/dev/null)" != "$want_root" ]; then
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=/etc/apt/sources.list
  started=$SECONDS
  rm -rf "$cache/root.tar.tmp" "$cache/root.tmp.tar"
  mmdebstrap --quiet --mode=root --variant=apt --architectures=amd64 \
    --include="$(
      IFS=,
      echo "${PACKAGES[*]}"
    )" \
    --customize-hook='echo bodycam-system >"$1/etc/hostname"' \
    --customize-hook='printf "127.0.0.1\tlocalhost\n127.0.1.1\tbodycam-system\n::1\tlocalhost ip6-localhost ip6-loopback\n" >"$1/etc/hosts"' \
    --customize-hook='rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
    bookworm "$cache/root.tmp.tar" "$sources" >&2
  mv "$cache/root.tmp.tar" "$cache/root.tar"
  echo "$want_root" >"$cache/root.key"
  echo "system build: root built in $((SECONDS - started)) s ($(du -h "$cache/root.tar" | cut -f1))" >&2
fi
echo "$cache"
