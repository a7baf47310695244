/*
 * CPerfEvent — perf_event_open(2) for Swift.
 *
 * Swift cannot call the variadic syscall(2), cannot expand the _IO* ioctl
 * macros, and cannot set the bitfields of `struct perf_event_attr`; each
 * function below does one of those things with fixed argument types.
 *
 * Visibility: every function is hidden.  This target is linked statically into
 * the image that uses it (the perf plugin .so), so nothing here is exported.
 *
 * Threading: no state of its own; the kernel's rules apply (one perf fd may be
 * read from several threads, but rdt4nn never does that).
 *
 * Errors: every function returns -1 and leaves errno set on failure, as the
 * underlying system call does.
 */
#ifndef CPERFEVENT_H
#define CPERFEVENT_H

#include <linux/perf_event.h>
#include <stdint.h>
#include <sys/types.h>

#define CPERFEVENT_API __attribute__((visibility("hidden")))

/* Flags of CPerfEvent_open (the kernel's PERF_FLAG_*, as plain integers so that
 * Swift imports them; equality is checked by _Static_assert in the .c file). */
/** Event fd joins no group (never needed by rdt4nn). */
#define CPERFEVENT_FLAG_FD_NO_GROUP 1u
/** `pid` is an open cgroup directory fd; `cpu` must be >= 0. */
#define CPERFEVENT_FLAG_PID_CGROUP 4u
/** Open the event fd with O_CLOEXEC (always added by CPerfEvent_open). */
#define CPERFEVENT_FLAG_FD_CLOEXEC 8u

/* Bits of the `options` argument of CPerfEvent_attr_init (ours, not the
 * kernel's: each sets one bitfield of struct perf_event_attr). */
/** attr.disabled = 1: the event starts disabled (set it on group leaders). */
#define CPERFEVENT_ATTR_DISABLED 0x1u
/** attr.inherit = 1: count children created after the open (per-task events). */
#define CPERFEVENT_ATTR_INHERIT 0x2u
/** attr.exclude_user = 1. */
#define CPERFEVENT_ATTR_EXCLUDE_USER 0x4u
/** attr.exclude_kernel = 1 (required unprivileged at perf_event_paranoid >= 2). */
#define CPERFEVENT_ATTR_EXCLUDE_KERNEL 0x8u
/** attr.exclude_hv = 1. */
#define CPERFEVENT_ATTR_EXCLUDE_HV 0x10u
/** attr.exclude_idle = 1. */
#define CPERFEVENT_ATTR_EXCLUDE_IDLE 0x20u

/* read_format bits (the kernel's PERF_FORMAT_*), as plain integers. */
#define CPERFEVENT_FORMAT_TOTAL_TIME_ENABLED 1u
#define CPERFEVENT_FORMAT_TOTAL_TIME_RUNNING 2u
#define CPERFEVENT_FORMAT_ID 4u
#define CPERFEVENT_FORMAT_GROUP 8u

/**
 * Fills `attr` for a counting (non-sampling) event: zeroes the whole struct,
 * sets `size` to sizeof(struct perf_event_attr), `type`, `config`, `config1`,
 * `config2`, `read_format`, and the bitfields named by `options`
 * (CPERFEVENT_ATTR_*).  Everything else stays 0.
 */
CPERFEVENT_API void CPerfEvent_attr_init(struct perf_event_attr *attr, uint32_t type, uint64_t config,
                                         uint64_t config1, uint64_t config2, uint64_t read_format,
                                         uint32_t options);

/**
 * perf_event_open(2): returns a new fd or -1 with errno.  CPERFEVENT_FLAG_FD_CLOEXEC
 * is always added to `flags`.  `pid` is a thread id, 0 (caller), -1 (all tasks on
 * `cpu`), or a cgroup directory fd with CPERFEVENT_FLAG_PID_CGROUP.
 */
CPERFEVENT_API int CPerfEvent_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
                                   unsigned long flags);

/** PERF_EVENT_IOC_ENABLE; `whole_group` != 0 adds PERF_IOC_FLAG_GROUP. */
CPERFEVENT_API int CPerfEvent_enable(int fd, int whole_group);
/** PERF_EVENT_IOC_DISABLE; `whole_group` != 0 adds PERF_IOC_FLAG_GROUP. */
CPERFEVENT_API int CPerfEvent_disable(int fd, int whole_group);
/** PERF_EVENT_IOC_RESET (clears counts, not times); `whole_group` != 0 adds PERF_IOC_FLAG_GROUP. */
CPERFEVENT_API int CPerfEvent_reset(int fd, int whole_group);
/** PERF_EVENT_IOC_ID: the kernel's id of the event behind `fd` (as in ID read formats). */
CPERFEVENT_API int CPerfEvent_id(int fd, uint64_t *id);

/** Reads (never changes) RLIMIT_NOFILE: soft and hard limits, UINT64_MAX for
 *  unlimited.  For error messages: plugins must not change process rlimits. */
CPERFEVENT_API int CPerfEvent_nofile_limit(uint64_t *soft, uint64_t *hard);

/** sizeof(struct perf_event_attr) this target was compiled with. */
CPERFEVENT_API uint32_t CPerfEvent_attr_size(void);

#endif /* CPERFEVENT_H */
