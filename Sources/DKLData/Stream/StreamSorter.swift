import Foundation
import DKLCore

/// The records of a stream in ascending order of numeric key fields (the first key first,
/// ties broken by the next; records with equal keys keep their order), for `--join` and
/// `--merge`, which need sorted inputs. The whole stream is held in memory.
public enum StreamSorter {
    public static func sorted(_ reader: StreamReader, keys: [String]) throws -> [[UInt8]] {
        let schema = reader.schema
        let slots = try keys.map { k -> Int in
            guard let i = schema.index(of: k), schema.fields[i].count == 1, schema.fields[i].dtype != .string else {
                throw DKLError.usage("no numeric scalar field '\(k)' to sort \(reader.name) by (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
            }
            return i
        }
        var records: [(key: [Double], bytes: [UInt8])] = []
        while let batch = try locating(file: reader.name, { try reader.nextBatch(maxRecords: 4096) }) {
            for r in 0..<batch.count {
                let view = RecordView(batch.record(r), schema)
                records.append((slots.map { view.double($0) }, Array(batch.record(r))))
            }
        }
        let order = records.indices.sorted { a, b in
            for (x, y) in zip(records[a].key, records[b].key) where x != y { return x < y || (x.isNaN ? false : y.isNaN) }
            return a < b
        }
        return order.map { records[$0].bytes }
    }
}
