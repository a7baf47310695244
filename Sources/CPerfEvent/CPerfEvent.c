#include "CPerfEvent.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The plain-integer copies in the header must match the kernel's values. */
_Static_assert(CPERFEVENT_FLAG_FD_NO_GROUP == PERF_FLAG_FD_NO_GROUP, "PERF_FLAG_FD_NO_GROUP");
_Static_assert(CPERFEVENT_FLAG_PID_CGROUP == PERF_FLAG_PID_CGROUP, "PERF_FLAG_PID_CGROUP");
_Static_assert(CPERFEVENT_FLAG_FD_CLOEXEC == PERF_FLAG_FD_CLOEXEC, "PERF_FLAG_FD_CLOEXEC");
_Static_assert(CPERFEVENT_FORMAT_TOTAL_TIME_ENABLED == PERF_FORMAT_TOTAL_TIME_ENABLED, "PERF_FORMAT_TOTAL_TIME_ENABLED");
_Static_assert(CPERFEVENT_FORMAT_TOTAL_TIME_RUNNING == PERF_FORMAT_TOTAL_TIME_RUNNING, "PERF_FORMAT_TOTAL_TIME_RUNNING");
_Static_assert(CPERFEVENT_FORMAT_ID == PERF_FORMAT_ID, "PERF_FORMAT_ID");
_Static_assert(CPERFEVENT_FORMAT_GROUP == PERF_FORMAT_GROUP, "PERF_FORMAT_GROUP");
/* The attr layout the reference documents (fields before the bitfields). */
_Static_assert(offsetof(struct perf_event_attr, type) == 0, "perf_event_attr.type");
_Static_assert(offsetof(struct perf_event_attr, size) == 4, "perf_event_attr.size");
_Static_assert(offsetof(struct perf_event_attr, config) == 8, "perf_event_attr.config");
_Static_assert(offsetof(struct perf_event_attr, read_format) == 32, "perf_event_attr.read_format");
_Static_assert(offsetof(struct perf_event_attr, config1) == 56, "perf_event_attr.config1");
_Static_assert(sizeof(struct perf_event_attr) >= PERF_ATTR_SIZE_VER5, "perf_event_attr too small");
#if defined(__x86_64__)
_Static_assert(SYS_perf_event_open == 298, "perf_event_open syscall number (x86_64)");
#elif defined(__aarch64__)
_Static_assert(SYS_perf_event_open == 241, "perf_event_open syscall number (aarch64)");
#endif

void CPerfEvent_attr_init(struct perf_event_attr *attr, uint32_t type, uint64_t config, uint64_t config1,
                          uint64_t config2, uint64_t read_format, uint32_t options) {
    memset(attr, 0, sizeof(*attr));
    attr->type = type;
    attr->size = (uint32_t)sizeof(*attr);
    attr->config = config;
    attr->config1 = config1;
    attr->config2 = config2;
    attr->read_format = read_format;
    attr->disabled = (options & CPERFEVENT_ATTR_DISABLED) ? 1 : 0;
    attr->inherit = (options & CPERFEVENT_ATTR_INHERIT) ? 1 : 0;
    attr->exclude_user = (options & CPERFEVENT_ATTR_EXCLUDE_USER) ? 1 : 0;
    attr->exclude_kernel = (options & CPERFEVENT_ATTR_EXCLUDE_KERNEL) ? 1 : 0;
    attr->exclude_hv = (options & CPERFEVENT_ATTR_EXCLUDE_HV) ? 1 : 0;
    attr->exclude_idle = (options & CPERFEVENT_ATTR_EXCLUDE_IDLE) ? 1 : 0;
}

int CPerfEvent_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
    long fd = syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags | PERF_FLAG_FD_CLOEXEC);
    return (int)fd;
}

static int ioctl_group(int fd, unsigned long request, int whole_group) {
    return ioctl(fd, request, whole_group ? PERF_IOC_FLAG_GROUP : 0);
}

int CPerfEvent_enable(int fd, int whole_group) { return ioctl_group(fd, PERF_EVENT_IOC_ENABLE, whole_group); }

int CPerfEvent_disable(int fd, int whole_group) { return ioctl_group(fd, PERF_EVENT_IOC_DISABLE, whole_group); }

int CPerfEvent_reset(int fd, int whole_group) { return ioctl_group(fd, PERF_EVENT_IOC_RESET, whole_group); }

int CPerfEvent_id(int fd, uint64_t *id) { return ioctl(fd, PERF_EVENT_IOC_ID, id); }

int CPerfEvent_nofile_limit(uint64_t *soft, uint64_t *hard) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    *soft = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    *hard = limit.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_max;
    return 0;
}

uint32_t CPerfEvent_attr_size(void) { return (uint32_t)sizeof(struct perf_event_attr); }
