import Foundation

/// Two streams sorted by the same key fields joined record by record: each record of the
/// first with the fields of the second's record of the same key appended (a model's
/// predictions with the truth, say). Records of the first without a partner are left out;
/// keys of the second must be unique. Reads one record of each at a time.
public final class StreamJoiner {
    public let header: StreamHeader
    public var schema: Schema { header.schema }
    let left: StreamReader, right: StreamReader
    let leftKeys: [Int], rightKeys: [Int]
    /// The second stream's fields that are appended (not its keys).
    let rightFields: [Field]
    var rightRecord: [UInt8]?
    var rightKey: [Double] = []
    var rightNumber = 0, leftNumber = 0
    var previousLeft: [Double]?
    public private(set) var unmatched = 0

    public init(_ first: String, _ second: String, keys: [String]) throws {
        left = try StreamReader(path: first)
        right = try StreamReader(path: second)
        func indices(_ r: StreamReader) throws -> [Int] {
            try keys.map { name in
                guard let i = r.schema.index(of: name) else { throw DKLError.data("no field '\(name)' to join on", file: r.name, location: "header") }
                let f = r.schema.fields[i]
                guard f.count == 1, f.shape.isEmpty, f.dtype != .string else { throw DKLError.data("'\(name)' is not a number field; join on scalar fields", file: r.name, location: "header") }
                return i
            }
        }
        leftKeys = try indices(left)
        rightKeys = try indices(right)
        let (l, r, rk) = (left, right, rightKeys)
        let appended = r.schema.fields.enumerated().filter { !rk.contains($0.offset) }.map(\.element)
        for f in appended where l.schema.index(of: f.name) != nil {
            throw DKLError.data("both streams have a field '\(f.name)': keep one side's with --fields first", file: r.name, location: "header")
        }
        rightFields = appended
        let fields = (l.schema.fields + appended).map { Field($0.name, $0.dtype, shape: $0.shape, width: $0.width, allowsNaN: $0.allowsNaN) }
        header = StreamHeader(schema: try Schema(fields), attrs: l.header.attrs, provenance: l.header.provenance)
        try advanceRight()
    }

    func key(_ bytes: UnsafeRawBufferPointer, _ schema: Schema, _ keys: [Int]) -> [Double] {
        let v = RecordView(bytes, schema)
        return keys.map { v.double($0) }
    }

    func advanceRight() throws {
        guard let bytes = try locating(file: right.name, { try right.next() }) else { rightRecord = nil; return }
        rightNumber += 1
        let k = key(bytes, right.schema, rightKeys)
        if rightRecord != nil, !rightKey.lexicographicallyPrecedes(k) {
            throw DKLError.data(k == rightKey ? "a second record with the same key: joining needs unique keys in the second stream"
                                              : "out of order: joining needs both streams sorted by the keys", file: right.name, record: rightNumber)
        }
        rightRecord = Array(bytes)
        rightKey = k
    }

    /// The next joined record, or nil at the end of the first stream.
    public func next() throws -> [UInt8]? {
        while let bytes = try locating(file: left.name, { try left.next() }) {
            leftNumber += 1
            let k = key(bytes, left.schema, leftKeys)
            if let p = previousLeft, k.lexicographicallyPrecedes(p) {
                throw DKLError.data("out of order: joining needs both streams sorted by the keys", file: left.name, record: leftNumber)
            }
            previousLeft = k
            while rightRecord != nil && rightKey.lexicographicallyPrecedes(k) { try advanceRight() }
            guard let r = rightRecord, rightKey == k else { unmatched += 1; continue }
            var out = Array(bytes)
            r.withUnsafeBytes { rb in
                for f in rightFields { out += rb[f.offset..<(f.offset + f.byteSize)] }
            }
            return out
        }
        return nil
    }
}
