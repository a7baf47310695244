#!/bin/sh
# Builds (release) and runs the line protocol encoder benchmark.
# Usage: bench/encoder.sh [rounds [seconds-per-round]]   (default: 5 rounds of 1 s)
set -eu
cd "$(dirname "$0")/encoder"
swift build -c release --product EncoderBench >&2
exec .build/release/EncoderBench "$@"
