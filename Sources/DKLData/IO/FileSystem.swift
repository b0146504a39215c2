import Foundation
import CPlatform
import DKLCore

/// Small file-system helpers with toolkit errors.
public enum FileSystem {
    /// Creates `path` (and its parents) unless it is already a directory.
    public static func makeDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw DKLError.data("exists and is not a directory", file: path)
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw DKLError.data("cannot create the directory: \(error.localizedDescription)", file: path)
        }
    }

    /// Opens `path` for reading and writing (created if absent) and takes its exclusive lock
    /// for as long as the descriptor stays open, so that one run at a time appends to it;
    /// a second run names the process that holds it. `what` names the file in messages
    /// ("the checkpoint", "the log").
    public static func openLocked(_ path: String, what: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw DKLError.data("cannot open \(what): \(String(cString: strerror(errno)))", file: path) }
        switch dkl_lock_exclusive(fd) {
        case 0: return fd
        case let holder where holder > 0:
            close(fd)
            throw DKLError.data("in use by another run (process \(holder)): wait for it to end, or give another file", file: path)
        default:
            let msg = String(cString: strerror(errno))
            close(fd)
            throw DKLError.data("cannot lock \(what): \(msg)", file: path)
        }
    }
}
