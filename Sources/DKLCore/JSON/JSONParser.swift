/// A strict JSON parser (RFC 8259) over UTF-8 bytes, with byte offsets in its errors.
/// Numbers are parsed by `FastFloat`; `1e999` and `-1e999` read as ±infinity.
public struct JSONParser {
    public struct Failure: Error, CustomStringConvertible {
        public let offset: Int
        public let message: String
        public var description: String { "\(message) at byte \(offset + 1)" }
    }

    package let bytes: UnsafeBufferPointer<UInt8>
    package var pos: Int
    var depth = 0

    public init(bytes: UnsafeBufferPointer<UInt8>, start: Int = 0) { self.bytes = bytes; self.pos = start }

    /// Parses one complete JSON text from `text`.
    public static func parse(_ text: String) throws -> JSON {
        var copy = Array(text.utf8)
        return try copy.withUnsafeMutableBufferPointer { buf in
            try parseDocument(UnsafeBufferPointer(buf))
        }
    }

    /// Parses one complete JSON text from bytes; trailing whitespace only.
    public static func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSON {
        var p = JSONParser(bytes: bytes)
        let v = try p.parseValue()
        p.skipSpace()
        if p.pos != bytes.count { throw p.fail("unexpected data after the JSON value") }
        return v
    }

    package func fail(_ message: String) -> Failure { Failure(offset: pos, message: message) }

    var atEnd: Bool { pos >= bytes.count }

    package mutating func skipSpace() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { break }
        }
    }

    package mutating func expect(_ c: UInt8, _ what: String) throws {
        skipSpace()
        guard pos < bytes.count, bytes[pos] == c else {
            throw fail(atEnd ? "unexpected end of JSON, expected \(what)" : "expected \(what)")
        }
        pos += 1
    }

    public mutating func parseValue() throws -> JSON {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    package mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw fail("invalid literal") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] { throw fail("invalid literal") }
        pos += n
    }

    mutating func parseObject() throws -> JSON {
        depth += 1
        if depth > 512 { throw fail("JSON nested too deeply") }
        defer { depth -= 1 }
        pos += 1
        var members: [(String, JSON)] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw fail(atEnd ? "unexpected end of JSON in an object" : "expected a string key")
            }
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':'")
            members.append((key, try parseValue()))
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of JSON in an object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func parseArray() throws -> JSON {
        depth += 1
        if depth > 512 { throw fail("JSON nested too deeply") }
        defer { depth -= 1 }
        pos += 1
        var items: [JSON] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            items.append(try parseValue())
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of JSON in an array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    /// Parses a string starting at the opening quote.
    public mutating func parseString() throws -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            pos += 1
        }
        var out = Array(bytes[start..<pos])
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in a string")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw fail("unpaired surrogate in a string")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
            default: throw fail("invalid escape in a string")
            }
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    /// Parses a JSON number at the current position.
    public mutating func parseNumber() throws -> Double {
        guard let (value, end) = FastFloat.parse(bytes, from: pos) else {
            throw fail(atEnd ? "unexpected end of JSON" : "invalid JSON value")
        }
        pos = end
        return value
    }
}
