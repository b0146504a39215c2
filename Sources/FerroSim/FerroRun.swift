import Foundation
import DKLCore
import DKLData

/// A ferrosim run: many field histories (or one history over a grid of parameters) on one
/// model, a record per history, run in batches that are checkpointed, so that an
/// interrupted run continues where it stopped with nothing run twice.
///
/// Records are {id, [y, x,] PARAMETER…, px, py, p_abs, sum_abs_curl, curl_over_p, diverged}:
/// y, x when the histories have grid positions (a latent grid's, or a two-axis sweep's),
/// one field per swept parameter.
public struct FerroRun {
    public var model: FerroModel
    public var initial: Polarization
    /// (id, history) pairs; with a sweep, the ids are the grid's points.
    public var histories: [(Int, FieldPairs)]
    /// Each id's grid position, kept in its record.
    public var positions: [Int: (Int, Int)]?
    public var sweep = ParameterSweep(axes: [])
    public var duration = 1.0
    public var equilibrate = 0
    public var stochastic = false
    public var seed: UInt64 = 0
    /// The lecture's gradient flow instead of the original's integration.
    public var clean = false
    /// The sites to update at each step, replayed from the original.
    public var replay: [[Int]]?
    /// Histories run between checkpoints and outputs.
    public var batchSize = 256

    public init(model: FerroModel, initial: Polarization, histories: [(Int, FieldPairs)], positions: [Int: (Int, Int)]? = nil) {
        self.model = model; self.initial = initial; self.histories = histories; self.positions = positions
    }

    /// One history at every point of `sweep` (the shard's points only) instead of the histories.
    public mutating func sweep(_ sweep: ParameterSweep, field: FieldPairs, shard: (index: Int, count: Int) = (0, 1)) {
        self.sweep = sweep
        histories = stride(from: shard.index, to: sweep.count, by: shard.count).map { ($0, field) }
        positions = sweep.axes.count == 2
            ? Dictionary(uniqueKeysWithValues: histories.map { h in let i = sweep.indices(h.0); return (h.0, (i[0], i[1])) }) : nil
    }

    public static let summaryFields = ["px", "py", "p_abs", "sum_abs_curl", "curl_over_p", "diverged"]

    /// The records' schema.
    public func schema() throws -> Schema {
        var fields: [Field] = [Field("id", .i64)]
        if positions != nil { fields += [Field("y", .i32), Field("x", .i32)] }
        fields += sweep.axes.map { Field($0.field, .f64) }
        fields += FerroRun.summaryFields.map { Field($0, $0 == "diverged" ? .u8 : .f64) }
        return try Schema(fields)
    }

    /// The stream's attributes: the model, the update rule and the sweep.
    public var attributes: JSON {
        var attrs: JSON = ["lattice": JSON([model.n, model.n]), "mode": .string(model.mode.rawValue), "gamma": .number(model.gamma),
                           "r": .number(model.neighbourRadius),
                           "landau": JSON.array([model.alpha.0, model.alpha.1, model.alpha.2].map { .number($0) }),
                           "ec": .number(model.coerciveField), "update": .string(stochastic ? "stochastic" : replay != nil ? "replayed" : "deterministic"),
                           "equilibrate": .number(Double(equilibrate)), "model": .string(clean ? "clean" : "compat")]
        if !sweep.axes.isEmpty {
            attrs.set("sweep", .object(sweep.axes.map { ($0.name, JSON.array($0.values.map { .number($0) })) }))
            if sweep.axes.count == 2 { attrs.set("grid", JSON(sweep.axes.map { $0.values.count })) }
            attrs.set("items", .number(Double(sweep.count)))
        }
        return attrs
    }

    /// Runs every history not yet in `checkpoint`, a batch at a time: each batch's records
    /// are logged to the checkpoint and its arrays appended to `arrays`, then every record of
    /// the batch (run now or before) goes to `emit`, in the histories' order. Stops with
    /// `.interrupted` after a batch once ^C has been pressed, when there is a checkpoint to
    /// continue from. Returns how many histories diverged.
    public func run(checkpoint: Checkpoint?, arrays: FerroOutput, progress: DKLCore.Progress?, note: (String) -> Void = { _ in },
                    emit: ([UInt8]) throws -> Void) throws -> Int {
        let schema = try schema()
        let slot = schema.slots
        var finished: [Int: [UInt8]] = [:]
        if let checkpoint {
            for r in checkpoint.records { r.withUnsafeBytes { finished[RecordView($0, schema).int(slot["id"]!)] = r } }
            if !finished.isEmpty { note("resuming: \(finished.count) of \(histories.count) histories are in \(checkpoint.path)") }
        }
        var (diverged, done) = (0, 0)
        while done < histories.count {
            let batch = histories[done..<min(done + batchSize, histories.count)]
            let todo = batch.filter { finished[$0.0] == nil }
            let results = FerroBatch.runAll(todo, model: model, initial: initial, duration: duration, equilibrate: equilibrate,
                                       stochastic: stochastic, seed: seed, keepMaps: arrays.keepsMaps,
                                       clean: clean, keepSeries: arrays.keepsSeries, replay: replay,
                                       models: sweep.axes.isEmpty ? nil : todo.map { sweep.model($0.0, from: model) })
            var fresh: [[UInt8]] = []
            for (k, r) in results.enumerated() {
                let id = todo[k].0
                var rec = RecordBuilder(schema)
                rec.set(slot["id"]!, int: id)
                if let (y, x) = positions?[id] { rec.set(slot["y"]!, int: y); rec.set(slot["x"]!, int: x) }
                for (axis, v) in zip(sweep.axes, sweep.axes.isEmpty ? [] : sweep.point(id)) { rec.set(slot[axis.field]!, v) }
                let s = r.summary
                for (name, v) in zip(FerroRun.summaryFields, [s.meanP.0, s.meanP.1, s.magnitude, s.sumAbsCurl, s.curlOverP, s.diverged ? 1 : 0]) {
                    rec.set(slot[name]!, v)
                }
                fresh.append(rec.bytes)
                finished[id] = rec.bytes
            }
            try checkpoint?.append(fresh)
            try arrays.append(ids: todo.map(\.0), results)
            for h in batch {
                let rec = finished[h.0]!
                if rec.withUnsafeBytes({ RecordView($0, schema).int(slot["diverged"]!) }) == 1 { diverged += 1 }
                try emit(rec)
            }
            done += batch.count
            progress?.update(done)
            if Interrupts.signalNumber != 0, let c = checkpoint {
                throw DKLError(.interrupted, "interrupted: \(finished.count) of \(histories.count) histories are in \(c.path); run the same command to resume")
            }
        }
        progress?.finish(done)
        return diverged
    }
}
