/*
 * spin — a CPU spinner: one busy thread doing integer work, no memory traffic.
 *
 * usage: spin [--seconds N] [--interval S]
 *   --seconds N   stop after N seconds (default 0 = until SIGTERM/SIGINT)
 *   --interval S  report every S seconds (default 1)
 * Output, one line per interval: "spin elapsed_s=1.000 iterations=123456789 iterations_per_s=1.2e+08"
 */
#include "common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: spin [--seconds N] [--interval S]\n"
                 "  busy-loops on one CPU; reports iterations/s every S seconds (default 1)\n"
                 "  until N seconds passed (default: forever) or SIGTERM/SIGINT\n");
}

int main(int argc, char **argv) {
    double seconds = 0, interval = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds")) seconds = wl_parse_number("spin", "--seconds", wl_flag_value("spin", argc, argv, &i));
        else if (!strcmp(argv[i], "--interval")) interval = wl_parse_number("spin", "--interval", wl_flag_value("spin", argc, argv, &i));
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else { fprintf(stderr, "spin: unknown argument '%s'\n", argv[i]); usage(stderr); return 2; }
    }
    if (interval <= 0) interval = 1;
    wl_setup();
    printf("spin start seconds=%g interval=%g\n", seconds, interval);

    volatile uint64_t sink = 0;
    uint64_t x = 88172645463325252ull, total = 0, since_report = 0;
    double start = wl_now(), last = start, now = start;
    while (!wl_should_stop(start, seconds, now)) {
        for (int k = 0; k < 100000; k++) { /* xorshift: pure ALU work */
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        }
        sink = x;
        total += 100000; since_report += 100000;
        now = wl_now();
        if (now - last >= interval) {
            printf("spin elapsed_s=%.3f iterations=%llu iterations_per_s=%.4g\n", now - start,
                   (unsigned long long)total, since_report / (now - last));
            last = now; since_report = 0;
        }
    }
    (void)sink;
    printf("spin done elapsed_s=%.3f iterations=%llu reason=%s\n", wl_now() - start, (unsigned long long)total,
           wl_stop_requested ? (wl_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") : "seconds");
    return 0;
}
