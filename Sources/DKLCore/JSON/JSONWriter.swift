/// Serializes `JSON` compactly (one line), as headers and NDJSON records need.
extension JSON {
    /// The compact, single-line text of this value.
    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(d): JSONNumber.append(d, to: &out)
        case let .string(s): JSONNumber.appendString(s, to: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONNumber.appendString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// Number and string formatting shared by the JSON writer and the NDJSON record writer.
public enum JSONNumber {
    /// Appends a Double in shortest round-trip form; integers without a fraction;
    /// NaN as `null`, ±infinity as `±1e999` (valid JSON that reads back as infinity).
    @inline(__always)
    public static func append(_ d: Double, to out: inout [UInt8]) {
        if d.isNaN { out.append(contentsOf: "null".utf8); return }
        if d.isInfinite { out.append(contentsOf: (d > 0 ? "1e999" : "-1e999").utf8); return }
        if d == d.rounded(), abs(d) < 1e15 { appendInt(Int64(d), to: &out); return }
        out.append(contentsOf: d.description.utf8)
    }

    /// Appends a Float in its shortest round-trip form (as a float32).
    @inline(__always)
    public static func append(_ f: Float, to out: inout [UInt8]) {
        if f.isNaN { out.append(contentsOf: "null".utf8); return }
        if f.isInfinite { out.append(contentsOf: (f > 0 ? "1e999" : "-1e999").utf8); return }
        if f == f.rounded(), abs(f) < 1e7 { appendInt(Int64(f), to: &out); return }
        out.append(contentsOf: f.description.utf8)
    }

    @inline(__always)
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(0x30); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var m = v.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while m > 0 { d[n] = UInt8(48 + m % 10); m /= 10; n += 1 }
            if v < 0 { out.append(UInt8(ascii: "-")) }
            while n > 0 { n -= 1; out.append(d[n]) }
        }
    }

    public static func appendUInt(_ v: UInt64, to out: inout [UInt8]) {
        if v <= UInt64(Int64.max) { appendInt(Int64(v), to: &out) } else { out.append(contentsOf: String(v).utf8) }
    }

    /// Appends a JSON string literal with the required escapes.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
