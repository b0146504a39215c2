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
/// | spectrum | the measurement (its shape is the oracle's), unless a measurement log holds it |
/// | value | the value learnt from it (NaN: none) |
/// | mean, var, acquisition | the prediction and the score that chose it (NaN at step 0) |
/// | noise, outputscale, lengthscale, loss | the step model's first member (NaN at step 0) |
/// | seconds_train, seconds_predict, seconds_acquire, seconds_measure | the step's phases |
/// | measured_y, measured_x | where the instrument says it measured (y, x when it does not say) |
/// | time | when the measurement ended (seconds since 1970) |
/// | meta | the instrument's metadata, JSON text (`{}` from a file; `{"dropped":N}` past 1 KiB) |
/// | weights | with several candidate means: each model's weight at the step (NaN at step 0) |
/// | value_var | with the detector's counting noise: the value's variance from the measurement's own counts |
/// | beam_seconds, beam_clock, dose_peak | with a cost model: the measurement's beam time (dwell, travel, settling), the beam time spent so far, the most dose any pixel has taken |
///
/// A stop rule that ends the run appends a record of step −1 at (−1, −1) whose `meta` names
/// the rule (`{"stop":"time budget","at_step":12,...}`); readers of points skip it.
/// Measurements of many values (diffraction patterns) go to a `BinaryLog` beside the trace
/// (`measurements`): records step, y, x and the measurement as float32, a record written
/// before the trace's line of the same point.
public final class ExperimentTrace {
    public struct Entry {
        public var step: Int, y: Int, x: Int
        public var measurement: Reading
        public var value: Double
        public var mean: Double, variance: Double, acquisition: Double
        public var noise: Double, outputscale: Double
        /// nil: NaN in every slot.
        public var lengthscales: [Double]?
        public var loss: Double
        /// train, predict, acquire, measure.
        public var seconds: [Double]
        /// With several candidate means: their weights at this step.
        public var weights: [Double]? = nil
        /// With a cost model: this measurement's beam seconds, the clock after it, the peak dose.
        public var beam: (seconds: Double, clock: Double, peakDose: Double)? = nil
        /// With the counting noise: the value's variance.
        public var valueVariance: Double? = nil
    }

    public let path: String
    public let schema: Schema
    /// The points already in the trace: (step, y, x, value) and the position measured, in order.
    public let points: [(step: Int, y: Int, x: Int, value: Double, measured: (y: Double, x: Double), variance: Double,
                         predicted: (mean: Double, variance: Double))]
    /// The stop rules that ended runs of this trace: the step each fired at and its record's meta.
    public private(set) var stops: [(step: Int, meta: JSON)]
    /// The measurement log, when measurements are kept beside the trace.
    public let measurements: BinaryLog?
    let log: Checkpoint
    let slot: [String: Int]
    let itemCount: Int
    let gpWidth: Int
    let hypotheses: Int
    let beam: Bool
    let valueVariance: Bool

    static let names = ["step", "y", "x", "spectrum", "value", "mean", "var", "acquisition", "noise", "outputscale", "lengthscale", "loss",
                        "seconds_train", "seconds_predict", "seconds_acquire", "seconds_measure", "measured_y", "measured_x", "time", "meta"]
    /// The bytes of the `meta` field.
    public static let metaWidth = 1024

    /// The schema for measurements of `itemShape` (none: they are logged beside it) and a GP
    /// of input width `gpWidth`.
    static func schema(itemShape: [Int]?, gpWidth: Int, hypotheses: Int = 1, beam: Bool = false, valueVariance: Bool = false) throws -> Schema {
        try Schema((names + (hypotheses > 1 ? ["weights"] : []) + (beam ? ["beam_seconds", "beam_clock", "dose_peak"] : [])
                    + (valueVariance ? ["value_var"] : [])).compactMap { name in
            switch name {
            case "step", "y", "x": return Field(name, .i32)
            case "spectrum": return itemShape.map { Field(name, .f64, shape: $0) }
            case "lengthscale": return Field(name, .f64, shape: [gpWidth])
            case "meta": return Field(name, .string, width: metaWidth)
            case "weights": return Field(name, .f64, shape: [hypotheses])
            default: return Field(name, .f64)
            }
        })
    }

    /// The schema of a measurement log: step, y, x and the measurement as float32.
    static func logSchema(itemShape: [Int]) throws -> Schema {
        try Schema([Field("step", .i32), Field("y", .i32), Field("x", .i32), Field("spectrum", .f32, shape: itemShape)])
    }

    /// Creates the trace, or opens it to continue (its schema and signature must match).
    /// With `measurementsPath`, measurements are kept there as float32 rather than in the trace.
    /// `calibration`: the measurements' axes, for the log's header.
    public init(path: String, itemShape: [Int], gpWidth: Int, attributes: JSON, signature: String, measurementsPath: String? = nil,
                calibration: JSON = .object([]), hypotheses: Int = 1, beam: Bool = false, valueVariance: Bool = false,
                header: (StreamHeader) -> StreamHeader = { $0 }) throws {
        self.path = path
        schema = try ExperimentTrace.schema(itemShape: measurementsPath == nil ? itemShape : nil, gpWidth: gpWidth, hypotheses: hypotheses, beam: beam,
                                            valueVariance: valueVariance)
        self.hypotheses = hypotheses
        self.beam = beam
        self.valueVariance = valueVariance
        slot = schema.slots
        (itemCount, self.gpWidth) = (itemShape.reduce(1, *), gpWidth)
        var attrs = attributes
        if let m = measurementsPath { attrs.set("measurements", .string(m)) }
        let log = try Checkpoint(path: path, header: header(StreamHeader(schema: schema, attrs: attrs)), signature: signature)
        let (s, y, x, v, my, mx, meta, schema) = (slot["step"]!, slot["y"]!, slot["x"]!, slot["value"]!, slot["measured_y"]!, slot["measured_x"]!,
                                                  slot["meta"]!, schema)
        var points: [(step: Int, y: Int, x: Int, value: Double, measured: (y: Double, x: Double), variance: Double,
                      predicted: (mean: Double, variance: Double))] = [], stops: [(step: Int, meta: JSON)] = []
        let (vv, pm, pv) = (slot["value_var"], slot["mean"]!, slot["var"]!)
        for r in log.records {
            r.withUnsafeBytes { b in
                let view = RecordView(b, schema)
                if view.int(s) < 0 {
                    let m = (try? JSONParser.parse(view.string(meta))) ?? .object([])
                    stops.append((m["at_step"]?.intValue ?? 0, m))
                } else {
                    points.append((view.int(s), view.int(y), view.int(x), view.double(v), (view.double(my), view.double(mx)), vv.map { view.double($0) } ?? .nan,
                                   (view.double(pm), view.double(pv))))
                }
            }
        }
        (self.points, self.stops) = (points, stops)
        self.log = log
        if let m = measurementsPath {
            var logAttrs = attributes
            if case let .object(members) = calibration { for (k, v) in members { logAttrs.set(k, v) } }
            logAttrs.set("trace", .string(path))
            measurements = try BinaryLog(path: m, header: header(StreamHeader(schema: try ExperimentTrace.logSchema(itemShape: itemShape), attrs: logAttrs)),
                                         signature: signature, keep: points.count)
        } else {
            measurements = nil
        }
    }

    /// Where measurements of `itemShape` are kept for --measurements `option` (a path, or
    /// `inline`): nil in the trace; by default a log for diffraction patterns, inline otherwise.
    public static func measurementsPath(option: String?, trace: String, itemShape: [Int]) -> String? {
        if option == "inline" { return nil }
        return option ?? (itemShape.count == 2 ? defaultMeasurementsPath(trace) : nil)
    }

    /// The measurement log's default path: TRACE's name without its extension, with .patterns.dkl.
    public static func defaultMeasurementsPath(_ trace: String) -> String {
        let name = (trace as NSString).lastPathComponent
        let base = name.contains(".") && !name.hasPrefix(".") ? String(name[..<name.lastIndex(of: ".")!]) : name
        return ((trace as NSString).deletingLastPathComponent as NSString).appendingPathComponent(base + ".patterns.dkl")
    }

    /// Whether measurements are stored as float32 (in the log): the value is then learnt
    /// from the stored numbers, so that re-scalarizing the log gives it to the bit.
    public var storesFloat32: Bool { measurements != nil }

    /// The metadata's text for the `meta` field: the JSON object, or how many bytes were dropped.
    static func metaText(_ meta: JSON) -> String {
        let text = meta.text
        return text.utf8.count <= metaWidth ? text : #"{"dropped":\#(text.utf8.count)}"#
    }

    /// Appends one measurement and syncs it to disk.
    public func append(_ e: Entry) throws {
        let values = e.measurement.values
        guard values.count == itemCount else {
            throw DKLError.data("a measurement of \(values.count) values; the trace's hold \(itemCount)", file: path)
        }
        if let measurements {
            var m = RecordBuilder(measurements.schema)
            m.set(0, int: e.step); m.set(1, int: e.y); m.set(2, int: e.x)
            m.set(3, values)
            try measurements.append(m.bytes)
        }
        var r = RecordBuilder(schema)
        r.set(slot["step"]!, int: e.step); r.set(slot["y"]!, int: e.y); r.set(slot["x"]!, int: e.x)
        if let s = slot["spectrum"] { r.set(s, values) }
        let position = e.measurement.position ?? (Double(e.y), Double(e.x))
        r.set(slot["measured_y"]!, position.y); r.set(slot["measured_x"]!, position.x)
        r.set(slot["time"]!, Date().timeIntervalSince1970)
        r.set(slot["meta"]!, string: ExperimentTrace.metaText(e.measurement.meta))
        if let w = slot["weights"] { r.set(w, e.weights ?? [Double](repeating: .nan, count: hypotheses)) }
        for (name, v) in [("value", e.value), ("mean", e.mean), ("var", e.variance), ("acquisition", e.acquisition), ("noise", e.noise),
                          ("outputscale", e.outputscale), ("loss", e.loss), ("seconds_train", e.seconds[0]), ("seconds_predict", e.seconds[1]),
                          ("seconds_acquire", e.seconds[2]), ("seconds_measure", e.seconds[3])] {
            r.set(slot[name]!, v)
        }
        r.set(slot["lengthscale"]!, e.lengthscales ?? [Double](repeating: .nan, count: gpWidth))
        if valueVariance { r.set(slot["value_var"]!, e.valueVariance ?? .nan) }
        if beam {
            let b = e.beam ?? (.nan, .nan, .nan)
            r.set(slot["beam_seconds"]!, b.seconds); r.set(slot["beam_clock"]!, b.clock); r.set(slot["dose_peak"]!, b.peakDose)
        }
        try log.append([r.bytes])
    }

    /// Appends the record of a stop rule that fired before step `step` measured anything:
    /// step −1 at (−1, −1), every number NaN, `meta` naming the rule with `details`.
    public func appendStop(step: Int, rule: String, details: [(String, JSON)] = []) throws {
        var r = RecordBuilder(schema)
        r.set(slot["step"]!, int: -1); r.set(slot["y"]!, int: -1); r.set(slot["x"]!, int: -1)
        for (k, f) in schema.fields.enumerated() where f.dtype == .f64 { r.set(k, [Double](repeating: .nan, count: f.count)) }
        r.set(slot["time"]!, Date().timeIntervalSince1970)
        let meta = JSON.object([("stop", .string(rule)), ("at_step", .number(Double(step)))] + details)
        r.set(slot["meta"]!, string: ExperimentTrace.metaText(meta))
        try log.append([r.bytes])
        stops.append((step, meta))
    }
}
