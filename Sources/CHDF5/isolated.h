// Reading what libhdf5 1.10 cannot read safely from a damaged file, in a child process.
//
// Variable-length strings live in the file's global heap, and libhdf5 1.10 trusts the
// sizes and object indices it finds there: a damaged heap makes H5Aread copy past its
// buffers (a crash) or loop in its cache (a hang). The read runs in a forked child that
// sends the strings back through a pipe; a child that crashes, hangs past the timeout
// (it is killed) or answers too much is a damaged file to the caller, and the calling
// process never touches the heap. Only C runs in the child, then _exit.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline long long dkl_h5_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** Reads the `n` variable-length strings of attribute `attr` (memory type `memtype`) in a
 *  child process. On 0, *out holds them, each NUL-terminated, in *len bytes (free() it).
 *  Returns -1 when libhdf5 reports an error, -2 when the child crashed, hung past
 *  `timeout_ms` or answered more than `limit` bytes or not `n` strings, -3 when no child
 *  could be started. */
static inline int dkl_h5a_read_vlen_isolated(hid_t attr, hid_t memtype, size_t n, int timeout_ms, size_t limit,
                                             char **out, size_t *len) {
    *out = NULL; *len = 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -3;
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -3; }
    if (pid == 0) {
        // The child: default signal actions (no runtime backtrace of an expected fault),
        // no core file, its own HDF5 read, the strings down the pipe.
        int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGPIPE };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);
        close(fds[0]);
        char **p = (char **)calloc(n ? n : 1, sizeof(char *));
        if (p == NULL || H5Aread(attr, memtype, p) < 0) _exit(3);
        for (size_t i = 0; i < n; i++) {
            const char *s = p[i] ? p[i] : "";
            size_t left = strlen(s) + 1;
            while (left > 0) {
                ssize_t w = write(fds[1], s, left);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) _exit(4);
                s += w; left -= (size_t)w;
            }
        }
        _exit(0);
    }
    close(fds[1]);
    size_t cap = 4096, used = 0;
    char *buf = (char *)malloc(cap);
    int failed = buf == NULL;
    long long deadline = dkl_h5_now_ms() + timeout_ms;
    while (!failed) {
        long long left = deadline - dkl_h5_now_ms();
        if (left <= 0) { failed = 1; break; }
        struct pollfd pfd = { fds[0], POLLIN, 0 };
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { failed = 1; break; }
        if (used == cap) {
            if (cap >= limit) { failed = 1; break; }
            char *bigger = (char *)realloc(buf, cap * 2);
            if (bigger == NULL) { failed = 1; break; }
            buf = bigger; cap *= 2;
        }
        ssize_t got = read(fds[0], buf + used, cap - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { failed = 1; break; }
        if (got == 0) break;
        used += (size_t)got;
    }
    close(fds[0]);
    if (failed) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    size_t strings = 0;
    for (size_t i = 0; i < used; i++) strings += buf[i] == 0;
    if (!failed && WIFEXITED(status) && WEXITSTATUS(status) == 3) { free(buf); return -1; }
    if (failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || strings != n || (used > 0 && buf[used - 1] != 0)) {
        free(buf);
        return -2;
    }
    *out = buf; *len = used;
    return 0;
}
