#!/bin/sh
# start-dockerd.sh — start Docker's daemon on a dev/CI machine if it is not already answering.
#
# Idempotent: if `docker version` already reaches a daemon, nothing is done.
# Otherwise:
#   1. On a cgroup-v1 (or hybrid) host, make sure the perf_event controller is mounted at
#      /sys/fs/cgroup/perf_event (dockerd and the perf collector need it; some VMs omit it).
#   2. Start `dockerd` detached (setsid) with its log in $DOCKERD_LOG (default /tmp/dockerd.log).
#   3. Poll `docker version` until it answers or $DOCKERD_WAIT seconds (default 60) have passed.
# Exits non-zero with a message on failure. Needs root.
set -eu

LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
WAIT="${DOCKERD_WAIT:-60}"

die() { echo "start-dockerd: $*" >&2; exit 1; }

if docker version >/dev/null 2>&1; then
    echo "start-dockerd: dockerd already running"
    exit 0
fi

command -v dockerd >/dev/null 2>&1 || die "dockerd not found (apt-get install -y docker.io)"
[ "$(id -u)" = 0 ] || die "must run as root to start dockerd"

# cgroup v2 only: /sys/fs/cgroup is itself a cgroup2 mount. Otherwise v1/hybrid: check perf_event.
fstype="$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || echo unknown)"
if [ "$fstype" != "cgroup2fs" ]; then
    if [ ! -d /sys/fs/cgroup/perf_event ] || ! mountpoint -q /sys/fs/cgroup/perf_event; then
        mkdir -p /sys/fs/cgroup/perf_event \
            || die "cannot create /sys/fs/cgroup/perf_event"
        mount -t cgroup -o perf_event cgroup /sys/fs/cgroup/perf_event \
            || die "cannot mount the cgroup-v1 perf_event controller at /sys/fs/cgroup/perf_event"
        echo "start-dockerd: mounted cgroup-v1 perf_event controller"
    fi
fi

# A stale pid file from a crashed daemon makes dockerd refuse to start.
if [ -f /var/run/docker.pid ]; then
    pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "start-dockerd: dockerd (pid $pid) is running but not answering yet; waiting"
    else
        rm -f /var/run/docker.pid
    fi
fi

if ! { [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; }; then
    setsid dockerd >"$LOG" 2>&1 < /dev/null &
    echo "start-dockerd: started dockerd (pid $!), log in $LOG"
fi

i=0
while ! docker version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt "$((WAIT * 2))" ]; then
        tail -n 20 "$LOG" >&2 2>/dev/null || true
        die "dockerd did not answer within ${WAIT}s (log: $LOG)"
    fi
    sleep 0.5
done
echo "start-dockerd: dockerd is up ($(docker version --format '{{.Server.Version}} API {{.Server.APIVersion}}'))"
