/*
 * overhead_floor.c — the least a sampler can do for the data rdt4nn's
 * dockerstats and perf collectors produce, as a yardstick for
 * bench/overhead.sh: the same kernel reads at the same rate, in one plain C
 * thread, without a plugin host.
 *
 * Every INTERVAL_MS, on absolute CLOCK_MONOTONIC deadlines, for each
 * container pid given:
 *   - pread(2) of the cgroup files dockerstats reads on each tick
 *     (cgroup v1: cpuacct.usage, cpuacct.stat, cpu.stat, memory.usage_in_bytes,
 *     memory.limit_in_bytes, memory.stat, pids.current,
 *     blkio.throttle.io_service_bytes_recursive, blkio.throttle.io_serviced_recursive;
 *     cgroup v2: cpu.stat, memory.current, memory.max, memory.stat,
 *     pids.current, io.stat) and of /proc/PID/net/dev;
 *   - one read(2) per online CPU of a perf_event group in cgroup mode
 *     (task-clock, context-switches, cpu-migrations, page-faults, with
 *     TOTAL_TIME_ENABLED/RUNNING), as the perf collector with its default
 *     events on a machine without hardware counters;
 * plus /proc/stat once per tick.  Each number read is parsed (strtoull) and
 * one text line per container and tick is written to a buffered file, so the
 * floor includes the least parsing and output; it does not compute
 * percentages, deltas or tags.
 *
 * Usage: overhead_floor SECONDS INTERVAL_MS OUTPUT PID...
 * Prints its own CPU time (user + system, from getrusage) as a share of one core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 16
#define MAX_CPUS 256

struct container {
    int pid;
    int files[MAX_FILES];
    int file_count;
    int groups[MAX_CPUS];
    int group_count;
};

static long long monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The cgroup path of `controller` ("" for the v2 hierarchy) for pid, or NULL. */
static int cgroup_path(int pid, const char *controller, char *out, size_t size) {
    char name[64], line[4096];
    snprintf(name, sizeof name, "/proc/%d/cgroup", pid);
    FILE *file = fopen(name, "r");
    if (!file) return -1;
    int found = -1;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = 0;
        char *first = strchr(line, ':');
        if (!first) continue;
        char *second = strchr(first + 1, ':');
        if (!second) continue;
        *second = 0;
        const char *list = first + 1, *path = second + 1;
        if (*controller == 0) {
            if (*list == 0) { snprintf(out, size, "%s", path); found = 0; }
            continue;
        }
        char copy[256];
        snprintf(copy, sizeof copy, "%s", list);
        for (char *save = NULL, *token = strtok_r(copy, ",", &save); token; token = strtok_r(NULL, ",", &save)) {
            if (strcmp(token, controller) == 0) { snprintf(out, size, "%s", path); found = 0; }
        }
    }
    fclose(file);
    return found;
}

static void add_file(struct container *c, const char *controller, const char *file) {
    char path[4096], cgroup[2048];
    if (cgroup_path(c->pid, controller, cgroup, sizeof cgroup) != 0) return;
    if (*controller) snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/%s", controller, cgroup, file);
    else snprintf(path, sizeof path, "/sys/fs/cgroup%s/%s", cgroup, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { fprintf(stderr, "overhead_floor: %s: %s\n", path, strerror(errno)); exit(1); }
    c->files[c->file_count++] = fd;
}

static int open_event(int cgroup_fd, int cpu, unsigned long long config, int group) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = config;
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &attr, cgroup_fd, cpu, group, PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
}

static void open_perf(struct container *c, int cpus) {
    char cgroup[2048], path[4096];
    if (cgroup_path(c->pid, "perf_event", cgroup, sizeof cgroup) == 0) {
        snprintf(path, sizeof path, "/sys/fs/cgroup/perf_event%s", cgroup);
    } else if (cgroup_path(c->pid, "", cgroup, sizeof cgroup) == 0) {
        snprintf(path, sizeof path, "/sys/fs/cgroup%s", cgroup);
    } else {
        fprintf(stderr, "overhead_floor: no perf_event cgroup for pid %d\n", c->pid);
        exit(1);
    }
    int directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) { fprintf(stderr, "overhead_floor: %s: %s\n", path, strerror(errno)); exit(1); }
    const unsigned long long events[] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_CONTEXT_SWITCHES,
                                         PERF_COUNT_SW_CPU_MIGRATIONS, PERF_COUNT_SW_PAGE_FAULTS};
    for (int cpu = 0; cpu < cpus && cpu < MAX_CPUS; cpu++) {
        int leader = open_event(directory, cpu, events[0], -1);
        if (leader < 0) { fprintf(stderr, "overhead_floor: perf_event_open: %s\n", strerror(errno)); exit(1); }
        for (int e = 1; e < 4; e++) {
            if (open_event(directory, cpu, events[e], leader) < 0) { fprintf(stderr, "overhead_floor: perf_event_open: %s\n", strerror(errno)); exit(1); }
        }
        c->groups[c->group_count++] = leader;
    }
    close(directory);
}

/* Parses every decimal number in the buffer (the least a collector must do with it). */
static unsigned long long parse_numbers(char *buffer, ssize_t length) {
    unsigned long long sum = 0;
    if (length <= 0) return 0;
    buffer[length] = 0;
    for (char *p = buffer; *p;) {
        if (*p >= '0' && *p <= '9') sum += strtoull(p, &p, 10);
        else p++;
    }
    return sum;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: overhead_floor SECONDS INTERVAL_MS OUTPUT PID...\n");
        return 64;
    }
    double seconds = atof(argv[1]);
    long long interval = atoll(argv[2]) * 1000000LL;
    FILE *output = fopen(argv[3], "w");
    if (!output) { perror(argv[3]); return 1; }
    int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int count = argc - 4;
    struct container *containers = calloc((size_t)count, sizeof *containers);
    int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    for (int i = 0; i < count; i++) {
        struct container *c = &containers[i];
        c->pid = atoi(argv[4 + i]);
        if (v2) {
            const char *files[] = {"cpu.stat", "memory.current", "memory.max", "memory.stat", "pids.current", "io.stat"};
            for (size_t f = 0; f < sizeof files / sizeof *files; f++) add_file(c, "", files[f]);
        } else {
            add_file(c, "cpuacct", "cpuacct.usage");
            add_file(c, "cpuacct", "cpuacct.stat");
            add_file(c, "cpu", "cpu.stat");
            add_file(c, "memory", "memory.usage_in_bytes");
            add_file(c, "memory", "memory.limit_in_bytes");
            add_file(c, "memory", "memory.stat");
            add_file(c, "pids", "pids.current");
            add_file(c, "blkio", "blkio.throttle.io_service_bytes_recursive");
            add_file(c, "blkio", "blkio.throttle.io_serviced_recursive");
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/net/dev", c->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { perror(path); return 1; }
        c->files[c->file_count++] = fd;
        open_perf(c, cpus);
    }
    int host_stat = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    static char buffer[65536];
    long long start = monotonic_ns(), end = start + (long long)(seconds * 1e9);
    long long deadline = start - start % interval + interval;
    long ticks = 0;
    while (deadline < end) {
        struct timespec at = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {}
        unsigned long long host = parse_numbers(buffer, pread(host_stat, buffer, sizeof buffer - 1, 0));
        for (int i = 0; i < count; i++) {
            struct container *c = &containers[i];
            unsigned long long sum = host;
            for (int f = 0; f < c->file_count; f++) sum += parse_numbers(buffer, pread(c->files[f], buffer, sizeof buffer - 1, 0));
            for (int g = 0; g < c->group_count; g++) {
                unsigned long long values[3 + 4];
                if (read(c->groups[g], values, sizeof values) > 0) sum += values[3];
            }
            fprintf(output, "floor,container=%d sum=%llui %lld\n", i, sum, deadline);
        }
        ticks++;
        deadline += interval;
    }
    fclose(output);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    double wall = (monotonic_ns() - start) / 1e9;
    printf("floor: %d containers, %ld ticks in %.1f s: %.3f s CPU = %.2f %% of one core (%.1f us per container-tick)\n",
           count, ticks, wall, cpu, 100 * cpu / wall, 1e6 * cpu / ((double)ticks * count));
    return 0;
}
