import Foundation
import DKLCore

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
        /// α = K⁻¹r.
        public var alpha: [Double]
        /// ∂loss/∂τᵢ², each point's own noise variance (empty without `pointNoise`):
        /// −½(αᵢ² − (K⁻¹)ᵢᵢ)/n.
        public var gradPointNoise: [Double] = []
    }

    /// The loss and its gradient; `needsInputGradient` false leaves `gradInputs` zero and
    /// skips its sums (a structured GP's inputs are data, not a network's output).
    /// `pointNoise`: each point's own noise variance (measured), added to the learnt noise σ²
    /// on K's diagonal (K = s·k(Z, Z) + σ²I + diag(pointNoise)); σ² is then a floor over it.
    public static func evaluate(inputs z: Matrix, targets y: [Double], kernel: Kernel, parameters p: GPParameters,
                                priors: GPPriors = .none, pointNoise: [Double]? = nil, needsGradient: Bool = true,
                                needsInputGradient: Bool = true) throws -> Result {
        let n = z.rows, d = z.cols
        precondition(y.count == n && p.dimension == d && (pointNoise?.count ?? n) == n)
        let s = p.outputscale
        // One pass over the lower triangle: K and (1/r)dk/dr, the only part of either read
        // below (the upper triangles are never written).
        let zs = Matrix(rows: n, cols: d, data: (0..<(n * d)).map { z.data[$0] / p.lengthscales[$0 % d] })
        let zsColumns = Kernel.scaledColumns(z, p.lengthscales)
        func fill(_ k: inout Matrix, _ dk: inout Matrix, derivative: Bool) {
            zs.data.withUnsafeBufferPointer { zz in
                zsColumns.withUnsafeBufferPointer { ztt in
                    k.data.withUnsafeMutableBufferPointer { kk in
                        dk.data.withUnsafeMutableBufferPointer { dd in
                            let (szp, sztp, skp, sdp) = (SharedBuffer(zz), SharedBuffer(ztt), SharedBuffer(kk), SharedBuffer(dd))
                            Parallel.forEachTrianglePart(n) { _, rows in
                                let (zp, ztp, kp, dp) = (szp.base, sztp.base, skp.base, sdp.baseAddress)
                                let r2 = UnsafeMutablePointer<Double>.allocate(capacity: n)
                                defer { r2.deallocate() }
                                for i in rows {
                                    Kernel.distances(from: zp + i * d, toColumns: ztp, stride: n, count: i, d: d, into: r2)
                                    kernel.fill(r2: r2, count: i, scale: s, k: kp + i * n, dk: derivative ? dp! + i * n : nil)
                                    kp[i * n + i] = s + p.noise + (pointNoise?[i] ?? 0)
                                }
                            }
                        }
                    }
                }
            }
        }
        var k = Matrix.uninitialized(rows: n, cols: n)
        var dk = needsGradient ? Matrix.uninitialized(rows: n, cols: n) : Matrix(rows: 0, cols: 0)
        fill(&k, &dk, derivative: needsGradient)
        // K is factored in its own storage; only when it needs jitter is it built again and
        // factored by copies.
        let chol: Cholesky
        if let c = try Cholesky.factoring(consume k) {
            chol = c
        } else {
            var again = Matrix.uninitialized(rows: n, cols: n), none = Matrix(rows: 0, cols: 0)
            fill(&again, &none, derivative: false)
            chol = try Cholesky(again)
        }
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
            return Result(loss: -mll * scale, gradInputs: Matrix(rows: n, cols: d), gradParameters: priorGrad.map { $0 * scale }, alpha: alpha)
        }
        // G = ½(ααᵀ − K⁻¹) and W = G ∘ s·(1/r)dk/dr, visited once per pair (i > j): the
        // symmetric sums are accumulated for both rows, so no n×n product is formed. K⁻¹
        // takes the factor's storage.
        // What K has on its diagonal beyond the kernel, point by point.
        let tau2 = (0..<n).map { p.noise + chol.jitter + (pointNoise?[$0] ?? 0) }
        let inv = chol.inverseInPlace()
        // Each worker sums into its own accumulators; they are added in a fixed order. The
        // inputs and their gradient sums are kept transposed (d×n), so that every inner loop
        // below runs over contiguous memory whatever the embedding's width.
        struct Sums {
            var gradNoise = 0.0
            var rowSums: [Double], wz: [Double], sq: [Double]
            init(_ n: Int, _ d: Int) { rowSums = [Double](repeating: 0, count: n); wz = [Double](repeating: 0, count: n * d); sq = [Double](repeating: 0, count: d) }
        }
        let parts = Slots<Sums>(Parallel.triangleParts(n))
        var zt = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for c in 0..<d { zt[c * n + i] = z.data[i * d + c] } }
        inv.data.withUnsafeBufferPointer { ki0 in
        dk.data.withUnsafeBufferPointer { dd0 in
        zt.withUnsafeBufferPointer { zz0 in
        alpha.withUnsafeBufferPointer { al0 in
            let (ki, dd, zz, al) = (SharedBuffer(ki0), SharedBuffer(dd0), SharedBuffer(zz0), SharedBuffer(al0))
            Parallel.forEachTrianglePart(n) { part, rows in
                var acc = Sums(n, d)
                var gradNoise = 0.0
                let wrow = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
                defer { wrow.deallocate() }
                acc.rowSums.withUnsafeMutableBufferPointer { rs in
                acc.wz.withUnsafeMutableBufferPointer { w in
                acc.sq.withUnsafeMutableBufferPointer { sq in
                    for i in rows {
                        let ai = al[i]
                        let gii = 0.5 * (ai * ai - ki[i * n + i])
                        gradNoise += gii
                        var rsi = 0.0
                        if !needsInputGradient {
                            // The lengthscales' sums alone: per dimension, Σ_j w_ij (z_i − z_j)².
                            if d == 1 {
                                let zi = zz[i]
                                var sq0 = 0.0
                                for j in 0..<i {
                                    let g = 0.5 * (ai * al[j] - ki[i * n + j])
                                    let t = zi - zz[j]
                                    sq0 += g * dd[i * n + j] * t * t
                                }
                                sq[0] += 2 * s * sq0
                            } else {
                                for j in 0..<i {
                                    let g = 0.5 * (ai * al[j] - ki[i * n + j])
                                    wrow[j] = g * s * dd[i * n + j]
                                }
                                for c in 0..<d {
                                    let zc = zz.baseAddress! + c * n, zi = zc[i]
                                    var sqc = 0.0
                                    for j in 0..<i { let t = zi - zc[j]; sqc += wrow[j] * t * t }
                                    sq[c] += 2 * sqc
                                }
                            }
                            continue
                        }
                        if d == 2 {
                            // The canonical DKL embedding: every sum in one pass, unrolled.
                            let (zi0, zi1) = (zz[i], zz[n + i])
                            var (wi0, wi1, sq0, sq1) = (0.0, 0.0, 0.0, 0.0)
                            for j in 0..<i {
                                let g = 0.5 * (ai * al[j] - ki[i * n + j])
                                let wij = g * s * dd[i * n + j]
                                rsi += wij
                                rs[j] += wij
                                let (zj0, zj1) = (zz[j], zz[n + j])
                                wi0 += wij * zj0
                                wi1 += wij * zj1
                                w[j] += wij * zi0
                                w[n + j] += wij * zi1
                                sq0 += wij * (zi0 - zj0) * (zi0 - zj0)
                                sq1 += wij * (zi1 - zj1) * (zi1 - zj1)
                            }
                            w[i] += wi0
                            w[n + i] += wi1
                            sq[0] += 2 * sq0
                            sq[1] += 2 * sq1
                            rs[i] += rsi
                            continue
                        }
                        // w_ij = G_ij·s·(1/r)dk/dr for j < i.
                        for j in 0..<i {
                            let g = 0.5 * (ai * al[j] - ki[i * n + j])
                            let wij = g * s * dd[i * n + j]
                            wrow[j] = wij
                            rsi += wij
                            rs[j] += wij
                        }
                        rs[i] += rsi
                        // Per dimension: Σ_j w_ij z_j (both ways) and Σ_j w_ij (z_i − z_j)².
                        for c in 0..<d {
                            let zc = zz.baseAddress! + c * n, wc = w.baseAddress! + c * n
                            let zi = zc[i]
                            var wi = 0.0, sqc = 0.0
                            for j in 0..<i {
                                let wij = wrow[j], zj = zc[j]
                                wi += wij * zj
                                wc[j] += wij * zi
                                let t = zi - zj
                                sqc += wij * t * t
                            }
                            wc[i] += wi
                            sq[c] += 2 * sqc
                        }
                    }
                } } }
                acc.gradNoise = gradNoise
                parts[part] = acc
            }
        } } } }
        var gradNoise = 0.0
        var rowSums = [Double](repeating: 0, count: n), wz = [Double](repeating: 0, count: n * d), sqSums = [Double](repeating: 0, count: d)
        for acc in parts.values()! {
            gradNoise += acc.gradNoise
            for i in 0..<n { rowSums[i] += acc.rowSums[i] }
            for c in 0..<d { for i in 0..<n { wz[i * d + c] += acc.wz[c * n + i] } }
            for c in 0..<d { sqSums[c] += acc.sq[c] }
        }
        var gradZ = Matrix(rows: n, cols: d)
        var gradL = [Double](repeating: 0, count: d)
        for c in 0..<d {
            let l2 = p.lengthscales[c] * p.lengthscales[c]
            for i in 0..<n { gradZ.data[i * d + c] = 2 / l2 * (z.data[i * d + c] * rowSums[i] - wz[i * d + c]) }
            gradL[c] = -sqSums[c] / (l2 * p.lengthscales[c])
        }
        // ∂/∂s = Σ_ij G_ij K_f,ij / s with K_f = K − τ²I (τ² = σ² + jitter): since Kα = r,
        // Σ G∘K_f = ½((rᵀα − τ²|α|²) − (n − τ²·tr K⁻¹)), and K itself is not needed.
        // (With each point's own τᵢ²: Σ τᵢ²αᵢ² and Σ τᵢ²(K⁻¹)ᵢᵢ.)
        var traceInverse = 0.0, alphaSquared = 0.0
        for i in 0..<n { traceInverse += tau2[i] * inv.data[i * n + i]; alphaSquared += tau2[i] * alpha[i] * alpha[i] }
        let gradS = 0.5 * ((quad - alphaSquared) - (Double(n) - traceInverse)) / s
        let gradMean = alpha.reduce(0, +)
        // The loss is −MLL/n: negate and scale; prior gradients are already of −log p.
        var gradP = gradL.map { -$0 * scale } + [-gradS * scale, -gradNoise * scale, -gradMean * scale]
        for i in 0..<(d + 3) { gradP[i] += priorGrad[i] * scale }
        gradZ.data.withUnsafeMutableBufferPointer { gz in for i in 0..<gz.count { gz[i] *= -scale } }
        var result = Result(loss: -mll * scale, gradInputs: gradZ, gradParameters: gradP, alpha: alpha)
        if pointNoise != nil { result.gradPointNoise = (0..<n).map { -0.5 * (alpha[$0] * alpha[$0] - inv.data[$0 * n + $0]) * scale } }
        return result
    }
}

extension Var {
    /// The GP loss −MLL/n of these inputs (n×d) as a tape op; `parameters` is the 1×(d+3)
    /// variable [ℓ…, s, σ², c] (see `GPConstraints.parameters(_:)`). `pointNoise`: each
    /// point's own noise variance (n×1), over the learnt σ², a constant (measured) or a
    /// variable (a learnt noise model).
    public func gpNegativeMLL(targets: [Double], kernel: Kernel, parameters: Var, priors: GPPriors = .none,
                              pointNoise: Var? = nil) throws -> Var {
        let z = self
        let pv = parameters.value.data
        let d = z.cols
        let p = GPParameters(lengthscales: Array(pv[0..<d]), outputscale: pv[d], noise: pv[d + 1], mean: pv[d + 2])
        let r = try MarginalLikelihood.evaluate(inputs: z.value, targets: targets, kernel: kernel, parameters: p, priors: priors,
                                                pointNoise: pointNoise?.value.data)
        return tape.record(.scalar(r.loss), parents: [z, parameters] + (pointNoise.map { [$0] } ?? [])) { g, t in
            let s = g.data[0]
            t.accumulate(z, r.gradInputs.map { $0 * s })
            t.accumulate(parameters, Matrix(row: r.gradParameters.map { $0 * s }))
            if let pointNoise { t.accumulate(pointNoise, Matrix(rows: z.rows, cols: 1, data: r.gradPointNoise.map { $0 * s })) }
        }
    }
}
