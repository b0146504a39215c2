import Foundation
import DKLCore

/// Where an output path leads: a file to replace atomically (the path itself, or a
/// symlink's final target, so that the link stays and its target is written), or a
/// character device or FIFO (`/dev/null`, a named pipe), written through.
public enum OutputTarget: Equatable {
    case file(String)
    case special(String)

    /// Resolves `path`: a directory or a block device is refused; symlinks are followed to
    /// their final target (which need not exist yet), at most 40 links.
    public static func resolve(_ path: String) throws -> OutputTarget {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0 else {
                if errno == ENOENT { return .file(current) }
                throw DKLError.data("cannot open output: \(String(cString: strerror(errno)))", file: path)
            }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(current, &buf, buf.count - 1)
                guard n > 0 else { throw DKLError.data("cannot read the symbolic link: \(String(cString: strerror(errno)))", file: path) }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let dir = PathName.directory(current)
                current = target.hasPrefix("/") || dir.isEmpty ? target : dir + "/" + target
            case S_IFDIR: throw DKLError.data("is a directory (give a file name)", file: path)
            case S_IFBLK: throw DKLError.data("is a block device: refusing to write to it", file: path)
            case S_IFCHR, S_IFIFO, S_IFSOCK: return .special(current)
            default: return .file(current)
            }
        }
        throw DKLError.data("too many levels of symbolic links", file: path)
    }
}

/// An output file that appears whole or not at all: bytes go to a temporary file
/// beside the target, which `commit()` renames over it. A failure, a thrown error or
/// ^C removes the temporary file, so no partial output is ever left. A symlink is
/// followed (its target is replaced; the link stays); a character device or a FIFO is
/// written through, since it cannot be replaced; a directory is refused.
public final class AtomicFile {
    public let path: String
    /// The temporary file, or nil when writing through to a device or FIFO.
    public let tempPath: String
    public let writer: ByteWriter
    let fd: Int32
    let target: String
    let throughSpecial: Bool
    var done = false

    public init(path: String) throws {
        self.path = path
        switch try OutputTarget.resolve(path) {
        case let .special(device):
            let fd = open(device, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw DKLError.data("cannot open output: \(String(cString: strerror(errno)))", file: path) }
            (self.fd, target, throughSpecial, tempPath) = (fd, device, true, "")
            writer = ByteWriter(fd: fd, name: path)
            return
        case let .file(resolved):
            target = resolved
        }
        throughSpecial = false
        AtomicFile.removeStaleTemporaries(of: target)
        var fd: Int32 = -1
        var temp = ""
        for attempt in 0..<100 {
            temp = AtomicFile.temporaryName(for: target, attempt)
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 { throw DKLError.data("cannot create output: \(String(cString: strerror(errno)))", file: path) }
        self.fd = fd
        self.tempPath = temp
        self.writer = ByteWriter(fd: fd, name: path)
        Interrupts.register(tempPath: temp)
    }

    /// The temporary file's path only, beside the resolved target (for writers such as
    /// libhdf5 that open files themselves, and can write only regular files).
    public static func temporaryPath(for path: String) throws -> (temp: String, target: String) {
        guard case let .file(target) = try OutputTarget.resolve(path) else {
            throw DKLError.data("is a device or a FIFO: this output must be a regular file", file: path)
        }
        removeStaleTemporaries(of: target)
        return (temporaryName(for: target, Int(UInt32.random(in: 0...UInt32.max))), target)
    }

    /// `.BASE.tmp-HOST-PID-N` beside the target: the host and process that write it, so that
    /// a later run can tell a temporary left by a killed process from one still being written.
    static func temporaryName(for target: String, _ n: Int) -> String {
        let dir = PathName.directory(target)
        let base = PathName.base(target)
        return (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(host)-\(getpid())-\(n)"
    }

    /// This machine's name, without dashes (they separate the temporary name's parts).
    static let host: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "host" }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter { $0.isLetter || $0.isNumber || $0 == "." }
        return name.isEmpty ? "host" : name
    }()

    /// Removes the temporaries of `target` that a process of this host left when it was
    /// killed with no chance to clean up (kill -9, a node's time limit): those whose process
    /// no longer exists. Others' (another host's, a live process's) are left alone.
    static func removeStaleTemporaries(of target: String) {
        let dir = PathName.directory(target)
        let prefix = ".\(PathName.base(target)).tmp-\(host)-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count).split(separator: "-")
            guard rest.count == 2, let pid = Int32(rest[0]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink((dir.isEmpty ? "" : dir + "/") + name) }
        }
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws {
        guard !done else { return }
        if throughSpecial {
            done = true
            defer { close(fd) }
            try writer.flush()
            return
        }
        do {
            try writer.flush()
            if fsync(fd) != 0 { throw DKLError.data("sync failed: \(String(cString: strerror(errno)))", file: path) }
        } catch { abort(); throw error }
        close(fd)
        done = true
        if rename(tempPath, target) != 0 {
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
        if throughSpecial { return }   // written through: nothing to remove
        unlink(tempPath)
        Interrupts.unregister(tempPath: tempPath)
    }

    deinit { abort() }

    /// Renames a finished temporary file (written by another library) into place.
    public static func commitRename(temp: String, to target: String, name: String) throws {
        if rename(temp, target) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(temp)
            throw DKLError.data("cannot rename the output into place: \(msg)", file: name)
        }
    }
}
