import Foundation
import DKLCore

/// The exact log marginal likelihood of a GP over one input with a Matérn 1/2, 3/2 or 5/2
/// kernel, in O(n) instead of O(n³): such a GP is the first coordinate of a linear
/// stochastic differential equation of order 1, 2 or 3 (the kernel's spectral density is
/// a rational function), so along the sorted inputs it is a Gauss–Markov chain and a
/// Kalman filter computes log N(r; 0, K + σ²I) from its innovations, with no
/// approximation. The state (f, f′, f″) starts in the stationary covariance P∞ and moves
/// between inputs a gap Δ apart by A = exp(FΔ) = e^(−λΔ)(I + ΔN + Δ²N²/2), N = F + λI
/// nilpotent (the characteristic polynomial is (z + λ)^p), λ = √(2ν)/ℓ; the predicted
/// covariance is P∞ + A(P − P∞)Aᵀ.
///
/// The gradient in the lengthscale, the output scale and the noise variance is carried
/// forward with the filter (each quantity with its three partial derivatives); α =
/// (K + σ²I)⁻¹r, the gradient in the residuals, by one backward pass through the filter's
/// mean recursion (its adjoint).
public struct MaternStateSpace: Sendable {
    public let kernel: Kernel
    /// The state's dimension: 1, 2, 3 for Matérn 1/2, 3/2, 5/2.
    let p: Int
    /// The data's order along the input, and the gaps between consecutive sorted inputs.
    let order: [Int]
    let gaps: [Double]

    /// nil when the kernel has no finite state (RBF).
    public init?(kernel: Kernel, inputs x: [Double]) {
        switch kernel {
        case .matern12: p = 1
        case .matern32: p = 2
        case .matern52: p = 3
        case .rbf: return nil
        }
        guard x.allSatisfy(\.isFinite) else { return nil }
        self.kernel = kernel
        let sorted = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && $0 < $1) }
        order = sorted
        gaps = sorted.indices.map { $0 == 0 ? 0 : x[sorted[$0]] - x[sorted[$0 - 1]] }
    }

    public struct Result: Sendable {
        /// log p(r | ℓ, s, σ²).
        public var logLikelihood: Double
        /// Its derivatives in the lengthscale, the output scale and the noise variance.
        public var gradient: (lengthscale: Double, outputscale: Double, noise: Double)
        /// (K + σ²I)⁻¹r, in the data's order.
        public var alpha: [Double]
    }

    /// A number with its derivatives in (ℓ, s, σ²) (the fourth lane unused).
    struct Dual {
        var v: Double
        var d: SIMD4<Double>
        init(_ v: Double, _ d: SIMD4<Double> = .zero) { self.v = v; self.d = d }
        static func + (a: Dual, b: Dual) -> Dual { Dual(a.v + b.v, a.d + b.d) }
        static func - (a: Dual, b: Dual) -> Dual { Dual(a.v - b.v, a.d - b.d) }
        static func * (a: Dual, b: Dual) -> Dual { Dual(a.v * b.v, a.d * b.v + b.d * a.v) }
        static func * (a: Double, b: Dual) -> Dual { Dual(a * b.v, b.d * a) }
        static func / (a: Dual, b: Dual) -> Dual { let q = a.v / b.v; return Dual(q, (a.d - b.d * q) / b.v) }
        static prefix func - (a: Dual) -> Dual { Dual(-a.v, -a.d) }
    }

    /// The stationary covariance P∞ (p×p, row-major) for the output scale s and λ.
    func stationary(_ s: Dual, _ lam: Dual) -> [Dual] {
        switch p {
        case 1: return [s]
        case 2: return [s, Dual(0), Dual(0), s * lam * lam]
        default:
            let l2 = lam * lam, c = -(1.0 / 3) * (s * l2)
            return [s, Dual(0), c, Dual(0), (1.0 / 3) * (s * l2), Dual(0), c, Dual(0), s * l2 * l2]
        }
    }

    /// N = F + λI (p×p, row-major).
    func nilpotent(_ lam: Dual) -> [Dual] {
        switch p {
        case 1: return [Dual(0)]
        case 2: return [lam, Dual(1), -(lam * lam), -lam]
        default:
            let l2 = lam * lam
            return [lam, Dual(1), Dual(0), Dual(0), lam, Dual(1), -(l2 * lam), -3.0 * l2, -2.0 * lam]
        }
    }

    /// log p(r | ℓ, s, σ²) with its gradient and α; throws where an innovation's variance
    /// is not positive (the kernel matrix is not numerically positive definite).
    public func evaluate(residuals r: [Double], lengthscale: Double, outputscale: Double, noise: Double) throws -> Result {
        let n = order.count
        precondition(r.count == n)
        let p = self.p, pp = p * p
        let c = Foundation.sqrt(Double(2 * p - 1))   // √(2ν)
        let ell = Dual(lengthscale, SIMD4(1, 0, 0, 0))
        let s = Dual(outputscale, SIMD4(0, 1, 0, 0))
        let sigma2 = Dual(noise, SIMD4(0, 0, 1, 0))
        let lam = Dual(c) / ell
        let pinf = stationary(s, lam)
        let nn = nilpotent(lam)
        var n2 = [Dual](repeating: Dual(0), count: pp)
        for i in 0..<p { for j in 0..<p { for k in 0..<p { n2[i * p + j] = n2[i * p + j] + nn[i * p + k] * nn[k * p + j] } } }
        // What the backward pass needs, per sorted point: the gain, the transition's values.
        var gains = [Double](repeating: 0, count: n * p)
        var transitions = [Double](repeating: 0, count: n * pp)
        var weighted = [Double](repeating: 0, count: n)   // v/S
        var ll = Dual(0)
        let log2pi = Foundation.log(2 * Double.pi)
        // Scratch: the mean m, its prediction, the covariance P, A, P − P∞, A(P − P∞), P's first column.
        let scratch = UnsafeMutablePointer<Dual>.allocate(capacity: 3 * p + 4 * pp)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: Dual(0), count: 3 * p + 4 * pp)
        let m = scratch, am = m + p, col = am + p, cov = col + p, a = cov + pp, q = a + pp, t = q + pp
        for i in 0..<pp { cov[i] = pinf[i] }
        for k in 0..<n {
            if k > 0 {
                let delta = gaps[k]
                let ev = Foundation.exp(-lam.v * delta)
                let e = Dual(ev, lam.d * (-delta * ev))
                for i in 0..<p {
                    for j in 0..<p {
                        var v = delta * nn[i * p + j] + (0.5 * delta * delta) * n2[i * p + j]
                        if i == j { v.v += 1 }
                        a[i * p + j] = e * v
                        transitions[k * pp + i * p + j] = a[i * p + j].v
                    }
                }
                // m ← Am; P ← P∞ + A(P − P∞)Aᵀ.
                for i in 0..<p {
                    var v = Dual(0)
                    for j in 0..<p { v = v + a[i * p + j] * m[j] }
                    am[i] = v
                }
                for i in 0..<p { m[i] = am[i] }
                for i in 0..<pp { q[i] = cov[i] - pinf[i] }
                for i in 0..<p {
                    for j in 0..<p {
                        var v = Dual(0)
                        for l in 0..<p { v = v + a[i * p + l] * q[l * p + j] }
                        t[i * p + j] = v
                    }
                }
                for i in 0..<p {
                    for j in i..<p {
                        var v = pinf[i * p + j]
                        for l in 0..<p { v = v + t[i * p + l] * a[j * p + l] }
                        cov[i * p + j] = v
                        cov[j * p + i] = v
                    }
                }
            }
            let sk = cov[0] + sigma2
            guard sk.v > 0, sk.v.isFinite else {
                throw DKLError.data("the kernel matrix is not positive definite (a Kalman innovation's variance is \(sk.v))")
            }
            let v = Dual(r[order[k]]) - m[0]
            let w = v / sk
            ll = ll - 0.5 * (v * w) - Dual(0.5 * (Foundation.log(sk.v) + log2pi), sk.d * (0.5 / sk.v))
            weighted[k] = w.v
            // m ← m + G v, P ← P − P₀P₀ᵀ/S with G = P₀/S (P₀ the first column).
            for i in 0..<p { col[i] = cov[i * p] }
            for i in 0..<p {
                let g = col[i] / sk
                gains[k * p + i] = g.v
                m[i] = m[i] + g * v
                for j in i..<p {
                    let u = cov[i * p + j] - g * col[j]
                    cov[i * p + j] = u
                    cov[j * p + i] = u
                }
            }
        }
        // α = ½∂(rᵀK⁻¹r)/∂r through the mean's recursion, backwards: the adjoint λ of the
        // filtered mean gives αₖ = vₖ/Sₖ + Gₖ·λ, then λ ← Aₖᵀ(λ − αₖe₁).
        var alpha = [Double](repeating: 0, count: n)
        var adj = [Double](repeating: 0, count: p), next = adj
        for k in stride(from: n - 1, through: 0, by: -1) {
            var total = weighted[k]
            for i in 0..<p { total += gains[k * p + i] * adj[i] }
            alpha[order[k]] = total
            adj[0] -= total
            guard k > 0 else { break }
            for j in 0..<p {
                var v = 0.0
                for i in 0..<p { v += transitions[k * pp + i * p + j] * adj[i] }
                next[j] = v
            }
            swap(&adj, &next)
        }
        return Result(logLikelihood: ll.v, gradient: (ll.d[0], ll.d[1], ll.d[2]), alpha: alpha)
    }
}
