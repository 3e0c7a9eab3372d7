#!/usr/bin/env bash
# Builds the kernel's GPIO simulator for a Debian 6.1 kernel that does not ship it: gpio-sim and irq_sim (which it
# needs; not set in Debian either), out of tree, from Debian's own linux-source-6.1 against the matching
# linux-headers (fetched with apt-get download and unpacked, never installed, so they always match the kernel the
# lab boots, whatever is installed on this machine). For arm64 it cross-builds with gcc-aarch64-linux-gnu.
#
#   scripts/lab/gpio-modules.sh ARCH KERNEL_VERSION OUT_DIR    e.g. amd64 6.1.0-57-amd64 .cache/lab/gpio-sim
#
# Leaves gpio-sim.ko and irq_sim.ko in OUT_DIR (built once: a stamp keyed by the kernel version and this script).
# Two changes to irq_sim.c make it build as a module of 6.1: `irq_to_desc()` is not exported there, so
# `handle_simple_irq(irq_to_desc(irq))` becomes `generic_handle_irq(irq)` (which looks the descriptor up and runs the
# same flow handler), and a module needs a MODULE_LICENSE. The modules are unsigned: the kernel loads them and logs a
# taint (Debian does not force signatures).
set -euo pipefail
arch=${1:?usage: gpio-modules.sh ARCH KERNEL_VERSION OUT_DIR}
version=${2:?usage: gpio-modules.sh ARCH KERNEL_VERSION OUT_DIR}
out=${3:?usage: gpio-modules.sh ARCH KERNEL_VERSION OUT_DIR}
here="$(cd "$(dirname "$0")" && pwd)"
source_tar=/usr/src/linux-source-6.1.tar.xz
want="$version $(sha256sum "$0" | cut -c1-16)"
if [ -f "$out/ready" ] && [ "$(cat "$out/ready")" = "$want" ]; then
  echo "$out"
  exit 0
fi

case "$arch" in
amd64) make_arch=(ARCH=x86) ;;
arm64) make_arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
*)
  echo "gpio-modules: unknown architecture $arch (amd64 or arm64)" >&2
  exit 2
  ;;
esac
flavour=${version#*-*-} # 6.1.0-57-amd64 -> amd64
abi=${version%-"$flavour"}
missing=()
[ -f "$source_tar" ] || missing+=("linux-source-6.1 ($source_tar)")
command -v make >/dev/null || missing+=(make)
command -v gcc-12 >/dev/null || missing+=("gcc-12 (package gcc)")
[ "$arch" = amd64 ] || command -v aarch64-linux-gnu-gcc-12 >/dev/null || missing+=(gcc-aarch64-linux-gnu)
if ((${#missing[@]} > 0)); then
  echo "gpio-modules: missing ${missing[*]}: scripts/setup.sh installs them" >&2
  exit 3
fi

work="$out.tmp"
rm -rf "$work"
mkdir -p "$work/debs" "$work/root" "$work/src"
(
  cd "$work/debs"
  # The headers for the flavour (the target's architecture), their common part, and the build tools for this host.
  apt-get download -q "linux-headers-$version:$arch" "linux-headers-$abi-common" "linux-kbuild-6.1" 2>&1 |
    grep -v '^W: Download is performed unsandboxed' >&2 || true
)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
headers="$work/root/usr/src/linux-headers-$version"
[ -f "$headers/Makefile" ] || {
  echo "gpio-modules: linux-headers-$version:$arch did not download (apt-get update? dpkg --add-architecture $arch?)" >&2
  exit 1
}
# The flavour's Makefile includes the common part by its installed path: point it at the unpacked one.
sed -i "s|/usr/src/|$work/root/usr/src/|" "$headers/Makefile"

tar -xJf "$source_tar" -C "$work/src" --strip-components=1 \
  linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
  linux-source-6.1/kernel/irq/irq_sim.c
build="$work/build"
mkdir -p "$build"
cp "$work/src/drivers/gpio/gpio-sim.c" "$work/src/drivers/gpio/gpiolib.h" "$build/"
sed 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' \
  "$work/src/kernel/irq/irq_sim.c" >"$build/irq_sim.c"
grep -q 'generic_handle_irq(irqnum);' "$build/irq_sim.c" || {
  echo "gpio-modules: irq_sim.c no longer has the line this script changes" >&2
  exit 1
}
printf '\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("simulated interrupts (out-of-tree build for the bodycam lab)");\n' \
  >>"$build/irq_sim.c"
echo 'obj-m := irq_sim.o gpio-sim.o' >"$build/Kbuild"
make -s -C "$headers" M="$build" "${make_arch[@]}" modules >"$work/build.log" 2>&1 || {
  tail -n 30 "$work/build.log" >&2
  echo "gpio-modules: the build failed (log above)" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out"
cp "$build/gpio-sim.ko" "$build/irq_sim.ko" "$out/"
rm -rf "$work"
echo "$want" >"$out/ready"
echo "$out"
