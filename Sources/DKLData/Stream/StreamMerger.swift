import Foundation
import DKLCore

/// Streams each sorted by the same key fields merged into one sorted stream, reading one
/// record of each at a time (the shards of a job array: `--shard K/N` outputs merged back
/// into the order one process writes). Ties keep the inputs' order. An input out of order
/// is an error naming its record.
public final class StreamMerger {
    public let header: StreamHeader
    public var schema: Schema { header.schema }
    let inputs: [KeyedCursor]
    /// The inputs with a current record, as a binary heap by (key, input).
    var heap: [Int] = []

    public init(paths: [String], keys names: [String]) throws {
        let readers = try paths.map { try StreamReader(path: $0) }
        let first = readers[0]
        for r in readers.dropFirst() where r.schema != first.schema {
            throw DKLError(.data, "its fields (\(r.schema.fields.map(\.declaration).joined(separator: ", "))) differ from those of \(first.name)", file: r.name, location: "header")
        }
        let disorder = "out of order: merging needs every input sorted by \(names.joined(separator: ", "))"
        inputs = try readers.map { try KeyedCursor($0, keys: names, purpose: "merge by", disorder: disorder) }
        var h = first.header
        h.attrs.remove("shard")
        header = h
        for i in inputs.indices where try inputs[i].advance() { push(i) }
    }

    func less(_ a: Int, _ b: Int) -> Bool {
        for (x, y) in zip(inputs[a].key, inputs[b].key) where x != y { return x < y }
        return a < b
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
        let record = inputs[i].record!
        if try inputs[i].advance() { push(i) }
        return record
    }
}
