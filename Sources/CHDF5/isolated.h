// Reading what libhdf5 1.10 cannot read safely from a damaged file, in a child process.
//
// libhdf5 1.10 trusts much of what a file says about itself: a damaged global heap makes
// H5Aread copy past its buffers (a crash) or loop in its cache (a hang), a damaged
// attribute message crashes H5Fclose as it frees it. Before a file is read, a forked
// child opens it, reads its metadata as the toolkit will and closes it; a child that
// crashes or hangs past the timeout (it is killed) is a damaged file to the caller, which
// then never touches it. Only C runs in the child, then _exit.
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

/* The child's walk: every object's attributes read as the toolkit reads them, every
 * dataset's type, space and layout asked for. */
static inline herr_t dkl_h5_probe_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info; (void)data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n >= 0 && n <= (1 << 20)) {
        size_t count = n > 0 ? (size_t)n : 1;
        H5T_class_t cls = H5Tget_class(type);
        if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
            double *v = (double *)calloc(count, sizeof(double));
            if (v) H5Aread(a, H5T_NATIVE_DOUBLE, v);
        } else if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            char **p = (char **)calloc(count, sizeof(char *));
            if (p && H5Aread(a, mem, p) >= 0) for (size_t i = 0; i < count; i++) if (p[i]) (void)strlen(p[i]);
        } else if (cls == H5T_STRING) {
            size_t size = H5Tget_size(type);
            if (size > 0 && size < (1 << 20)) {
                char *b = (char *)calloc(count, size);
                if (b) H5Aread(a, type, b);
            }
        }
    }
    H5Sclose(space); H5Tclose(type); H5Aclose(a);
    return 0;
}
static inline herr_t dkl_h5_probe_object(hid_t root, const char *name, const dkl_h5o_info_t *info, void *data) {
    (void)data;
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0) return 0;
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, dkl_h5_probe_attr, NULL);
    if (info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o), pl = H5Dget_create_plist(o);
        H5T_class_t cls = H5Tget_class(t);
        H5Tget_size(t); H5Sget_simple_extent_ndims(sp); H5Dget_storage_size(o);
        H5D_layout_t layout = H5Pget_layout(pl);
        /* Numbers in small datasets, and every compact one (its data in the header, where
         * a damaged size makes libhdf5 copy from past its buffer), are read whole. */
        hssize_t points = H5Sget_simple_extent_npoints(sp);
        if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && points > 0
            && (layout == H5D_COMPACT || points <= (1 << 17))) {
            double *v = points <= (1 << 24) ? (double *)calloc((size_t)points, sizeof(double)) : NULL;
            if (v) { H5Dread(o, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v); free(v); }
        }
        /* Small string datasets (the JSON documents of Velox files) are read as the
         * toolkit reads them: a variable-length one goes through the global heap. */
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        if (cls == H5T_STRING && n >= 1 && n <= 16) {
            if (H5Tis_variable_str(t) > 0) {
                hid_t mem = H5Tcopy(H5T_C_S1);
                H5Tset_size(mem, H5T_VARIABLE);
                H5Tset_cset(mem, H5Tget_cset(t));
                char *p[16] = { 0 };
                if (H5Dread(o, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) >= 0)
                    for (hssize_t i = 0; i < n; i++) if (p[i]) (void)strlen(p[i]);
            } else {
                size_t size = H5Tget_size(t);
                if (size > 0 && size < (1 << 20)) {
                    char *b = (char *)calloc((size_t)n, size);
                    if (b) H5Dread(o, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, b);
                }
            }
        }
        H5Pclose(pl); H5Sclose(sp); H5Tclose(t);
    }
    H5Oclose(o);
    return 0;
}

/** Opens the HDF5 file at `path` in a child process and reads its metadata as the
 *  toolkit will (every object, every attribute, every dataset's type, space and layout),
 *  then closes it. Returns 0 when the child ended well or could not open the file (the
 *  caller's own open then says why), -2 when it crashed or ran past `timeout_ms` (it is
 *  killed), -3 when no child could be started. */
static inline int dkl_h5_probe_isolated(const char *path, int timeout_ms) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -3;
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -3; }
    if (pid == 0) {
        int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGPIPE };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);
        close(fds[0]);
        /* What the C library prints as it aborts (free(): invalid size...) is not the tool's. */
        int quiet = open("/dev/null", O_WRONLY);
        if (quiet >= 0) { dup2(quiet, 1); dup2(quiet, 2); close(quiet); }
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) _exit(3);
        H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, dkl_h5_probe_attr, NULL);
#if H5_VERSION_GE(1, 12, 0)
        H5Ovisit3(f, H5_INDEX_NAME, H5_ITER_INC, dkl_h5_probe_object, NULL, H5O_INFO_BASIC);
#else
        H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, dkl_h5_probe_object, NULL, H5O_INFO_BASIC);
#endif
        H5Fclose(f);
        _exit(0);
    }
    close(fds[1]);
    // The child holds the pipe's write end until it ends: EOF (or the time limit) tells.
    int failed = 0;
    long long deadline = dkl_h5_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - dkl_h5_now_ms();
        if (left <= 0) { failed = 1; break; }
        struct pollfd pfd = { fds[0], POLLIN, 0 };
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { failed = 1; break; }
        char c;
        ssize_t got = read(fds[0], &c, 1);
        if (got < 0 && errno == EINTR) continue;
        break;
    }
    close(fds[0]);
    if (failed) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (failed || !WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3)) return -2;
    return 0;
}
