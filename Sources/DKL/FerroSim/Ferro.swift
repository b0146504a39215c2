import Foundation

/// Running many field histories on one model, in parallel, with results in input order.
public enum Ferro {
    public struct Outcome: Sendable {
        public var summary: FerroSummary
        /// Final px, py and curl maps (3·n² values), when asked for.
        public var maps: [Double]
    }

    /// Runs each (id, field) history on `model` from `initial`, on linspace(0, duration, T)
    /// plus `equilibrate` held steps. Stochastic runs draw from a generator seeded by
    /// (seed, id), so results do not depend on the thread count or the batch.
    public static func runAll(_ histories: [(Int, [(Double, Double)])], model: FerroModel, initial: Polarization,
                              duration: Double, equilibrate: Int, stochastic: Bool, seed: UInt64, keepMaps: Bool) -> [Outcome] {
        let sim = FerroSimulator(model: model)
        let out = UnsafeMutableBufferPointer<Outcome?>.allocate(capacity: histories.count)
        out.initialize(repeating: nil)
        defer { out.deallocate() }
        nonisolated(unsafe) let results = out
        let work = histories
        Parallel.forEachPart(work.count, minimumRows: 1) { _, range in
            for i in range {
                let (id, field) = work[i]
                let times0 = FieldHistory.linspace(field.count, duration: duration)
                let (f, times) = FieldHistory.equilibrate(field, times: times0, steps: equilibrate)
                var g = Xoshiro.stream(seed: seed, index: UInt64(truncatingIfNeeded: id))
                let update: FerroSimulator.Update = stochastic ? .stochastic(seed: g.next()) : .deterministic
                let r = sim.run(initial: initial, field: f, times: times, update: update)
                results[i] = Outcome(summary: FerroSummary(r, n: model.n),
                                     maps: keepMaps ? r.a.x + r.a.y + r.a.curl(n: model.n) : [])
            }
        }
        return (0..<work.count).map { results[$0]! }
    }
}
