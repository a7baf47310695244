/*
 * thrash — a cache thrasher ("neighbor" microbenchmark): dependent random pointer chasing over
 * a buffer of --size bytes, one 64-byte cache line per node, in a single random cycle
 * (Sattolo's algorithm) so the hardware prefetcher cannot help. A buffer that fits the L2/LLC
 * measures cache latency; a larger one evicts neighbours' lines and measures DRAM latency.
 *
 * usage: thrash [--size SIZE] [--seconds N] [--interval S] [--seed N]
 *   --size SIZE   buffer size with K/M/G suffix, bare numbers are KiB (default 32M)
 *   --seconds N   stop after N seconds (default 0 = until SIGTERM/SIGINT)
 *   --interval S  report every S seconds (default 1)
 *   --seed N      random seed (default 1)
 * Output: "thrash elapsed_s=1.000 accesses=123 accesses_per_s=1.2e+07 ns_per_access=80.1"
 */
#include "common.h"

struct node { struct node *next; char pad[64 - sizeof(struct node *)]; };

static uint64_t rng_state;
static uint64_t rng(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void usage(FILE *out) {
    fprintf(out, "usage: thrash [--size SIZE] [--seconds N] [--interval S] [--seed N]\n"
                 "  random pointer chasing over SIZE bytes (K/M/G suffix, bare = KiB, default 32M);\n"
                 "  reports accesses/s every S seconds\n");
}

int main(int argc, char **argv) {
    double seconds = 0, interval = 1;
    uint64_t bytes = 32ull << 20;
    rng_state = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds")) seconds = wl_parse_number("thrash", "--seconds", wl_flag_value("thrash", argc, argv, &i));
        else if (!strcmp(argv[i], "--interval")) interval = wl_parse_number("thrash", "--interval", wl_flag_value("thrash", argc, argv, &i));
        else if (!strcmp(argv[i], "--size")) bytes = wl_parse_size("thrash", "--size", wl_flag_value("thrash", argc, argv, &i), 1ull << 10);
        else if (!strcmp(argv[i], "--seed")) rng_state = (uint64_t)wl_parse_number("thrash", "--seed", wl_flag_value("thrash", argc, argv, &i));
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else { fprintf(stderr, "thrash: unknown argument '%s'\n", argv[i]); usage(stderr); return 2; }
    }
    if (interval <= 0) interval = 1;
    size_t n = (size_t)(bytes / sizeof(struct node));
    if (n < 2) { fprintf(stderr, "thrash: --size must hold at least two 64-byte lines\n"); return 2; }
    wl_setup();
    struct node *nodes = aligned_alloc(64, n * sizeof(struct node));
    size_t *order = malloc(n * sizeof *order);
    if (!nodes || !order) { fprintf(stderr, "thrash: cannot allocate %llu bytes\n", (unsigned long long)bytes); return 1; }
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Sattolo: one cycle through every node */
        size_t j = (size_t)(rng() % i);
        size_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < n; i++) nodes[order[i]].next = &nodes[order[(i + 1) % n]];
    free(order);
    printf("thrash start size_bytes=%llu lines=%zu seconds=%g interval=%g\n",
           (unsigned long long)(n * sizeof(struct node)), n, seconds, interval);

    struct node *p = &nodes[0];
    uint64_t total = 0, since_report = 0;
    double start = wl_now(), last = start, now = start;
    while (!wl_should_stop(start, seconds, now)) {
        for (int k = 0; k < 65536; k++) p = p->next;
        total += 65536; since_report += 65536;
        now = wl_now();
        if (now - last >= interval) {
            double rate = since_report / (now - last);
            printf("thrash elapsed_s=%.3f accesses=%llu accesses_per_s=%.4g ns_per_access=%.2f\n", now - start,
                   (unsigned long long)total, rate, 1e9 / rate);
            last = now; since_report = 0;
        }
    }
    printf("thrash done elapsed_s=%.3f accesses=%llu end=%p reason=%s\n", wl_now() - start,
           (unsigned long long)total, (void *)p,
           wl_stop_requested ? (wl_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") : "seconds");
    free(nodes);
    return 0;
}
