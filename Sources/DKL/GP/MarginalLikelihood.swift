import Foundation

/// The exact GP's negative log marginal likelihood per point, with its analytic gradient
/// with respect to the hyperparameters and to the inputs (so a feature extractor can be
/// trained through it). With r = y − c, K = s·k(Z, Z) + σ²I, α = K⁻¹r:
///
///     −MLL/n = (½ rᵀα + Σ log Lᵢᵢ + (n/2) log 2π)/n   (+ −log prior/n)
///     ∂MLL/∂K = G = ½(ααᵀ − K⁻¹)
///
/// and every gradient follows from G through the kernel's derivative (see `Kernel`).
public struct MarginalLikelihood {
    public struct Result {
        public var loss: Double
        /// ∂loss/∂Z (n×d).
        public var gradInputs: Matrix
        /// ∂loss/∂[ℓ…, s, σ², c] (d+3 values).
        public var gradParameters: [Double]
        /// The Cholesky factor of K (with any jitter it needed).
        public var cholesky: Cholesky
    }

    public static func evaluate(inputs z: Matrix, targets y: [Double], kernel: Kernel, parameters p: GPParameters,
                                priors: GPPriors = .none, needsGradient: Bool = true) throws -> Result {
        let n = z.rows, d = z.cols
        precondition(y.count == n && p.dimension == d)
        let r2 = Kernel.scaledDistances(z, z, lengthscales: p.lengthscales)
        var unit = r2
        unit.data.withUnsafeMutableBufferPointer { u in for i in 0..<u.count { u[i] = kernel.value(r2: u[i]) } }
        var k = unit
        k.data.withUnsafeMutableBufferPointer { kk in
            for i in 0..<kk.count { kk[i] *= p.outputscale }
            for i in 0..<n { kk[i * n + i] += p.noise }
        }
        let chol = try Cholesky(k)
        let resid = y.map { $0 - p.mean }
        let alpha = chol.solve(resid)
        let quad = zip(resid, alpha).reduce(0) { $0 + $1.0 * $1.1 }
        var mll = -0.5 * quad - 0.5 * chol.logDeterminant - 0.5 * Double(n) * log(2 * Double.pi)
        var priorGrad = [Double](repeating: 0, count: d + 3)
        if let g = priors.lengthscale { for (i, l) in p.lengthscales.enumerated() { let (v, dv) = g.negativeLog(l); mll -= v; priorGrad[i] = dv } }
        if let g = priors.outputscale { let (v, dv) = g.negativeLog(p.outputscale); mll -= v; priorGrad[d] = dv }
        if let g = priors.noise { let (v, dv) = g.negativeLog(p.noise); mll -= v; priorGrad[d + 1] = dv }
        let scale = 1 / Double(n)
        guard needsGradient else {
            return Result(loss: -mll * scale, gradInputs: Matrix(rows: n, cols: d), gradParameters: priorGrad.map { $0 * scale }, cholesky: chol)
        }
        // G = ½(ααᵀ − K⁻¹), in place of K⁻¹.
        var g = chol.inverse()
        g.data.withUnsafeMutableBufferPointer { gg in
            for i in 0..<n { for j in 0..<n { gg[i * n + j] = 0.5 * (alpha[i] * alpha[j] - gg[i * n + j]) } }
        }
        var gradS = 0.0, gradNoise = 0.0
        var w = r2   // W = G ∘ s·(dk/dr)/r, zero on the diagonal
        g.data.withUnsafeBufferPointer { gg in
            unit.data.withUnsafeBufferPointer { uu in
                w.data.withUnsafeMutableBufferPointer { ww in
                    for i in 0..<(n * n) {
                        gradS += gg[i] * uu[i]
                        ww[i] = gg[i] * p.outputscale * kernel.derivativeOverR(r2: ww[i])
                    }
                    for i in 0..<n { gradNoise += gg[i * n + i]; ww[i * n + i] = 0 }
                }
            }
        }
        let rowSums = (0..<n).map { i in w.data[(i * n)..<((i + 1) * n)].reduce(0, +) }
        let wz = w.matmul(z)
        var gradZ = Matrix(rows: n, cols: d)
        var gradL = [Double](repeating: 0, count: d)
        for k in 0..<d {
            let l2 = p.lengthscales[k] * p.lengthscales[k]
            var sq = 0.0, cross = 0.0
            for i in 0..<n {
                let zik = z.data[i * d + k]
                gradZ.data[i * d + k] = 2 / l2 * (zik * rowSums[i] - wz.data[i * d + k])
                sq += zik * zik * rowSums[i]
                cross += zik * wz.data[i * d + k]
            }
            gradL[k] = -(2 * sq - 2 * cross) / (l2 * p.lengthscales[k])
        }
        let gradMean = alpha.reduce(0, +)
        // The loss is −MLL/n: negate and scale; prior gradients are already of −log p.
        var gradP = gradL.map { -$0 * scale } + [-gradS * scale, -gradNoise * scale, -gradMean * scale]
        for i in 0..<(d + 3) { gradP[i] += priorGrad[i] * scale }
        gradZ.data.withUnsafeMutableBufferPointer { gz in for i in 0..<gz.count { gz[i] *= -scale } }
        return Result(loss: -mll * scale, gradInputs: gradZ, gradParameters: gradP, cholesky: chol)
    }
}

extension Var {
    /// The GP loss −MLL/n of these inputs (n×d) as a tape op; `parameters` is the 1×(d+3)
    /// variable [ℓ…, s, σ², c] (see `GPConstraints.parameters(_:)`).
    public func gpNegativeMLL(targets: [Double], kernel: Kernel, parameters: Var, priors: GPPriors = .none) throws -> Var {
        let z = self
        let pv = parameters.value.data
        let d = z.cols
        let p = GPParameters(lengthscales: Array(pv[0..<d]), outputscale: pv[d], noise: pv[d + 1], mean: pv[d + 2])
        let r = try MarginalLikelihood.evaluate(inputs: z.value, targets: targets, kernel: kernel, parameters: p, priors: priors)
        return tape.record(.scalar(r.loss), parents: [z, parameters]) { g, t in
            let s = g.data[0]
            t.accumulate(z, r.gradInputs.map { $0 * s })
            t.accumulate(parameters, Matrix(row: r.gradParameters.map { $0 * s }))
        }
    }
}
