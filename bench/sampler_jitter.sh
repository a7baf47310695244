#!/bin/sh
# sampler_jitter.sh — how late the sampler's ticks fire, and whether any is
# skipped, for 8 containers sampled by the dockerstats (and perf, when
# installed) collectors at 50 ms and at 10 ms, while a busy loop occupies
# the other core.
#
# Builds rdt4nn in release mode, runs a 20 s benchmark per interval with the
# release plugins, and prints from each run's metadata.json: ticks, lateness
# p50 / p99 / max (dispatch time minus the absolute deadline), skipped ticks
# and overruns summed over all instances.
# Usage: bench/sampler_jitter.sh [SECONDS]     (needs dockerd and the rdt4nn/* images)
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
WORK="$(mktemp -d)"
SPIN_PID=""
cleanup() { [ -n "$SPIN_PID" ] && kill "$SPIN_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
scripts/install-plugins.sh "$WORK/plugins" release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
collectors="dockerstats: true"
[ -f "$WORK/plugins/librdt4nn-perf.so" ] && collectors="$collectors, perf: true"

# The other core is busy for the whole measurement.
taskset -c 1 sh -c 'while :; do :; done' &
SPIN_PID=$!

for interval in 50 10; do
    config="$WORK/jitter-$interval.yaml"
    bench/eight-containers.sh "jitter-${interval}ms" "$SECONDS_PER_RUN" "$interval" "{$collectors}" 0 > "$config"
    "$BIN/rdt4nn" run --quiet --plugins "$WORK/plugins" --results "$WORK/results" "$config"
done

python3 - "$WORK/results" <<'PY'
import json, os, sys
root = sys.argv[1]
for run in sorted(os.listdir(root)):
    m = json.load(open(os.path.join(root, run, "metadata.json")))
    s = m.get("sampler", {})
    cols = [c for c in m["collectors"] if c["instance"] != "host"]
    skipped = sum(c["skipped_ticks"] for c in cols)
    busy = sum(c.get("skipped_while_busy", 0) for c in cols)
    late = sum(c.get("skipped_sampler_late", 0) for c in cols)
    longest = max([c.get("max_collect_time_ns", 0) for c in cols] or [0]) / 1e6
    overruns = sum(c["overruns"] for c in cols)
    collections = sum(c["collections"] for c in cols)
    per = sum(c["collect_time_ns"] for c in cols) / max(1, collections) / 1000
    print("%-10s ticks=%d lateness p50=%.3f ms p99=%.3f ms max=%.3f ms; %d instances, %d collections, %.1f us/collect, longest %.2f ms; "
          "skipped=%d (previous call still running %d, sampler late %d) overruns=%d"
          % (m["benchmark_name"], s.get("ticks", 0), s.get("lateness_p50_ns", 0) / 1e6, s.get("lateness_p99_ns", 0) / 1e6,
             s.get("lateness_max_ns", 0) / 1e6, len(cols), collections, per, longest, skipped, busy, late, overruns))
PY
