import Foundation
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
        if FileManager.default.fileExists(atPath: path) {
            let data = try ByteReader(path: path).readToEnd()
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            let complete = data.last == 0x0A ? lines.dropLast() : lines.dropLast()   // the part after the last newline is incomplete or empty
            guard let first = complete.first else { throw DKLError.data("the checkpoint has no header; remove it to start again", file: path) }
            let old = try locating(file: path) {
                try StreamHeader(json: try first.withUnsafeBufferPointer { try JSONParser.parseDocument($0) })
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
            fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd < 0 { throw DKLError.data("cannot append to the checkpoint: \(String(cString: strerror(errno)))", file: path) }
            if data.last != 0x0A && !data.isEmpty {
                // Drop a cut last line by rewriting the file without it.
                _ = ftruncate(fd, off_t(data.count - (lines.last?.count ?? 0)))
            }
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 { throw DKLError.data("cannot create the checkpoint: \(String(cString: strerror(errno)))", file: path) }
            var line: [UInt8] = []
            h.json.write(to: &line)
            line.append(0x0A)
            try write(line)
        }
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
