#!/bin/sh
# setup.sh — prepare this machine, build rdt4nn with its plugins into
# ./plugins, and exercise them for real. Run as root from the repository.
set -eu
cd "$(dirname "$0")/.."

scripts/prepare-machine.sh
scripts/install-plugins.sh plugins

BIN="$(swift build --show-bin-path)"
echo
"$BIN/rdt4nn" version
"$BIN/rdt4nn" plugins list --plugins ./plugins
for plugin in plugins/*.so; do
    "$BIN/rdt4nn" plugins check "$plugin" --collections 3 --interval-ms 200
done
if [ -f configs/neighbours.yaml ]; then
    "$BIN/rdt4nn" run --plugins ./plugins configs/neighbours.yaml
fi
