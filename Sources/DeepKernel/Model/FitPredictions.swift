import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// A Bayesian fit's predictions at candidates holding its inputs (dkl-predict --model FIT):
/// records {y, x, mean, var, lo, hi, draw_mean[S], draw_var[S]}: the posterior mixture
/// over S of its draws (evenly spaced), the ends of its central 95% interval, and every
/// draw's mean and latent variance (with the noise's for `noisy`).
public struct FitPredictions {
    public let fit: BayesianFit
    public let coordinates: [(Int, Int)]
    public let inputs: Matrix
    public let draws: Int
    public let noisy: Bool
    public let schema: Schema

    public init(fit: BayesianFit, candidates reader: StreamReader, draws maxDraws: Int, noisy: Bool) throws {
        self.fit = fit; self.noisy = noisy
        (coordinates, inputs) = try FitData.candidates(reader, names: fit.model.inputNames)
        draws = min(maxDraws, fit.draws.count)
        schema = try Schema([Field("y", .i32), Field("x", .i32), Field("mean", .f64), Field("var", .f64), Field("lo", .f64), Field("hi", .f64),
                             Field("draw_mean", .f64, shape: [draws]), Field("draw_var", .f64, shape: [draws])])
    }

    public var count: Int { coordinates.count }

    public func attributes(model: String, shard: Int, shards: Int) -> JSON {
        ["model": .string(model), "fit": fit.modelJSON, "draws": .number(Double(draws)), "var": .string(noisy ? "noisy" : "latent"),
         "interval": .number(0.95), "shard": .string("\(shard + 1)/\(shards)")]
    }

    /// Predicts the candidates `chunk` at a time (chunk c when c mod `shards` = `shard`)
    /// and gives each record to `emit`; interruptible between chunks.
    public func run(chunk: Int, shard: Int, shards: Int, progress: DKLCore.Progress?, emit: ([UInt8]) throws -> Void) throws {
        var written = 0
        for start in stride(from: 0, to: count, by: chunk) where (start / chunk) % shards == shard {
            let rows = Array(start..<min(start + chunk, count))
            let p = try fit.predict(inputs.gather(rows), maxDraws: draws)
            let extra = noisy ? p.noise : 0
            var rec = RecordBuilder(schema)
            for (k, i) in rows.enumerated() {
                let means = p.perDraw.map { $0.mean[k] }, vars = p.perDraw.map { $0.variance[k] + extra }
                let sds = vars.map { $0.squareRoot() }
                rec.set(0, int: coordinates[i].0); rec.set(1, int: coordinates[i].1)
                rec.set(2, p.mean[k]); rec.set(3, p.variance[k] + extra)
                rec.set(4, BayesianFit.mixtureQuantile(means: means, sds: sds, p: 0.025)); rec.set(5, BayesianFit.mixtureQuantile(means: means, sds: sds, p: 0.975))
                rec.set(6, means); rec.set(7, vars)
                try emit(rec.bytes)
            }
            written += rows.count
            progress?.update(written)
            try Interrupts.check()
        }
        progress?.finish(written)
    }
}
