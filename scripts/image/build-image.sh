#!/usr/bin/env bash
# Builds the camera's linux/arm64 image from Dockerfile.arm64 with docker buildx, or, with --bundle, a tarball of
# the same production build (dist/, production node_modules for arm64, hardware/, Node 24 for arm64, bin/bodycam,
# release.json) to unpack into /opt/bodycam on a system the Debian package does not serve (a technician on Raspberry
# Pi OS installs the package: `npm run package -- --arch arm64`). The bundle needs no Docker: it is cross-built here
# (scripts/package/lib.sh), as `npm run test:arm64` runs it under qemu. It installs nothing on the host and never
# changes its dpkg architectures; a missing tool is named (exit 2).
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  cat <<'EOF'
usage: scripts/image/build-image.sh [--tag NAME] [--push | --load | --output FILE.tar]
       scripts/image/build-image.sh --bundle [--out FILE.tar.gz]

Image (needs Docker with buildx, and qemu binfmt or an arm64 builder):
  docker buildx build --platform linux/arm64 -f Dockerfile.arm64 -t NAME .
  --tag NAME        image name (default bodycam:arm64-VERSION)
  --load            load into the local Docker (default)
  --push            push to the registry named in --tag
  --output FILE     write a docker-archive tarball (docker load -i FILE on the camera)
Bundle (no Docker; Debian host):
  --bundle          write dist/ + production node_modules + hardware/ + node/ for linux/arm64
  --out FILE        bundle path (default bodycam-VERSION-linux-arm64.tar.gz); on the Pi:
                    sudo tar -C /opt -xzf FILE   (gives /opt/bodycam/bin/bodycam, node/bin/node and dist/)
EOF
}

die() {
  echo "build-image: $*" >&2
  exit 2
}

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -n 1)
mode=image
tag="bodycam:arm64-$version"
output=load
archive=""
out="bodycam-$version-linux-arm64.tar.gz"
while (($# > 0)); do
  case "$1" in
    --bundle) mode=bundle ;;
    --tag)
      tag=${2:?--tag needs a name}
      shift
      ;;
    --load) output=load ;;
    --push) output=push ;;
    --output)
      output=archive
      archive=${2:?--output needs a file}
      shift
      ;;
    --out)
      out=${2:?--out needs a file}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift
done

if [ "$mode" = image ]; then
  command -v docker >/dev/null 2>&1 || die "docker not found: install Docker with the buildx plugin, or use --bundle"
  docker buildx version >/dev/null 2>&1 || die "docker buildx not available: install the buildx plugin, or use --bundle"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?); --bundle needs none"
  case "$output" in
    load) out_args=(--load) ;;
    push) out_args=(--push) ;;
    archive) out_args=(--output "type=docker,dest=$archive") ;;
  esac
  set -x
  docker buildx build --platform linux/arm64 -f Dockerfile.arm64 -t "$tag" "${out_args[@]}" .
  exit 0
fi

# ── bundle
# shellcheck source=scripts/package/lib.sh
source scripts/package/lib.sh
build_ensure_tools arm64
stage=$BUILD_CACHE/arm64/bundle/bodycam
build_assemble_app arm64 "$stage"
mkdir -p "$stage/node/bin" "$stage/bin"
cp "$BUILD_NODE_DIR/bin/node" "$stage/node/bin/node"
cp "$BUILD_NODE_DIR/LICENSE" "$stage/node/"
install -m 0755 scripts/package/deb/bodycam "$stage/bin/bodycam"
install -m 0755 scripts/package/deb/bodycam-start "$stage/bin/bodycam-start"
cp README.md CHANGELOG.md hardware/systemd/bodycam.service hardware/systemd/bodycam-dock.service "$stage/"
tar -C "$(dirname "$stage")" -czf "$out" bodycam
echo "build-image: wrote $out ($(du -h "$out" | cut -f1)): Node $(build_node_version) and bodycam $version for linux/arm64"
