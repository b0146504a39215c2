import Foundation
import DKLCore
import CPlatform

/// A program run directly (posix_spawn, never through a shell) in a process group of its
/// own, with standard input from /dev/null and its standard output and standard error
/// drained together while it runs, so that a program that talks on stderr never blocks on
/// a full pipe. The timeout covers the whole exchange, until the program has exited; at
/// the timeout (or a deferred ^C) the group gets SIGTERM, then SIGKILL after `grace`
/// seconds, and the program is reaped. Once the program has exited, what it wrote is
/// taken even when a background child of it still holds the pipes open.
public enum ChildProcess {
    public struct Outcome: Sendable {
        /// How the program ended.
        public enum Ending: Sendable, Equatable {
            case exited(Int32)
            case signalled(Int32)
            /// Stopped at the timeout (SIGTERM, then SIGKILL).
            case timedOut
        }
        public var ending: Ending
        /// Everything it wrote on standard output.
        public var output: [UInt8]
        /// The last bytes it wrote on standard error (at most `stderrTail` of them).
        public var errorTail: String
        /// The last non-empty lines of `errorTail`, joined by " | ", for an error message.
        public func lastErrorLines(_ n: Int = 3) -> String {
            errorTail.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.suffix(n).joined(separator: " | ")
        }
    }

    /// Runs `path` with `arguments` (argv[0] is `path`).
    /// - Parameters:
    ///   - timeout: seconds for the whole run.
    ///   - grace: seconds between SIGTERM and SIGKILL.
    ///   - stderrTail: how many of the last bytes of stderr are kept.
    ///   - outputLimit: the most bytes of stdout accepted (the program is stopped past it).
    /// - Throws: `DKLError.data` when the program cannot be started or writes too much;
    ///   `DKLError(.interrupted)` after stopping it when a deferred signal arrived.
    public static func run(_ path: String, _ arguments: [String], timeout: Double, grace: Double = 2,
                           stderrTail: Int = 4096, outputLimit: Int = 1 << 30) throws -> Outcome {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard dkl_pipe_cloexec(&outPipe) == 0 else { throw DKLError.data("cannot make a pipe: \(String(cString: strerror(errno)))", file: path) }
        guard dkl_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw DKLError.data("cannot make a pipe: \(String(cString: strerror(errno)))", file: path)
        }
        defer { close(outPipe[0]); close(errPipe[0]) }

        let spawned = Result { try ChildProcess.spawn(path, arguments, stdin: nil, stdout: outPipe[1], stderr: errPipe[1]) }
        close(outPipe[1]); close(errPipe[1])
        let pid = try spawned.get()
        Interrupts.setChildGroup(pid)
        defer { Interrupts.setChildGroup(0) }

        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var drain = Drain(out: outPipe[0], err: errPipe[0], tail: stderrTail)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            if Interrupts.signalNumber != 0 {
                stop(pid, grace: grace)
                throw DKLError(.interrupted, "interrupted")
            }
            if waitpid(pid, &status, WNOHANG) == pid {
                drain.readAvailable()   // what it wrote before exiting is in the pipes now
                break
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                stop(pid, grace: grace)
                return Outcome(ending: .timedOut, output: drain.output, errorTail: drain.errorText)
            }
            drain.wait(milliseconds: Int32(min(max(left * 1000, 1), 20)))
            if drain.output.count > outputLimit {
                stop(pid, grace: grace)
                throw DKLError.data("wrote more than \(outputLimit) bytes on its standard output", file: path)
            }
        }
        let low = status & 0x7f
        let ending: Outcome.Ending = low == 0 ? .exited((status >> 8) & 0xff) : .signalled(low)
        return Outcome(ending: ending, output: drain.output, errorTail: drain.errorText)
    }

    /// Starts `path` directly (posix_spawn, argv[0] = `path`) in a process group of its
    /// own, with the default signal dispositions (this process ignores SIGPIPE) and an
    /// empty signal mask; its standard input from `stdin` (/dev/null when nil), its output
    /// and error to the given descriptors, no other descriptor of this process (an open
    /// trace, a lock) inherited.
    static func spawn(_ path: String, _ arguments: [String], stdin: Int32?, stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) } else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        dkl_spawn_close_from(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, environ)
        guard rc == 0 else { throw DKLError.data("cannot run it: \(String(cString: strerror(rc)))", file: path) }
        return pid
    }

    /// SIGTERM to the group, SIGKILL after `grace` seconds if the program still runs, then reaped.
    static func stop(_ pid: pid_t, grace: Double) {
        var status: Int32 = 0
        kill(-pid, SIGTERM)
        let until = Date().addingTimeInterval(grace)
        while Date() < until {
            if waitpid(pid, &status, WNOHANG) == pid { kill(-pid, SIGKILL); return }
            usleep(5_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Reads both pipes as data arrives; keeps all of stdout and the tail of stderr.
    struct Drain {
        var fds: [Int32]
        let out: Int32
        let tail: Int
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        /// Microseconds to sleep once both pipes have ended (the program is exiting): short
        /// at first, so that a quick program's exit is not waited for in 20 ms steps.
        var nap: UInt32 = 50

        init(out: Int32, err: Int32, tail: Int) {
            self.out = out; self.tail = tail; fds = [out, err]
        }

        var errorText: String { String(decoding: errors.suffix(tail), as: UTF8.self) }

        /// Waits up to `milliseconds` for data or the end of a pipe, then reads what is there.
        mutating func wait(milliseconds: Int32) {
            guard !fds.isEmpty else {
                usleep(min(nap, UInt32(milliseconds) * 1000))
                nap = min(nap * 2, 20_000)
                return
            }
            var set = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&set, nfds_t(set.count), milliseconds) > 0 else { return }
            readAvailable()
        }

        /// Reads every open pipe until it would block; closes the ones at their end.
        mutating func readAvailable() {
            for fd in fds {
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n > 0 {
                        if fd == out { output.append(contentsOf: buffer[0..<n]) } else { keepError(buffer[0..<n]) }
                        continue
                    }
                    if n == 0 || (errno != EAGAIN && errno != EINTR) { fds.removeAll { $0 == fd } }
                    if n < 0 && errno == EINTR { continue }
                    break
                }
            }
        }

        mutating func keepError(_ bytes: ArraySlice<UInt8>) {
            errors.append(contentsOf: bytes)
            if errors.count > 2 * tail { errors.removeFirst(errors.count - tail) }
        }
    }
}
