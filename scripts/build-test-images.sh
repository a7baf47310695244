#!/bin/sh
# build-test-images.sh — build rdt4nn's local test images without any registry.
#
# Images (all `docker import`ed from a rootfs tarball; nothing is pulled):
#   rdt4nn/busybox:latest  static busybox (Debian's busybox-static, /bin/busybox) with a symlink
#                          per applet in /bin; Cmd ["sh"].
#   rdt4nn/spin:latest     busybox + /bin/spin    (CPU spinner),            Entrypoint ["/bin/spin"]
#   rdt4nn/stream:latest   busybox + /bin/stream  (STREAM triad, --size MiB), Entrypoint ["/bin/stream"]
#   rdt4nn/thrash:latest   busybox + /bin/thrash  (random pointer chase, --size K/M), Entrypoint ["/bin/thrash"]
# One image per workload (each also holds all three binaries and busybox, so `docker exec` and
# `--entrypoint /bin/thrash` work in any of them): a benchmark config then names the workload
# by image alone, and each image stays about 2 MB.
# The workloads are compiled from scripts/workloads/*.c with `gcc -static -O2`.
#
# Idempotent: every image carries the label rdt4nn.source-hash (sha256 of the C sources, the
# busybox binary, this script and the gcc version); an image whose label matches is left alone.
# Set FORCE=1 to rebuild anyway. Exits non-zero with a message on any failure.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
src="$here/workloads"
busybox="${BUSYBOX:-/bin/busybox}"
CC="${CC:-gcc}"

die() { echo "build-test-images: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found (apt-get install -y docker.io)"
docker version >/dev/null 2>&1 || die "dockerd is not answering; run scripts/start-dockerd.sh first"
command -v "$CC" >/dev/null 2>&1 || die "$CC not found (apt-get install -y gcc libc6-dev)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found"
[ -x "$busybox" ] || die "$busybox not found (apt-get install -y busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; install busybox-static"
fi
for w in spin stream thrash; do
    [ -f "$src/$w.c" ] || die "missing source $src/$w.c"
done

hash="$( { cat "$src"/*.c "$src"/*.h "$busybox" "$0"; "$CC" --version | head -n 1; } | sha256sum | cut -c1-16)"

image_hash() {
    docker image inspect -f '{{ index .Config.Labels "rdt4nn.source-hash" }}' "$1" 2>/dev/null || true
}

all_current=1
for image in rdt4nn/busybox rdt4nn/spin rdt4nn/stream rdt4nn/thrash; do
    if [ "$(image_hash "$image:latest")" != "$hash" ]; then all_current=0; fi
done
if [ "$all_current" = 1 ] && [ "${FORCE:-0}" != 1 ]; then
    echo "build-test-images: images are up to date (source hash $hash)"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rdt4nn-images.XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM

echo "build-test-images: compiling workloads"
mkdir -p "$work/bin"
for w in spin stream thrash; do
    "$CC" -static -O2 -Wall -Wextra -Werror -o "$work/bin/$w" "$src/$w.c" \
        || die "compiling $src/$w.c failed"
    "$work/bin/$w" --help >/dev/null || die "$w --help failed after compiling"
done

# rootfs: busybox, one symlink per applet, the usual empty directories.
rootfs="$work/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/etc" "$rootfs/data"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
echo "root:x:0:" >"$rootfs/etc/group"

import() { # import IMAGE CHANGE...
    image="$1"
    shift
    tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$work/rootfs.tar" . \
        || die "creating the rootfs tarball for $image failed"
    set -- --change "LABEL rdt4nn.source-hash=$hash" "$@"
    docker import "$@" "$work/rootfs.tar" "$image:latest" >/dev/null \
        || die "docker import of $image:latest failed"
    echo "build-test-images: built $image:latest"
}

import rdt4nn/busybox --change 'CMD ["sh"]'
cp "$work/bin/spin" "$work/bin/stream" "$work/bin/thrash" "$rootfs/bin/"
for w in spin stream thrash; do
    import "rdt4nn/$w" --change "ENTRYPOINT [\"/bin/$w\"]" --change 'CMD []'
done

# Smoke test: each workload runs briefly inside its image, without a network.
for w in spin stream thrash; do
    case "$w" in
        stream) args="--size 8 --seconds 0.3 --interval 0.1" ;;
        thrash) args="--size 1M --seconds 0.3 --interval 0.1" ;;
        *) args="--seconds 0.3 --interval 0.1" ;;
    esac
    # shellcheck disable=SC2086
    out="$(docker run --rm --network none "rdt4nn/$w:latest" $args 2>&1)" \
        || die "smoke test of rdt4nn/$w failed: $out"
    echo "$out" | grep -q "^$w done" || die "smoke test of rdt4nn/$w printed no 'done' line: $out"
done
echo "build-test-images: all images built and smoke-tested (source hash $hash)"
