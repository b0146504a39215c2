import Foundation
import DKLCore

/// Streams of one schema concatenated, with a selection of fields (in the order given) and
/// the first or last N records: dkl-cat's default mode. Reads a batch at a time; the last
/// N records are kept in a ring of N.
public final class StreamSelection {
    public let header: StreamHeader
    let paths: [String]
    let first: StreamReader
    let picks: [(from: Int, to: Int, bytes: Int)]
    let direct: Bool
    let head: Int?, tail: Int?

    public init(paths: [String], fields: [String]?, head: Int?, tail: Int?) throws {
        self.paths = paths; self.head = head; self.tail = tail
        first = try StreamReader(path: paths[0])
        let schema = first.schema
        let out = try fields.map { try schema.selecting($0) } ?? schema
        picks = out.fields.map { f in (schema[f.name]!.offset, f.offset, f.byteSize) }
        direct = out == schema
        header = StreamHeader(schema: out, attrs: first.header.attrs, provenance: first.header.provenance)
    }

    /// Sends the selected records to `write` one at a time, or whole batches to
    /// `writeRecords` (records end to end) where nothing is cut from them.
    public func run(write: (UnsafeRawBufferPointer) throws -> Void, writeRecords: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        var project = [UInt8](repeating: 0, count: header.schema.recordSize)
        func emit(_ rec: UnsafeRawBufferPointer) throws {
            if direct { try write(rec); return }
            project.withUnsafeMutableBytes { dst in
                for (from, to, n) in picks { dst.baseAddress!.advanced(by: to).copyMemory(from: rec.baseAddress! + from, byteCount: n) }
            }
            try project.withUnsafeBytes { try write($0) }
        }
        var written = 0
        var ring: [[UInt8]] = [], ringNext = 0
        for (index, path) in paths.enumerated() {
            let r = index == 0 ? first : try StreamReader(path: path)
            guard r.schema == first.schema else {
                throw DKLError(.data, "its fields (\(r.schema.fields.map(\.declaration).joined(separator: ", "))) differ from those of \(first.name)", file: r.name, location: "header")
            }
            while let batch = try r.nextBatch(maxRecords: 1 << 16) {
                if let t = tail {
                    guard t > 0 else { continue }
                    for i in 0..<batch.count {
                        let bytes = Array(batch.record(i))
                        if ring.count < t { ring.append(bytes) } else { ring[ringNext] = bytes; ringNext = (ringNext + 1) % t }
                    }
                    continue
                }
                var n = batch.count
                if let h = head { n = min(n, h - written) }
                if direct && n == batch.count {
                    try writeRecords(batch.bytes, n)
                } else {
                    for i in 0..<n { try emit(batch.record(i)) }
                }
                written += n
                if let h = head, written >= h { break }
            }
            if let h = head, written >= h { break }
        }
        for k in 0..<ring.count { try ring[(ringNext + k) % ring.count].withUnsafeBytes { try emit($0) } }
    }
}
