#include "CSystemSupport.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

int CSystemSupport_pipeCloseOnExec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int CSystemSupport_setThreadName(const char *name) { return pthread_setname_np(pthread_self(), name); }

int CSystemSupport_addCloseFrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
