import Foundation
import DKLCore

/// Scalar columns read from a whole stream, each named as `FIELD`, `FIELD[i]` (element i of
/// an array field, row-major) or `#` (the record number, from 1); for plots and tables.
public struct StreamColumns {
    public let name: String
    public let header: StreamHeader
    public let values: [[Double]]
    /// Whether each column holds integers (an integer field, or `#`).
    public let integral: [Bool]
    public var count: Int { values.first?.count ?? 0 }

    public init(path: String, columns: [String]) throws {
        let reader = try StreamReader(path: path)
        name = reader.name
        header = reader.header
        let schema = reader.schema
        // Each column as (field index, element), or nil for '#'.
        let picks: [(Int, Int)?] = try columns.map { spec in
            if spec == "#" { return nil }
            var fieldName = spec, element = 0, indexed = false
            if spec.hasSuffix("]"), let open = spec.firstIndex(of: "[") {
                guard let i = Int(spec[spec.index(after: open)..<spec.index(before: spec.endIndex)]), i >= 0 else {
                    throw DKLError.usage("'\(spec)': an element is FIELD[i] with i a whole number from 0")
                }
                (fieldName, element, indexed) = (String(spec[..<open]), i, true)
            }
            guard let f = schema.index(of: fieldName) else {
                throw DKLError.data("no field '\(fieldName)' (it has \(schema.fields.map(\.name).joined(separator: ", ")))", file: reader.name, location: "header")
            }
            let field = schema.fields[f]
            guard field.dtype != .string else { throw DKLError.data("the field '\(fieldName)' holds text, not numbers", file: reader.name, location: "header") }
            guard element < field.count else {
                throw DKLError.data("the field '\(fieldName)' has \(field.count) elements; there is no [\(element)]", file: reader.name, location: "header")
            }
            if field.count > 1 && !indexed {
                throw DKLError.usage("the field '\(fieldName)' of \(reader.name) is an array of \(field.count): name one element, e.g. '\(fieldName)[0]'")
            }
            return (f, element)
        }
        integral = picks.map { p in p.map { [.f32, .f64].contains(schema.fields[$0.0].dtype) == false } ?? true }
        var out = [[Double]](repeating: [], count: columns.count)
        var n = 0
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                n += 1
                let r = RecordView(batch.record(i), schema)
                for (c, p) in picks.enumerated() { out[c].append(p.map { r.double($0.0, $0.1) } ?? Double(n)) }
            }
        }
        values = out
    }
}
