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
