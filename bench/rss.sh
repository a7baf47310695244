#!/bin/sh
# rss.sh — the host's memory over a long run: 8 containers sampled at 20 Hz
# (50 ms) by dockerstats and perf, samples to the file sink, for SECONDS
# (default 600). Samples rdt4nn's VmRSS every 5 s and prints the first,
# peak and last values and the growth between the first and second half.
# Goal: peak <= 30 MB and flat. Release build; needs dockerd and rdt4nn/* images.
# Usage: bench/rss.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
DURATION="${1:-600}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT INT TERM
scripts/install-plugins.sh "$WORK/plugins" release >/dev/null
BIN="$(swift build -c release --show-bin-path)"
bench/eight-containers.sh "rss-${DURATION}s" "$DURATION" 50 "{dockerstats: true, perf: true}" 0 1 > "$WORK/rss.yaml"
"$BIN/rdt4nn" run --quiet --plugins "$WORK/plugins" --results "$WORK/results" "$WORK/rss.yaml" &
PID=$!
: > "$WORK/rss.txt"
while kill -0 "$PID" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null >> "$WORK/rss.txt" || true
    sleep 5
done
wait "$PID" || true
python3 - "$WORK/rss.txt" "$WORK/results" <<'PY'
import json, os, sys
kb = [int(x) for x in open(sys.argv[1]).read().split()]
if len(kb) < 4:
    sys.exit("rss: too few samples")
half = len(kb) // 2
first_half, second_half = kb[1:half], kb[half:]
print("VmRSS over %d samples (every 5 s): first %.1f MB, peak %.1f MB, last %.1f MB; mean first half %.1f MB, second half %.1f MB"
      % (len(kb), kb[0] / 1024, max(kb) / 1024, kb[-1] / 1024,
         sum(first_half) / max(1, len(first_half)) / 1024, sum(second_half) / len(second_half) / 1024))
run = os.listdir(sys.argv[2])[0]
m = json.load(open(os.path.join(sys.argv[2], run, "metadata.json")))
print("samples written: %s; skipped ticks: %d" % ([s["written"] for s in m["sinks"]], sum(c["skipped_ticks"] for c in m["collectors"])))
PY
