import Foundation

/// Streams each sorted by the same key fields merged into one sorted stream, reading one
/// record of each at a time (the shards of a job array: `--shard K/N` outputs merged back
/// into the order one process writes). Ties keep the inputs' order. An input out of order
/// is an error naming its record.
public final class StreamMerger {
    public let header: StreamHeader
    public var schema: Schema { header.schema }
    let readers: [StreamReader]
    let keys: [Int]
    var batches: [RecordBatch?]
    var positions: [Int]
    var current: [[UInt8]?]
    var currentKey: [[Double]]
    var recordNumber: [Int]
    var heap: [Int] = []

    public init(paths: [String], keys names: [String]) throws {
        readers = try paths.map { try StreamReader(path: $0) }
        let first = readers[0]
        for r in readers.dropFirst() where r.schema != first.schema {
            throw DKLError(.data, "its fields (\(r.schema.fields.map(\.declaration).joined(separator: ", "))) differ from those of \(first.name)", file: r.name, location: "header")
        }
        keys = try names.map { name in
            guard let i = first.schema.index(of: name) else { throw DKLError.data("no field '\(name)' to merge by", file: first.name, location: "header") }
            let f = first.schema.fields[i]
            guard f.count == 1, f.shape.isEmpty, f.dtype != .string else { throw DKLError.data("'\(name)' is not a number field; merge by scalar fields", file: first.name, location: "header") }
            return i
        }
        var h = first.header
        h.attrs.remove("shard")
        header = h
        batches = readers.map { _ in nil }
        positions = readers.map { _ in 0 }
        current = readers.map { _ in nil }
        currentKey = readers.map { _ in [] }
        recordNumber = readers.map { _ in 0 }
        for i in readers.indices where try advance(i) { push(i) }
    }

    func less(_ a: Int, _ b: Int) -> Bool {
        for (x, y) in zip(currentKey[a], currentKey[b]) where x != y { return x < y }
        return a < b
    }

    /// Reads input i's next record into `current[i]`; false at its end.
    func advance(_ i: Int) throws -> Bool {
        if batches[i] == nil || positions[i] >= batches[i]!.count {
            batches[i] = try locating(file: readers[i].name) { try readers[i].nextBatch() }
            positions[i] = 0
            guard batches[i] != nil else { current[i] = nil; return false }
        }
        let bytes = batches[i]!.record(positions[i])
        positions[i] += 1
        recordNumber[i] += 1
        let view = RecordView(bytes, schema)
        let key = keys.map { view.double($0) }
        if let previous = current[i] != nil ? currentKey[i] : nil, key.lexicographicallyPrecedes(previous) {
            throw DKLError.data("out of order: merging needs every input sorted by \(keys.map { schema.fields[$0].name }.joined(separator: ", "))",
                                file: readers[i].name, record: recordNumber[i])
        }
        current[i] = Array(bytes)
        currentKey[i] = key
        return true
    }

    func push(_ i: Int) {
        heap.append(i)
        var c = heap.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard less(heap[c], heap[p]) else { break }
            heap.swapAt(c, p); c = p
        }
    }

    func popFirst() -> Int {
        let top = heap[0]
        heap[0] = heap[heap.count - 1]
        heap.removeLast()
        var p = 0
        while true {
            let l = 2 * p + 1, r = l + 1
            var m = p
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == p { break }
            heap.swapAt(p, m); p = m
        }
        return top
    }

    /// The next record of the merged stream, or nil at the end.
    public func next() throws -> [UInt8]? {
        guard !heap.isEmpty else { return nil }
        let i = popFirst()
        let record = current[i]!
        if try advance(i) { push(i) }
        return record
    }
}
