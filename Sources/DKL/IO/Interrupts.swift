import Foundation

/// ^C and SIGTERM handling shared by every tool: temporary output files are removed
/// and the process exits with status 130 (143 for SIGTERM). Long loops may instead call
/// `Interrupts.check()` after `Interrupts.deferExit = true` to stop cleanly and save state.
public enum Interrupts {
    static let slots = 64
    nonisolated(unsafe) static let paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slots)
        p.initialize(repeating: nil, count: slots)
        return p
    }()
    nonisolated(unsafe) static var pending: Int32 = 0
    /// When true, a signal only sets a flag that `check()` turns into `DKLError(.interrupted)`.
    nonisolated(unsafe) public static var deferExit = false

    /// Installs the handlers and ignores SIGPIPE (so writes fail with EPIPE instead).
    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        _ = paths
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    static let handler: @convention(c) (Int32) -> Void = { sig in
        Interrupts.pending = sig
        if Interrupts.deferExit { return }
        Interrupts.removeTemporaries()
        _exit(128 + sig)
    }

    static func removeTemporaries() {
        for i in 0..<slots { if let p = paths[i] { unlink(p) } }
    }

    /// Throws `interrupted` if a signal arrived while exits were deferred.
    public static func check() throws {
        if pending != 0 { throw DKLError(.interrupted, "interrupted") }
    }

    public static var signalNumber: Int32 { pending }

    static func register(tempPath: String) {
        for i in 0..<slots where paths[i] == nil { paths[i] = strdup(tempPath); return }
    }

    static func unregister(tempPath: String) {
        for i in 0..<slots {
            if let p = paths[i], String(cString: p) == tempPath { paths[i] = nil; free(p); return }
        }
    }
}
