import Foundation
import DKLCore

/// Buffered writing to a file descriptor. A reader that went away (EPIPE) becomes
/// `DKLError.brokenPipe`, which tools turn into a quiet exit 0; any other failure,
/// including one at the final flush, is an error that names the output.
public final class ByteWriter {
    public let name: String
    let fd: Int32
    var buffer: [UInt8] = []
    let limit: Int
    public private(set) var bytesWritten = 0

    public init(fd: Int32, name: String, bufferSize: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        self.limit = bufferSize
        buffer.reserveCapacity(bufferSize)
    }

    /// Standard output. When it is a pipe, the pipe's buffer is enlarged to the writer's
    /// (Linux allows up to 1 MiB unprivileged): fewer, larger transfers to the next tool.
    public static func stdout() -> ByteWriter {
        Pipes.enlarge(1)
        return ByteWriter(fd: 1, name: "<stdout>")
    }

    @inline(__always)
    public func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { try flush() }
    }

    @inline(__always)
    public func write(_ raw: UnsafeRawBufferPointer) throws {
        if raw.count >= limit {
            try flush()
            try writeAll(raw)
            return
        }
        buffer.append(contentsOf: raw)
        if buffer.count >= limit { try flush() }
    }

    public func write(_ s: String) throws { try write(Array(s.utf8)) }

    /// Appends to the buffer through `body` and flushes when it is full.
    @inline(__always)
    public func append(_ body: (inout [UInt8]) -> Void) throws {
        body(&buffer)
        if buffer.count >= limit { try flush() }
    }

    public func flush() throws {
        if buffer.isEmpty { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let r = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if r > 0 { done += r; continue }
            if r < 0 && errno == EINTR { try Interrupts.check(); continue }
            if errno == EPIPE { throw DKLError.brokenPipe }
            throw DKLError.data("write failed: \(String(cString: strerror(errno)))", file: name)
        }
        bytesWritten += raw.count
    }
}
