import Foundation

/// Records of equal shape (curves of D values or H×W images) held in memory as Float rows,
/// with the scalar fields that came with them (labels, parameters) kept by name: what
/// `vae-encode` trains on and encodes. Read from a stream (one array field), or from an
/// NPY or HDF5 array whose first axis indexes the records.
public struct RecordSet {
    public var shape: [Int]
    public var field: String
    public var count: Int
    public var values: [Float]
    /// Scalar fields of the input stream, one value per record, in the input's order.
    public var labels: [(field: Field, values: [Double])]

    public var width: Int { shape.reduce(1, *) }

    /// Reads `path` ("-" for stdin): a dkl stream, or an array file (`file.h5:/dataset`).
    /// `field` picks the stream's array field; by default the one non-scalar field.
    public static func read(_ path: String, field: String?) throws -> RecordSet {
        if path != "-" && ArrayFile.isArrayFile(ArrayFile.split(path).0) {
            let a = try ArrayFile.open(path)
            guard (2...3).contains(a.rank), a.shape.allSatisfy({ $0 > 0 }) else {
                throw DKLError.data("expected an array N×D (curves) or N×H×W (images), found shape \(a.shape)", file: path)
            }
            let values = try a.readAllFloats()
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw DKLError.data("record \(i / (a.count / a.shape[0]) + 1) holds NaN or infinity", file: path)
            }
            return RecordSet(shape: Array(a.shape.dropFirst()), field: field ?? "data", count: a.shape[0], values: values, labels: [])
        }
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        let schema = reader.schema
        let index: Int
        if let field {
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
        var set = RecordSet(shape: f.shape, field: f.name, count: 0, values: [], labels: scalars.map { (schema.fields[$0], []) })
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), schema)
                let v = r.floats(index)
                if !v.allSatisfy(\.isFinite) {
                    throw DKLError.data("field '\(f.name)' holds NaN or infinity", file: reader.name, record: set.count + 1)
                }
                set.values += v
                for (k, s) in scalars.enumerated() { set.labels[k].values.append(r.double(s)) }
                set.count += 1
            }
        }
        if set.count == 0 { throw DKLError.data("no records", file: reader.name) }
        return set
    }
}
