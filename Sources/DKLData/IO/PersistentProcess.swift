import Foundation
import Glibc
import Synchronization
import DKLCore
import CPlatform

/// A program started once (posix_spawn, never through a shell, in a process group of its
/// own) and talked to over its standard input and output for as long as it runs: lines and
/// byte counts written, lines and byte counts read with a deadline. Its standard error is
/// drained continuously by a thread of its own, so that a program that talks there never
/// blocks, and its last lines are at hand for a message. `stop()` asks it to end (closing
/// its input), then SIGTERM, then SIGKILL, and reaps it.
public final class PersistentProcess {
    public let path: String
    let pid: pid_t
    var input: Int32
    var output: Int32
    /// What has been read from its output and not yet taken.
    var pending: [UInt8] = []
    var ended = false
    let stderrTail: ErrorTail

    /// The tail of a program's standard error, filled by the draining thread.
    final class ErrorTail: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func append(_ b: ArraySlice<UInt8>) {
            bytes.withLock { v in
                v.append(contentsOf: b)
                if v.count > 2 * limit { v.removeFirst(v.count - limit) }
            }
        }
        var text: String { bytes.withLock { String(decoding: $0.suffix(limit), as: UTF8.self) } }
    }

    public init(_ path: String, _ arguments: [String], stderrTail tailBytes: Int = 4096) throws {
        self.path = path
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard dkl_pipe_cloexec(&inPipe) == 0 else { throw DKLError.data("cannot make a pipe: \(String(cString: strerror(errno)))", file: path) }
        guard dkl_pipe_cloexec(&outPipe) == 0 else {
            close(inPipe[0]); close(inPipe[1])
            throw DKLError.data("cannot make a pipe: \(String(cString: strerror(errno)))", file: path)
        }
        guard dkl_pipe_cloexec(&errPipe) == 0 else {
            for fd in inPipe + outPipe { close(fd) }
            throw DKLError.data("cannot make a pipe: \(String(cString: strerror(errno)))", file: path)
        }
        let spawned = Result { try ChildProcess.spawn(path, arguments, stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1]) }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        switch spawned {
        case let .success(p): pid = p
        case let .failure(e):
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw e
        }
        input = inPipe[1]
        output = outPipe[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
        let tail = ErrorTail(limit: tailBytes)
        stderrTail = tail
        let err = errPipe[0]
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 1 << 14)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(err, $0.baseAddress, $0.count) }
                if n > 0 { tail.append(buffer[0..<n]); continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            close(err)
        }
    }

    deinit { stop(grace: 1) }

    /// The last non-empty lines of its standard error, joined by " | ".
    public func lastErrorLines(_ n: Int = 3) -> String {
        stderrTail.text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.suffix(n).joined(separator: " | ")
    }

    /// Writes `bytes` to its standard input; false when it no longer reads (it ended).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress! + done, bytes.count - done) }
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    /// Why a read ended without its data.
    public enum ReadFailure: Error, Equatable { case timedOut, ended }

    /// Reads until `complete(pending)` gives how many bytes make the item, by `deadline`.
    func read(until deadline: Date, _ complete: ([UInt8]) -> Int?) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let n = complete(pending) {
                let item = Array(pending[0..<n])
                pending.removeFirst(n)
                return item
            }
            if ended { throw ReadFailure.ended }
            try Interrupts.check()
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw ReadFailure.timedOut }
            var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, Int32(min(max(left * 1000, 1), 50)))
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress, $0.count) }
                if n > 0 { pending.append(contentsOf: buffer[0..<n]); continue }
                if n == 0 { ended = true }
                if n < 0 && errno == EINTR { continue }
                break
            }
        }
    }

    /// One line (without its newline), read by `deadline`; lines longer than `limit` are an error.
    public func readLine(until deadline: Date, limit: Int = 1 << 26) throws -> String {
        let line = try read(until: deadline) { p in
            if let i = p.firstIndex(of: 0x0A) { return i + 1 }
            return p.count > limit ? p.count : nil
        }
        guard line.last == 0x0A else { throw DKLError.data("answered a line longer than \(limit) bytes", file: path) }
        return String(decoding: line.dropLast(), as: UTF8.self)
    }

    /// Exactly `count` bytes, read by `deadline`.
    public func readBytes(_ count: Int, until deadline: Date) throws -> [UInt8] {
        try read(until: deadline) { $0.count >= count ? count : nil }
    }

    /// Whether it has exited (reaped then).
    public var hasExited: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid || kill(pid, 0) != 0
    }

    /// Ends it: its input closed (a polite program then exits), SIGTERM to its group after
    /// `grace` seconds, SIGKILL after `grace` more; reaped.
    public func stop(grace: Double = 2) {
        guard output >= 0 else { return }
        if input >= 0 { close(input); input = -1 }
        close(output); output = -1
        var status: Int32 = 0
        for (signal, wait) in [(Int32(0), grace), (SIGTERM, grace), (SIGKILL, 0)] {
            if signal != 0 { kill(-pid, signal) }
            let until = Date().addingTimeInterval(wait)
            repeat {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r == -1 && errno == ECHILD) { return }
                usleep(2_000)
            } while Date() < until
        }
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
