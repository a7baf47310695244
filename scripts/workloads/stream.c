/*
 * stream — a STREAM-like memory-bandwidth streamer: the triad a[i] = b[i] + s*c[i] over three
 * double arrays that together take --size MiB (make it much larger than the LLC).
 *
 * usage: stream [--size MiB] [--seconds N] [--interval S]
 *   --size MiB    total buffer, MiB, K/M/G suffix allowed (default 256)
 *   --seconds N   stop after N seconds (default 0 = until SIGTERM/SIGINT)
 *   --interval S  report every S seconds (default 1)
 * Output: "stream elapsed_s=1.000 triads=12 gb_per_s=10.53" (GB = 1e9 bytes; 24 bytes counted
 * per element, as STREAM does: two loads and one store).
 */
#include "common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: stream [--size MiB] [--seconds N] [--interval S]\n"
                 "  STREAM triad a=b+s*c over --size MiB in total (default 256); reports GB/s every S seconds\n");
}

int main(int argc, char **argv) {
    double seconds = 0, interval = 1;
    uint64_t bytes = 256ull << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds")) seconds = wl_parse_number("stream", "--seconds", wl_flag_value("stream", argc, argv, &i));
        else if (!strcmp(argv[i], "--interval")) interval = wl_parse_number("stream", "--interval", wl_flag_value("stream", argc, argv, &i));
        else if (!strcmp(argv[i], "--size")) bytes = wl_parse_size("stream", "--size", wl_flag_value("stream", argc, argv, &i), 1ull << 20);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else { fprintf(stderr, "stream: unknown argument '%s'\n", argv[i]); usage(stderr); return 2; }
    }
    if (interval <= 0) interval = 1;
    size_t n = (size_t)(bytes / (3 * sizeof(double)));
    if (n < 1024) { fprintf(stderr, "stream: --size too small (need at least 24 KiB)\n"); return 2; }
    wl_setup();
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c) { fprintf(stderr, "stream: cannot allocate %llu bytes\n", (unsigned long long)bytes); return 1; }
    for (size_t i = 0; i < n; i++) { a[i] = 0; b[i] = 1.0; c[i] = 2.0; }
    printf("stream start size_bytes=%llu elements=%zu seconds=%g interval=%g\n", (unsigned long long)(3 * n * sizeof(double)),
           n, seconds, interval);

    const double s = 3.0;
    const size_t block = 1 << 16; /* poll the stop flag every 64 Ki elements */
    uint64_t triads = 0;
    double moved = 0, moved_total = 0;
    double start = wl_now(), last = start, now = start;
    while (!wl_should_stop(start, seconds, now)) {
        for (size_t lo = 0; lo < n && !wl_stop_requested; lo += block) {
            size_t hi = lo + block < n ? lo + block : n;
            for (size_t i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
            moved += 24.0 * (double)(hi - lo);
        }
        triads++;
        now = wl_now();
        if (now - last >= interval) {
            printf("stream elapsed_s=%.3f triads=%llu gb_per_s=%.3f\n", now - start, (unsigned long long)triads,
                   moved / (now - last) / 1e9);
            moved_total += moved; moved = 0; last = now;
        }
    }
    moved_total += moved;
    double elapsed = wl_now() - start;
    printf("stream done elapsed_s=%.3f triads=%llu avg_gb_per_s=%.3f check=%g reason=%s\n", elapsed,
           (unsigned long long)triads, elapsed > 0 ? moved_total / elapsed / 1e9 : 0.0, a[n / 2],
           wl_stop_requested ? (wl_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") : "seconds");
    free(a); free(b); free(c);
    return 0;
}
