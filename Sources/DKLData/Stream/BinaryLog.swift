import Foundation
import DKLCore
import CPlatform

/// An append-only binary stream (dkl-stream(5)) written record by record and synced, that
/// is a complete stream after every append: each record is written over the previous end
/// marker, followed by a new one. It keeps what a line of text would make too large (the
/// diffraction patterns of an experiment) beside a `Checkpoint`, which says how many of its
/// records count: a record written before a kill whose checkpoint line never was is
/// dropped when the log is opened again.
public final class BinaryLog {
    public let path: String
    public let schema: Schema
    /// Records in the log.
    public private(set) var count: Int
    let fd: Int32
    let start: Int

    /// Creates the log, or opens it keeping its first `keep` records (its header, signature
    /// included, must be the one given).
    public init(path: String, header: StreamHeader, signature: String, keep: Int) throws {
        self.path = path
        schema = header.schema
        var h = header
        h.attrs.set("checkpoint_signature", .string(signature))
        let prefix = BinaryFormat.prefix(h)
        let fd = try FileSystem.openLocked(path, what: "the log")
        self.fd = fd
        count = 0
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DKLError.data("cannot stat: \(String(cString: strerror(errno)))", file: path) }
        let size = Int(st.st_size)
        if size == 0 && keep == 0 {
            start = prefix.count
            try write(prefix + BinaryFormat.trailer(count: 0), at: 0)
            return
        }
        // The log's own header (its provenance is its first run's): the schema and the
        // signature must be this experiment's.
        var head = [UInt8](repeating: 0, count: BinaryFormat.prefixSize)
        guard size >= BinaryFormat.prefixSize, pread(fd, &head, head.count, 0) == head.count, Array(head.prefix(8)) == BinaryFormat.magic else {
            throw DKLError.data("not a binary stream (or cut before its header's end); remove it or give another file", file: path, location: "header")
        }
        let length = Int(head[12]) | Int(head[13]) << 8 | Int(head[14]) << 16 | Int(head[15]) << 24
        guard length <= BinaryFormat.maxHeaderBytes, BinaryFormat.prefixSize + length <= size else {
            throw DKLError.data("its header's length \(length) does not fit the file's \(size) bytes", file: path, location: "header")
        }
        var json = [UInt8](repeating: 0, count: length)
        guard pread(fd, &json, length, off_t(BinaryFormat.prefixSize)) == length,
              let old = try? StreamHeader(json: try json.withUnsafeBufferPointer { try JSONParser.parseDocument($0) }),
              old.schema == header.schema, old.attrs["checkpoint_signature"]?.stringValue == signature else {
            throw DKLError.data("not the measurements of this experiment (another header); remove it or give the same options", file: path, location: "header")
        }
        start = BinaryFormat.prefixSize + length
        // Records present: the end marker's count, or (a kill between a record and its
        // marker) the whole records after the header.
        let rs = schema.recordSize
        var present = (size - start) / max(rs, 1)
        if size >= start + BinaryFormat.trailerSize {
            var tail = [UInt8](repeating: 0, count: BinaryFormat.trailerSize)
            if pread(fd, &tail, tail.count, off_t(size - tail.count)) == tail.count, Array(tail.prefix(8)) == BinaryFormat.endMagic {
                let n = tail.suffix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                if n >= 0, start + n * rs + BinaryFormat.trailerSize == size { present = n }
            }
        }
        guard present >= keep else {
            throw DKLError.data("holds \(present) measurements; the trace has \(keep): it is not this trace's, or was cut", file: path)
        }
        count = keep
        if ftruncate(fd, off_t(start + keep * rs)) != 0 { throw DKLError.data("cannot cut: \(String(cString: strerror(errno)))", file: path) }
        try write(BinaryFormat.trailer(count: keep), at: start + keep * rs)
    }

    deinit { close(fd) }

    /// Appends one packed record (and a new end marker) and syncs it to disk.
    public func append(_ record: [UInt8]) throws {
        guard record.count == schema.recordSize else { throw DKLError.data("a record of \(record.count) bytes; the log's are \(schema.recordSize)", file: path) }
        try write(record + BinaryFormat.trailer(count: count + 1), at: start + count * schema.recordSize)
        count += 1
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DKLError.data("cannot write: \(String(cString: strerror(errno)))", file: path) }
            done += n
        }
        if fsync(fd) != 0 { throw DKLError.data("cannot sync: \(String(cString: strerror(errno)))", file: path) }
    }
}
