#!/bin/sh
# Install the Debian 12 packages iae needs, skipping those already present.
# Usage: scripts/install-deps.sh [build|run|bench]...
#   build  compiler, CMake, OpenBLAS, zlib, libpng, cmocka (always included)
#   run    also the Fashion-MNIST data set (dataset-fashion-mnist)
#   bench  also Debian's PyTorch for the side-by-side benchmark
set -eu

packages="gcc make cmake pkg-config libc6-dev libopenblas-openmp-dev zlib1g-dev libpng-dev libcmocka-dev"
for group in "$@"; do
    case "$group" in
        build) ;;
        run) packages="$packages dataset-fashion-mnist" ;;
        bench) packages="$packages dataset-fashion-mnist python3-torch python3-numpy python3-sklearn time" ;;
        *) echo "install-deps.sh: unknown group '$group'; expected build, run or bench" >&2; exit 2 ;;
    esac
done

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing Debian packages:$missing" >&2
    echo "Run as root, or install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
