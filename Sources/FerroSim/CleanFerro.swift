import Foundation
import DKLCore
import DKLData

/// The lecture's FerroSIM as a plain gradient flow, dp/dt = −γ·∂F/∂p, with one polarization
/// array (none of the original's integration quirks) and the free energy
///
///     F = Σ_s [ α1(px² + py²) + α2(px⁴ + py⁴) + α3·px²py² − (E + D_s)·p_s ]
///         + K·Σ_⟨s,s′⟩ |p_s − p_s′|²  +  (dep_alpha / 2N)·|Σ_s p_s|²
///
/// (nearest-neighbour pairs counted once with K the mean of the two sites' k, open
/// boundaries; the last term, with dep_alpha the mean over sites, gives the depolarization
/// field −dep_alpha·⟨p⟩). Uniaxial mode keeps px = 0; squareelectric and
/// uniaxial have no α3 term. Explicit Euler, all sites at once or a seeded quarter per step.
public struct CleanFerro {
    public let model: FerroModel
    public init(model: FerroModel) { self.model = model }

    /// F of a state under the field E (in units of Ec).
    public func freeEnergy(_ p: Polarization, field e: (Double, Double)) -> Double {
        let n = model.n, N = model.sites, ec = model.coerciveField
        let (a1, a2, a3) = model.alpha
        let useA3 = model.mode == .tetragonal || model.mode == .rhombohedral
        var f = 0.0
        for s in 0..<N {
            let (x, y) = (p.x[s], p.y[s])
            f += a1 * (x * x + y * y) + a2 * (x * x * x * x + y * y * y * y) + (useA3 ? a3 * x * x * y * y : 0)
            f -= (e.0 + model.defects[s].0) * ec * x + (e.1 + model.defects[s].1) * ec * y
        }
        for i in 0..<n {
            for j in 0..<n {
                let s = i * n + j
                for (di, dj) in model.neighbourOffsets where di * n + dj > 0 {
                    let (ii, jj) = (i + di, j + dj)
                    guard ii >= 0 && ii < n && jj >= 0 && jj < n else { continue }
                    let t = ii * n + jj
                    let kp = 0.5 * (model.k[s] + model.k[t])
                    f += kp * ((p.x[s] - p.x[t]) * (p.x[s] - p.x[t]) + (p.y[s] - p.y[t]) * (p.y[s] - p.y[t]))
                }
            }
        }
        let (sx, sy) = (p.x.reduce(0, +), p.y.reduce(0, +))
        return f + meanDep / (2 * Double(N)) * (sx * sx + sy * sy)
    }

    /// The depolarization strength of the energy (the mean of the per-site values).
    var meanDep: Double { model.depAlpha.reduce(0, +) / Double(model.sites) }

    /// The coupling of the pair (s, t): the mean of the two sites' k.
    @inline(__always) func pairK(_ s: Int, _ t: Int) -> Double { 0.5 * (model.k[s] + model.k[t]) }


    /// ∂F/∂p at every site.
    public func gradient(_ p: Polarization, field e: (Double, Double)) -> Polarization {
        let n = model.n, N = model.sites, ec = model.coerciveField
        let (a1, a2, a3) = model.alpha
        let useA3 = model.mode == .tetragonal || model.mode == .rhombohedral
        let (mx, my) = (p.x.reduce(0, +) / Double(N), p.y.reduce(0, +) / Double(N))
        var g = Polarization(sites: N, value: (0, 0))
        for i in 0..<n {
            for j in 0..<n {
                let s = i * n + j
                let (x, y) = (p.x[s], p.y[s])
                var cx = 0.0, cy = 0.0
                for (di, dj) in model.neighbourOffsets {
                    let (ii, jj) = (i + di, j + dj)
                    guard ii >= 0 && ii < n && jj >= 0 && jj < n else { continue }
                    let t = ii * n + jj
                    cx += 2 * pairK(s, t) * (x - p.x[t]); cy += 2 * pairK(s, t) * (y - p.y[t])
                }
                g.x[s] = 2 * a1 * x + 4 * a2 * x * x * x + (useA3 ? 2 * a3 * y * y * x : 0) + cx
                    - (e.0 + model.defects[s].0) * ec + meanDep * mx
                g.y[s] = 2 * a1 * y + 4 * a2 * y * y * y + (useA3 ? 2 * a3 * x * x * y : 0) + cy
                    - (e.1 + model.defects[s].1) * ec + meanDep * my
                if model.mode == .uniaxial { g.x[s] = 0 }
            }
        }
        return g
    }

    /// Integrates from `initial` over `times` under `field`; returns the final state, the
    /// free energy after every step and whether the run diverged.
    public func run(initial: Polarization, field: [(Double, Double)], times: [Double], stochastic seed: UInt64? = nil)
        -> (state: Polarization, energy: [Double], diverged: Bool) {
        var p = initial
        if model.mode == .uniaxial { p.x = p.x.map { _ in 0 } }
        var energy = [freeEnergy(p, field: field[0])]
        var rng = seed.map { Xoshiro(seed: $0) }
        var order = Array(0..<model.sites)
        var diverged = false
        for t in 1..<times.count {
            let dt = times[t] - times[t - 1]
            let g = gradient(p, field: field[t])
            var move = [Bool](repeating: rng == nil, count: model.sites)
            if rng != nil {
                for i in 0..<(model.sites / 4) {
                    let j = i + Int(rng!.next() % UInt64(model.sites - i))
                    order.swapAt(i, j)
                    move[order[i]] = true
                }
            }
            for s in 0..<model.sites where move[s] {
                p.x[s] -= model.gamma * dt * g.x[s]
                p.y[s] -= model.gamma * dt * g.y[s]
            }
            energy.append(freeEnergy(p, field: field[t]))
            if !energy.last!.isFinite || p.x.contains(where: { !(abs($0) < 1e3) }) || p.y.contains(where: { !(abs($0) < 1e3) }) {
                diverged = true
                break
            }
        }
        return (p, energy, diverged)
    }
}
