#!/bin/sh
# overhead.sh — the host's own CPU cost while sampling: 8 containers at 20 Hz
# (50 ms) with dockerstats and perf for SECONDS (default 60), release build.
# Reports rdt4nn's CPU time (utime+stime of the process, all threads) as a
# percentage of one core over the run (goal <= 1 %), and, side by side in the
# same run conditions, what the original approach costs: one `perf stat -I 50
# -G <cgroup> -a` subprocess per container for the same software events.
# Usage: bench/overhead.sh [SECONDS]   (needs dockerd, the rdt4nn/* images and perf)
set -eu
cd "$(dirname "$0")/.."
DURATION="${1:-60}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT INT TERM
scripts/install-plugins.sh "$WORK/plugins" release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
TICKS="$(getconf CLK_TCK)"
bench/eight-containers.sh "overhead" "$DURATION" 50 "{dockerstats: true, perf: true}" 0 1 > "$WORK/overhead.yaml"

"$BIN/rdt4nn" run --quiet --plugins "$WORK/plugins" --results "$WORK/results" "$WORK/overhead.yaml" &
PID=$!
# The process's CPU time just before it exits (fields 14, 15 of /proc/PID/stat).
LAST=0
START=""
while kill -0 "$PID" 2>/dev/null; do
    STAT="$(cat /proc/$PID/stat 2>/dev/null || true)"
    [ -n "$STAT" ] && LAST="$(echo "$STAT" | awk '{print $14 + $15}')"
    # Containers are up a second after the start: time the perf stat comparison against them.
    if [ -z "$START" ] && [ "$(docker ps -q --filter label=rdt4nn.container=c7 | wc -l)" -gt 0 ]; then
        START=1
        IDS="$(docker ps -q --no-trunc --filter label=rdt4nn.container)"
        python3 - "$WORK/perfstat.txt" $IDS <<'PY' &
import resource, subprocess, sys, time
out, ids = sys.argv[1], sys.argv[2:]
seconds = 20
procs = [subprocess.Popen(["perf", "stat", "-I", "50", "-x,", "-e", "task-clock,context-switches,cpu-migrations,page-faults",
                           "-G", "docker/" + i, "-a", "-o", "/dev/null", "sleep", str(seconds)]) for i in ids]
for p in procs:
    p.wait()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = u.ru_utime + u.ru_stime
intervals = len(ids) * seconds / 0.05
open(out, "w").write("perf stat -I 50 -G <cgroup> -a, one subprocess per container (%d), %d s: %.2f s CPU = %.1f us CPU per container-interval\n"
                     % (len(ids), seconds, cpu, 1e6 * cpu / intervals))
PY
    fi
    sleep 0.5
done
wait "$PID" || true
python3 - "$WORK" "$LAST" "$TICKS" "$DURATION" <<'PY'
import json, os, sys
work, ticks_used, hz, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
results = os.path.join(work, "results")
run = os.listdir(results)[0]
m = json.load(open(os.path.join(results, run, "metadata.json")))
wall = (m["end_wall_ns"] - m["start_wall_ns"]) / 1e9
collections = sum(c["collections"] for c in m["collectors"])
cpu = ticks_used / hz
print("rdt4nn: %.2f s CPU over %.1f s of run = %.2f %% of one core; %d collections (%.1f us CPU per container-sample, all included)"
      % (cpu, wall, 100 * cpu / wall, collections, 1e6 * cpu / max(1, collections)))
PY
wait
cat "$WORK/perfstat.txt" 2>/dev/null || echo "perf stat comparison: not run (perf missing or containers not seen)"
