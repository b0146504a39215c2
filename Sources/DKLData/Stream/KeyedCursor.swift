import Foundation
import DKLCore

/// A stream read one record at a time (in batches underneath), each with its key: the values
/// of some scalar fields. The keys must never fall (and with `unique`, never repeat), as a
/// merge or a join of sorted streams needs; a record out of order is an error naming it.
final class KeyedCursor {
    let reader: StreamReader
    let keys: [Int]
    /// The error messages for a key that falls, and for one that repeats (nil: allowed).
    let disorder: String, duplicate: String?
    private var batch: RecordBatch?
    private var position = 0
    /// The current record (a copy) and its key; nil before the first and after the last.
    private(set) var record: [UInt8]?
    private(set) var key: [Double] = []
    private(set) var number = 0

    /// `purpose` completes "no field 'x' to …" ("merge by", "join on").
    init(_ reader: StreamReader, keys names: [String], purpose: String, disorder: String, duplicate: String? = nil) throws {
        self.reader = reader
        self.disorder = disorder; self.duplicate = duplicate
        keys = try names.map { name in
            guard let i = reader.schema.index(of: name) else { throw DKLError.data("no field '\(name)' to \(purpose)", file: reader.name, location: "header") }
            let f = reader.schema.fields[i]
            guard f.count == 1, f.shape.isEmpty, f.dtype != .string else {
                throw DKLError.data("'\(name)' is not a number field; \(purpose) scalar fields", file: reader.name, location: "header")
            }
            return i
        }
    }

    /// Moves to the next record; false at the end of the stream.
    func advance() throws -> Bool {
        if batch == nil || position >= batch!.count {
            batch = try locating(file: reader.name) { try reader.nextBatch() }
            position = 0
            guard batch != nil else { record = nil; return false }
        }
        let bytes = batch!.record(position)
        position += 1
        number += 1
        let view = RecordView(bytes, reader.schema)
        let next = keys.map { view.double($0) }
        if record != nil {
            if next.lexicographicallyPrecedes(key) { throw DKLError.data(disorder, file: reader.name, record: number) }
            if let duplicate, next == key { throw DKLError.data(duplicate, file: reader.name, record: number) }
        }
        record = Array(bytes)
        key = next
        return true
    }
}
