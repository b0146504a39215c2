import Foundation
import DKLCore
import DKLData

/// FerroSim's explicit Euler integration, reproduced exactly (see the golden reference's
/// specification): a Jacobi sweep per step; the force at a site uses its own clipped P from
/// the integration array Pn, the neighbour sum (divided by 4 whatever the count, open
/// boundaries) from the stored array A, the field and the lattice total of Pn; the optional
/// stochastic update moves a quarter of the sites per step; γ enters twice, as in the original.
public struct FerroSimulator: Sendable {
    public struct Result: Sendable {
        /// Pn and A (FerroSim's `getPmat()`) and the derivative D at the last step.
        public var pn: Polarization
        public var a: Polarization
        public var d: Polarization
        /// Σ over sites of Pn and of D at every step (FerroSim's 'Polarization' and 'dPolarization').
        public var totalP: [(Double, Double)]
        public var totalD: [(Double, Double)]
        /// A at every step, when asked for.
        public var history: [Polarization]?
        /// Whether the run left the stable regime (|P| reached the clip or became non-finite).
        public var diverged: Bool
    }

    /// How the sites to update at step t ≥ 2 are chosen.
    public enum Update: Sendable {
        case deterministic
        /// A quarter of the sites per step, drawn with the toolkit's generator.
        case stochastic(seed: UInt64)
        /// Replays given site lists (row t−2 for step t), as the original drew them.
        case replay([[Int]])
    }

    public let model: FerroModel

    public init(model: FerroModel) { self.model = model }

    /// Runs the model from `initial` under the field history `field` (one (Ex, Ey) per time,
    /// in units of Ec) on the time points `times`.
    public func run(initial: Polarization, field: [(Double, Double)], times: [Double], update: Update = .deterministic,
                    keepHistory: Bool = false) -> Result {
        let n = model.n, N = model.sites, T = times.count
        precondition(field.count == T && initial.x.count == N)
        let ec = model.coerciveField
        let (a1, a2, a3) = model.alpha
        let g = model.gamma
        let mode = model.mode
        let dx0 = model.defects.map { $0.0 * ec }, dy0 = model.defects.map { $0.1 * ec }
        let k = model.k, dep = model.depAlpha
        var pnx = initial.x, pny = initial.y
        var ax = pnx, ay = pny
        var dx = [Double](repeating: 0, count: N), dy = dx
        var nextPx = pnx, nextPy = pny, nextAx = ax, nextAy = ay
        var totalP = [(pnx.reduce(0, +), pny.reduce(0, +))]
        var totalD = [(0.0, 0.0)]
        var history: [Polarization]? = keepHistory ? [Polarization(x: ax, y: ay)] : nil
        var diverged = false
        var rng: Xoshiro?
        var selected = [Bool](repeating: true, count: N)
        if case let .stochastic(seed) = update { rng = Xoshiro(seed: seed) }
        var order = Array(0..<N)
        guard T >= 2 else {
            return Result(pn: initial, a: initial, d: Polarization(sites: N, value: (0, 0)), totalP: totalP, totalD: totalD,
                          history: history, diverged: false)
        }
        let nf = Double(N)
        let offsets = model.neighbourOffsets
        let nearestOnly = offsets.count == 4 && offsets.allSatisfy { abs($0.0) + abs($0.1) == 1 }
        let coupled = mode == .tetragonal || mode == .rhombohedral
        // A inside a border of zeros (row length n + 2), for the branch-free sweep.
        let w = n + 2
        var padX = [Double](repeating: 0, count: w * w), padY = padX
        for t in 1..<T {
            let dt = times[t] - times[t - 1]
            let (ex, ey) = (field[t].0 * ec, field[t].1 * ec)
            let mx = pairwiseSum(pnx), my = pairwiseSum(pny)
            // Which sites move at this step.
            var all = true
            if t >= 2 {
                switch update {
                case .deterministic: break
                case .stochastic:
                    all = false
                    for s in 0..<N { selected[s] = false }
                    for i in 0..<(N / 4) { let j = i + Int(rng!.next() % UInt64(N - i)); order.swapAt(i, j); selected[order[i]] = true }
                case let .replay(rows):
                    // Steps beyond the replayed rows (e.g. equilibration) update every site.
                    guard t - 2 < rows.count else { break }
                    all = false
                    for s in 0..<N { selected[s] = false }
                    for s in rows[t - 2] { selected[s] = true }
                }
            }
            pnx.withUnsafeBufferPointer { pxp in pny.withUnsafeBufferPointer { pyp in
            ax.withUnsafeBufferPointer { axp in ay.withUnsafeBufferPointer { ayp in
            dx.withUnsafeMutableBufferPointer { dxp in dy.withUnsafeMutableBufferPointer { dyp in
            nextPx.withUnsafeMutableBufferPointer { npx in nextPy.withUnsafeMutableBufferPointer { npy in
            nextAx.withUnsafeMutableBufferPointer { nax in nextAy.withUnsafeMutableBufferPointer { nay in
            k.withUnsafeBufferPointer { kp in dep.withUnsafeBufferPointer { dp in
            dx0.withUnsafeBufferPointer { d0x in dy0.withUnsafeBufferPointer { d0y in
            selected.withUnsafeBufferPointer { sel in
            padX.withUnsafeMutableBufferPointer { bx in padY.withUnsafeMutableBufferPointer { by in
            if all && t >= 2 && nearestOnly && coupled && n >= 4 {
                // Every site, the four nearest neighbours, the coupled modes: the same arithmetic
                // in the same order with no branch per site, so that it vectorizes. A missing
                // neighbour adds the border's 0, as skipping it does: ((up + left) + right) + down.
                for i in 0..<n { for j in 0..<n { bx[(i + 1) * w + j + 1] = axp[i * n + j]; by[(i + 1) * w + j + 1] = ayp[i * n + j] } }
                let (bxp, byp) = (UnsafeRawPointer(bx.baseAddress!), UnsafeRawPointer(by.baseAddress!))
                let (px, py) = (UnsafeRawPointer(pxp.baseAddress!), UnsafeRawPointer(pyp.baseAddress!))
                let (dpp, kpp) = (UnsafeRawPointer(dp.baseAddress!), UnsafeRawPointer(kp.baseAddress!))
                let (d0xp, d0yp) = (UnsafeRawPointer(d0x.baseAddress!), UnsafeRawPointer(d0y.baseAddress!))
                let (odx, ody) = (UnsafeMutableRawPointer(dxp.baseAddress!), UnsafeMutableRawPointer(dyp.baseAddress!))
                let (onpx, onpy) = (UnsafeMutableRawPointer(npx.baseAddress!), UnsafeMutableRawPointer(npy.baseAddress!))
                let (onax, onay) = (UnsafeMutableRawPointer(nax.baseAddress!), UnsafeMutableRawPointer(nay.baseAddress!))
                typealias V = SIMD4<Double>
                let stride = MemoryLayout<Double>.stride
                let (c1, c2, c3) = (V(repeating: 2 * a1), V(repeating: 4 * a2), V(repeating: 2 * a3))
                // −γ(2α1·q + 4α2·q³ + 2α3·o²q + k(q − s/4) − l), in the scalar loop's order.
                @inline(__always) func force(_ q: V, _ o: V, _ k: V, _ s: V, _ l: V) -> V {
                    let t1: V = c1 * q
                    let t2: V = ((c2 * q) * q) * q
                    let t3: V = ((c3 * o) * o) * q
                    let t4: V = k * (q - s / 4)
                    let sum: V = ((t1 + t2) + t3) + t4
                    return -g * (sum - l)
                }
                // Sites s..<s+4 of row i (padded c..<c+4): the scalar loop's arithmetic, lane by lane.
                @inline(__always) func four(_ s: Int, _ c: Int) {
                    let load = { (p: UnsafeRawPointer, k: Int) in p.loadUnaligned(fromByteOffset: k * stride, as: V.self) }
                    let sx = ((load(bxp, c - w) + load(bxp, c - 1)) + load(bxp, c + 1)) + load(bxp, c + w)
                    let sy = ((load(byp, c - w) + load(byp, c - 1)) + load(byp, c + 1)) + load(byp, c + w)
                    let (p0x, p0y) = (load(px, s), load(py, s))
                    var qx = p0x.replacing(with: -10, where: p0x .< -10), qy = p0y.replacing(with: -10, where: p0y .< -10)
                    qx.replace(with: 10, where: qx .> 10); qy.replace(with: 10, where: qy .> 10)
                    let d: V = load(dpp, s), k: V = load(kpp, s)
                    let dmx: V = (d * mx) / nf, dmy: V = (d * my) / nf
                    let lx: V = (V(repeating: ex) - dmx) + load(d0xp, s)
                    let ly: V = (V(repeating: ey) - dmy) + load(d0yp, s)
                    let fx: V = force(qx, qy, k, sx, lx), fy: V = force(qy, qx, k, sy, ly)
                    let stepX: V = fx * dt, stepY: V = fy * dt
                    let gx: V = (g * fx) * dt, gy: V = (g * fy) * dt
                    odx.storeBytes(of: fx, toByteOffset: s * stride, as: V.self)
                    ody.storeBytes(of: fy, toByteOffset: s * stride, as: V.self)
                    onpx.storeBytes(of: p0x + stepX, toByteOffset: s * stride, as: V.self)
                    onpy.storeBytes(of: p0y + stepY, toByteOffset: s * stride, as: V.self)
                    onax.storeBytes(of: p0x + gx, toByteOffset: s * stride, as: V.self)
                    onay.storeBytes(of: p0y + gy, toByteOffset: s * stride, as: V.self)
                }
                for i in 0..<n {
                    let row = (i + 1) * w + 1
                    var j = 0
                    while j + 4 <= n { four(i * n + j, row + j); j += 4 }
                    // The row's last few sites: its last four again (each site is a function of
                    // this step's inputs alone, so recomputing one gives the same bits).
                    if j < n { four(i * n + n - 4, row + n - 4) }
                }
                return
            }
            for i in 0..<n {
                for j in 0..<n {
                    let s = i * n + j
                    if !all && !sel[s] {
                        // Not updated: Pn and D stay, A moves along the stale derivative.
                        npx[s] = pxp[s]; npy[s] = pyp[s]
                        nax[s] = pxp[s] + g * dxp[s] * dt; nay[s] = pyp[s] + g * dyp[s] * dt
                        continue
                    }
                    // Neighbour sum of A: (up + left) + right + down; missing neighbours count as 0.
                    var sx = 0.0, sy = 0.0
                    if nearestOnly {
                        if i > 0 { sx += axp[s - n]; sy += ayp[s - n] }
                        if j > 0 { sx += axp[s - 1]; sy += ayp[s - 1] }
                        if j < n - 1 { sx += axp[s + 1]; sy += ayp[s + 1] }
                        if i < n - 1 { sx += axp[s + n]; sy += ayp[s + n] }
                    } else {
                        for (di, dj) in offsets {
                            let (ii, jj) = (i + di, j + dj)
                            if ii >= 0 && ii < n && jj >= 0 && jj < n { sx += axp[ii * n + jj]; sy += ayp[ii * n + jj] }
                        }
                    }
                    let qx = min(max(pxp[s], -10), 10), qy = min(max(pyp[s], -10), 10)
                    let lx = ex - dp[s] * mx / nf + d0x[s]
                    let ly = ey - dp[s] * my / nf + d0y[s]
                    let fx: Double, fy: Double
                    switch mode {
                    case .tetragonal, .rhombohedral:
                        fx = -g * (2 * a1 * qx + 4 * a2 * qx * qx * qx + 2 * a3 * qy * qy * qx + kp[s] * (qx - sx / 4) - lx)
                        fy = -g * (2 * a1 * qy + 4 * a2 * qy * qy * qy + 2 * a3 * qx * qx * qy + kp[s] * (qy - sy / 4) - ly)
                    case .squareelectric:
                        fx = -g * (a2 * qx * qx * qx + a1 * qx + kp[s] * (qx - sx / 4) - lx)
                        fy = -g * (a2 * qy * qy * qy + a1 * qy + kp[s] * (qy - sy / 4) - ly)
                    case .uniaxial:
                        fx = 0
                        fy = -g * (a2 * qy * qy * qy + a1 * qy + kp[s] * (qy - sy / 4) - ly)
                    }
                    dxp[s] = fx; dyp[s] = fy
                    if t == 1 {
                        npx[s] = pxp[s] + g * fx * dt; npy[s] = pyp[s] + g * fy * dt
                        nax[s] = npx[s]; nay[s] = npy[s]
                    } else {
                        npx[s] = pxp[s] + fx * dt; npy[s] = pyp[s] + fy * dt
                        nax[s] = pxp[s] + g * fx * dt; nay[s] = pyp[s] + g * fy * dt
                    }
                }
            }
            } } } } } } } } } } } } } } } } }
            swap(&pnx, &nextPx); swap(&pny, &nextPy); swap(&ax, &nextAx); swap(&ay, &nextAy)
            let sums = totals(pnx, pny, dx, dy)
            totalP.append((sums.px, sums.py))
            totalD.append((sums.dx, sums.dy))
            if keepHistory { history!.append(Polarization(x: ax, y: ay)) }
            // |P| at the clip (or not finite) means the explicit step has left the stable regime.
            if !diverged && !(abs(sums.px) < 10 * nf && abs(sums.py) < 10 * nf && sums.maxAbs < 10) { diverged = true }
        }
        return Result(pn: Polarization(x: pnx, y: pny), a: Polarization(x: ax, y: ay), d: Polarization(x: dx, y: dy),
                      totalP: totalP, totalD: totalD, history: history, diverged: diverged)
    }

    /// Σ Pnx, Σ Pny, Σ Dx, Σ Dy (each summed in site order, as `reduce` does) and the
    /// largest |component| of Pn (infinity if one is NaN), in one pass: four independent
    /// chains of additions instead of four passes of one.
    func totals(_ px: [Double], _ py: [Double], _ dx: [Double], _ dy: [Double]) -> (px: Double, py: Double, dx: Double, dy: Double, maxAbs: Double) {
        var (a, b, c, d) = (0.0, 0.0, 0.0, 0.0)
        var m = 0.0, nan = false
        px.withUnsafeBufferPointer { x in py.withUnsafeBufferPointer { y in
        dx.withUnsafeBufferPointer { u in dy.withUnsafeBufferPointer { v in
            for s in 0..<x.count {
                a += x[s]; b += y[s]; c += u[s]; d += v[s]
                m = Swift.max(m, Swift.max(abs(x[s]), abs(y[s])))
                nan = nan || x[s].isNaN || y[s].isNaN
            }
        } } } }
        return (a, b, c, d, nan ? .infinity : m)
    }

    /// numpy's pairwise summation (blocks of 8 lanes below 128 elements), so totals match the
    /// original to the last bits.
    func pairwiseSum(_ a: [Double]) -> Double {
        a.withUnsafeBufferPointer { pairwise($0.baseAddress!, $0.count) }
    }

    func pairwise(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 { var s = 0.0; for i in 0..<n { s += a[i] }; return s }
        if n <= 128 {
            var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
            var i = 8
            while i < n - n % 8 {
                r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
                r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
                i += 8
            }
            var s = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n { s += a[i]; i += 1 }
            return s
        }
        var half = n / 2
        half -= half % 8
        return pairwise(a, half) + pairwise(a + half, n - half)
    }
}
