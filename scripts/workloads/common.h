/*
 * common.h — shared helpers for the rdt4nn test workloads (spin, stream, thrash).
 *
 * Each workload runs until SIGTERM/SIGINT or for --seconds N, prints one result line per
 * --interval seconds to stdout (line-buffered, so `docker logs` sees it at once), and a final
 * "done" line. Signals only set a flag; the hot loops poll it, so exit is prompt.
 */
#ifndef RDT4NN_WORKLOAD_COMMON_H
#define RDT4NN_WORKLOAD_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t wl_stop_requested = 0;
static volatile sig_atomic_t wl_stop_signal = 0;

static inline void wl_on_signal(int sig) {
    wl_stop_requested = 1;
    wl_stop_signal = sig;
}

/* Installs SIGTERM/SIGINT handlers and makes stdout line-buffered. */
static inline void wl_setup(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wl_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Monotonic time in seconds. */
static inline double wl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parses a non-negative decimal number; exits with status 2 and a message if invalid. */
static inline double wl_parse_number(const char *prog, const char *flag, const char *text) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || v < 0) {
        fprintf(stderr, "%s: %s needs a non-negative number, got '%s'\n", prog, flag, text);
        exit(2);
    }
    return v;
}

/* Parses a size with an optional K/M/G suffix (powers of 1024; no suffix = `unit` bytes). */
static inline uint64_t wl_parse_size(const char *prog, const char *flag, const char *text, uint64_t unit) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    uint64_t mult = unit;
    if (end && *end) {
        switch (*end) {
        case 'k': case 'K': mult = 1ull << 10; end++; break;
        case 'm': case 'M': mult = 1ull << 20; end++; break;
        case 'g': case 'G': mult = 1ull << 30; end++; break;
        default: break;
        }
        if (*end == 'i' || *end == 'B' || *end == 'b') end++;
        if (*end == 'B' || *end == 'b') end++;
    }
    if (errno != 0 || end == text || *end != '\0' || v <= 0) {
        fprintf(stderr, "%s: %s needs a positive size like 512K or 64M, got '%s'\n", prog, flag, text);
        exit(2);
    }
    return (uint64_t)(v * (double)mult);
}

/* The value after a flag, or exit 2 when missing. */
static inline const char *wl_flag_value(const char *prog, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

/* True when the run should end: a signal arrived or the deadline (0 = none) passed. */
static inline int wl_should_stop(double start, double seconds, double now) {
    return wl_stop_requested || (seconds > 0 && now - start >= seconds);
}

#endif
