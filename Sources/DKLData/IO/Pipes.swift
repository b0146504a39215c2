import Foundation
import DKLCore

/// Pipe tuning shared by readers and writers.
enum Pipes {
    /// Grows the kernel buffer of `fd` to 1 MiB if it is a pipe (a no-op otherwise or on failure).
    static func enlarge(_ fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else { return }
        _ = fcntl(fd, 1031 /* F_SETPIPE_SZ, a GNU macro Swift does not import */, Int32(1 << 20))
    }
}
