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

extension FitData {
    /// Candidates for a fit: each record's position (y, x; or 0, id; or 0, its index) and its
    /// inputs, the fields `names` (the fit's inputs, in order) or one array field `inputs`
    /// of as many values. A candidate whose inputs are not finite is an error naming it.
    public static func candidates(_ reader: StreamReader, names: [String]) throws -> (coordinates: [(Int, Int)], x: Matrix) {
        let schema = reader.schema
        var columns: [(field: Int, element: Int)] = []
        if names.allSatisfy({ schema.index(of: $0).map { schema.fields[$0].count == 1 && schema.fields[$0].dtype != .string } ?? false }) {
            columns = names.map { (schema.index(of: $0)!, 0) }
        } else if let i = schema.index(of: "inputs"), schema.fields[i].count == names.count, schema.fields[i].dtype != .string {
            columns = (0..<names.count).map { (i, $0) }
        } else {
            throw DKLError.data("the candidates need the fit's inputs: fields \(names.joined(separator: ", ")) (or an array field 'inputs' of \(names.count))",
                                file: reader.name, location: "header")
        }
        let (iy, ix, ii) = (schema.index(of: "y"), schema.index(of: "x"), schema.index(of: "id"))
        var coords: [(Int, Int)] = [], data: [Double] = []
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for r in 0..<batch.count {
                let view = RecordView(batch.record(r), schema)
                let row = columns.map { view.double($0.field, $0.element) }
                guard row.allSatisfy(\.isFinite) else { throw DKLError.data("a candidate's inputs are not finite", file: reader.name, record: coords.count + 1) }
                if let iy, let ix { coords.append((view.int(iy), view.int(ix))) } else { coords.append((0, ii.map { view.int($0) } ?? coords.count)) }
                data += row
            }
        }
        return (coords, Matrix(rows: coords.count, cols: names.count, data: data))
    }
}
