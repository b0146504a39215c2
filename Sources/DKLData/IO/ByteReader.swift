import Foundation
import DKLCore

/// Buffered reading from a file descriptor: the file or standard input a stream comes from.
/// Errors name the file; end of input is reported as a short fill, never as an error.
public final class ByteReader {
    public let name: String
    let fd: Int32
    let ownsFD: Bool
    var storage: UnsafeMutableRawPointer
    var capacity: Int
    var start = 0
    var end = 0
    public private(set) var atEOF = false
    /// Bytes consumed so far (the offset of `bytes` in the input).
    public private(set) var offset = 0

    /// Opens `path` for reading; `-` is standard input.
    public convenience init(path: String, bufferSize: Int = 1 << 20) throws {
        if path == "-" {
            Pipes.enlarge(0)
            self.init(fd: 0, name: "<stdin>", ownsFD: false, bufferSize: bufferSize)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DKLError.data(String(cString: strerror(errno)), file: path) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw DKLError.data("is a directory", file: path)
        }
        self.init(fd: fd, name: path, ownsFD: true, bufferSize: bufferSize)
    }

    public init(fd: Int32, name: String, ownsFD: Bool, bufferSize: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        self.ownsFD = ownsFD
        self.capacity = max(bufferSize, 4096)
        self.storage = ByteReader.allocateBytes(capacity)
    }

    /// A buffer bound to UInt8 once, when it is allocated: bytes are read from it as
    /// UInt8 and wider values only by `loadUnaligned`, so no memory is ever rebound.
    static func allocateBytes(_ count: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        p.bindMemory(to: UInt8.self, capacity: count)
        return p
    }

    deinit {
        storage.deallocate()
        if ownsFD { close(fd) }
    }

    /// The buffered, unconsumed bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage + start, count: end - start) }
    public var available: Int { end - start }

    /// Marks `n` buffered bytes as consumed.
    @inline(__always)
    public func consume(_ n: Int) { start += n; offset += n }

    /// Reads until at least `n` bytes are buffered or the input ends; returns whether `n` are there.
    @discardableResult
    public func fill(_ n: Int) throws -> Bool {
        if end - start >= n { return true }
        if n > capacity { try grow(to: n) }
        while end - start < n && !atEOF {
            if capacity - end < n - (end - start) || capacity - end < 65536 { compact() }
            try readMore()
        }
        return end - start >= n
    }

    /// Reads at least one more byte into the buffer unless the input has ended.
    /// Returns false at end of input.
    @discardableResult
    public func refill() throws -> Bool {
        if atEOF { return false }
        if end == capacity { if start > 0 { compact() } else { try grow(to: capacity * 2) } }
        let before = end
        try readMore()
        return end > before
    }

    func compact() {
        if start > 0 {
            (storage).copyMemory(from: storage + start, byteCount: end - start)
            end -= start
            start = 0
        }
    }

    func grow(to n: Int) throws {
        let newCapacity = max(n, capacity * 2)
        let s = ByteReader.allocateBytes(newCapacity)
        s.copyMemory(from: storage + start, byteCount: end - start)
        storage.deallocate()
        storage = s
        end -= start
        start = 0
        capacity = newCapacity
    }

    func readMore() throws {
        while true {
            let r = read(fd, storage + end, capacity - end)
            if r > 0 { end += r; return }
            if r == 0 { atEOF = true; return }
            if errno == EINTR { try Interrupts.check(); continue }
            throw DKLError.data("read failed: \(String(cString: strerror(errno)))", file: name)
        }
    }

    /// Reads everything that is left.
    public func readToEnd() throws -> [UInt8] {
        while try refill() {}
        let out = Array(bytes)
        consume(available)
        return out
    }
}
