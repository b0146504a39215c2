/// Conversions between arrays in files and streams: a spectrum image becomes records
/// `{y, x, spectrum[E]}`, an image `{y, x, value}`; a stream field goes back onto its grid.
import DKLCore

public enum ArrayStreams {
    /// The record layout an array of `shape` is imported as (`field` overrides the value's name).
    /// With `rows`, the first axis lists records {id, value[rest of the shape]} whatever the rank.
    public static func importSchema(shape: [Int], field: String?, dtype: DType, rows: Bool = false) throws -> Schema {
        if rows {
            guard shape.count >= 2 else { throw DKLError.data("--rows needs an array of rank 2 or more, not shape \(shape)") }
            return try Schema([Field("id", .i64), Field(field ?? "value", dtype, shape: Array(shape.dropFirst()))])
        }
        switch shape.count {
        case 1: return try Schema([Field("id", .i64), Field(field ?? "value", dtype)])
        case 2: return try Schema([Field("y", .i32), Field("x", .i32), Field(field ?? "value", dtype)])
        case 3: return try Schema([Field("y", .i32), Field("x", .i32), Field(field ?? "spectrum", dtype, shape: [shape[2]])])
        case 4: return try Schema([Field("y", .i32), Field("x", .i32), Field(field ?? "pattern", dtype, shape: [shape[2], shape[3]])])
        default: throw DKLError.data("cannot import an array of shape \(shape) (rank 1 to 4: values, an image, a spectrum image or a 4D-STEM cube)")
        }
    }

    /// Header attributes for an imported array: its grid, where it came from, its attributes.
    public static func importAttributes(_ source: ArraySource) -> JSON {
        var attrs: JSON = ["source": .string(source.name)]
        if source.rank >= 2 { attrs.set("grid", JSON(Array(source.shape.prefix(2)))) }
        if case let .object(m) = source.attributes, !m.isEmpty { attrs.set("source_attrs", source.attributes) }
        return attrs
    }

    /// Streams the array's records to `writer`, one grid row at a time (bounded memory).
    public static func importRecords(_ source: ArraySource, to writer: StreamWriter, progress: Progress? = nil) throws {
        let schema = writer.schema
        var rec = RecordBuilder(schema)
        let vi = schema.fields.count - 1
        let shape = source.shape
        if schema.fields.count == 2 && shape.count >= 2 {
            // One record per row of the first axis.
            let per = shape.dropFirst().reduce(1, *)
            for i in 0..<shape[0] {
                try Interrupts.check()
                let row = try source.read(at: [i])
                rec.set(0, int: i)
                for k in 0..<per { rec.set(vi, row[k], at: k) }
                try writer.write(rec.bytes)
                progress?.update(i + 1)
            }
            return
        }
        if shape.count == 1 {
            let chunk = 65536
            var i = 0
            while i < shape[0] {
                let n = min(chunk, shape[0] - i)
                let v = try source.readBlock(start: [i], count: [n])
                for k in 0..<n {
                    rec.set(0, int: i + k)
                    rec.set(vi, v[k])
                    try writer.write(rec.bytes)
                }
                i += n
            }
            return
        }
        let per = shape.dropFirst(2).reduce(1, *)
        for y in 0..<shape[0] {
            try Interrupts.check()
            let start = [y, 0] + shape.dropFirst(2).map { _ in 0 }, count = [1, shape[1]] + shape.dropFirst(2)
            if schema.fields[vi].dtype == .f32 {
                let row = try source.readBlockFloats(start: start, count: count)
                try row.withUnsafeBufferPointer { buf in
                    for x in 0..<shape[1] {
                        rec.set(0, int: y)
                        rec.set(1, int: x)
                        rec.set(vi, floats: UnsafeBufferPointer(rebasing: buf[(x * per)..<((x + 1) * per)]))
                        try writer.write(rec.bytes)
                    }
                }
            } else {
                let row = try source.readBlock(start: start, count: count)
                for x in 0..<shape[1] {
                    rec.set(0, int: y)
                    rec.set(1, int: x)
                    rec.set(vi, Array(row[(x * per)..<((x + 1) * per)]))
                    try writer.write(rec.bytes)
                }
            }
            progress?.update(y + 1)
        }
    }

    /// Places field `field` of every record on its grid: records with `y` and `x` fill an
    /// array of shape grid + field shape (grid from the header's `grid` attribute, or the
    /// largest coordinates seen); records with `id`, or neither, fill rows in order.
    /// Several scalar fields `a,b,…` are stacked as a last axis (one channel each).
    /// Points no record names are NaN. Returns the shape and the values (row-major).
    public static func export(_ reader: StreamReader, field: String) throws -> (shape: [Int], values: [Double]) {
        let schema = reader.schema
        let names = field.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let fis = try names.map { name in
            guard let fi = schema.index(of: name) else {
                throw DKLError.usage("no field '\(name)' in \(reader.name) (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
            }
            guard schema.fields[fi].dtype != .string else { throw DKLError.usage("field '\(name)' is text; only numeric fields export to arrays") }
            if names.count > 1 && schema.fields[fi].count != 1 {
                throw DKLError.usage("field '\(name)' is an array: several fields are stacked only when each is one number")
            }
            return fi
        }
        let fi = fis[0]
        let per = names.count > 1 ? names.count : schema.fields[fi].count
        let yi = schema.index(of: "y"), xi = schema.index(of: "x"), ii = schema.index(of: "id")
        var values: [Double] = []
        var rows: [(Int, Int)] = []
        while let batch = try reader.nextBatch(maxRecords: 4096) {
            for r in 0..<batch.count {
                let view = RecordView(batch.record(r), schema)
                if let yi, let xi { rows.append((view.int(yi), view.int(xi))) } else if let ii { rows.append((view.int(ii), 0)) } else { rows.append((rows.count, 0)) }
                if names.count > 1 { for f in fis { values.append(view.double(f)) } } else { for k in 0..<per { values.append(view.double(fi, k)) } }
            }
        }
        let fieldShape = names.count > 1 ? [names.count] : schema.fields[fi].shape
        if yi != nil && xi != nil {
            var h = (rows.map(\.0).max() ?? -1) + 1, w = (rows.map(\.1).max() ?? -1) + 1
            if let g = reader.header.attr("grid")?.arrayValue, g.count == 2, let gh = g[0].intValue, let gw = g[1].intValue {
                guard gh >= h, gw >= w else {
                    throw DKLError.data("a record lies at (\(h - 1), \(w - 1)), outside the header's grid [\(gh), \(gw)]", file: reader.name)
                }
                (h, w) = (gh, gw)
            }
            guard h * w <= 1 << 31 / max(per, 1) else { throw DKLError.data("grid \(h)×\(w) is too large to export", file: reader.name) }
            var out = [Double](repeating: .nan, count: h * w * per)
            var filled = [Bool](repeating: false, count: h * w)
            for (k, (y, x)) in rows.enumerated() {
                guard y >= 0, x >= 0 else { throw DKLError.data("negative coordinates (\(y), \(x))", file: reader.name, record: k + 1) }
                let cell = y * w + x
                if filled[cell] { throw DKLError.data("a second record at (\(y), \(x))", file: reader.name, record: k + 1) }
                filled[cell] = true
                for j in 0..<per { out[cell * per + j] = values[k * per + j] }
            }
            return ([h, w] + fieldShape, out)
        }
        if ii != nil {
            let n = (rows.map(\.0).max() ?? -1) + 1
            guard n <= 1 << 31 / max(per, 1) else { throw DKLError.data("ids up to \(n - 1) are too large to export", file: reader.name) }
            var out = [Double](repeating: .nan, count: n * per)
            for (k, (id, _)) in rows.enumerated() {
                guard id >= 0 else { throw DKLError.data("negative id \(id)", file: reader.name, record: k + 1) }
                for j in 0..<per { out[id * per + j] = values[k * per + j] }
            }
            return ([n] + fieldShape, out)
        }
        return ([rows.count] + fieldShape, values)
    }
}
