import Foundation
import DKLCore

/// An output file that appears whole or not at all: bytes go to a temporary file
/// beside the target, which `commit()` renames over it. A failure, a thrown error or
/// ^C removes the temporary file, so no partial output is ever left.
public final class AtomicFile {
    public let path: String
    public let tempPath: String
    public let writer: ByteWriter
    let fd: Int32
    var done = false

    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var fd: Int32 = -1
        var temp = ""
        for attempt in 0..<100 {
            temp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())-\(attempt)"
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 { throw DKLError.data("cannot create output: \(String(cString: strerror(errno)))", file: path) }
        self.fd = fd
        self.tempPath = temp
        self.writer = ByteWriter(fd: fd, name: path)
        Interrupts.register(tempPath: temp)
    }

    /// Creates the temporary file's path only (for writers such as libhdf5 that open files themselves).
    public static func temporaryPath(for path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        return (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws {
        guard !done else { return }
        do {
            try writer.flush()
            if fsync(fd) != 0 { throw DKLError.data("sync failed: \(String(cString: strerror(errno)))", file: path) }
        } catch { abort(); throw error }
        close(fd)
        done = true
        if rename(tempPath, path) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(tempPath)
            Interrupts.unregister(tempPath: tempPath)
            throw DKLError.data("cannot rename the output into place: \(msg)", file: path)
        }
        Interrupts.unregister(tempPath: tempPath)
    }

    /// Removes the temporary file.
    public func abort() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(tempPath)
        Interrupts.unregister(tempPath: tempPath)
    }

    deinit { abort() }

    /// Renames a finished temporary file (written by another library) into place.
    public static func commitRename(temp: String, to path: String) throws {
        if rename(temp, path) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(temp)
            throw DKLError.data("cannot rename the output into place: \(msg)", file: path)
        }
    }
}
