import DKL
import Foundation
import TestSupport
import XCTest

/// Instrument programs run by `ChildProcess`: both pipes drained while the program runs,
/// the timeout over the whole exchange, the process group stopped and reaped.
final class ChildProcessTests: XCTestCase {
    /// A shell script run directly (its #! line is the kernel's business, not a shell of ours).
    func script(_ dir: TempDir, _ name: String, _ body: String) throws -> String {
        let path = try dir.write(name, "#!/bin/sh\n" + body + "\n")
        chmod(path, 0o755)
        return path
    }

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t = Date()
        try body()
        return Date().timeIntervalSince(t)
    }

    /// 100 kB on stderr (more than a pipe holds) before the answer: the answer arrives, and
    /// the last 4 kB of stderr are kept for a message.
    func testProgramTalkingOnStderrIsNotBlocked() throws {
        let dir = TempDir()
        let p = try script(dir, "chatty.sh", "i=0; while [ $i -lt 2000 ]; do echo \"warning $i: the stage is settling, please wait\" >&2; i=$((i+1)); done; echo 0.5")
        var run: ChildProcess.Outcome?
        let t = try seconds { run = try ChildProcess.run(p, [], timeout: 20) }
        XCTAssertEqual(run?.ending, .exited(0))
        XCTAssertEqual(String(decoding: run!.output, as: UTF8.self), "0.5\n")
        XCTAssertLessThanOrEqual(run!.errorTail.utf8.count, 4096)
        XCTAssertTrue(run!.errorTail.hasSuffix("warning 1999: the stage is settling, please wait\n"), run!.errorTail.suffix(200).description)
        XCTAssertEqual(run!.lastErrorLines(1), "warning 1999: the stage is settling, please wait")
        XCTAssertLessThan(t, 10)
    }

    /// A program that closes its stdout and keeps running is stopped at the timeout.
    func testTimeoutCoversAProgramThatClosedItsOutput() throws {
        let dir = TempDir()
        let p = try script(dir, "closes.sh", "exec 1>&-; echo closed >&2; sleep 30")
        var run: ChildProcess.Outcome?
        let t = try seconds { run = try ChildProcess.run(p, [], timeout: 1, grace: 1) }
        XCTAssertEqual(run?.ending, .timedOut)
        XCTAssertEqual(run?.lastErrorLines(), "closed")
        XCTAssertLessThan(t, 6)
    }

    /// A background child that keeps stdout open does not hold the answer back.
    func testBackgroundChildKeepingTheOutputOpen() throws {
        let dir = TempDir()
        let p = try script(dir, "daemon.sh", "sleep 30 & echo 0.25")
        var run: ChildProcess.Outcome?
        let t = try seconds { run = try ChildProcess.run(p, [], timeout: 20) }
        XCTAssertEqual(run?.ending, .exited(0))
        XCTAssertEqual(String(decoding: run!.output, as: UTF8.self), "0.25\n")
        XCTAssertLessThan(t, 10)
    }

    /// A program (and its children) that ignore SIGTERM are killed and reaped: none of the
    /// group is left.
    func testProgramIgnoringSigtermIsKilledWithItsGroup() throws {
        let dir = TempDir()
        let pidFile = dir.file("pids")
        let p = try script(dir, "stubborn.sh", "trap '' TERM; (trap '' TERM; sleep 30) & echo $$ $! > \(pidFile); sleep 30")
        var run: ChildProcess.Outcome?
        let t = try seconds { run = try ChildProcess.run(p, [], timeout: 1, grace: 0.5) }
        XCTAssertEqual(run?.ending, .timedOut)
        XCTAssertLessThan(t, 6)
        let pids = try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(pids.count, 2)
        // The group is gone (SIGKILL cannot be ignored): each process has ended (an orphan
        // may stay a zombie until its new parent reaps it); the program itself was reaped.
        usleep(200_000)
        for pid in pids {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first ?? "gone"
            XCTAssertTrue(state == "gone" || state == "Z", "process \(pid) is \(state)")
        }
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pids[0], &status, WNOHANG), -1, "reaped already")
    }

    /// Exit statuses and signals are told apart; a program that does not exist is an error
    /// naming it.
    func testEndingsAndAMissingProgram() throws {
        let dir = TempDir()
        let fails = try script(dir, "fails.sh", "echo 'no stage' >&2; exit 3")
        let run = try ChildProcess.run(fails, [], timeout: 10)
        XCTAssertEqual(run.ending, .exited(3))
        XCTAssertEqual(run.lastErrorLines(), "no stage")
        let killed = try script(dir, "killed.sh", "kill -9 $$")
        XCTAssertEqual(try ChildProcess.run(killed, [], timeout: 10).ending, .signalled(9))
        let args = try script(dir, "args.sh", "printf '%s|' \"$@\"")
        let echoed = try ChildProcess.run(args, ["a b", "$HOME", ";", "7"], timeout: 10)
        XCTAssertEqual(String(decoding: echoed.output, as: UTF8.self), "a b|$HOME|;|7|", "arguments are passed as they are, never through a shell")
        XCTAssertThrowsError(try ChildProcess.run(dir.file("nothing-here"), [], timeout: 10)) { e in
            XCTAssertTrue("\(e)".contains(dir.file("nothing-here")), "\(e)")
        }
    }
}

/// `Slots`: values written from several threads, every one deinitialized with the slots.
final class SlotsTests: XCTestCase {
    final class Counted: @unchecked Sendable {
        static let live = NSLock()
        nonisolated(unsafe) static var count = 0
        init() { Counted.live.lock(); Counted.count += 1; Counted.live.unlock() }
        deinit { Counted.live.lock(); Counted.count -= 1; Counted.live.unlock() }
    }

    func testValuesAreFreedWithTheSlots() {
        let before = Counted.count
        do {
            let slots = Slots<[Counted]>(100)
            Parallel.forEachItem(100) { i in slots[i] = [Counted(), Counted()] }
            XCTAssertEqual(slots.values()?.count, 100)
            XCTAssertEqual(Counted.count - before, 200)
        }
        XCTAssertEqual(Counted.count, before, "every value deinitialized")
    }

    /// Every index is run once, whatever the thread count.
    func testForEachItemRunsEveryIndexOnce() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 16] {
            Parallel.threads = threads
            let slots = Slots<Int>(1000)
            Parallel.forEachItem(1000) { i in slots[i] = (slots[i] ?? 0) + i }
            XCTAssertEqual(slots.values(), Array(0..<1000), "\(threads) threads")
        }
    }
}
