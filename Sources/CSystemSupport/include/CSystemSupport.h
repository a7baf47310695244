/*
 * CSystemSupport — the GNU extensions SystemSupport needs.
 *
 * Swift's Glibc module is imported without _GNU_SOURCE, so pipe2(2),
 * pthread_setname_np(3) and posix_spawn_file_actions_addclosefrom_np(3)
 * are not visible to Swift, nor is <sys/timerfd.h>; each function below
 * forwards to one of them.
 *
 * Visibility: every function is hidden (linked statically into the image
 * that uses it, never exported from a plugin).
 *
 * Errors: as the wrapped function (-1 and errno, or an error number).
 */
#ifndef CSYSTEMSUPPORT_H
#define CSYSTEMSUPPORT_H

#include <spawn.h>

#define CSYSTEMSUPPORT_API __attribute__((visibility("hidden")))

/** pipe2(fds, O_CLOEXEC): both ends close on exec. Returns 0, or -1 with errno. */
CSYSTEMSUPPORT_API int CSystemSupport_pipeCloseOnExec(int fds[2]);

/** Names the calling thread (at most 15 bytes). Returns 0 or an error number. */
CSYSTEMSUPPORT_API int CSystemSupport_setThreadName(const char *name);

/** Adds "close every descriptor >= from" to spawn file actions. Returns 0 or an error number. */
CSYSTEMSUPPORT_API int CSystemSupport_addCloseFrom(posix_spawn_file_actions_t *actions, int from);

/** timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC). Returns the descriptor, or -1 with errno. */
CSYSTEMSUPPORT_API int CSystemSupport_monotonicTimerCreate(void);

/**
 * Arms the timer to expire once at an absolute CLOCK_MONOTONIC time
 * (timerfd_settime with TFD_TIMER_ABSTIME, no interval); 0 disarms it.
 * Returns 0, or -1 with errno.
 */
CSYSTEMSUPPORT_API int CSystemSupport_monotonicTimerSet(int fd, long long deadlineNanoseconds);

#endif
