import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// The data a structured GP is fitted to, from a stream: the inputs (scalar fields by
/// name, or one array field whose values are x1…xd) and the target field; records whose
/// target or inputs are not finite are left out (not measured) and counted.
public struct FitData: Sendable {
    public var x: Matrix
    public var y: [Double]
    public var names: [String]
    public var skipped: Int

    /// - Parameters: `inputs`: field names (nil: every scalar numeric field but the target
    ///   and the pixel y, x); `target`: the target field (nil: `value`, or the last scalar field).
    public static func read(_ reader: StreamReader, inputs: [String]?, target: String?) throws -> FitData {
        let schema = reader.schema
        let numeric = schema.fields.enumerated().filter { $0.element.dtype != .string }
        let scalars = numeric.filter { $0.element.count == 1 }.map(\.element.name)
        guard let targetName = target ?? (scalars.contains("value") ? "value" : scalars.last) else {
            throw DKLError.data("the stream has no numeric scalar field for the target", file: reader.name, location: "header")
        }
        guard let t = schema.index(of: targetName), schema.fields[t].count == 1, schema.fields[t].dtype != .string else {
            throw DKLError.data("no numeric scalar field '\(targetName)' for the target (fields: \(schema.fields.map(\.name).joined(separator: ", ")))", file: reader.name, location: "header")
        }
        let chosen = inputs ?? scalars.filter { ![targetName, "y", "x", "flags", "id"].contains($0) }
        guard !chosen.isEmpty else { throw DKLError.usage("no input fields: name them with --inputs A,B") }
        var columns: [(field: Int, element: Int)] = [], names: [String] = []
        for name in chosen {
            guard let i = schema.index(of: name), schema.fields[i].dtype != .string else {
                throw DKLError.data("no numeric field '\(name)' for --inputs (fields: \(schema.fields.map(\.name).joined(separator: ", ")))", file: reader.name, location: "header")
            }
            guard name != targetName else { throw DKLError.usage("--inputs names the target '\(name)'") }
            let count = schema.fields[i].count
            if count == 1 { columns.append((i, 0)); names.append(name) } else {
                guard chosen.count == 1 else { throw DKLError.usage("an array field ('\(name)') must be the only input; its values are x1…x\(count)") }
                for e in 0..<count { columns.append((i, e)); names.append("x\(e + 1)") }
            }
        }
        guard columns.count <= 64 else { throw DKLError.usage("\(columns.count) inputs: a structured GP is for a low-dimensional space (at most 64)") }
        var data: [Double] = [], y: [Double] = [], skipped = 0
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for r in 0..<batch.count {
                let view = RecordView(batch.record(r), schema)
                let v = view.double(t)
                let row = columns.map { view.double($0.field, $0.element) }
                guard v.isFinite, row.allSatisfy(\.isFinite) else { skipped += 1; continue }
                data += row; y.append(v)
            }
        }
        guard y.count >= 2 else { throw DKLError.data("\(y.count) record\(y.count == 1 ? "" : "s") with a finite target and inputs: at least 2 are needed", file: reader.name) }
        return FitData(x: Matrix(rows: y.count, cols: columns.count, data: data), y: y, names: names, skipped: skipped)
    }
}
