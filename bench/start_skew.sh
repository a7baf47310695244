#!/bin/sh
# start_skew.sh — planned vs actual container start for 8 staggered containers.
#
# Runs bench/configs/start-skew.yaml RUNS times (default 3) with the built
# rdt4nn and reports, over all starts, the skew between the planned offset and
#   - issue:   when rdt4nn sent POST /containers/{id}/start (its own clock),
#   - started: Docker's State.StartedAt (the daemon's clock, same host),
# as p50 / p99 / max in milliseconds. Needs dockerd and the rdt4nn/* images.
# Usage: bench/start_skew.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
BIN="$(swift build --show-bin-path)/rdt4nn"
[ -x "$BIN" ] || { echo "start_skew: build first (swift build)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
i=0
while [ "$i" -lt "$RUNS" ]; do
    "$BIN" run --quiet --plugins ./plugins --results "$OUT" bench/configs/start-skew.yaml
    i=$((i + 1))
done
python3 - "$OUT" <<'PY'
import json, os, sys
issue, started = [], []
for run in sorted(os.listdir(sys.argv[1])):
    for line in open(os.path.join(sys.argv[1], run, "events.jsonl")):
        e = json.loads(line)
        if e["event"] == "container_started":
            issue.append(e["skew_ns"] / 1e6)
            if "docker_started_offset_ns" in e:
                started.append((e["docker_started_offset_ns"] - e["planned_offset_ns"]) / 1e6)
def stats(xs):
    xs = sorted(xs)
    pick = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    return "n=%d p50=%.3f ms p99=%.3f ms max=%.3f ms" % (len(xs), pick(0.5), pick(0.99), xs[-1])
print("issue time   vs plan:", stats(issue))
print("StartedAt    vs plan:", stats(started))
PY
