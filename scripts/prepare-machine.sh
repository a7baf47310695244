#!/bin/sh
# prepare-machine.sh — everything a fresh Debian machine needs for rdt4nn,
# its tests and its examples. Idempotent; run as root.
#   1. apt packages: libcurl (HTTP to Docker and InfluxDB), Docker, InfluxDB 1.x,
#      busybox-static and gcc (local test images), make, PyYAML (YAML oracle).
#   2. dockerd running (with the cgroup-v1 perf_event controller mounted).
#   3. the local test images (no registry is needed).
set -eu
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "prepare-machine: run as root (apt-get, dockerd)" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    libcurl4-openssl-dev zlib1g-dev docker.io containerd influxdb busybox-static gcc libc6-dev make \
    ca-certificates python3-yaml >/dev/null

# The YAML tests compare against PyYAML through `python3`, which may be a
# different interpreter than Debian's.
if ! python3 -c 'import yaml' 2>/dev/null; then
    python3 -m pip install --quiet pyyaml || echo "prepare-machine: PyYAML unavailable; YAML oracle tests will be skipped" >&2
fi

scripts/start-dockerd.sh
scripts/build-test-images.sh
