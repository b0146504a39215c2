import Foundation
import DKLCore

/// Writes a stream in either encoding: the header first, then records, then (binary)
/// the end marker with the record count. `finish()` must be called; it flushes.
public final class StreamWriter {
    public let header: StreamHeader
    public let encoding: StreamEncoding
    let out: ByteWriter
    public private(set) var count = 0
    var finished = false

    public init(header: StreamHeader, to out: ByteWriter, encoding: StreamEncoding) throws {
        self.header = header
        self.out = out
        self.encoding = encoding
        switch encoding {
        case .binary: try out.write(BinaryFormat.prefix(header))
        case .ndjson:
            try out.append { buf in header.json.write(to: &buf); buf.append(0x0A) }
        }
    }

    public var schema: Schema { header.schema }

    /// Writes one packed record.
    @inline(__always)
    public func write(_ record: UnsafeRawBufferPointer) throws {
        switch encoding {
        case .binary: try out.write(record)
        case .ndjson: try out.append { NDJSONRecord.append(record, schema: schema, to: &$0) }
        }
        count += 1
    }

    public func write(_ record: [UInt8]) throws {
        try record.withUnsafeBytes { try write($0) }
    }

    /// Writes `n` packed records stored back to back.
    public func write(records: UnsafeRawBufferPointer, count n: Int) throws {
        switch encoding {
        case .binary:
            try out.write(records)
            count += n
        case .ndjson:
            let rs = schema.recordSize
            for i in 0..<n { try write(UnsafeRawBufferPointer(rebasing: records[(i * rs)..<((i + 1) * rs)])) }
        }
    }

    /// Writes the end marker (binary) and flushes.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        if encoding == .binary { try out.write(BinaryFormat.trailer(count: count)) }
        try out.flush()
    }
}

/// Where a tool's stream goes: standard output or a file named by `-o`, written
/// atomically, in the encoding chosen by `StreamOutput.encoding(...)`.
public final class StreamOutput {
    public let writer: StreamWriter
    let file: AtomicFile?
    let byteWriter: ByteWriter

    /// Opens the output. `path` nil or `-` is standard output.
    public init(path: String?, header: StreamHeader, encoding: StreamEncoding) throws {
        if let p = path, p != "-" {
            let f = try AtomicFile(path: p)
            file = f
            byteWriter = f.writer
        } else {
            file = nil
            byteWriter = ByteWriter.stdout()
        }
        writer = try StreamWriter(header: header, to: byteWriter, encoding: encoding)
    }

    /// Finishes the stream and, for a file, renames it into place.
    public func commit() throws {
        try writer.finish()
        try file?.commit()
    }

    /// The encoding a writer uses: an explicit choice (`--ndjson`/`--binary`) wins; then an
    /// output file name ending in `.ndjson`, `.jsonl` or `.json`; then the environment
    /// variable `DKL_STREAM_FORMAT` (`binary` or `ndjson`); then NDJSON when the output is
    /// a terminal and binary otherwise.
    public static func encoding(explicit: StreamEncoding?, path: String?) -> StreamEncoding {
        if let e = explicit { return e }
        if let p = path, p != "-" {
            let lower = p.lowercased()
            if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") { return .ndjson }
            if let env = ProcessInfo.processInfo.environment["DKL_STREAM_FORMAT"], let e = StreamEncoding(rawValue: env) { return e }
            return .binary
        }
        if let env = ProcessInfo.processInfo.environment["DKL_STREAM_FORMAT"], let e = StreamEncoding(rawValue: env) { return e }
        return isatty(1) != 0 ? .ndjson : .binary
    }
}
