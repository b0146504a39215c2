/// The toolkit's one error type. `ToolMain` turns it into a message and an exit status:
///
/// | kind        | exit | message                                   |
/// |-------------|------|-------------------------------------------|
/// | usage       | 64   | `tool: error: …`, the usage line, a hint  |
/// | data        | 1    | `tool: FILE:RECORD: …`                    |
/// | brokenPipe  | 0    | none (a reader such as `head` went away)  |
/// | interrupted | 130  | `tool: interrupted`                       |
public struct DKLError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case usage, data, brokenPipe, interrupted }
    public var kind: Kind
    public var message: String
    /// The file the problem is in (`<stdin>` for standard input), if known.
    public var file: String?
    /// Where in the file: a 1-based record number, or a word such as `header`.
    public var location: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, location: String? = nil) {
        self.kind = kind; self.message = message; self.file = file; self.location = location
    }

    public static func usage(_ m: String) -> DKLError { DKLError(.usage, m) }
    public static func data(_ m: String, file: String? = nil, record: Int? = nil) -> DKLError {
        DKLError(.data, m, file: file, location: record.map(String.init))
    }
    public static func data(_ m: String, file: String?, location: String) -> DKLError {
        DKLError(.data, m, file: file, location: location)
    }
    public static let brokenPipe = DKLError(.brokenPipe, "broken pipe")

    /// The same error, located in `file` (and `record`) unless it already is.
    public func located(file f: String, record r: Int? = nil, location l: String? = nil) -> DKLError {
        var e = self
        if e.file == nil { e.file = f }
        if e.location == nil { e.location = l ?? r.map(String.init) }
        return e
    }

    /// Text as one line of a message: text from a file (a field name, a header) may hold
    /// line breaks and control characters, shown escaped.
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        return text.unicodeScalars.map { c in
            switch c.value {
            case 0x0A: return "\\n"
            case 0x09: return "\\t"
            case 0..<0x20, 0x7F: return "\\u{\(String(c.value, radix: 16))}"
            default: return String(c)
            }
        }.joined()
    }

    /// `FILE:RECORD: message`, or as much of it as is known.
    public var description: String {
        switch (file, location) {
        case let (f?, l?): return "\(f):\(l): \(message)"
        case let (f?, nil): return "\(f): \(message)"
        default: return message
        }
    }
}

/// Locates any error thrown by `body` in `file` (and `record`); a JSON text that does
/// not parse becomes a data error there.
@inline(__always)
public func locating<T>(file: String, record: Int? = nil, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as DKLError { throw e.located(file: file, record: record) } catch let e as JSONParser.Failure {
        throw DKLError.data("invalid JSON: \(e)", file: file, record: record)
    }
}
