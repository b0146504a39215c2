import Foundation
import CPlatform
import DKLCore

/// An append-only log of finished records, so that long work (a simulation sweep, an
/// active loop) interrupted by ^C, a crash or a job's time limit resumes with nothing lost.
/// It is an NDJSON stream whose header carries a `signature` (the command's inputs): a log
/// made by other inputs is refused. Each batch is appended and synced; a last line cut by
/// a crash is dropped on reading.
public final class Checkpoint {
    public let path: String
    public let schema: Schema
    /// The records already in the log, packed, in the order they were appended.
    public private(set) var records: [[UInt8]] = []
    let fd: Int32

    public init(path: String, header: StreamHeader, signature: String) throws {
        self.path = path
        self.schema = header.schema
        var h = header
        h.attrs.set("checkpoint_signature", .string(signature))
        // One run at a time: the log is locked for as long as this process has it open, and a
        // second run names the process that holds it. Everything is read through this one
        // descriptor (closing another descriptor of the file would drop the lock).
        let fd = try FileSystem.openLocked(path, what: "the checkpoint")
        self.fd = fd
        let data = try ByteReader(fd: fd, name: path, ownsFD: false).readToEnd()
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let complete = lines.dropLast()   // the part after the last newline is incomplete or empty
        var headerLine: [UInt8] = []
        h.json.write(to: &headerLine)
        headerLine.append(0x0A)
        guard let first = complete.first else {
            // No complete header: a new file, or a run killed while writing its header (what
            // is there is the start of a stream header, with no newline): start afresh.
            // Anything else is not ours to overwrite.
            let start = Array(#"{"dkl_stream":"#.utf8)
            guard data.isEmpty || (start.starts(with: data.prefix(start.count)) && data.count < 1 << 20) else {
                throw DKLError.data("not a checkpoint of this command (no header line); remove it or give another file", file: path, location: "header")
            }
            if ftruncate(fd, 0) != 0 { throw DKLError.data("cannot reset the checkpoint: \(String(cString: strerror(errno)))", file: path) }
            lseek(fd, 0, SEEK_SET)
            try write(headerLine)
            return
        }
        let old: StreamHeader
        do { old = try StreamHeader(json: try first.withUnsafeBufferPointer { try JSONParser.parseDocument($0) }) } catch {
            throw DKLError.data("the header line is not a stream header (\(error)); remove the file or give another", file: path, location: "header")
        }
        guard old.schema == header.schema, old.attrs["checkpoint_signature"]?.stringValue == signature else {
            throw DKLError.data("the checkpoint was made by a different command or inputs; remove it, or give the same options", file: path, location: "header")
        }
        let schema = header.schema
        var index: [String: Int] = [:]
        for (i, f) in schema.fields.enumerated() { index[f.name] = i }
        var seen = [Bool](repeating: false, count: schema.fields.count)
        var kept: [[UInt8]] = []
        for (k, line) in complete.dropFirst().enumerated() where !line.isEmpty {
            var rec = [UInt8](repeating: 0, count: schema.recordSize)
            try line.withUnsafeBufferPointer { buf in
                var p = JSONParser(bytes: buf)
                do { try rec.withUnsafeMutableBytes { try p.parseRecord(schema, index: index, into: $0.baseAddress!, seen: &seen) } } catch {
                    throw DKLError.data("a damaged record in the checkpoint: \(error)", file: path, record: k + 1)
                }
            }
            kept.append(rec)
        }
        records = kept
        // Drop a last line cut by a crash, and append after what is kept.
        let keep = data.count - (lines.last?.count ?? 0)
        if keep != data.count && ftruncate(fd, off_t(keep)) != 0 {
            throw DKLError.data("cannot drop the checkpoint's cut last line: \(String(cString: strerror(errno)))", file: path)
        }
        lseek(fd, off_t(keep), SEEK_SET)
    }

    deinit { close(fd) }

    /// Appends records and syncs them to disk.
    public func append(_ batch: [[UInt8]]) throws {
        var text: [UInt8] = []
        for r in batch { r.withUnsafeBytes { NDJSONRecord.append($0, schema: schema, to: &text) } }
        try write(text)
        records += batch
    }

    func write(_ bytes: [UInt8]) throws {
        let w = ByteWriter(fd: fd, name: path)
        try w.write(bytes)
        try w.flush()
        if fsync(fd) != 0 { throw DKLError.data("cannot sync the checkpoint: \(String(cString: strerror(errno)))", file: path) }
    }

    /// Removes the log (after the complete output has been written).
    public func remove() { unlink(path) }
}
