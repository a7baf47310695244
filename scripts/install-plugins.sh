#!/bin/sh
# install-plugins.sh — build rdt4nn (debug, reusing .build) and install every
# built-in plugin product plus the SDK's example C plugin into ./plugins.
#
# Products are named from Package.swift (never a loose glob over .build/,
# where products of renamed targets linger). The directory and files get
# modes 0755/0644: the host refuses plugins writable by group or others.
#
# Usage: scripts/install-plugins.sh [DEST [debug|release]]   (default: ./plugins, debug)
set -eu
cd "$(dirname "$0")/.."
DEST="${1:-plugins}"
CONFIGURATION="${2:-debug}"

swift build -c "$CONFIGURATION"
BIN="$(swift build -c "$CONFIGURATION" --show-bin-path)"

products="$(sed -n 's/.*\.library(name: "\(rdt4nn-[a-z0-9-]*\)", type: \.dynamic.*/\1/p' Package.swift)"
[ -n "$products" ] || { echo "install-plugins: no plugin products found in Package.swift" >&2; exit 1; }

install -d -m 0755 "$DEST"
for product in $products; do
    file="$BIN/lib$product.so"
    [ -f "$file" ] || { echo "install-plugins: $file was not built" >&2; exit 1; }
    install -m 0644 "$file" "$DEST/"
done
make -s -C plugin-sdk/examples install PLUGINS="$(cd "$DEST" && pwd)" OUT="$BIN/sdk-examples"
echo "install-plugins: installed $(echo $products | wc -w) built-in plugin(s) and the SDK example into $DEST"
