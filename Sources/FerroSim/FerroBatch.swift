import Foundation
import DKLCore
import DKLData

/// Running many field histories on one model, in parallel, with results in input order.
public enum FerroBatch {
    public struct Outcome: Sendable {
        public var summary: FerroSummary
        /// Final px, py and curl maps (3·n² values), when asked for.
        public var maps: [Double]
        /// Per time step: mean px, mean py, Σ|curl| (3·T values), when asked for (original model).
        public var series: [Double]
    }

    /// Runs each (id, field) history on `model` (or on `models[i]`, one per history, for a
    /// parameter sweep) from `initial`, on linspace(0, duration, T) plus `equilibrate`
    /// held steps. Stochastic runs draw from a generator seeded by
    /// (seed, id), so results do not depend on the thread count or the batch.
    public static func runAll(_ histories: [(Int, [(Double, Double)])], model: FerroModel, initial: Polarization,
                              duration: Double, equilibrate: Int, stochastic: Bool, seed: UInt64, keepMaps: Bool,
                              clean: Bool = false, keepSeries: Bool = false, replay: [[Int]]? = nil,
                              models: [FerroModel]? = nil) -> [Outcome] {
        precondition(models == nil || models!.count == histories.count)
        let shared = FerroSimulator(model: model)
        let results = Slots<Outcome>(histories.count)
        let work = histories
        // Histories are independent: every thread takes the next one.
        Parallel.forEachItem(work.count) { i in
            let (id, field) = work[i]
            let model = models?[i] ?? model
            let sim = models == nil ? shared : FerroSimulator(model: model)
            let times0 = FieldHistory.linspace(field.count, duration: duration)
            let (f, times) = FieldHistory.equilibrate(field, times: times0, steps: equilibrate)
            var g = Xoshiro.stream(seed: seed, index: UInt64(truncatingIfNeeded: id))
            let update: FerroSimulator.Update = replay.map { .replay($0) } ?? (stochastic ? .stochastic(seed: g.next()) : .deterministic)
            if clean {
                let r = CleanFerro(model: model).run(initial: initial, field: f, times: times, stochastic: stochastic ? g.next() : nil)
                results[i] = Outcome(summary: FerroSummary(state: r.state, n: model.n, diverged: r.diverged),
                                     maps: keepMaps ? r.state.x + r.state.y + r.state.curl(n: model.n) : [], series: [])
                return
            }
            let r = sim.run(initial: initial, field: f, times: times, update: update, keepHistory: keepSeries)
            // Per step: mean px, mean py and Σ|curl| of the stored state A.
            let series = (r.history ?? []).flatMap { a -> [Double] in
                let m = a.mean
                return [m.0, m.1, a.curl(n: model.n).map(abs).reduce(0, +)]
            }
            results[i] = Outcome(summary: FerroSummary(r, n: model.n),
                                 maps: keepMaps ? r.a.x + r.a.y + r.a.curl(n: model.n) : [], series: series)
        }
        return results.values()!
    }
}
