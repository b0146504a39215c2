import Foundation
import DKLCore
import DKLData

/// An active experiment's trace: an append-only NDJSON stream (a `Checkpoint`), one record
/// per measurement, synced before the next measurement. Fields are set and read by name;
/// the schema places them once:
///
/// | field | what |
/// |---|---|
/// | step, y, x | the step (0: initial points) and the pixel |
/// | spectrum | the measurement (its shape is the oracle's) |
/// | value | the value learnt from it (NaN: none) |
/// | mean, var, acquisition | the prediction and the score that chose it (NaN at step 0) |
/// | noise, outputscale, lengthscale, loss | the step model's first member (NaN at step 0) |
/// | seconds_train, seconds_predict, seconds_acquire, seconds_measure | the step's phases |
public final class ExperimentTrace {
    public struct Entry {
        public var step: Int, y: Int, x: Int
        public var spectrum: [Double]
        public var value: Double
        public var mean: Double, variance: Double, acquisition: Double
        public var noise: Double, outputscale: Double
        /// nil: NaN in every slot.
        public var lengthscales: [Double]?
        public var loss: Double
        /// train, predict, acquire, measure.
        public var seconds: [Double]
    }

    public let path: String
    public let schema: Schema
    /// The points already in the trace: (step, y, x, value), in order.
    public let points: [(step: Int, y: Int, x: Int, value: Double)]
    let log: Checkpoint
    let slot: [String: Int]
    let itemCount: Int
    let gpWidth: Int

    static let names = ["step", "y", "x", "spectrum", "value", "mean", "var", "acquisition", "noise", "outputscale", "lengthscale", "loss",
                        "seconds_train", "seconds_predict", "seconds_acquire", "seconds_measure"]

    /// The schema for measurements of `itemShape` and a GP of input width `gpWidth`.
    static func schema(itemShape: [Int], gpWidth: Int) throws -> Schema {
        try Schema(names.map { name in
            switch name {
            case "step", "y", "x": return Field(name, .i32)
            case "spectrum": return Field(name, .f64, shape: itemShape)
            case "lengthscale": return Field(name, .f64, shape: [gpWidth])
            default: return Field(name, .f64)
            }
        })
    }

    /// Creates the trace, or opens it to continue (its schema and signature must match).
    public init(path: String, itemShape: [Int], gpWidth: Int, attributes: JSON, signature: String,
                header: (StreamHeader) -> StreamHeader = { $0 }) throws {
        self.path = path
        schema = try ExperimentTrace.schema(itemShape: itemShape, gpWidth: gpWidth)
        slot = schema.slots
        (itemCount, self.gpWidth) = (itemShape.reduce(1, *), gpWidth)
        let log = try Checkpoint(path: path, header: header(StreamHeader(schema: schema, attrs: attributes)), signature: signature)
        let (s, y, x, v, schema) = (slot["step"]!, slot["y"]!, slot["x"]!, slot["value"]!, schema)
        points = log.records.map { r in r.withUnsafeBytes { b in
            let view = RecordView(b, schema)
            return (view.int(s), view.int(y), view.int(x), view.double(v))
        } }
        self.log = log
    }

    /// Appends one measurement and syncs it to disk.
    public func append(_ e: Entry) throws {
        guard e.spectrum.count == itemCount else {
            throw DKLError.data("a measurement of \(e.spectrum.count) values; the trace's hold \(itemCount)", file: path)
        }
        var r = RecordBuilder(schema)
        r.set(slot["step"]!, int: e.step); r.set(slot["y"]!, int: e.y); r.set(slot["x"]!, int: e.x)
        r.set(slot["spectrum"]!, e.spectrum)
        for (name, v) in [("value", e.value), ("mean", e.mean), ("var", e.variance), ("acquisition", e.acquisition), ("noise", e.noise),
                          ("outputscale", e.outputscale), ("loss", e.loss), ("seconds_train", e.seconds[0]), ("seconds_predict", e.seconds[1]),
                          ("seconds_acquire", e.seconds[2]), ("seconds_measure", e.seconds[3])] {
            r.set(slot[name]!, v)
        }
        r.set(slot["lengthscale"]!, e.lengthscales ?? [Double](repeating: .nan, count: gpWidth))
        try log.append([r.bytes])
    }
}
