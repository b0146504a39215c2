import Foundation
import DKLCore
import DKLData

/// A decoded point: latent coordinates and the grid cell (y, x) it is written at.
public typealias LatentPoint = (z: [Double], cell: (Int, Int))

extension VAE {
    /// The latent coordinates' names: z0, z1, … or angle, dx, dy, z0, … (rotational).
    public var latentNames: [String] {
        (config.decoder == .rotational ? ["angle", "dx", "dy"] : []) + (0..<config.latent).map { "z\($0)" }
    }
}

/// Latent points to decode, a chunk at a time: those of a stream's field, or an A×B grid
/// over the model's latent box made as they are needed.
public final class LatentPoints {
    private let nextChunk: () throws -> [LatentPoint]?

    /// The points of field `field` (`width` values) of a stream; y and x are kept when the
    /// records have them (else y = 0, x = the record's index). NaN is an error naming the record.
    public init(stream path: String, field: String, width: Int) throws {
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        guard let fi = reader.schema.index(of: field) else { throw DKLError.data("the stream has no field '\(field)'", file: reader.name, location: "header") }
        guard reader.schema.fields[fi].count == width else {
            throw DKLError.data("field '\(field)' has \(reader.schema.fields[fi].count) values; the model's latent has \(width)", file: reader.name, location: "header")
        }
        let cells = (reader.schema.index(of: "y"), reader.schema.index(of: "x"))
        var count = 0
        nextChunk = {
            guard let batch = try locating(file: reader.name, { try reader.nextBatch() }) else { return nil }
            return try (0..<batch.count).map { i in
                let r = RecordView(batch.record(i), reader.schema)
                let z = r.doubles(fi)
                count += 1
                guard z.allSatisfy(\.isFinite) else { throw DKLError.data("field '\(field)' holds NaN or infinity", file: reader.name, record: count) }
                return (z, (cells.0.map { r.int($0) } ?? 0, cells.1.map { r.int($0) } ?? count - 1))
            }
        }
    }

    /// The rows × cols grid over `model`'s latent box (`VAE.gridPoint`), row by row.
    public init(grid rows: Int, _ cols: Int, model: VAE) {
        var made = 0
        nextChunk = {
            guard made < rows * cols else { return nil }
            let chunk = (made..<min(made + 1024, rows * cols)).map { k in
                (model.gridPoint(row: k / cols, col: k % cols, rows: rows, cols: cols), (k / cols, k % cols))
            }
            made += chunk.count
            return chunk
        }
    }

    /// The next chunk, or nil after the last.
    public func next() throws -> [LatentPoint]? { try nextChunk() }
}

/// Records to their latent distributions: {id, mean[L], logvar[L]} plus the input's
/// labels (scalar fields) except those the output's own fields would shadow.
public struct VAEEncoding {
    public let model: VAE
    public let schema: Schema
    let labels: [(offset: Int, element: Field)]

    public init(model: VAE, reader: RecordReader) throws {
        guard reader.shape == model.shape else {
            throw DKLError.data("records of shape \(reader.shape), but the model was trained on \(model.shape)", file: reader.name)
        }
        self.model = model
        let l = model.latentWidth
        labels = reader.labels.enumerated().filter { !["id", "mean", "logvar"].contains($0.element.name) }.map { ($0.offset, $0.element) }
        schema = try Schema([Field("id", .i64), Field("mean", .f64, shape: [l]), Field("logvar", .f64, shape: [l])] + labels.map(\.element))
    }

    /// Encodes every record of `reader` (a chunk at a time, interruptible between chunks).
    public func run(_ reader: RecordReader, write: ([UInt8]) throws -> Void) throws {
        let l = model.latentWidth
        var rec = RecordBuilder(schema)
        let slot = schema.slots
        let (id, meanSlot, logvarSlot) = (slot["id"]!, slot["mean"]!, slot["logvar"]!)
        let labelSlots = labels.map { slot[$0.element.name]! }
        var start = 0
        while let chunk = try reader.next() {
            let n = chunk.count
            let (mean, logVariance) = model.encode(model.normalized(chunk.values, count: n), model.parameters)
            for i in 0..<n {
                rec.set(id, int: start + i)
                rec.set(meanSlot, (0..<l).map { Double(mean.data[i * l + $0]) })
                rec.set(logvarSlot, (0..<l).map { Double(logVariance.data[i * l + $0]) })
                for (label, ls) in zip(labels, labelSlots) {
                    let v = chunk.labels[label.offset].values[i]
                    if label.element.dtype.isFloat { rec.set(ls, v) } else { rec.set(ls, int: v.isFinite && abs(v) < 9e18 ? Int(v) : 0) }
                }
                try write(rec.bytes)
            }
            start += n
            try Interrupts.check()
        }
        if start == 0 { throw DKLError.data("no records", file: reader.name) }
    }
}

/// Latent points to curves or images: {id, y, x, z[L], FIELD[shape]}, FIELD the name of
/// the field the model was trained on.
public struct VAEDecoding {
    public let model: VAE
    public let schema: Schema

    public init(model: VAE) throws {
        self.model = model
        schema = try Schema([Field("id", .i64), Field("y", .i32), Field("x", .i32), Field("z", .f64, shape: [model.latentWidth]),
                             Field(model.field, .f32, shape: model.shape)])
    }

    /// Decodes every point (a chunk at a time, interruptible between chunks).
    public func run(_ points: LatentPoints, write: ([UInt8]) throws -> Void) throws {
        let l = model.latentWidth
        var rec = RecordBuilder(schema)
        let slot = schema.slots
        let (id, y, x, zSlot, out) = (slot["id"]!, slot["y"]!, slot["x"]!, slot["z"]!, slot[model.field]!)
        var start = 0
        while let chunk = try points.next() {
            let z = NetMatrix<Float>(rows: chunk.count, cols: l, data: chunk.flatMap { $0.z.map(Float.init) })
            let decoded = model.decode(z).map(Float.init)
            for (i, p) in chunk.enumerated() {
                rec.set(id, int: start + i); rec.set(y, int: p.cell.0); rec.set(x, int: p.cell.1)
                rec.set(zSlot, p.z)
                decoded[(i * model.inputWidth)..<((i + 1) * model.inputWidth)].withUnsafeBufferPointer { rec.set(out, floats: $0) }
                try write(rec.bytes)
            }
            start += chunk.count
            try Interrupts.check()
        }
    }
}
