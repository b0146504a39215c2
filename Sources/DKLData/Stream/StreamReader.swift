import Foundation
import DKLCore

/// Records handed out by a `StreamReader`: `count` records packed in the binary layout,
/// valid until the reader's next call.
public struct RecordBatch {
    public let bytes: UnsafeRawBufferPointer
    public let count: Int
    /// The 1-based number of the first record in the stream.
    public let firstRecord: Int
    public let recordSize: Int

    public func record(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(i * recordSize)..<((i + 1) * recordSize)])
    }
}

/// Reads a stream of either encoding (detected from the first byte), record batch by
/// record batch, in bounded memory. A binary stream must end with its end marker and
/// the right record count; anything else is reported as possibly truncated.
public final class StreamReader {
    public let name: String
    public let header: StreamHeader
    public let encoding: StreamEncoding
    public var schema: Schema { header.schema }
    let input: ByteReader
    /// Records handed out so far.
    public private(set) var recordsRead = 0
    public private(set) var finished = false
    var scratch: UnsafeMutableRawPointer?
    var scratchCount = 0
    var lineParserFieldIndex: [String: Int] = [:]

    /// Opens `path` (`-` for standard input) and reads the header.
    public convenience init(path: String) throws {
        try self.init(input: try ByteReader(path: path))
    }

    public init(input: ByteReader) throws {
        self.input = input
        self.name = input.name
        guard try input.fill(1) else { throw DKLError.data("empty input: no stream header", file: name, record: nil) }
        let first = input.bytes[0]
        do {
            if first == BinaryFormat.magic[0] {
                encoding = .binary
                header = try StreamReader.readBinaryHeader(input)
            } else if first == UInt8(ascii: "{") || first == 0x20 || first == 0x0A || first == 0x09 || first == 0x0D {
                encoding = .ndjson
                header = try StreamReader.readNDJSONHeader(input)
            } else {
                throw DKLError.data("not a dkl stream (bad magic: neither the binary magic nor an NDJSON header line)")
            }
        } catch let e as DKLError { throw e.located(file: input.name, location: "header") }
        for (i, f) in header.schema.fields.enumerated() { lineParserFieldIndex[f.name] = i }
    }

    deinit { scratch?.deallocate() }

    static func readBinaryHeader(_ input: ByteReader) throws -> StreamHeader {
        guard try input.fill(BinaryFormat.prefixSize) else { throw DKLError.data("input ends inside the stream header (input may be truncated)") }
        let b = input.bytes
        guard Array(b[0..<8]) == BinaryFormat.magic else { throw DKLError.data("not a dkl stream (bad magic)") }
        let version = b.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == UInt32(StreamHeader.version) else {
            throw DKLError.data("unsupported binary stream version \(version) (this build reads version \(StreamHeader.version))")
        }
        let hlen = Int(b.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        guard hlen <= BinaryFormat.maxHeaderBytes else { throw DKLError.data("header length \(hlen) is implausible (bad header)") }
        guard try input.fill(BinaryFormat.prefixSize + hlen) else { throw DKLError.data("input ends inside the stream header (input may be truncated)") }
        let text = UnsafeRawBufferPointer(rebasing: input.bytes[BinaryFormat.prefixSize..<(BinaryFormat.prefixSize + hlen)])
        let json: JSON
        do { json = try JSONParser.parseDocument(text.assumingMemoryBound(to: UInt8.self)) } catch let e as JSONParser.Failure {
            throw DKLError.data("the header is not valid JSON: \(e)")
        }
        let h = try StreamHeader(json: json)
        input.consume(BinaryFormat.prefixSize + hlen)
        return h
    }

    static func readNDJSONHeader(_ input: ByteReader) throws -> StreamHeader {
        guard let line = try nextLine(input) else { throw DKLError.data("empty input: no stream header") }
        guard line.count < input.available else { throw DKLError.data("the header line has no newline (input may be truncated)") }
        defer { input.consume(line.count + 1) }
        let json: JSON
        do { json = try JSONParser.parseDocument(line) } catch let e as JSONParser.Failure {
            throw DKLError.data("the header line is not valid JSON: \(e)")
        }
        return try StreamHeader(json: json)
    }

    /// The next line (without its newline) in the input's buffer, or nil at the end.
    /// The caller consumes it. A last line without a newline is returned as it is.
    static func nextLine(_ input: ByteReader) throws -> UnsafeBufferPointer<UInt8>? {
        var searched = 0
        while true {
            let b = input.bytes
            if b.count > searched {
                let from = b.baseAddress! + searched
                if let nl = memchr(from, 0x0A, b.count - searched) {
                    let len = UnsafeRawPointer(nl) - b.baseAddress!
                    return UnsafeBufferPointer(start: b.baseAddress!.assumingMemoryBound(to: UInt8.self), count: len)
                }
                searched = b.count
            }
            if try !input.refill() {
                let b = input.bytes
                if b.isEmpty { return nil }
                return UnsafeBufferPointer(start: b.baseAddress!.assumingMemoryBound(to: UInt8.self), count: b.count)
            }
        }
    }

    /// The next batch of at most `maxRecords` records, or nil after the last one.
    public func nextBatch(maxRecords: Int = 1024) throws -> RecordBatch? {
        if finished { return nil }
        switch encoding {
        case .binary: return try nextBinaryBatch(maxRecords: maxRecords)
        case .ndjson: return try nextNDJSONBatch(maxRecords: maxRecords)
        }
    }

    /// The next record, or nil after the last one.
    public func next() throws -> UnsafeRawBufferPointer? {
        guard let b = try nextBatch(maxRecords: 1) else { return nil }
        return b.bytes
    }

    /// Reads and discards the rest of the stream, checking it.
    public func drain() throws { while try nextBatch(maxRecords: 4096) != nil {} }

    @inline(__always)
    func isTrailer(_ b: UnsafeRawBufferPointer, at o: Int, count: Int) -> Bool {
        b.loadUnaligned(fromByteOffset: o, as: UInt64.self) == endMagic64
            && b.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self).littleEndian == UInt64(count)
    }
    let endMagic64: UInt64 = BinaryFormat.endMagic.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }

    func nextBinaryBatch(maxRecords: Int) throws -> RecordBatch? {
        let rs = schema.recordSize
        let t = BinaryFormat.trailerSize
        while true {
            let b = input.bytes
            // Records are what precedes the last 16 bytes; a record is certain once 16 more bytes follow it.
            if b.count >= t && isTrailer(b, at: 0, count: recordsRead) {
                input.consume(t)
                if try input.available > 0 || input.refill() {
                    throw DKLError(.data, "data after the end marker (concatenated streams? use 'dkl-cat A B' to join them)",
                                   file: name, location: "end")
                }
                finished = true
                return nil
            }
            if b.count >= rs + t {
                var n = min(maxRecords, (b.count - t) / rs)
                for k in 1..<max(n, 1) where isTrailer(b, at: k * rs, count: recordsRead + k) { n = k; break }
                let batch = RecordBatch(bytes: UnsafeRawBufferPointer(rebasing: b[0..<(n * rs)]), count: n,
                                        firstRecord: recordsRead + 1, recordSize: rs)
                input.consume(n * rs)
                recordsRead += n
                return batch
            }
            if input.atEOF {
                if b.count >= 8, Array(b[0..<8]) == BinaryFormat.endMagic, b.count == t {
                    let n = b.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
                    throw DKLError(.data, "the end marker counts \(n) records but \(recordsRead) records of \(rs) bytes were read (a damaged stream, or records that do not match the header)",
                                   file: name, location: "end")
                }
                throw DKLError.data("input ends inside record \(recordsRead + 1) or before the end marker (input may be truncated)",
                                    file: name, record: recordsRead + 1)
            }
            try input.fill(rs + t)
        }
    }

    func nextNDJSONBatch(maxRecords: Int) throws -> RecordBatch? {
        let rs = schema.recordSize
        if scratchCount < maxRecords {
            scratch?.deallocate()
            scratch = UnsafeMutableRawPointer.allocate(byteCount: rs * maxRecords, alignment: 16)
            scratchCount = maxRecords
        }
        var n = 0
        var seen = [Bool](repeating: false, count: schema.fields.count)
        while n < maxRecords {
            guard let line = try StreamReader.nextLine(input) else { break }
            guard line.count < input.available else {
                throw DKLError.data("the last line has no newline (input may be truncated)", file: name, record: recordsRead + n + 1)
            }
            let consumed = line.count + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { input.consume(consumed); continue }
            let recordNo = recordsRead + n + 1
            var parser = JSONParser(bytes: line)
            do {
                try parser.parseRecord(schema, index: lineParserFieldIndex, into: scratch! + n * rs, seen: &seen)
            } catch let e as JSONParser.Failure {
                throw DKLError.data("invalid JSON (line \(recordNo + 1)): \(e.message) at byte \(e.offset + 1)", file: name, record: recordNo)
            } catch let e as DKLError {
                throw e.located(file: name, record: recordNo)
            }
            input.consume(consumed)
            n += 1
        }
        if n == 0 { finished = true; return nil }
        let batch = RecordBatch(bytes: UnsafeRawBufferPointer(start: scratch!, count: n * rs), count: n,
                                firstRecord: recordsRead + 1, recordSize: rs)
        recordsRead += n
        return batch
    }
}
