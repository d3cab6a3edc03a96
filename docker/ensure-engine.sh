#!/usr/bin/env bash
# Make the Docker backend usable for the test suite: a running engine and the CPU
# sandbox image. As root on Debian it installs docker.io and debootstrap, starts
# dockerd and builds the image offline (docker/build-offline.sh). Elsewhere it only
# reports what is missing: the Docker tests then skip, except under CI, where they fail.
set -uo pipefail
cd "$(dirname "$0")/.."
IMAGE="${AUTOGRADER_IMAGE:-tf-autograder:cpu}"

note() { echo "docker/ensure-engine.sh: $*" >&2; }

if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        note "no Docker engine, and not root on Debian: Docker tests will not run here"
        exit 0
    fi
    if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null \
            || { note "installing docker.io failed"; exit 1; }
    fi
    setsid nohup dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { note "dockerd did not start (see /tmp/dockerd.log)"; exit 1; }
fi
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq debootstrap >/dev/null; }
    bash docker/build-offline.sh "$IMAGE" || { note "building $IMAGE failed"; exit 1; }
fi
note "engine $(docker info --format '{{.ServerVersion}}') and image $IMAGE ready"
