/// The rotation-invariant VAE's decoder: every pixel is decoded by one small network from
/// its coordinates, rotated by the record's angle φ and shifted by s, and the content
/// latent c:
///
///     u′ = R(φ)·u + s,  h₁ = tanh(u′·W_u + b_u + c·W_c),  hₖ = tanh(hₖ₋₁·Wₖ + bₖ),  out = h·w + b
///
/// with u on a grid over [−1, 1]² (x along columns, y along rows). The latent of a record
/// is [φ, s_x/τ, s_y/τ, c…] where τ is the translation prior (s = τ·z₁,₂). Parameters from
/// index `first`: W_u (2×h), b_u (h), W_c (k×h, no bias; absent when k = 0), then the
/// hidden stack's W, b pairs ending in the h×1 output layer.
import DKLCore
import DKLNumerics
import DKLData

public struct CoordinateDecoder: Sendable, Equatable {
    public let height: Int
    public let width: Int
    public let content: Int
    public let hidden: [Int]
    public let activation: NetActivation
    public let translationPrior: Double
    public let first: Int
    /// The layers after the first: hidden[0] → … → hidden.last → 1.
    public let stack: DenseStack

    public init(height: Int, width: Int, content: Int, hidden: [Int], activation: NetActivation, translationPrior: Double, first: Int) {
        precondition(!hidden.isEmpty)
        self.height = height; self.width = width; self.content = content; self.hidden = hidden
        self.activation = activation; self.translationPrior = translationPrior; self.first = first
        stack = DenseStack(widths: hidden + [1], activation: activation, first: first + (content > 0 ? 3 : 2))
    }

    public var pixels: Int { height * width }
    public var latent: Int { 3 + content }
    public var parameterCount: Int { (content > 0 ? 3 : 2) + stack.parameterCount }
    public var shapes: [(Int, Int)] { [(2, hidden[0]), (1, hidden[0])] + (content > 0 ? [(content, hidden[0])] : []) + stack.shapes }

    public func initialParameters<T: NetScalar>(_ g: inout Xoshiro) -> [[T]] {
        func uniform(_ n: Int, fanIn: Int) -> [T] {
            let b = 1 / Double(fanIn).squareRoot()
            return (0..<n).map { _ in T(b * (2 * g.uniform() - 1)) }
        }
        var p: [[T]] = [uniform(2 * hidden[0], fanIn: 2), uniform(hidden[0], fanIn: 2)]
        if content > 0 { p.append(uniform(content * hidden[0], fanIn: content)) }
        return p + stack.initialParameters(&g)
    }

    /// The pixel grid: (x, y) per pixel, row-major, each over [−1, 1].
    public var grid: [(Double, Double)] {
        func axis(_ i: Int, _ n: Int) -> Double { n == 1 ? 0 : -1 + 2 * Double(i) / Double(n - 1) }
        return (0..<pixels).map { (axis($0 % width, width), axis($0 / width, height)) }
    }

    /// What the backward pass needs.
    public struct Cache<T: NetScalar> {
        var z: NetMatrix<T> = NetMatrix(rows: 0, cols: 0)
        var coords: NetMatrix<T> = NetMatrix(rows: 0, cols: 0)
        var first: NetMatrix<T> = NetMatrix(rows: 0, cols: 0)
        var stack: [NetMatrix<T>] = []
        public init() {}
        init(z: NetMatrix<T>, coords: NetMatrix<T>, first: NetMatrix<T>, stack: [NetMatrix<T>]) {
            self.z = z; self.coords = coords; self.first = first; self.stack = stack
        }
    }

    /// The decoded images (B×pixels) of the latents z (B×latent).
    public func forward<T: NetScalar>(_ z: NetMatrix<T>, _ params: [[T]], cache: inout Cache<T>) -> NetMatrix<T> {
        precondition(z.cols == latent)
        let (b, p, h) = (z.rows, pixels, hidden[0])
        let g = grid
        var coords = NetMatrix<T>(rows: b * p, cols: 2)
        let tau = T(translationPrior)
        for i in 0..<b {
            let phi = z.data[i * latent]
            let (c, s) = (T.cos(phi), T.sin(phi))
            let (sx, sy) = (tau * z.data[i * latent + 1], tau * z.data[i * latent + 2])
            for (k, (u, v)) in g.enumerated() {
                let (u, v) = (T(u), T(v))
                coords.data[2 * (i * p + k)] = c * u - s * v + sx
                coords.data[2 * (i * p + k) + 1] = s * u + c * v + sy
            }
        }
        var h1 = DenseStack.affine(coords, params[first], params[first + 1], out: h)
        if content > 0 {
            let zc = z.columns(3..<latent)
            let shift = DenseStack.affine(zc, params[first + 2], [T](repeating: 0, count: h), out: h)
            h1.data.withUnsafeMutableBufferPointer { d in
                for i in 0..<b { for k in 0..<p { let row = d.baseAddress! + (i * p + k) * h; for j in 0..<h { row[j] += shift.data[i * h + j] } } }
            }
        }
        activation.apply(&h1)
        var stackCache: [NetMatrix<T>] = []
        let out = stack.forward(h1, params, cache: &stackCache)
        cache = Cache(z: z, coords: coords, first: h1, stack: stackCache)
        return NetMatrix(rows: b, cols: p, data: out.data)
    }

    /// Sets the parameters' gradients in `grads` and returns the gradient of z, given the
    /// gradient `g` (B×pixels) of the output.
    public func backward<T: NetScalar>(_ g: NetMatrix<T>, _ params: [[T]], cache: Cache<T>, grads: inout [[T]]) -> NetMatrix<T> {
        let (b, p, h) = (g.rows, pixels, hidden[0])
        var d1 = stack.backward(NetMatrix(rows: b * p, cols: 1, data: g.data), params, cache: cache.stack, grads: &grads, inputGradient: true)!
        activation.backward(&d1, output: cache.first)
        // W_u and b_u.
        grads[first] = NetMatrix.product(cache.coords, d1, transA: true).data
        grads[first + 1] = d1.columnSums()
        var dz = NetMatrix<T>(rows: b, cols: latent)
        // The content latent: its term c·W_c is shared by the record's pixels.
        if content > 0 {
            var perRecord = NetMatrix<T>(rows: b, cols: h)
            for i in 0..<b { for k in 0..<p { for j in 0..<h { perRecord.data[i * h + j] += d1.data[(i * p + k) * h + j] } } }
            let zc = cache.z.columns(3..<latent)
            grads[first + 2] = NetMatrix.product(zc, perRecord, transA: true).data
            let dzc = NetMatrix.product(perRecord, NetMatrix(rows: content, cols: h, data: params[first + 2]), transB: true)
            for i in 0..<b { for j in 0..<content { dz.data[i * latent + 3 + j] = dzc.data[i * content + j] } }
        }
        // The coordinates: d u′ = d1·W_uᵀ, then through the rotation and the shift.
        let du = NetMatrix.product(d1, NetMatrix(rows: 2, cols: h, data: params[first]), transB: true)
        let tau = T(translationPrior)
        let grid = self.grid
        for i in 0..<b {
            let phi = cache.z.data[i * latent]
            let (c, s) = (T.cos(phi), T.sin(phi))
            var (dphi, dsx, dsy): (T, T, T) = (0, 0, 0)
            for (k, (u, v)) in grid.enumerated() {
                let (u, v) = (T(u), T(v))
                let (gx, gy) = (du.data[2 * (i * p + k)], du.data[2 * (i * p + k) + 1])
                dphi += gx * (-s * u - c * v) + gy * (c * u - s * v)
                dsx += gx; dsy += gy
            }
            dz.data[i * latent] = dphi
            dz.data[i * latent + 1] = tau * dsx
            dz.data[i * latent + 2] = tau * dsy
        }
        return dz
    }
}
