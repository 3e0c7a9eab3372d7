#!/usr/bin/env bash
# Writes a Raspberry Pi OS image (.img or .img.xz) to an SD card, then reads it back and compares SHA-256 over
# the written length. Refuses anything that is not a whole, unmounted, removable-sized disk other than the one
# holding /, and asks for the device name to be typed before writing.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/image/write-sd.sh [--yes] [--force-size] IMAGE DEVICE

Writes IMAGE (.img, or .img.xz decompressed on the fly) to DEVICE (a whole disk such as /dev/sdb or
/dev/mmcblk0), syncs, and verifies by reading back the written length and comparing SHA-256.
  --yes          do not ask to type the device name (scripts; the other refusals still apply)
  --force-size   allow a device larger than 256 GB (SD cards are smaller; a bigger disk is likely not one)
Refuses (exit 2): a DEVICE that is not a block device, is a partition, is mounted (it or any of its
partitions), or holds the root filesystem; a missing or unreadable IMAGE.
EOF
}

die() {
  echo "write-sd: $*" >&2
  exit 2
}

MAX_BYTES=$((256 * 1000 * 1000 * 1000))
assume_yes=0
force_size=0
positional=()
for arg in "$@"; do
  case "$arg" in
    --yes) assume_yes=1 ;;
    --force-size) force_size=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option $arg (try --help)" ;;
    *) positional+=("$arg") ;;
  esac
done
((${#positional[@]} == 2)) || die "need IMAGE and DEVICE (try --help)"
image=${positional[0]}
device=${positional[1]}

# ── the image
[ -f "$image" ] || die "$image: no such file"
[ -r "$image" ] || die "$image: not readable"
case "$image" in
  *.img.xz) command -v xz >/dev/null 2>&1 || die "xz not found (apt-get install xz-utils)" ;;
  *.img) ;;
  *) die "$image: expected a .img or .img.xz file" ;;
esac

# ── the device: every refusal comes before anything is written
[ -e "$device" ] || die "$device: no such device"
[ -b "$device" ] || die "$device: not a block device"
for tool in lsblk findmnt blockdev dd sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (util-linux, coreutils)"
done
dev_real=$(readlink -f "$device")
dev_type=$(lsblk -dno TYPE "$dev_real")
# A card reader's disk, or a loop device (a file standing in for a card).
case "$dev_type" in
  disk | loop) ;;
  *) die "$device is a $dev_type, not a whole disk (give the disk, e.g. /dev/sdb, not /dev/sdb1)" ;;
esac
# The disk holding / (through its partition, or a mapper device on top of it).
root_source=$(findmnt -no SOURCE / || true)
if [ -n "$root_source" ] && [ -b "$root_source" ]; then
  root_disks=$(lsblk -sno NAME,TYPE "$root_source" | awk '$2 == "disk" { sub(/^[^[:alnum:]]+/, "", $1); print "/dev/" $1 }')
  for d in $root_disks; do
    [ "$(readlink -f "$d")" != "$dev_real" ] || die "$device holds the root filesystem"
  done
fi
mounted=$(lsblk -nro NAME,MOUNTPOINTS "$dev_real" | awk 'NF > 1 { print "/dev/" $1 " on " $2 }')
[ -z "$mounted" ] || die "$device is mounted ($(echo "$mounted" | tr '\n' ' ')); unmount it first"
size=$(blockdev --getsize64 "$dev_real")
if [ "$size" -gt "$MAX_BYTES" ] && [ "$force_size" -eq 0 ]; then
  die "$device is $((size / 1000 / 1000 / 1000)) GB, larger than an SD card should be (--force-size if it is one)"
fi

# ── confirm
lsblk -o NAME,SIZE,TYPE,MODEL,TRAN,MOUNTPOINTS "$dev_real" >&2
if [ "$assume_yes" -eq 0 ]; then
  [ -t 0 ] || die "not a terminal: pass --yes to write without the typed confirmation"
  printf 'write-sd: everything on %s will be overwritten. Type the device name (%s) to go on: ' "$device" "$dev_real" >&2
  read -r answer
  [ "$answer" = "$dev_real" ] || [ "$answer" = "$device" ] || die "not confirmed; nothing written"
fi

# ── write, sync, verify
case "$image" in
  *.img.xz) written=$(xz --robot --list "$image" | awk '$1 == "totals" { print $5 }') ;;
  *) written=$(stat -c %s "$image") ;;
esac
[ "${written:-0}" -gt 0 ] || die "$image: empty image"
[ "$written" -le "$size" ] || die "$image ($written bytes) does not fit on $device ($size bytes)"
echo "write-sd: writing $image ($written bytes) to $dev_real" >&2
case "$image" in
  *.img.xz) xz -dc "$image" | dd of="$dev_real" bs=4M iflag=fullblock oflag=direct conv=fsync status=progress ;;
  *) dd if="$image" of="$dev_real" bs=4M oflag=direct conv=fsync status=progress ;;
esac
sync
echo "write-sd: verifying $written bytes" >&2
case "$image" in
  *.img.xz) want=$(xz -dc "$image" | sha256sum | cut -d' ' -f1) ;;
  *) want=$(sha256sum <"$image" | cut -d' ' -f1) ;;
esac
# Read back past the page cache, exactly the written length.
got=$(head -c "$written" <(dd if="$dev_real" bs=4M iflag=direct status=none) | sha256sum | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "write-sd: verification FAILED: image $want, card $got (a failing card or reader?)" >&2
  exit 1
fi
echo "write-sd: done, verified ($want); the card can be removed" >&2
