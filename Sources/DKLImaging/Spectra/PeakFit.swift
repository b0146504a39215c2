import Foundation
import DKLCore
import DKLData

/// One peak on a linear background, fitted by Levenberg–Marquardt:
///
///     f(E) = h·g((E − c)/w) + a + b·(E − Ē)
///
/// with g(u) = exp(−4 ln2·u²) (Gaussian) or 1/(1 + 4u²) (Lorentzian), so that w is the
/// full width at half maximum for both, and Ē the mean energy of the window.
public struct PeakFit: Sendable, Equatable {
    public enum Shape: String, Sendable, CaseIterable { case gauss, lorentz }

    public var centre: Double, height: Double, fwhm: Double, offset: Double, slope: Double
    /// The peak's area above the background: h·w·√(π/(4 ln2)) or h·w·π/2.
    public var area: Double
    /// 1 − Σ residual² / Σ (y − ȳ)² over the window.
    public var r2: Double

    static let gaussK = 4 * log(2.0)

    @inline(__always)
    static func profile(_ shape: Shape, _ u: Double) -> (g: Double, dgdu: Double) {
        switch shape {
        case .gauss:
            let g = exp(-gaussK * u * u)
            return (g, -2 * gaussK * u * g)
        case .lorentz:
            let d = 1 + 4 * u * u
            return (1 / d, -8 * u / (d * d))
        }
    }

    /// Fits `y` over energies `e` (at least 6 points). Returns nil when the fit does not
    /// converge, or its centre leaves the window, or its width or height is not positive.
    public static func fit(_ shape: Shape, energies e: [Double], values y: [Double], maxIterations: Int = 200) -> PeakFit? {
        let n = e.count
        guard n >= 6, y.count == n, y.allSatisfy(\.isFinite) else { return nil }
        let eMean = e.reduce(0, +) / Double(n)
        let (eLo, eHi) = (e.min()!, e.max()!)
        // Start: background through the window's ends, peak at the highest point above it.
        let b0 = (y[n - 1] - y[0]) / (e[n - 1] - e[0])
        let a0 = y[0] - b0 * (e[0] - eMean)
        var top = 0
        for i in 0..<n where y[i] - (a0 + b0 * (e[i] - eMean)) > y[top] - (a0 + b0 * (e[top] - eMean)) { top = i }
        let h0 = y[top] - (a0 + b0 * (e[top] - eMean))
        guard h0 > 0 else { return nil }
        var halfCount = 0
        for i in 0..<n where y[i] - (a0 + b0 * (e[i] - eMean)) >= h0 / 2 { halfCount += 1 }
        let step = (eHi - eLo) / Double(n - 1)
        var p = [e[top], h0, max(Double(halfCount) * step, 2 * step), a0, b0]   // c, h, w, a, b

        func residuals(_ p: [Double]) -> [Double] {
            (0..<n).map { i in p[1] * profile(shape, (e[i] - p[0]) / p[2]).g + p[3] + p[4] * (e[i] - eMean) - y[i] }
        }
        func cost(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }
        var r = residuals(p)
        var c = cost(r)
        var lambda = 1e-3
        var converged = false
        for _ in 0..<maxIterations {
            // Jacobian J (n×5) and the normal equations (JᵀJ + λ diag(JᵀJ)) δ = −Jᵀr.
            var jtj = [Double](repeating: 0, count: 25), jtr = [Double](repeating: 0, count: 5)
            for i in 0..<n {
                let u = (e[i] - p[0]) / p[2]
                let (g, dg) = profile(shape, u)
                let row = [-p[1] * dg / p[2], g, -p[1] * dg * u / p[2], 1, e[i] - eMean]
                for a in 0..<5 {
                    jtr[a] += row[a] * r[i]
                    for b in 0..<5 { jtj[a * 5 + b] += row[a] * row[b] }
                }
            }
            var improved = false
            for _ in 0..<20 {
                var m = jtj
                for a in 0..<5 { m[a * 5 + a] += lambda * max(jtj[a * 5 + a], 1e-300) }
                guard let delta = solve5(m, jtr.map { -$0 }) else { lambda *= 10; continue }
                let q = zip(p, delta).map { $0 + $1 }
                guard q[2] > 0 else { lambda *= 10; continue }
                let rq = residuals(q)
                let cq = cost(rq)
                if cq.isFinite && cq <= c {
                    let relative = (c - cq) / max(c, 1e-300)
                    p = q; r = rq; c = cq
                    lambda = max(lambda / 10, 1e-12)
                    improved = true
                    if relative < 1e-12 || delta.enumerated().allSatisfy({ abs($0.element) <= 1e-10 * max(abs(p[$0.offset]), 1e-10) }) {
                        converged = true
                    }
                    break
                }
                lambda *= 10
            }
            if converged || !improved { converged = true; break }
        }
        guard converged, p[1] > 0, p[2] > 0, p[0] >= eLo, p[0] <= eHi, c.isFinite else { return nil }
        let yMean = y.reduce(0, +) / Double(n)
        let total = y.reduce(0) { $0 + ($1 - yMean) * ($1 - yMean) }
        let area = shape == .gauss ? p[1] * p[2] * (Double.pi / gaussK).squareRoot() : p[1] * p[2] * Double.pi / 2
        return PeakFit(centre: p[0], height: p[1], fwhm: p[2], offset: p[3] - p[4] * eMean, slope: p[4], area: area,
                       r2: total > 0 ? 1 - c / total : 1)
    }

    /// Solves the 5×5 system by Gaussian elimination with partial pivoting (nil if singular).
    static func solve5(_ a: [Double], _ b: [Double]) -> [Double]? {
        var m = a, v = b
        let n = 5
        for k in 0..<n {
            var piv = k
            for i in (k + 1)..<n where abs(m[i * n + k]) > abs(m[piv * n + k]) { piv = i }
            guard abs(m[piv * n + k]) > 1e-300, m[piv * n + k].isFinite else { return nil }
            if piv != k {
                for j in 0..<n { m.swapAt(k * n + j, piv * n + j) }
                v.swapAt(k, piv)
            }
            for i in (k + 1)..<n {
                let f = m[i * n + k] / m[k * n + k]
                for j in k..<n { m[i * n + j] -= f * m[k * n + j] }
                v[i] -= f * v[k]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = v[i]
            for j in (i + 1)..<n { s -= m[i * n + j] * x[j] }
            x[i] = s / m[i * n + i]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
