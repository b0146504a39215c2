import Foundation
import XCTest

/// The result of running a command.
public struct RunResult {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data
    public let command: String
    /// True when the process was killed by a signal (a crash or a trap).
    public let signaled: Bool
    /// True when it ran past the run's timeout (and was killed).
    public var timedOut = false
    public var out: String { String(decoding: stdout, as: UTF8.self) }
    public var err: String { String(decoding: stderr, as: UTF8.self) }
    public var report: String { "\(command)\nstatus \(status)\(signaled ? " (signal)" : "")\nstdout: \(out.prefix(2000))\nstderr: \(err.prefix(2000))" }
}

/// Runs the built tools and other programs as subprocesses, each test in its own directory.
public enum Tools {
    /// The directory of the built executables (`DKL_BIN`, or beside the test bundle).
    public static let binDir: String = {
        if let d = ProcessInfo.processInfo.environment["DKL_BIN"] { return d }
        var url = Bundle.main.bundleURL
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("dkl-cat").path) { return url.path }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug").path
    }()

    /// The package root (where Package.swift is).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    public static func path(_ tool: String) -> String { binDir + "/" + tool }

    /// Runs `executable` with `args` (never through a shell), feeding `stdin`.
    @discardableResult
    public static func run(_ executable: String, _ args: [String], stdin: Data? = nil, cwd: String? = nil,
                           env: [String: String] = [:], timeout: TimeInterval? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : path(executable))
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var e = ProcessInfo.processInfo.environment
        e["OPENBLAS_NUM_THREADS"] = "1"
        e.removeValue(forKey: "DKL_STREAM_FORMAT")
        for (k, v) in env { e[k] = v }
        p.environment = e
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        DispatchQueue.global().async(group: group) { out = outPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = errPipe.fileHandleForReading.readDataToEndOfFile() }
        if let stdin {
            DispatchQueue.global().async(group: group) {
                try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
                try? inPipe.fileHandleForWriting.close()
            }
        }
        let killer = timeout.map { seconds in
            let pid = p.processIdentifier
            let item = DispatchWorkItem { kill(pid, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
            return item
        }
        let started = Date()
        p.waitUntilExit()
        killer?.cancel()
        group.wait()
        var r = RunResult(status: p.terminationStatus, stdout: out, stderr: err,
                          command: ([executable] + args).joined(separator: " "),
                          signaled: p.terminationReason == .uncaughtSignal)
        if let timeout, p.terminationReason == .uncaughtSignal, p.terminationStatus == SIGKILL, Date().timeIntervalSince(started) >= timeout {
            r.timedOut = true
        }
        return r
    }

    /// Runs a tool and fails the test (with the full report) unless it exits with `status`.
    @discardableResult
    public static func expect(_ status: Int32, _ tool: String, _ args: [String], stdin: Data? = nil, cwd: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let r = try run(tool, args, stdin: stdin, cwd: cwd)
        XCTAssertEqual(r.status, status, r.report, file: file, line: line)
        XCTAssertFalse(r.signaled, r.report, file: file, line: line)
        return r
    }

    /// Starts `tool` in the background (stderr discarded) and returns once `file` in `cwd`
    /// is not empty (a run has taken its trace or checkpoint), or after 30 s.
    public static func startWriting(_ tool: String, _ args: [String], cwd: String, file: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path(tool))
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.standardError = FileHandle.nullDevice
        try p.run()
        func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: cwd + "/" + file))?[.size] as? Int) ?? 0 }
        var waited = 0
        while size() == 0 && waited < 3000 { usleep(10_000); waited += 1 }
        return p
    }

    /// A Python interpreter with numpy and h5py (Debian's python3-numpy and python3-h5py).
    public static let python: String? = {
        for candidate in [ProcessInfo.processInfo.environment["DKL_PYTHON"], "/usr/bin/python3", "/usr/local/bin/python3"].compactMap({ $0 }) {
            guard FileManager.default.isExecutableFile(atPath: candidate),
                  let r = try? run(candidate, ["-c", "import numpy, h5py"]), r.status == 0 else { continue }
            return candidate
        }
        return nil
    }()

    /// Runs a Python script (numpy and h5py available) and returns its stdout; fails the test if it fails.
    public static func python(_ script: String, args: [String] = [], cwd: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let py = python else {
            XCTFail("no python3 with numpy and h5py (apt-get install python3-numpy python3-h5py)", file: file, line: line)
            return ""
        }
        let r = try run(py, ["-c", script] + args, cwd: cwd)
        XCTAssertEqual(r.status, 0, r.report, file: file, line: line)
        return r.out
    }
}

/// A fresh temporary directory, removed when the object goes away.
public final class TempDir {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "dkl-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
    public func write(_ name: String, _ data: Data) throws -> String {
        let p = file(name)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }
    public func write(_ name: String, _ text: String) throws -> String { try write(name, Data(text.utf8)) }
    public func read(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: file(name))) }
    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
    public func listing() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? [] }
}
