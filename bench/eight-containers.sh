#!/bin/sh
# eight-containers.sh — prints a benchmark with 8 idle containers (busybox
# sleep) for the bench scripts: NAME, run SECONDS, sampling INTERVAL_MS,
# COLLECTORS (a YAML flow map), then the CPUs the containers are pinned to,
# used in turn (e.g. `0 1` alternates, `0` puts all on CPU 0).
# Usage: bench/eight-containers.sh NAME SECONDS INTERVAL_MS COLLECTORS CPU...
set -eu
NAME="$1"; DURATION="$2"; INTERVAL="$3"; COLLECTORS="$4"
shift 4
[ $# -gt 0 ] || { echo "eight-containers: name at least one CPU" >&2; exit 64; }
echo "benchmark:"
echo "  name: $NAME"
echo "  max_t: $DURATION"
echo "  interval_ms: $INTERVAL"
echo "  allow_shared_cores: true"
echo "  collectors: $COLLECTORS"
echo "  sink: file"
i=0
while [ $i -lt 8 ]; do
    eval "cpu=\${$(( i % $# + 1 ))}"
    echo "c$i: {image: rdt4nn/busybox, args: [\"sleep\", \"100000\"], cpus: \"$cpu\"}"
    i=$((i + 1))
done
