// The few C library calls the toolkit needs that Swift's Glibc module does not export.
#include <malloc.h>

/// Keeps blocks up to 1 GiB in the heap instead of fresh mmap()s returned at free().
static inline void dkl_keep_large_blocks(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends closed on exec, so only the dup2'd copies reach a child.
/// 0, or -1 with errno (DKLData/IO/ChildProcess.swift).
int dkl_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np: every descriptor from `low` up closed in the
/// child. 0, or an error number.
int dkl_spawn_close_from(posix_spawn_file_actions_t *actions, int low);

/// An exclusive fcntl lock on the whole file open at `fd` (held until the process closes
/// any descriptor of the file or exits): 0 when taken, the pid of the process holding it,
/// or -1 with errno on another error (DKLData/Stream/Checkpoint.swift).
int dkl_lock_exclusive(int fd);
