/// Parsing one NDJSON record line straight into the packed binary record layout,
/// and writing a packed record as one NDJSON line.
import DKLCore

extension JSONParser {
    /// Parses `{"name": value, …}` for `schema` into `dst`. Every field must be present
    /// once; unknown keys are an error. `null` reads as NaN in float fields that allow it.
    mutating func parseRecord(_ schema: Schema, index: [String: Int], into dst: UnsafeMutableRawPointer, seen: inout [Bool]) throws {
        for i in seen.indices { seen[i] = false }
        try expect(UInt8(ascii: "{"), "'{' (a record is a JSON object)")
        skipSpace()
        var expected = 0
        var found = 0
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1 } else {
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a field name") }
                let fi = try fieldIndex(schema, index: index, expected: expected)
                try expect(UInt8(ascii: ":"), "':'")
                let f = schema.fields[fi]
                if seen[fi] { throw DKLError.data("field '\(f.name)' appears twice") }
                seen[fi] = true
                found += 1
                try parseFieldValue(f, dst + f.offset, dims: f.shape[...])
                expected = fi + 1
                skipSpace()
                guard pos < bytes.count else { throw fail("unexpected end of line in a record") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
                throw fail("expected ',' or '}'")
            }
        }
        skipSpace()
        if pos != bytes.count { throw fail("unexpected data after the record") }
        if found != schema.fields.count, let missing = seen.firstIndex(of: false) {
            throw DKLError.data("missing field '\(schema.fields[missing].name)'")
        }
    }

    /// Reads a key; fast when keys come in schema order (the usual case).
    mutating func fieldIndex(_ schema: Schema, index: [String: Int], expected: Int) throws -> Int {
        if expected < schema.fields.count {
            let name = schema.fields[expected].name.utf8
            let start = pos + 1
            let end = start + name.count
            if end < bytes.count, bytes[end] == UInt8(ascii: "\""),
               name.elementsEqual(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
                pos = end + 1
                return expected
            }
        }
        let key = try parseString()
        guard let i = index[key] else { throw DKLError.data("unknown field '\(key)' (not in the header's schema)") }
        return i
    }

    mutating func parseFieldValue(_ f: Field, _ dst: UnsafeMutableRawPointer, dims: ArraySlice<Int>) throws {
        guard let d = dims.first else { return try parseElement(f, dst) }
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "[") else {
            throw DKLError.data("field '\(f.name)': expected an array of \(d) (shape \(f.shape))")
        }
        pos += 1
        let inner = dims.dropFirst()
        let stride = inner.reduce(1, *) * (f.dtype == .string ? f.width : f.dtype.size)
        for i in 0..<d {
            if i > 0 {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ",") else {
                    throw DKLError.data("field '\(f.name)': expected \(d) elements (shape \(f.shape)), found \(i)")
                }
                pos += 1
            }
            try parseFieldValue(f, dst + i * stride, dims: inner)
        }
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "]") else {
            throw DKLError.data("field '\(f.name)': more than \(d) elements (shape \(f.shape))")
        }
        pos += 1
    }

    @inline(__always)
    mutating func parseElement(_ f: Field, _ dst: UnsafeMutableRawPointer) throws {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end of line in a record") }
        let c = bytes[pos]
        if c == UInt8(ascii: "[") { throw DKLError.data("field '\(f.name)': expected a number, found a nested array (shape \(f.shape))") }
        if c == UInt8(ascii: "n") {
            try literal("null")
            guard f.dtype.isFloat else { throw DKLError.data("field '\(f.name)' is null; it is an \(f.dtype.rawValue) field") }
            guard f.allowsNaN else { throw DKLError.data("NaN (null) in field '\(f.name)', which does not allow NaN") }
            if f.dtype == .f32 { dst.storeBytes(of: Float.nan, as: Float.self) } else { dst.storeBytes(of: Double.nan, as: Double.self) }
            return
        }
        switch f.dtype {
        case .f32:
            guard c == UInt8(ascii: "-") || c &- 0x30 < 10 else { throw DKLError.data("field '\(f.name)': expected a number") }
            dst.storeBytes(of: Float(try parseNumber()), as: Float.self)
        case .f64:
            guard c == UInt8(ascii: "-") || c &- 0x30 < 10 else { throw DKLError.data("field '\(f.name)': expected a number") }
            dst.storeBytes(of: try parseNumber(), as: Double.self)
        case .string:
            guard c == UInt8(ascii: "\"") else { throw DKLError.data("field '\(f.name)': expected a string") }
            let s = Array(try parseString().utf8)
            guard s.count <= f.width else { throw DKLError.data("field '\(f.name)': string of \(s.count) bytes is wider than \(f.width)") }
            dst.initializeMemory(as: UInt8.self, repeating: 0, count: f.width)
            s.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: s.count) }
        default:
            guard c == UInt8(ascii: "-") || c &- 0x30 < 10 else { throw DKLError.data("field '\(f.name)': expected an integer") }
            try parseInteger(f, dst)
        }
    }

    mutating func parseInteger(_ f: Field, _ dst: UnsafeMutableRawPointer) throws {
        let start = pos
        var p = pos
        var neg = false
        if bytes[p] == UInt8(ascii: "-") { neg = true; p += 1 }
        var m: UInt64 = 0
        var overflow = false
        let digitsStart = p
        while p < bytes.count, bytes[p] &- 0x30 < 10 {
            let (a, o1) = m.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(UInt64(bytes[p] &- 0x30))
            overflow = overflow || o1 || o2
            m = b
            p += 1
        }
        let plain = p > digitsStart && !(p < bytes.count && (bytes[p] == UInt8(ascii: ".") || bytes[p] | 0x20 == UInt8(ascii: "e")))
        if plain && !overflow {
            let ok: Bool
            switch f.dtype {
            case .i8: ok = store(neg, m, Int8.self, dst)
            case .i16: ok = store(neg, m, Int16.self, dst)
            case .i32: ok = store(neg, m, Int32.self, dst)
            case .i64: ok = store(neg, m, Int64.self, dst)
            case .u8: ok = store(neg, m, UInt8.self, dst)
            case .u16: ok = store(neg, m, UInt16.self, dst)
            case .u32: ok = store(neg, m, UInt32.self, dst)
            default: ok = store(neg, m, UInt64.self, dst)
            }
            guard ok else { throw DKLError.data("field '\(f.name)': \(neg ? "-" : "")\(m) is out of range for \(f.dtype.rawValue)") }
            pos = p
            return
        }
        pos = start
        let d = try parseNumber()
        guard d.rounded() == d, f.dtype.integerRange.contains(d) else {
            throw DKLError.data("field '\(f.name)': \(d) is not an integer in the range of \(f.dtype.rawValue)")
        }
        switch f.dtype {
        case .i8: dst.storeBytes(of: Int8(d), as: Int8.self)
        case .i16: dst.storeBytes(of: Int16(d), as: Int16.self)
        case .i32: dst.storeBytes(of: Int32(d), as: Int32.self)
        case .i64: dst.storeBytes(of: Int64(d), as: Int64.self)
        case .u8: dst.storeBytes(of: UInt8(d), as: UInt8.self)
        case .u16: dst.storeBytes(of: UInt16(d), as: UInt16.self)
        case .u32: dst.storeBytes(of: UInt32(d), as: UInt32.self)
        default: dst.storeBytes(of: UInt64(d), as: UInt64.self)
        }
    }

    @inline(__always)
    func store<T: FixedWidthInteger>(_ neg: Bool, _ m: UInt64, _: T.Type, _ dst: UnsafeMutableRawPointer) -> Bool {
        if neg && m != 0 {
            guard T.isSigned, m <= UInt64(T.max) + 1 else { return false }
            dst.storeBytes(of: T(truncatingIfNeeded: 0 &- m), as: T.self)
        } else {
            guard m <= UInt64(T.max) else { return false }
            dst.storeBytes(of: T(m), as: T.self)
        }
        return true
    }
}

/// Writes packed records as NDJSON lines.
public enum NDJSONRecord {
    /// Appends the JSON object of one packed record and a newline.
    public static func append(_ rec: UnsafeRawBufferPointer, schema: Schema, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, f) in schema.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONNumber.appendString(f.name, to: &out)
            out.append(UInt8(ascii: ":"))
            var offset = f.offset
            appendValue(rec, f, dims: f.shape[...], offset: &offset, to: &out)
        }
        out.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
    }

    static func appendValue(_ rec: UnsafeRawBufferPointer, _ f: Field, dims: ArraySlice<Int>, offset: inout Int, to out: inout [UInt8]) {
        guard let d = dims.first else { appendElement(rec, f, offset: &offset, to: &out); return }
        out.append(UInt8(ascii: "["))
        let inner = dims.dropFirst()
        for i in 0..<d {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendValue(rec, f, dims: inner, offset: &offset, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    @inline(__always)
    static func appendElement(_ rec: UnsafeRawBufferPointer, _ f: Field, offset: inout Int, to out: inout [UInt8]) {
        switch f.dtype {
        case .f32: JSONNumber.append(rec.loadUnaligned(fromByteOffset: offset, as: Float.self), to: &out)
        case .f64: JSONNumber.append(rec.loadUnaligned(fromByteOffset: offset, as: Double.self), to: &out)
        case .i8: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: Int8.self)), to: &out)
        case .i16: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: Int16.self)), to: &out)
        case .i32: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: Int32.self)), to: &out)
        case .i64: JSONNumber.appendInt(rec.loadUnaligned(fromByteOffset: offset, as: Int64.self), to: &out)
        case .u8: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: UInt8.self)), to: &out)
        case .u16: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: UInt16.self)), to: &out)
        case .u32: JSONNumber.appendInt(Int64(rec.loadUnaligned(fromByteOffset: offset, as: UInt32.self)), to: &out)
        case .u64: JSONNumber.appendUInt(rec.loadUnaligned(fromByteOffset: offset, as: UInt64.self), to: &out)
        case .string:
            let bytes = UnsafeRawBufferPointer(rebasing: rec[offset..<(offset + f.width)])
            let len = bytes.firstIndex(of: 0) ?? f.width
            JSONNumber.appendString(String(decoding: bytes[0..<len], as: UTF8.self), to: &out)
            offset += f.width
            return
        }
        offset += f.dtype.size
    }
}
