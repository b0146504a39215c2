import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// Records of equal shape (curves of D values or H×W images) as Float rows, with the scalar
/// fields that came with them (labels, parameters) kept by name: what `vae-encode` trains
/// on (all at once) and encodes (a chunk at a time, from `RecordReader`).
public struct RecordSet {
    public var shape: [Int]
    public var field: String
    public var count: Int
    public var values: [Float]
    /// Scalar fields of the input stream, one value per record, in the input's order.
    public var labels: [(field: Field, values: [Double])]

    public var width: Int { shape.reduce(1, *) }

    /// Reads all of `path` ("-" for stdin): a dkl stream, or an array file (`file.h5:/dataset`).
    /// `field` picks the stream's array field; by default the one non-scalar field.
    public static func read(_ path: String, field: String?) throws -> RecordSet {
        let reader = try RecordReader(path, field: field)
        var set = RecordSet(shape: reader.shape, field: reader.field, count: 0, values: [], labels: reader.labels.map { ($0, []) })
        while let chunk = try reader.next() {
            set.values += chunk.values
            for k in set.labels.indices { set.labels[k].values += chunk.labels[k].values }
            set.count += chunk.count
        }
        if set.count == 0 { throw DKLError.data("no records", file: reader.name) }
        return set
    }
}

/// Reads records a chunk at a time, in bounded memory: from a dkl stream (one array field,
/// the scalar fields as labels) or from an NPY or HDF5 array whose first axis indexes the
/// records. Every record is checked for NaN and infinity; a message names the record.
public final class RecordReader {
    public let name: String
    public let shape: [Int]
    public let field: String
    /// The stream's scalar fields, carried along as labels (none for an array file).
    public let labels: [Field]
    /// Records read so far.
    public private(set) var consumed = 0
    let source: Source

    enum Source {
        case array(ArraySource)
        case stream(StreamReader, field: Int, scalars: [Int])
    }

    /// Opens `path` ("-" for stdin); `field` picks the stream's array field (by default
    /// `preferring` when the stream has it, else the one non-scalar field) or names an
    /// array file's records.
    public init(_ path: String, field: String?, preferring: String? = nil) throws {
        if path != "-" && ArrayFile.isArrayFile(ArrayFile.split(path).0) {
            let a = try ArrayFile.open(path)
            guard (2...3).contains(a.rank), a.shape.allSatisfy({ $0 > 0 }) else {
                throw DKLError.data("expected an array N×D (curves) or N×H×W (images), found shape \(a.shape)", file: path)
            }
            (name, shape, self.field, labels, source) = (path, Array(a.shape.dropFirst()), field ?? preferring ?? "data", [], .array(a))
            return
        }
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        let schema = reader.schema
        let index: Int
        if let field = field ?? preferring.flatMap({ schema.index(of: $0) == nil ? nil : $0 }) {
            guard let i = schema.index(of: field) else { throw DKLError.data("the stream has no field '\(field)'", file: reader.name, location: "header") }
            index = i
        } else {
            let arrays = schema.fields.indices.filter { !schema.fields[$0].shape.isEmpty && schema.fields[$0].dtype != .string }
            guard arrays.count == 1 else {
                throw DKLError.data(arrays.isEmpty ? "the stream has no array field" : "the stream has several array fields; pick one with --field",
                                    file: reader.name, location: "header")
            }
            index = arrays[0]
        }
        let f = schema.fields[index]
        guard (1...2).contains(f.shape.count), f.dtype != .string else {
            throw DKLError.data("field '\(f.name)' has shape \(f.shape); expected [D] or [H, W] numbers", file: reader.name, location: "header")
        }
        let scalars = schema.fields.indices.filter { schema.fields[$0].shape.isEmpty && schema.fields[$0].dtype != .string }
        (name, shape, self.field, labels) = (reader.name, f.shape, f.name, scalars.map { schema.fields[$0] })
        source = .stream(reader, field: index, scalars: scalars)
    }

    /// The next chunk of at most `maxRecords` records, or nil after the last.
    public func next(maxRecords: Int = 1024) throws -> RecordSet? {
        var set = RecordSet(shape: shape, field: field, count: 0, values: [], labels: labels.map { ($0, []) })
        switch source {
        case .array(let a):
            let n = min(maxRecords, a.shape[0] - consumed)
            if n <= 0 { return nil }
            set.values = try a.readBlockFloats(start: [consumed] + shape.map { _ in 0 }, count: [n] + shape)
            if let i = set.values.firstIndex(where: { !$0.isFinite }) {
                throw DKLError.data("record \(consumed + i / set.width + 1) holds NaN or infinity", file: name)
            }
            set.count = n
        case .stream(let reader, let index, let scalars):
            // Whole chunks of maxRecords (a pipe hands over what it has): the network's
            // products then run on the same chunks as from a file, to the same bits.
            set.values.reserveCapacity(maxRecords * set.width)
            while set.count < maxRecords,
                  let batch = try locating(file: reader.name, { try reader.nextBatch(maxRecords: maxRecords - set.count) }) {
                for i in 0..<batch.count {
                    let r = RecordView(batch.record(i), reader.schema)
                    let v = r.floats(index)
                    if !v.allSatisfy(\.isFinite) {
                        throw DKLError.data("field '\(field)' holds NaN or infinity", file: reader.name, record: consumed + set.count + i + 1)
                    }
                    set.values += v
                    for (k, s) in scalars.enumerated() { set.labels[k].values.append(r.double(s)) }
                }
                set.count += batch.count
            }
            if set.count == 0 { return nil }
        }
        consumed += set.count
        return set
    }
}
