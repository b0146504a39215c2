// See include/platform.h: the GNU calls that Swift's Glibc module does not export.
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include "platform.h"

int dkl_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int dkl_spawn_close_from(posix_spawn_file_actions_t *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
}

#include <errno.h>
int dkl_lock_exclusive(int fd) {
    struct flock l = {0};
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &l) == 0) return 0;
    if (errno != EACCES && errno != EAGAIN) return -1;
    struct flock q = {0};
    q.l_type = F_WRLCK;
    q.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK && q.l_pid > 0) return q.l_pid;
    errno = EAGAIN;
    return -1;
}
