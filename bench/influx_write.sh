#!/bin/sh
# influx_write.sh [PACKAGE_DIR] : end-to-end write throughput of the influx sink
# plugin into a local influxd next to `curl --data-binary` of the same
# pre-encoded batches, side by side in one run, with gzip on and off.
#
# Builds librdt4nn-sink-influx.so and the influx-write-bench harness
# (bench/influx_write/main.swift) in release mode in PACKAGE_DIR (default: the
# repository root; its Package.swift must declare both products), starts a
# private influxd on free 127.0.0.1 ports with a temporary data directory,
# runs the harness and removes influxd and its directory on any exit.
#
# Environment: POINTS (default 250000), ROUNDS (default 5), BATCH (default 5000),
# INFLUXD (default: influxd on PATH).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
package=${1:-$(dirname "$here")}
points=${POINTS:-250000}
rounds=${ROUNDS:-5}
batch=${BATCH:-5000}
influxd=${INFLUXD:-$(command -v influxd || true)}
[ -n "$influxd" ] || { echo "influxd is not installed (apt-get install influxdb, or set INFLUXD)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

(cd "$package" && swift build -c release --product rdt4nn-sink-influx >&2 && swift build -c release --product influx-write-bench >&2)
bin=$(cd "$package" && swift build -c release --show-bin-path)

dir=$(mktemp -d /tmp/rdt4nn-influx-bench.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
http_port=${ports% *}
rpc_port=${ports#* }
cat >"$dir/influxd.conf" <<EOF
reporting-enabled = false
bind-address = "127.0.0.1:$rpc_port"
[meta]
  dir = "$dir/meta"
  logging-enabled = false
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$http_port"
  log-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
EOF
"$influxd" run -config "$dir/influxd.conf" >"$dir/influxd.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$http_port"
i=0
until curl -sf -o /dev/null "$url/ping"; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "influxd did not start:" >&2; cat "$dir/influxd.log" >&2; exit 1; }
    sleep 0.1
done

echo "## InfluxDB write throughput — $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, $("$influxd" version 2>/dev/null | head -1), $(curl --version | head -1 | cut -d' ' -f1-2), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/influx-write-bench" --url "$url" --plugin "$bin/librdt4nn-sink-influx.so" --points "$points" --rounds "$rounds" --batch "$batch"
echo
"$bin/influx-write-bench" --url "$url" --plugin "$bin/librdt4nn-sink-influx.so" --points "$points" --rounds "$rounds" --batch "$batch" --no-gzip
