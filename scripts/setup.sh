#!/bin/sh
# setup.sh — prepare this machine, build rdt4nn with its plugins into
# ./plugins, check every plugin, and run the example benchmark
# configs/neighbours.yaml. Run as root from the repository.
set -eu
cd "$(dirname "$0")/.."

scripts/prepare-machine.sh
scripts/install-plugins.sh plugins

BIN="$(swift build --show-bin-path)"
CHECK_DIR="$(mktemp -d)"
trap 'rm -rf "$CHECK_DIR"' EXIT
echo
"$BIN/rdt4nn" version
"$BIN/rdt4nn" plugins list --plugins ./plugins
for plugin in plugins/*.so; do
    case "$plugin" in
        *sink-file*)
            # A sink writes somewhere: give the check a directory of its own.
            printf '{"directory": "%s"}\n' "$CHECK_DIR" > "$CHECK_DIR/file.json"
            "$BIN/rdt4nn" plugins check "$plugin" --config "$CHECK_DIR/file.json" ;;
        *sink-influx*)
            echo "skipping 'plugins check' of $plugin: it needs an InfluxDB URL (the test suite checks it against a real influxd)" ;;
        *)
            "$BIN/rdt4nn" plugins check "$plugin" --collections 3 --interval-ms 200 ;;
    esac
done
echo
"$BIN/rdt4nn" run --plugins ./plugins configs/neighbours.yaml
