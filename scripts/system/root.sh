#!/usr/bin/env bash
# A bootable Debian 12 system for an architecture, built with mmdebstrap and cached:
#
#   scripts/system/root.sh ARCH [PACKAGE...]     ARCH = arm64 or amd64; prints the cache directory
#
# The cache directory (.cache/system/ARCH-KEY, or under $BODYCAM_SYSTEM_CACHE) holds:
#   root/           the root file system (systemd, udev, kmod, iproute2, procps and the extra packages), root login
#                   without a password on the console, an empty /etc/fstab (whoever boots it mounts the root)
#   vmlinuz         Debian's own kernel for ARCH, unpacked on the host (installing it inside the root would run its
#                   maintainer scripts and initramfs-tools under emulation: ~26 min instead of ~2)
#   modules/        that kernel's modules (lib/modules/VERSION), indexed with depmod, for `modprobe -d`
#   kernel-version  e.g. 6.1.0-57-arm64
# KEY hashes this script and the package list, so a changed recipe builds a new root. A foreign architecture needs
# binfmt_misc with qemu-user-static's interpreter (registered here when missing: mmdebstrap runs the packages'
# maintainer scripts through it).
set -euo pipefail
arch=${1:?usage: scripts/system/root.sh ARCH [PACKAGE...]}
shift
extra=("$@")
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
base="${BODYCAM_SYSTEM_CACHE:-$repo/.cache/system}"
key="$( (cat "$0" && printf '%s\n' "${extra[@]}") | sha256sum | cut -c1-12)"
out="$base/$arch-$key"
if [ -f "$out/ready" ]; then
  echo "$out"
  exit 0
fi
case "$arch" in
amd64 | arm64) ;;
*)
  echo "root.sh: unknown architecture $arch (amd64 or arm64)" >&2
  exit 2
  ;;
esac
for tool in mmdebstrap dpkg depmod apt-get arch-test; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] ||
    { echo "root.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 3; }
done
export PATH="$PATH:/usr/sbin:/sbin"

host="$(dpkg --print-architecture)"
if [ "$arch" != "$host" ]; then
  qemu=$([ "$arch" = arm64 ] && echo aarch64 || echo x86_64)
  [ -f "/usr/lib/binfmt.d/qemu-$qemu.conf" ] || { echo "root.sh: qemu-user-static is missing" >&2; exit 3; }
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ]; then
    echo "root.sh: registering qemu-$qemu with binfmt_misc" >&2
    cat "/usr/lib/binfmt.d/qemu-$qemu.conf" >/proc/sys/fs/binfmt_misc/register
  fi
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    apt-get update -qq
  fi
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
packages="systemd-sysv,udev,kmod,iproute2,procps"
for p in "${extra[@]}"; do packages="$packages,$p"; done
echo "root.sh: mmdebstrap bookworm for $arch ($packages)" >&2
# A build here once left the host's /dev/null at mode 0644 (seen right after this step for arm64; cause not found),
# which breaks every later program writing to it as another user (PostgreSQL's initdb among them): checked after.
null_mode="$(stat -c %a /dev/null)"
mmdebstrap --quiet --arch="$arch" --variant=apt --include="$packages" \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook='echo bodycam-vm >"$1/etc/hostname"' \
  --customize-hook=': >"$1/etc/fstab"' \
  bookworm "$out.tmp/root" 2>&1 | grep -v '^W: ' >&2 || true
if [ "$(stat -c %a /dev/null)" != "$null_mode" ]; then
  echo "root.sh: the host's /dev/null was left at mode $(stat -c %a /dev/null): put back to $null_mode" >&2
  chmod "$null_mode" /dev/null
fi
[ -x "$out.tmp/root/sbin/init" ] || { echo "root.sh: mmdebstrap did not make a root" >&2; exit 1; }

# The kernel, unpacked on the host.
mkdir -p "$out.tmp/debs"
(
  cd "$out.tmp/debs"
  apt-get download -q "linux-image-$arch:$arch" 2>&1 | grep -v 'unsandboxed' >&2 || true
  meta="$(ls linux-image-"$arch"_*.deb)"
  image="$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/ .*//; s/^ *//' | grep '^linux-image-[0-9]' | head -n1)"
  apt-get download -q "$image:$arch" 2>&1 | grep -v 'unsandboxed' >&2 || true
)
dpkg -x "$(ls "$out.tmp"/debs/linux-image-[0-9]*.deb)" "$out.tmp/kernel"
version="$(ls "$out.tmp/kernel/lib/modules")"
mkdir -p "$out.tmp/modules/lib"
mv "$out.tmp/kernel/lib/modules" "$out.tmp/modules/lib/modules"
depmod -b "$out.tmp/modules" "$version"
cp "$out.tmp/kernel/boot/vmlinuz-$version" "$out.tmp/vmlinuz"
echo "$version" >"$out.tmp/kernel-version"
rm -rf "$out.tmp/debs" "$out.tmp/kernel"

rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/ready"
echo "$out"
