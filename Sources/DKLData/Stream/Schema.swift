/// The fields of a stream's records, packed in order with no padding.
import DKLCore

public struct Schema: Equatable, Sendable {
    public private(set) var fields: [Field]
    /// Bytes per binary record.
    public private(set) var recordSize: Int

    /// Limits that keep a malformed header from asking for absurd allocations.
    public static let maxFields = 4096
    public static let maxRecordBytes = 1 << 30

    public init(_ fields: [Field]) throws {
        guard !fields.isEmpty else { throw DKLError.data("the schema has no fields") }
        guard fields.count <= Schema.maxFields else { throw DKLError.data("the schema has more than \(Schema.maxFields) fields") }
        var seen = Set<String>()
        var offset = 0
        var placed: [Field] = []
        for var f in fields {
            guard !f.name.isEmpty else { throw DKLError.data("a field has an empty name") }
            guard seen.insert(f.name).inserted else { throw DKLError.data("field '\(f.name)' appears twice") }
            guard f.shape.count <= 8, f.shape.allSatisfy({ $0 >= 1 && $0 <= Schema.maxRecordBytes }) else {
                throw DKLError.data("field '\(f.name)' has an invalid shape \(f.shape)")
            }
            if f.dtype == .string, !(1...65536).contains(f.width) {
                throw DKLError.data("string field '\(f.name)' needs a width from 1 to 65536")
            }
            let (elements, o1) = f.shape.reduce((1, false)) { acc, d in
                let (m, o) = acc.0.multipliedReportingOverflow(by: d); return (m, acc.1 || o)
            }
            guard !o1, elements <= Schema.maxRecordBytes else { throw DKLError.data("field '\(f.name)' is too large") }
            f.offset = offset
            offset += f.byteSize
            guard offset <= Schema.maxRecordBytes else { throw DKLError.data("records larger than 1 GiB are not supported") }
            placed.append(f)
        }
        self.fields = placed
        self.recordSize = offset
    }

    /// The index of the field called `name`.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }

    /// Every field's index by name, for code that sets and reads a record's fields by name.
    public var slots: [String: Int] { Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($0.element.name, $0.offset) }) }

    public subscript(name: String) -> Field? { index(of: name).map { fields[$0] } }

    /// The schema as the header's `fields` array.
    public var json: JSON { .array(fields.map(\.json)) }

    /// Reads the header's `fields` array.
    public init(json: JSON) throws {
        guard let items = json.arrayValue else { throw DKLError.data("'fields' must be an array") }
        var fields: [Field] = []
        for (i, item) in items.enumerated() {
            guard let name = item["name"]?.stringValue else { throw DKLError.data("field \(i + 1) has no name") }
            guard let t = item["dtype"]?.stringValue, let dtype = DType(rawValue: t) else {
                throw DKLError.data("field '\(name)' has an unknown dtype \(item["dtype"]?.text ?? "(none)")")
            }
            var shape: [Int] = []
            if let s = item["shape"] {
                guard let dims = s.arrayValue, dims.allSatisfy({ $0.intValue != nil }) else {
                    throw DKLError.data("field '\(name)' has an invalid shape \(s.text)")
                }
                shape = dims.map { $0.intValue! }
            }
            let width = item["width"]?.intValue ?? 0
            let allowsNaN = item["nan"]?.boolValue ?? true
            fields.append(Field(name, dtype, shape: shape, width: width, allowsNaN: allowsNaN))
        }
        try self.init(fields)
    }

    /// Keeps only the named fields, in the order given.
    public func selecting(_ names: [String]) throws -> Schema {
        try Schema(names.map { n in
            guard let f = self[n] else { throw DKLError.usage("no field '\(n)' in the stream (it has \(fields.map(\.name).joined(separator: ", ")))") }
            return f
        })
    }
}
