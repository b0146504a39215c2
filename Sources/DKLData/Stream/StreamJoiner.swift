import Foundation
import DKLCore

/// Two streams sorted by the same key fields joined record by record: each record of the
/// first with the fields of the second's record of the same key appended (a model's
/// predictions with the truth, say). Records of the first without a partner are left out;
/// keys of the second must be unique. Reads one record of each at a time.
public final class StreamJoiner {
    public let header: StreamHeader
    public var schema: Schema { header.schema }
    let left: KeyedCursor, right: KeyedCursor
    /// The second stream's fields that are appended (not its keys).
    let rightFields: [Field]
    public private(set) var unmatched = 0

    public init(_ first: String, _ second: String, keys: [String]) throws {
        let disorder = "out of order: joining needs both streams sorted by the keys"
        let (l, r) = (try StreamReader(path: first), try StreamReader(path: second))
        left = try KeyedCursor(l, keys: keys, purpose: "join on", disorder: disorder)
        right = try KeyedCursor(r, keys: keys, purpose: "join on", disorder: disorder,
                                duplicate: "a second record with the same key: joining needs unique keys in the second stream")
        let rk = right.keys
        let appended = r.schema.fields.enumerated().filter { !rk.contains($0.offset) }.map(\.element)
        for f in appended where l.schema.index(of: f.name) != nil {
            throw DKLError.data("both streams have a field '\(f.name)': keep one side's with --fields first", file: r.name, location: "header")
        }
        rightFields = appended
        header = StreamHeader(schema: try Schema(l.schema.fields + appended), attrs: l.header.attrs, provenance: l.header.provenance)
        _ = try right.advance()
    }

    /// The next joined record, or nil at the end of the first stream.
    public func next() throws -> [UInt8]? {
        while try left.advance() {
            while right.record != nil && right.key.lexicographicallyPrecedes(left.key) { _ = try right.advance() }
            guard let r = right.record, right.key == left.key else { unmatched += 1; continue }
            var out = left.record!
            for f in rightFields { out += r[f.offset..<(f.offset + f.byteSize)] }
            return out
        }
        return nil
    }
}
