import Foundation
import Synchronization

/// ^C and SIGTERM handling shared by every tool: temporary output files are removed
/// and the process exits with status 130 (143 for SIGTERM). Long loops may instead call
/// `Interrupts.check()` after `Interrupts.deferExit = true` to stop cleanly and save state;
/// a second signal while exits are deferred exits at once (temporaries still removed).
///
/// The handler touches only lock-free atomics and async-signal-safe calls (unlink, _exit):
/// the signal number, the deferral flag and the temporary paths' slots are atomics, so
/// threads that register paths or check the flag race with nothing.
public enum Interrupts {
    static let slots = 64
    /// The longest path a slot holds (with its NUL); longer temporaries are not registered.
    static let pathBytes = 4096
    /// The slots' path bytes, allocated once for the life of the process (a handler may
    /// read a slot at any time, so none is ever freed).
    static let storage = SharedBuffer<CChar>(UnsafeMutableBufferPointer.allocate(capacity: 64 * 4096))
    /// Each slot's state: 0 free, 1 being written, 2 registered, 3 claimed by the handler.
    static let state = InlineArray<64, Atomic<Int>> { _ in Atomic(0) }
    static let pending = Atomic<Int32>(0)
    /// The process group of a program being run (`ChildProcess`), or 0: an exit stops it too.
    static let childGroup = Atomic<Int32>(0)
    static let deferring = Atomic<Bool>(false)

    /// When true, a signal only sets a flag that `check()` turns into `DKLError(.interrupted)`.
    public static var deferExit: Bool {
        get { deferring.load(ordering: .sequentiallyConsistent) }
        set { deferring.store(newValue, ordering: .sequentiallyConsistent) }
    }

    /// Installs the handlers and ignores SIGPIPE (so writes fail with EPIPE instead).
    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        // Every static the handler reads is initialized here, never inside the handler.
        _ = state[0].load(ordering: .relaxed)
        _ = storage.count
        _ = pending.load(ordering: .relaxed)
        _ = deferring.load(ordering: .relaxed)
        _ = childGroup.load(ordering: .relaxed)
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    static let handler: @convention(c) (Int32) -> Void = { sig in
        let earlier = Interrupts.pending.exchange(sig, ordering: .sequentiallyConsistent)
        // The first signal of a deferred exit only asks the loop to stop; a second one exits.
        if Interrupts.deferring.load(ordering: .sequentiallyConsistent) && earlier == 0 { return }
        Interrupts.removeTemporaries()
        let group = Interrupts.childGroup.load(ordering: .sequentiallyConsistent)
        if group > 0 { kill(-group, SIGTERM) }
        _exit(128 + sig)
    }

    static func removeTemporaries() {
        for i in 0..<slots where state[i].compareExchange(expected: 2, desired: 3, ordering: .sequentiallyConsistent).exchanged {
            unlink(storage.base + i * pathBytes)
        }
    }

    /// Throws `interrupted` if a signal arrived while exits were deferred.
    public static func check() throws {
        if pending.load(ordering: .sequentiallyConsistent) != 0 { throw DKLError(.interrupted, "interrupted") }
    }

    /// The signal that arrived (0 if none).
    public static var signalNumber: Int32 { pending.load(ordering: .sequentiallyConsistent) }

    /// Names the process group of the program being run (0: none), which an exit stops.
    package static func setChildGroup(_ pgid: Int32) { childGroup.store(pgid, ordering: .sequentiallyConsistent) }

    /// Adds a temporary output file to those a signal removes (at most 64 at once, paths
    /// of fewer than 4096 bytes): copied into a free slot, then marked registered.
    package static func register(tempPath: String) {
        let bytes = Array(tempPath.utf8CString)
        guard bytes.count <= pathBytes else { return }
        for i in 0..<slots where state[i].compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged {
            bytes.withUnsafeBufferPointer { (storage.base + i * pathBytes).update(from: $0.baseAddress!, count: $0.count) }
            state[i].store(2, ordering: .sequentiallyConsistent)
            return
        }
    }

    /// Removes a path from the list (once it is renamed into place or deleted): its slot is
    /// free again, unless the handler has claimed it to remove the file.
    package static func unregister(tempPath: String) {
        for i in 0..<slots where state[i].load(ordering: .sequentiallyConsistent) == 2 {
            guard String(cString: storage.base + i * pathBytes) == tempPath else { continue }
            _ = state[i].compareExchange(expected: 2, desired: 0, ordering: .sequentiallyConsistent)
            return
        }
    }
}
