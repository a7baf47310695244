#!/bin/sh
# dockerstats_collect.sh [PACKAGE_DIR] : CPU time per container-sample of the
# dockerstats collector next to one Docker API stats call, in the same run.
#
# Builds librdt4nn-dockerstats.so and the dockerstats-bench harness in release
# mode in PACKAGE_DIR (default: the repository root; its Package.swift must
# declare both products), starts one busy container (rdt4nn/spin, --network
# none, 64 MiB, cpuset 0), measures, and removes the container on any exit.
#
# Environment: SAMPLES (default 20000 collector samples), API_CALLS (default 5).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
package=${1:-$(dirname "$here")}
samples=${SAMPLES:-20000}
api_calls=${API_CALLS:-5}
name="rdt4nn-bench-dockerstats-$$"

docker version >/dev/null 2>&1 || { echo "docker is not running (scripts/start-dockerd.sh)" >&2; exit 1; }
docker image inspect rdt4nn/spin >/dev/null 2>&1 || { echo "rdt4nn/spin is missing (scripts/build-test-images.sh)" >&2; exit 1; }

(cd "$package" && swift build -c release --product rdt4nn-dockerstats >&2 && swift build -c release --product dockerstats-bench >&2)
bin=$(cd "$package" && swift build -c release --show-bin-path)

cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
docker run -d --name "$name" --network none --memory 64m --cpuset-cpus 0 rdt4nn/spin >/dev/null
sleep 2  # let the daemon's stats collector and the workload settle

echo "## dockerstats collector — $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, docker $(docker version --format '{{.Server.Version}}')"
echo
"$bin/dockerstats-bench" --container "$name" --plugin "$bin/librdt4nn-dockerstats.so" --samples "$samples" --api-calls "$api_calls"
