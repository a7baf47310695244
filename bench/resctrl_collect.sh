#!/bin/sh
# resctrl_collect.sh [PACKAGE_DIR] : CPU time per container-sample of the
# resctrl collector against fake resctrl trees (Intel 2-socket, AMD 12 CCX).
#
# Builds librdt4nn-resctrl.so and the resctrl-bench harness in release mode in
# PACKAGE_DIR (default: the repository root; its Package.swift must declare
# both products), then measures the library alone and the plugin's collect
# through the C ABI.  The "container" is four sleep processes in a pids cgroup
# of their own (removed on exit).  Needs root (cgroup v1 pids hierarchy).
#
# Environment: SAMPLES (default 20000 samples per row), BENCH_DIR (where the
# fake trees are built, default /tmp).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
package=${1:-$(dirname "$here")}
samples=${SAMPLES:-20000}
dir=${BENCH_DIR:-/tmp}

(cd "$package" && swift build -c release --product rdt4nn-resctrl >&2 && swift build -c release --product resctrl-bench >&2)
bin=$(cd "$package" && swift build -c release --show-bin-path)

echo "## resctrl collector — $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, fake tree in $dir ($(stat -f -c %T "$dir"))"
echo
"$bin/resctrl-bench" --plugin "$bin/librdt4nn-resctrl.so" --samples "$samples" --dir "$dir"
