#!/bin/sh
# overhead.sh — the host's own CPU cost while sampling: 8 containers at 20 Hz
# (50 ms) with dockerstats and perf for SECONDS (default 60), release build,
# samples to the file sink.  Goal: <= 1 % of one core.
#
# For every run it reports rdt4nn's CPU time (user + system, all threads,
# including the kernel's work of reading cgroup files and perf counters):
#   whole run    from the process's rusage: start-up (plugins, docker create),
#                sampling, stopping and removing the containers;
#   steady state the sum of every thread's run time (/proc/PID/task/*/schedstat)
#                over the middle of the run, from 10 s after the start to 5 s
#                before the end, with the share of each thread.
# WORKLOAD=idle (default: the containers sleep) or busy (they spin: the CPUs
# never idle, as in a real busy-neighbour run).
#
# Side by side in the same conditions:
#   - the floor: bench/overhead_floor.c (gcc -O2), a plain C loop doing only
#     the same kernel reads at the same rate (the cgroup files dockerstats
#     reads each tick, /proc/PID/net/dev, the perf group of each CPU, and
#     /proc/stat once per tick) against 8 containers of the same workload,
#     run alone for the same steady-state window in every round;
#   - BASELINE=DIR (optional): DIR/rdt4nn and DIR/plugins of another build,
#     run alternately with this one, ROUNDS times each (default 2), medians
#     and the ratio printed;
#   - DOCKERSTATS='{...}' (optional): this build once more with these
#     dockerstats options, e.g. '{detail_interval_ms: 1000}', alternating the
#     same way;
#   - the originals' approach: one `perf stat -I 50 -G <cgroup> -a` subprocess
#     per container for the four software events, 20 s (needs perf).
# Usage: [WORKLOAD=idle|busy] [BASELINE=DIR] [DOCKERSTATS='{...}'] [ROUNDS=N] bench/overhead.sh [SECONDS]
#        (needs dockerd and the rdt4nn/* images)
set -eu
cd "$(dirname "$0")/.."
DURATION="${1:-60}"
WORKLOAD="${WORKLOAD:-idle}"
ROUNDS="${ROUNDS:-2}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT INT TERM
scripts/install-plugins.sh "$WORK/plugins" release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
gcc -O2 -Wall -o "$WORK/overhead_floor" bench/overhead_floor.c
bench/eight-containers.sh "overhead" "$DURATION" 50 "{dockerstats: true, perf: true}" 0 1 > "$WORK/overhead.yaml"
if [ -n "${DOCKERSTATS:-}" ]; then
    bench/eight-containers.sh "overhead" "$DURATION" 50 "{dockerstats: $DOCKERSTATS, perf: true}" 0 1 > "$WORK/options.yaml"
fi
if [ "$WORKLOAD" = busy ]; then
    for config in "$WORK"/overhead.yaml "$WORK"/options.yaml; do
        [ -f "$config" ] && sed -i 's|args: \["sleep", "100000"\]|image: rdt4nn/spin, args: []|; s|image: rdt4nn/busybox, ||' "$config"
    done
fi

python3 - "$WORK" "$BIN/rdt4nn" "$WORK/plugins" "${BASELINE:-}" "$ROUNDS" "$DURATION" "${DOCKERSTATS:-}" "$WORKLOAD" <<'PY'
import json, os, re, resource, shutil, subprocess, sys, time
work, binary, plugins, baseline, rounds, duration, options, workload = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), sys.argv[7], sys.argv[8]
variants = [("this build", binary, plugins, "overhead.yaml")]
if baseline:
    variants.insert(0, ("baseline", os.path.join(baseline, "rdt4nn"), os.path.join(baseline, "plugins"), "overhead.yaml"))
if options:
    variants.append(("dockerstats " + options, binary, plugins, "options.yaml"))
compare = baseline or options

def threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            out[tid] = (name, int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0]))
        except OSError:
            pass
    return out

def run(label, rdt4nn, plugin_dir, config):
    results = os.path.join(work, "results")
    shutil.rmtree(results, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([rdt4nn, "run", "--quiet", "--plugins", plugin_dir, "--results", results, os.path.join(work, config)],
                               stderr=subprocess.DEVNULL)
    time.sleep(10)
    first, t0 = threads(process.pid), time.monotonic()
    time.sleep(max(1.0, duration - 15))
    last, t1 = threads(process.pid), time.monotonic()
    process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run_dir = os.path.join(results, os.listdir(results)[0])
    meta = json.load(open(os.path.join(run_dir, "metadata.json")))
    wall = (meta["end_wall_ns"] - meta["start_wall_ns"]) / 1e9
    collections = sum(c["collections"] for c in meta["collectors"])
    per_plugin = {}
    for c in meta["collectors"]:
        calls, ns = per_plugin.get(c["plugin"], (0, 0))
        per_plugin[c["plugin"]] = (calls + c["collections"], ns + c.get("collect_time_ns", 0))
    shares = {}
    for tid, (name, ns) in last.items():
        if tid in first:
            key = name.rstrip("0123456789")
            shares[key] = shares.get(key, 0) + ns - first[tid][1]
    steady = sum(shares.values()) / 1e9 / (t1 - t0)
    print("%-10s whole run %.3f s CPU / %.1f s = %.2f %% of one core (%.1f us per collection, %d collections); "
          "steady state %.2f %% [%s]" % (label, cpu, wall, 100 * cpu / wall, 1e6 * cpu / max(1, collections), collections, 100 * steady,
          ", ".join("%s %.2f" % (k, 100 * v / 1e9 / (t1 - t0)) for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))), flush=True)
    print("%-10s wall time per collect call: %s" % ("", ", ".join("%s %.1f us" % (k, ns / 1e3 / max(1, calls)) for k, (calls, ns) in sorted(per_plugin.items()))), flush=True)
    return 100 * cpu / wall, 100 * steady

def floor():
    """The same reads from a plain C loop, against 8 containers like the benchmark's, for its steady-state window."""
    image = ["rdt4nn/spin"] if workload == "busy" else ["rdt4nn/busybox", "sleep", "100000"]
    ids = []
    try:
        for i in range(8):
            ids.append(subprocess.check_output(["docker", "run", "-d", "--rm", "--network", "none", "--cpuset-cpus", str(i % 2)] + image, text=True).strip())
        pids = subprocess.check_output(["docker", "inspect", "-f", "{{.State.Pid}}"] + ids, text=True).split()
        time.sleep(3)
        out = subprocess.check_output([os.path.join(work, "overhead_floor"), str(max(1.0, duration - 15)), "50", os.path.join(work, "floor.lp")] + pids, text=True)
    finally:
        if ids:
            subprocess.call(["docker", "rm", "-f"] + ids, stdout=subprocess.DEVNULL)
    print("%-10s %s" % ("floor", out.strip()), flush=True)
    share = float(re.search(r"= ([0-9.]+) %", out).group(1))
    return share, share

figures = {}
for _ in range(rounds if compare else 1):
    for label, rdt4nn, plugin_dir, config in variants:
        figures.setdefault(label, []).append(run(label, rdt4nn, plugin_dir, config))
    figures.setdefault("floor", []).append(floor())
median = lambda values: sorted(values)[len(values) // 2]
for label in figures:
    whole, steady = median([f[0] for f in figures[label]]), median([f[1] for f in figures[label]])
    if label == "floor":
        print("%-10s median: %.2f %% of one core (the same kernel reads from a plain C loop, alone)" % (label, whole))
        continue
    line = "%-10s median: whole run %.2f %%, steady state %.2f %% of one core" % (label, whole, steady)
    reference = "baseline" if baseline else "this build"
    if compare and label != reference:
        base = figures[reference]
        line += " (%.2fx and %.2fx of %s)" % (whole / median([f[0] for f in base]), steady / median([f[1] for f in base]), reference)
    line += "; steady state %.2fx the floor" % (steady / median([f[0] for f in figures["floor"]]))
    print(line)
PY

# The originals' approach, for scale: perf stat per container against running containers.
if command -v perf >/dev/null; then
    "$BIN/rdt4nn" run --quiet --plugins "$WORK/plugins" --results "$WORK/results-perfstat" "$WORK/overhead.yaml" 2>/dev/null &
    PID=$!
    sleep 5
    IDS="$(docker ps -q --no-trunc --filter label=rdt4nn.container)"
    python3 - $IDS <<'PY'
import resource, subprocess, sys
ids, seconds = sys.argv[1:], 20
procs = [subprocess.Popen(["perf", "stat", "-I", "50", "-x,", "-e", "task-clock,context-switches,cpu-migrations,page-faults",
                           "-G", "docker/" + i, "-a", "-o", "/dev/null", "sleep", str(seconds)]) for i in ids]
for p in procs:
    p.wait()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = u.ru_utime + u.ru_stime
print("perf stat -I 50 -G <cgroup> -a, one subprocess per container (%d), %d s: %.2f s CPU = %.2f %% of one core, %.1f us CPU per container-interval"
      % (len(ids), seconds, cpu, 100 * cpu / seconds, 1e6 * cpu / (len(ids) * seconds / 0.05)))
PY
    kill -INT "$PID" 2>/dev/null || true
    wait "$PID" || true
else
    echo "perf stat comparison: not run (perf missing)"
fi
