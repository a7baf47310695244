#include "CSystemSupport.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int CSystemSupport_pipeCloseOnExec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int CSystemSupport_setThreadName(const char *name) { return pthread_setname_np(pthread_self(), name); }

int CSystemSupport_addCloseFrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int CSystemSupport_monotonicTimerCreate(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC); }

int CSystemSupport_monotonicTimerSet(int fd, long long deadlineNanoseconds) {
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = (time_t)(deadlineNanoseconds / 1000000000LL);
    spec.it_value.tv_nsec = (long)(deadlineNanoseconds % 1000000000LL);
    return timerfd_settime(fd, deadlineNanoseconds > 0 ? TFD_TIMER_ABSTIME : 0, &spec, NULL);
}
