import DKL
import Foundation
import TestSupport
import XCTest

/// The exact GP against scikit-learn (Tests/Fixtures/gp/make_gp_reference.py), kernel
/// contracts, sanity limits and the O(n²) update.
final class GPTests: XCTestCase {
    /// The kernels' C loop (eight lanes, compiled per vector width) gives the bits of the
    /// Swift reference `Kernel.values` (four lanes), at 0, tiny, ordinary, large and
    /// underflowing distances, for a run that ends in a partial group of eight.
    func testTheKernelsVectorLoopIsTheReference() {
        var rng = Xoshiro(seed: 5)
        var r2 = [0.0, 1e-300, 1e-12, 0.25, 1, 2e4, 3e5, 1e9]
        r2 += (0..<29).map { _ in -log(rng.uniform()) * 3 }
        for kernel in Kernel.allCases {
            var k = [Double](repeating: .nan, count: r2.count), dk = k
            kernel.fill(r2: r2, count: r2.count, scale: 1.7, k: &k, dk: &dk)
            for start in stride(from: 0, to: r2.count, by: 4) {
                var v = SIMD4<Double>(repeating: 0)
                for t in 0..<min(4, r2.count - start) { v[t] = r2[start + t] }
                let want = kernel.values(v)
                for t in 0..<min(4, r2.count - start) {
                    XCTAssertEqual(k[start + t].bitPattern, (want.k[t] * 1.7).bitPattern, "\(kernel) k at r² = \(r2[start + t])")
                    XCTAssertEqual(dk[start + t].bitPattern, want.dk[t].bitPattern, "\(kernel) dk at r² = \(r2[start + t])")
                }
            }
        }
    }

    struct Reference {
        let x: Matrix, y: [Double], xs: Matrix, p: GPParameters, kernels: JSON
    }

    static let reference: Reference = {
        let text = try! String(contentsOfFile: fixtures + "/gp/reference.json", encoding: .utf8)
        let j = try! JSONParser.parse(text)
        func matrix(_ v: JSON) -> Matrix {
            let rows = v.arrayValue!.map { $0.arrayValue!.map { $0.doubleValue! } }
            return Matrix(rows: rows.count, cols: rows[0].count, data: rows.flatMap { $0 })
        }
        return Reference(x: matrix(j["X"]!), y: j["y"]!.arrayValue!.map { $0.doubleValue! }, xs: matrix(j["Xs"]!),
                         p: GPParameters(lengthscales: j["lengthscales"]!.arrayValue!.map { $0.doubleValue! },
                                         outputscale: j["outputscale"]!.doubleValue!, noise: j["noise"]!.doubleValue!),
                         kernels: j["kernels"]!)
    }()

    func numbers(_ v: JSON?) -> [Double] { v!.arrayValue!.flatMap { $0.arrayValue ?? [$0] }.map { $0.doubleValue! } }

    func testMarginalLikelihoodAndGradientsMatchScikitLearn() throws {
        let r = GPTests.reference
        for kernel in Kernel.allCases {
            let ref = r.kernels[kernel.rawValue]!
            let n = Double(r.y.count)
            let res = try MarginalLikelihood.evaluate(inputs: r.x, targets: r.y, kernel: kernel, parameters: r.p)
            assertClose(-res.loss * n, ref["mll"]!.doubleValue!, rtol: 1e-10, "\(kernel) MLL")
            let g = res.gradParameters.map { -$0 * n }
            assertClose(Array(g[0..<2]), numbers(ref["grad_lengthscales"]), rtol: 1e-8, "\(kernel) ∂/∂ℓ")
            assertClose(g[2], ref["grad_outputscale"]!.doubleValue!, rtol: 1e-8, "\(kernel) ∂/∂s")
            assertClose(g[3], ref["grad_noise"]!.doubleValue!, rtol: 1e-8, "\(kernel) ∂/∂σ²")
            assertClose(res.gradInputs.data.map { -$0 * n }, numbers(ref["grad_inputs"]), rtol: 1e-5, atol: 1e-7, "\(kernel) ∂/∂Z")
            let k0 = kernel.matrix(r.x.rows(0..<1), r.x, lengthscales: r.p.lengthscales, outputscale: r.p.outputscale)
            assertClose(k0.data, numbers(ref["kernel_row0"]), rtol: 1e-12, "\(kernel) k(x₀, X)")
        }
    }

    func testPosteriorMatchesScikitLearnChunkedOrNot() throws {
        let r = GPTests.reference
        for kernel in Kernel.allCases {
            let ref = r.kernels[kernel.rawValue]!
            let post = try GPPosterior(inputs: r.x, targets: r.y, kernel: kernel, parameters: r.p)
            for chunk in [1, 2, 64] {
                let (m, v) = post.predict(r.xs, chunk: chunk)
                assertClose(m, numbers(ref["mean"]), rtol: 1e-10, atol: 1e-12, "\(kernel) mean, chunk \(chunk)")
                assertClose(v, numbers(ref["variance"]), rtol: 1e-8, atol: 1e-12, "\(kernel) variance, chunk \(chunk)")
            }
        }
    }

    /// The mean's gradient, which scikit-learn (zero mean) does not have: against finite differences.
    func testMeanGradient() throws {
        let r = GPTests.reference
        var p = r.p
        p.mean = 0.3
        let g = try MarginalLikelihood.evaluate(inputs: r.x, targets: r.y, kernel: .matern52, parameters: p).gradParameters[4]
        func loss(_ c: Double) throws -> Double {
            var q = p; q.mean = c
            return try MarginalLikelihood.evaluate(inputs: r.x, targets: r.y, kernel: .matern52, parameters: q, needsGradient: false).loss
        }
        assertClose(g, (try loss(0.3 + 1e-6) - loss(0.3 - 1e-6)) / 2e-6, rtol: 1e-6)
    }

    /// Duplicated inputs without noise: K is singular, factored again with jitter
    /// (the loss's first, in-place factorization fails). The outputscale's gradient, which
    /// comes from α and tr K⁻¹ rather than from K, against Σ G∘K_f/s from an explicit inverse.
    func testTheJitterPathsOutputscaleGradient() throws {
        let r = GPTests.reference
        let x = Matrix(rows: 2 * r.x.rows, cols: r.x.cols, data: r.x.data + r.x.data), y = r.y + r.y.map { $0 + 0.01 }
        let n = x.rows, d = x.cols
        var p = r.p
        p.noise = 0
        let res = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern32, parameters: p)
        let kf = Kernel.matern32.matrix(x, x, lengthscales: p.lengthscales, outputscale: p.outputscale)
        XCTAssertNil(try Cholesky.factoring(kf))
        var k = kf
        for i in 0..<n { k[i, i] += p.noise }
        let chol = try Cholesky(k)
        XCTAssertGreaterThan(chol.jitter, 0)
        let inv = chol.inverse(), alpha = chol.solve(y.map { $0 - p.mean })
        var sum = 0.0
        for i in 0..<n { for j in 0..<n { sum += 0.5 * (alpha[i] * alpha[j] - inv[i, j]) * kf[i, j] } }
        // K + jI has a condition number near 1e8 here, so both sums agree to about 1e-5.
        assertClose(res.gradParameters[d], -sum / p.outputscale / Double(n), rtol: 1e-4)
        XCTAssertEqual(try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern32, parameters: p, needsGradient: false).loss, res.loss)
    }

    /// Priors add −log p to the loss; their gradient against finite differences.
    func testPriorsGradient() throws {
        let r = GPTests.reference
        let priors = GPPriors(lengthscale: .init(shape: 3, rate: 6), outputscale: .init(shape: 2, rate: 0.15), noise: .init(shape: 1.1, rate: 10))
        checkGradients([Matrix(row: r.p.lengthscales + [r.p.outputscale, r.p.noise, 0.1])], eps: 1e-6, rtol: 1e-5) { v in
            try! v[0].tape.constant(r.x).gpNegativeMLL(targets: r.y, kernel: .rbf, parameters: v[0], priors: priors)
        }
    }

    /// DKL's chain: inputs → linear map → GP loss, through the positivity transform.
    func testGradientThroughFeatureMapAndConstraints() throws {
        let r = GPTests.reference
        let constraints = GPConstraints()
        let raw = constraints.raw(GPParameters(lengthscales: [0.8, 1.1], outputscale: 1.2, noise: 0.1, mean: 0.2))
        for kernel in Kernel.allCases {
            checkGradients([randomMatrix(2, 2, seed: 5), raw], rtol: 1e-5, atol: 1e-7) { v in
                let z = v[0].tape.constant(r.x).matmul(v[0]).tanh()
                return try! z.gpNegativeMLL(targets: r.y, kernel: kernel, parameters: constraints.parameters(v[1]))
            }
        }
    }

    /// The general path (any embedding width; 2 has its own unrolled loop): gradients in the
    /// inputs and every hyperparameter against finite differences, at widths 1, 3 and 4.
    func testGradientsAtOtherWidths() throws {
        let r = GPTests.reference
        let constraints = GPConstraints()
        for width in [1, 3, 4] {
            let raw = constraints.raw(GPParameters(lengthscales: (0..<width).map { 0.6 + 0.2 * Double($0) }, outputscale: 1.3, noise: 0.08, mean: 0.1))
            for kernel in [Kernel.rbf, .matern52, .matern12] {
                checkGradients([randomMatrix(2, width, seed: UInt64(width)), raw], rtol: 1e-5, atol: 1e-7) { v in
                    let z = v[0].tape.constant(r.x).matmul(v[0]).tanh()
                    return try! z.gpNegativeMLL(targets: r.y, kernel: kernel, parameters: constraints.parameters(v[1]))
                }
            }
        }
    }

    /// Kernel contracts, for every kernel: symmetric, unit diagonal times s, positive
    /// definite, and block evaluation equals the whole.
    func testKernelContracts() throws {
        let z = randomMatrix(30, 3, seed: 11, in: -2...2)
        for kernel in Kernel.allCases {
            let k = kernel.matrix(z, z, lengthscales: [0.5, 1, 2], outputscale: 1.7)
            for i in 0..<30 {
                XCTAssertEqual(k[i, i], 1.7, accuracy: 1e-15, "\(kernel) diagonal")
                for j in 0..<i { XCTAssertEqual(k[i, j], k[j, i], "\(kernel) symmetric") }
            }
            XCTAssertEqual(try Cholesky(k).jitter, 0, "\(kernel) positive definite")
            let top = kernel.matrix(z.rows(0..<10), z, lengthscales: [0.5, 1, 2], outputscale: 1.7)
            XCTAssertEqual(top.data, Array(k.data[0..<300]), "\(kernel) blocks")
        }
    }

    func testAbsurdHyperparametersGiveThePrior() throws {
        let r = GPTests.reference
        let post = try GPPosterior(inputs: r.x, targets: r.y, kernel: .rbf,
                                   parameters: GPParameters(lengthscales: [1e-4, 1e-4], outputscale: 2, noise: 0.1, mean: 0.25))
        let (m, v) = post.predict(r.xs)
        assertClose(m, [Double](repeating: 0.25, count: 5), rtol: 0, atol: 1e-12)
        assertClose(v, [Double](repeating: 2, count: 5), rtol: 0, atol: 1e-12)
    }

    func testTinyNoiseInterpolatesTheTrainingPoints() throws {
        let r = GPTests.reference
        let post = try GPPosterior(inputs: r.x, targets: r.y, kernel: .matern52,
                                   parameters: GPParameters(lengthscales: [0.3, 0.3], outputscale: 1, noise: 1e-9))
        let (m, v) = post.predict(r.x)
        assertClose(m, r.y, rtol: 0, atol: 1e-6)
        XCTAssertLessThan(v.max()!, 1e-8)
    }

    func testAddingOneObservationEqualsRefitting() throws {
        let r = GPTests.reference
        let small = try GPPosterior(inputs: r.x.rows(0..<11), targets: Array(r.y[0..<11]), kernel: .matern32, parameters: r.p)
        let grown = try small.adding(r.x.row(11), r.y[11])
        let full = try GPPosterior(inputs: r.x, targets: r.y, kernel: .matern32, parameters: r.p)
        let (a, b) = (grown.predict(r.xs), full.predict(r.xs))
        assertClose(a.mean, b.mean, rtol: 1e-10, atol: 1e-12)
        assertClose(a.variance, b.variance, rtol: 1e-9, atol: 1e-12)
    }
}

final class ParallelTests: XCTestCase {
    /// The MLL and its gradient are bit-identical with one thread and with several: the
    /// toolkit's own loops split into parts by size, not by thread count. (OpenBLAS, which
    /// follows the thread count, is held at one thread, since its threaded factorization
    /// rounds differently.) Sizes below, at and above the parts' thresholds, up to 32 parts.
    func testResultsDoNotDependOnTheThreadCount() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for n in [150, 700, 1200] {
            let z = randomMatrix(n, 2, seed: 3), y = (0..<n).map { sin(Double($0)) }
            let p = GPParameters(lengthscales: [0.5, 0.7], outputscale: 1.2, noise: 0.1, mean: 0.1)
            var results: [MarginalLikelihood.Result] = []
            for threads in [1, 2, 16] {
                Parallel.threads = threads
                results.append(try BLAS.singleThreaded { try MarginalLikelihood.evaluate(inputs: z, targets: y, kernel: .matern52, parameters: p) })
            }
            for r in results.dropFirst() {
                XCTAssertEqual(r.loss, results[0].loss, "n = \(n)")
                XCTAssertEqual(r.gradParameters, results[0].gradParameters, "n = \(n)")
                XCTAssertEqual(r.gradInputs, results[0].gradInputs, "n = \(n)")
            }
        }
        XCTAssertEqual([150, 399, 400, 799, 1131, 1200, 2000, 3000].map { Parallel.triangleParts($0) }, [1, 1, 4, 4, 4, 8, 24, 32])
    }

    /// OpenBLAS follows `Parallel.threads`, the one setting, except inside `singleThreaded`.
    func testBLASFollowsTheThreadSetting() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let a = Matrix(rows: 2, cols: 2, data: [1, 2, 3, 4])
        for threads in [1, 2] {
            Parallel.threads = threads
            XCTAssertEqual(a.matmul(a).data, [7, 10, 15, 22])
            XCTAssertEqual(BLAS.threads, threads)
            BLAS.singleThreaded {
                _ = a.matmul(a)
                XCTAssertEqual(BLAS.threads, 1)
            }
            XCTAssertEqual(BLAS.threads, threads)
        }
    }

    /// An ensemble trains and predicts its members on lanes (each lane runs its member's own
    /// parallel loops serially): the same model and the same predictions with one thread
    /// and with two, and the combined moments equal the members' predictions combined here.
    func testEnsembleDoesNotDependOnTheThreadCount() throws {
        let x = randomMatrix(80, 6, seed: 8), y = (0..<80).map { sin(Double($0) / 5) }
        let cand = randomMatrix(2500, 6, seed: 9)
        var c = DKLConfig()
        c.iterations = 30
        c.hidden = [16]
        c.ensemble = 3
        // As the tools' --threads sets both: one thread, or two lanes of one BLAS thread each.
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let e1 = try DKLEnsemble.train(x: x, y: y, config: c)
        let p1 = try e1.predict(cand)
        let each = try e1.members.map { try $0.predict(cand) }
        Parallel.threads = 2
        let e2 = try DKLEnsemble.train(x: x, y: y, config: c)
        let p2 = try e2.predict(cand)
        XCTAssertEqual(e1.members.map(\.lossCurve), e2.members.map(\.lossCurve))
        XCTAssertEqual(p1.mean, p2.mean)
        XCTAssertEqual(p1.variance, p2.variance)
        let combined = Ensemble.combine(each.map { ($0.mean, $0.variance) })
        XCTAssertEqual(p1.mean, combined.mean)
        XCTAssertEqual(p1.variance, combined.variance)
    }

    /// Prediction runs its chunks on lanes with one BLAS thread each: the same numbers with
    /// one thread, with two, and (to rounding) in one chunk, and against solves by the factor.
    func testPredictionDoesNotDependOnTheThreadCount() throws {
        let z = randomMatrix(400, 2, seed: 5), y = (0..<400).map { cos(Double($0) / 7) }
        let cand = randomMatrix(3000, 2, seed: 6)
        let post = try GPPosterior(inputs: z, targets: y, kernel: .rbf,
                                   parameters: GPParameters(lengthscales: [0.3, 0.4], outputscale: 1.5, noise: 0.05, mean: -0.2))
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = post.predict(cand, chunk: 256)
        Parallel.threads = 2
        let two = post.predict(cand, chunk: 256)
        XCTAssertEqual(one.mean, two.mean)
        XCTAssertEqual(one.variance, two.variance)
        let whole = post.predict(cand, chunk: 3000)
        assertClose(whole.mean, one.mean, rtol: 1e-12, atol: 1e-12)
        assertClose(whole.variance, one.variance, rtol: 1e-10, atol: 1e-12)
        // Independently: variance = s − k*ᵀK⁻¹k* by two triangular solves, for a few candidates.
        for j in [0, 1234, 2999] {
            let ks = Kernel.rbf.matrix(z, cand.rows(j..<(j + 1)), lengthscales: [0.3, 0.4], outputscale: 1.5)
            let w = post.cholesky.solve(ks.data)
            let q = zip(ks.data, w).map { $0 * $1 }.reduce(0, +)
            XCTAssertEqual(one.variance[j], 1.5 - q, accuracy: 1e-10)
            XCTAssertEqual(one.mean[j], -0.2 + zip(ks.data, post.alpha).map { $0 * $1 }.reduce(0, +), accuracy: 1e-10)
        }
    }
}

/// The single-precision variance product (GPPosterior.predict with `.single`).
final class SinglePrecisionTests: XCTestCase {
    /// A posterior like a trained model's: 4-D inputs in [−1, 1], Matérn 5/2, noise a tenth of
    /// the outputscale; candidates at the training points themselves, near them and far off.
    static func posterior(n: Int = 600, noise: Double = 0.1, kernel: Kernel = .matern52) throws -> (GPPosterior, Matrix) {
        let z = randomMatrix(n, 4, seed: 11).data.map { 2 * $0 - 1 }
        let inputs = Matrix(rows: n, cols: 4, data: z)
        let y = (0..<n).map { sin(3 * inputs[$0, 0]) + inputs[$0, 1] * inputs[$0, 2] }
        let post = try GPPosterior(inputs: inputs, targets: y, kernel: kernel,
                                   parameters: GPParameters(lengthscales: [0.5, 0.7, 0.9, 1.2], outputscale: 1.3, noise: noise, mean: 0.2))
        var g = Xoshiro(seed: 12)
        var cand = inputs.rows(0..<200).data                                                        // duplicates
        for i in 0..<800 { for c in 0..<4 { cand.append(inputs[i % n, c] + 0.02 * (g.uniform() - 0.5)) } } // near
        for _ in 0..<1500 { for _ in 0..<4 { cand.append(2.4 * g.uniform() - 1.2) } }                   // anywhere
        return (post, Matrix(rows: cand.count / 4, cols: 4, data: cand))
    }

    func testSingleVariancesAreWithinTheToleranceOfDouble() throws {
        for kernel in Kernel.allCases {
            let (post, cand) = try SinglePrecisionTests.posterior(kernel: kernel)
            XCTAssertEqual(post.precisionInUse(.single), .single, "\(kernel)")
            let a = post.predict(cand, precision: .double), b = post.predict(cand, precision: .single)
            assertClose(b.mean, a.mean, rtol: 1e-12, atol: 1e-12, "\(kernel) mean")
            var worst = 0.0
            for j in 0..<cand.rows {
                worst = max(worst, abs(b.variance[j] - a.variance[j]) / a.variance[j])
                XCTAssertLessThanOrEqual(abs(b.variance[j] - a.variance[j]), VariancePrecision.tolerance * a.variance[j], "\(kernel) candidate \(j)")
            }
            // Not the float64 numbers themselves (float32 did run), yet far closer than rounding k*.
            XCTAssertGreaterThan(worst, 0, "\(kernel)")
            // At a training point u = 0: τ² − τ⁴(K⁻¹)_aa, from a triangular solve here.
            let tau2 = post.parameters.noise + post.cholesky.jitter
            for j in [0, 57, 199] {
                var e = [Double](repeating: 0, count: post.count); e[j] = 1
                let kinv = post.cholesky.solve(e)[j]
                XCTAssertEqual(b.variance[j], tau2 - tau2 * tau2 * kinv, accuracy: 1e-12, "\(kernel) at training point \(j)")
            }
        }
    }

    /// Callers who split the candidates into calls of a multiple of `chunkRows` get the bits of
    /// one call, and the thread count changes nothing.
    func testSingleIsTheSameInChunksAndOnAnyThreadCount() throws {
        let (post, cand) = try SinglePrecisionTests.posterior()
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = post.predict(cand, precision: .single)
        Parallel.threads = 2
        let two = post.predict(cand, precision: .single)
        let split = GPPosterior.chunkRows
        let first = post.predict(cand.rows(0..<split), precision: .single)
        let rest = post.predict(cand.rows(split..<cand.rows), precision: .single)
        XCTAssertEqual(one.variance, two.variance)
        XCTAssertEqual(one.mean, two.mean)
        XCTAssertEqual(first.variance + rest.variance, one.variance)
    }

    /// With points dense against the lengthscale and noise so small that float32 cannot
    /// resolve the variance left between them, the probes refuse it and `.single` gives
    /// float64's numbers bit for bit.
    func testIllConditionedPosteriorsKeepDouble() throws {
        let n = 300
        let inputs = Matrix(rows: n, cols: 1, data: (0..<n).map { Double($0) / Double(n) })
        let post = try GPPosterior(inputs: inputs, targets: (0..<n).map { sin(Double($0) / 20) }, kernel: .rbf,
                                   parameters: GPParameters(lengthscales: [0.3], outputscale: 1, noise: 1e-6))
        XCTAssertEqual(post.precisionInUse(.single), .double)
        let cand = Matrix(rows: 1000, cols: 1, data: (0..<1000).map { Double($0) / 900 - 0.05 })
        let a = post.predict(cand, precision: .double), b = post.predict(cand, precision: .single)
        XCTAssertTrue(a.variance == b.variance && a.mean == b.mean)
    }

    /// One observation more: the grown posterior builds its own factors (not the smaller one's).
    func testAddingAnObservationRebuildsTheFactors() throws {
        let (post, cand) = try SinglePrecisionTests.posterior(n: 300)
        _ = post.predict(cand, precision: .single)
        let grown = try post.adding(cand.row(1500), 0.4)
        let a = grown.predict(cand, precision: .double), b = grown.predict(cand, precision: .single)
        for j in 0..<cand.rows { XCTAssertLessThanOrEqual(abs(b.variance[j] - a.variance[j]), VariancePrecision.tolerance * a.variance[j]) }
    }
}

final class KMeansTests: XCTestCase {
    /// Three separated blobs: three clusters, each blob one, their centres the blobs' means;
    /// the same labels every time; k is at most the rows.
    func testSeparatedBlobs() {
        var g = Xoshiro(seed: 4)
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]
        var data: [Double] = [], blob: [Int] = []
        for i in 0..<90 { let c = centres[i % 3]; data += [c.0 + g.uniform() - 0.5, c.1 + g.uniform() - 0.5]; blob.append(i % 3) }
        let x = Matrix(rows: 90, cols: 2, data: data)
        let km = KMeans(x, k: 3)
        XCTAssertEqual(km.centres.rows, 3)
        for b in 0..<3 {
            let labels = Set((0..<90).filter { blob[$0] == b }.map { km.labels[$0] })
            XCTAssertEqual(labels.count, 1, "blob \(b) in one cluster")
            let j = labels.first!
            let members = (0..<90).filter { blob[$0] == b }
            XCTAssertEqual(km.centres[j, 0], members.map { x[$0, 0] }.reduce(0, +) / 30, accuracy: 1e-12)
            XCTAssertEqual(km.centres[j, 1], members.map { x[$0, 1] }.reduce(0, +) / 30, accuracy: 1e-12)
        }
        XCTAssertEqual(Set(km.labels).count, 3)
        XCTAssertEqual(KMeans(x, k: 3).labels, km.labels)
        XCTAssertEqual(KMeans(x.rows(0..<2), k: 16).centres.rows, 2)
    }
}

/// Each point's own (measured) noise variance on K's diagonal, beside the learnt noise.
final class PointNoiseTests: XCTestCase {
    static func problem() -> (Matrix, [Double], [Double], GPParameters) {
        let x = randomMatrix(60, 2, seed: 21)
        let y = (0..<60).map { sin(3 * x[$0, 0]) + x[$0, 1] }
        let v = (0..<60).map { 0.01 + 0.2 * Double($0 % 7) / 7 }
        return (x, y, v, GPParameters(lengthscales: [0.4, 0.6], outputscale: 1.3, noise: 0.02, mean: 0.1))
    }

    /// The loss against a direct factorization of K = s·k + σ²I + diag(v); its gradient in s,
    /// σ² and the inputs against finite differences with v fixed.
    func testTheLikelihoodWithMeasuredNoise() throws {
        let (x, y, v, p) = PointNoiseTests.problem()
        let n = x.rows
        let res = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p, pointNoise: v)
        var k = Kernel.matern52.matrix(x, x, lengthscales: p.lengthscales, outputscale: p.outputscale)
        for i in 0..<n { k[i, i] += p.noise + v[i] }
        let chol = try Cholesky(k)
        let r = y.map { $0 - p.mean }, alpha = chol.solve(r)
        let want = (0.5 * zip(r, alpha).map { $0 * $1 }.reduce(0, +) + 0.5 * chol.logDeterminant + 0.5 * Double(n) * log(2 * .pi)) / Double(n)
        XCTAssertEqual(res.loss, want, accuracy: 1e-12)
        func loss(_ q: GPParameters, _ z: Matrix = x) throws -> Double {
            try MarginalLikelihood.evaluate(inputs: z, targets: y, kernel: .matern52, parameters: q, pointNoise: v, needsGradient: false).loss
        }
        var up = p, down = p
        up.outputscale += 1e-6; down.outputscale -= 1e-6
        assertClose(res.gradParameters[2], (try loss(up) - loss(down)) / 2e-6, rtol: 1e-5)
        up = p; down = p
        up.noise += 1e-7; down.noise -= 1e-7
        assertClose(res.gradParameters[3], (try loss(up) - loss(down)) / 2e-7, rtol: 1e-5)
        var zu = x, zd = x
        zu[7, 1] += 1e-6; zd[7, 1] -= 1e-6
        assertClose(res.gradInputs[7, 1], (try loss(p, zu) - loss(p, zd)) / 2e-6, rtol: 1e-5, atol: 1e-9)
        // Without it, the plain likelihood.
        let plain = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p)
        XCTAssertEqual(plain.loss, try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p,
                                                                    pointNoise: [Double](repeating: 0, count: n)).loss)
    }

    /// Prediction with measured noise against solves by the factor, in both precisions; one
    /// observation more (with its own noise) equals refitting.
    func testThePosteriorWithMeasuredNoise() throws {
        let (x, y, v, p) = PointNoiseTests.problem()
        let post = try GPPosterior(inputs: x, targets: y, kernel: .matern52, parameters: p, pointNoise: v)
        let cand = Matrix(rows: 80, cols: 2, data: randomMatrix(20, 2, seed: 22).data + x.rows(0..<60).data)
        let a = post.predict(cand, precision: .double), b = post.predict(cand, precision: .single)
        XCTAssertEqual(post.precisionInUse(.single), .single)
        for j in [0, 5, 19, 20, 45, 79] {
            let ks = Kernel.matern52.matrix(x, cand.rows(j..<(j + 1)), lengthscales: p.lengthscales, outputscale: p.outputscale)
            let w = post.cholesky.solve(ks.data)
            XCTAssertEqual(a.variance[j], p.outputscale - zip(ks.data, w).map { $0 * $1 }.reduce(0, +), accuracy: 1e-10)
            XCTAssertEqual(a.mean[j], p.mean + zip(ks.data, post.alpha).map { $0 * $1 }.reduce(0, +), accuracy: 1e-10)
        }
        for j in 0..<80 { XCTAssertLessThanOrEqual(abs(b.variance[j] - a.variance[j]), VariancePrecision.tolerance * a.variance[j], "candidate \(j)") }
        let small = try GPPosterior(inputs: x.rows(0..<59), targets: Array(y[0..<59]), kernel: .matern52, parameters: p, pointNoise: Array(v[0..<59]))
        let grown = try small.adding(x.row(59), y[59], noise: v[59])
        XCTAssertEqual(grown.pointNoise, v)
        let (c, d) = (grown.predict(cand), post.predict(cand))
        assertClose(c.mean, d.mean, rtol: 1e-9, atol: 1e-12)
        assertClose(c.variance, d.variance, rtol: 1e-8, atol: 1e-12)
    }
}

