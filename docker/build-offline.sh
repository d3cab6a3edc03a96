#!/usr/bin/env bash
# Build the CPU sandbox image on a machine with no image registry (like CI and many
# university labs): a Debian base made with debootstrap, Python packages from a
# wheelhouse downloaded on the host with pip. Needs root, debootstrap and a Docker engine.
#
#   docker/build-offline.sh [IMAGE_TAG]        (default tf-autograder:cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-tf-autograder:cpu}"
BASE="${BASE_TAG:-tf-autograder-base:bookworm}"
WHEELS=docker/wheelhouse
TF_PACKAGE="${TF_PACKAGE:-$(grep -v '^#' docker/requirements-tensorflow.txt)}"   # the one pin
EXTRA_PACKAGES="${EXTRA_PACKAGES:-}"   # a course's own packages, space-separated
started=$(date +%s)

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    root=$(mktemp -d /tmp/autograder-rootfs.XXXXXX)
    echo "debootstrap: making $BASE in $root"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" >/dev/null
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
    tar -C "$root" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$root"
fi

# Wheels for the image's Python (Debian bookworm: CPython 3.11, glibc 2.36, x86_64).
python3 -m pip download --quiet --dest "$WHEELS" --only-binary=:all: \
    --python-version 3.11 --implementation cp --platform manylinux_2_36_x86_64 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any \
    -r docker/requirements-sandbox.txt "$TF_PACKAGE" pip $EXTRA_PACKAGES

docker build --quiet -f docker/Dockerfile --build-arg BASE_IMAGE="$BASE" \
    --build-arg TF_PACKAGE="$TF_PACKAGE" --build-arg EXTRA_PACKAGES="$EXTRA_PACKAGES" -t "$TAG" . >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$TAG")
echo "built $TAG: $((size / 1024 / 1024)) MB in $(( $(date +%s) - started )) s"
