import DKL
import Foundation
import Synchronization
import TestSupport
import XCTest

final class VAETests: XCTestCase {
    /// A small VAE in Double with its parameters and a batch and noise, all seeded.
    func tiny(_ decoder: VAEConfig.Decoder, _ likelihood: VAEConfig.Likelihood, shape: [Int], encoder: VAEConfig.Encoder = .mlp) -> (VAE, [[Double]], NetMatrix<Double>, NetMatrix<Double>) {
        var c = VAEConfig()
        c.decoder = decoder; c.likelihood = likelihood; c.latent = 2
        c.encoder = encoder; c.encoderChannels = [2, 3]
        c.encoderHidden = [5, 4]; c.decoderHidden = [6, 5]
        c.beta = 0.7; c.rotationPrior = 0.3; c.translationPrior = 0.2
        let m = VAE(config: c, shape: shape, field: "x", offset: 0, scale: 1)
        var g = Xoshiro(seed: 3)
        let params = m.parameters.map { $0.map(Double.init) }
        let b = 3
        let x = NetMatrix<Double>(rows: b, cols: m.inputWidth, data: (0..<(b * m.inputWidth)).map { _ in likelihood == .bernoulli ? g.uniform() : 2 * g.uniform() - 1 })
        let noise = NetMatrix<Double>(rows: b, cols: m.latentWidth, data: (0..<(b * m.latentWidth)).map { _ in g.normal() })
        return (m, params, x, noise)
    }

    /// The loss's gradient against central differences, every parameter.
    func checkLossGradient(_ decoder: VAEConfig.Decoder, _ likelihood: VAEConfig.Likelihood, shape: [Int], encoder: VAEConfig.Encoder = .mlp,
                           consistency: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        var (m, params, x, noise) = tiny(decoder, likelihood, shape: shape, encoder: encoder)
        var turned: (x: NetMatrix<Double>, angles: [Double])?
        if consistency {
            m.config.rotationConsistency = 2.5
            let angles = [0.4, -2.1, 3.0]
            turned = (ImageRotation.rotate(x, height: shape[0], width: shape[1], angles: angles), angles)
        }
        let (loss, grads) = m.loss(x, noise: noise, params, gradients: true, turned: turned)
        if consistency { XCTAssertGreaterThan(loss.consistency, 1e-3, "the consistency term is there", file: file, line: line) }
        do {
            try compareWithFiniteDifferences(params, analytic: grads, rtol: 1e-5, atol: 1e-7) { p in
                m.loss(x, noise: noise, p, gradients: false, turned: turned).0.total
            }
        } catch { XCTFail("\(error)", file: file, line: line) }
        XCTAssertGreaterThan(grads.flatMap { $0 }.map(abs).max()!, 1e-3, "the gradient is not trivially zero", file: file, line: line)
    }

    func testGradientMLPGaussian() { checkLossGradient(.mlp, .gaussian, shape: [7]) }
    func testGradientMLPBernoulli() { checkLossGradient(.mlp, .bernoulli, shape: [3, 4]) }
    func testGradientRotationalGaussian() { checkLossGradient(.rotational, .gaussian, shape: [4, 3]) }
    func testGradientRotationalBernoulli() { checkLossGradient(.rotational, .bernoulli, shape: [3, 5]) }
    func testGradientConvEncoder() { checkLossGradient(.mlp, .gaussian, shape: [6, 5], encoder: .cnn) }
    func testGradientConvEncoderRotational() { checkLossGradient(.rotational, .bernoulli, shape: [5, 4], encoder: .cnn) }
    func testGradientRotationalConsistency() { checkLossGradient(.rotational, .gaussian, shape: [4, 5], consistency: true) }
    func testGradientConvEncoderRotationalConsistency() { checkLossGradient(.rotational, .bernoulli, shape: [4, 4], encoder: .cnn, consistency: true) }

    /// A quarter-turn moves pixel (r, c) of a square image to (W−1−c, r)'s value... exactly:
    /// out[r][c] = in[c][W−1−r]; no turn is the identity; a turn and its inverse give back
    /// the centre of a smooth image.
    func testImageRotation() {
        let (h, w) = (5, 5)
        let img = NetMatrix<Double>(rows: 1, cols: h * w, data: (0..<(h * w)).map { Double($0 * $0 % 17) })
        let quarter = ImageRotation.rotate(img, height: h, width: w, angles: [Double.pi / 2])
        let expected = (0..<(h * w)).map { k in img.data[(k % w) * w + (w - 1 - k / w)] }
        assertClose(quarter.data, expected, rtol: 0, atol: 1e-12)
        XCTAssertEqual(ImageRotation.rotate(img, height: h, width: w, angles: [0]).data, img.data)
        let (n, m) = (41, 41)
        let smooth = NetMatrix<Double>(rows: 1, cols: n * m, data: (0..<(n * m)).map { k in
            let (y, x) = (Double(k / m) / 20 - 1, Double(k % m) / 20 - 1)
            return exp(-3 * (x * x + 2 * y * y)) * (1 + x)
        })
        let back = ImageRotation.rotate(ImageRotation.rotate(smooth, height: n, width: m, angles: [0.7]), height: n, width: m, angles: [-0.7])
        let centre = (0..<(n * m)).filter { abs($0 / m - 20) <= 10 && abs($0 % m - 20) <= 10 }
        assertClose(centre.map { back.data[$0] }, centre.map { smooth.data[$0] }, rtol: 0, atol: 0.03)
    }

    /// Turning a decoded image by δ gives the image decoded with the angle raised by δ (the
    /// convention the consistency term relies on), inside the disc the turn keeps in view.
    func testImageRotationMatchesTheDecoder() {
        var c = VAEConfig()
        c.decoder = .rotational; c.latent = 1; c.decoderHidden = [8, 8]
        let (n, delta) = (31, 0.9)
        let m = VAE(config: c, shape: [n, n], field: "x", offset: 0, scale: 1)
        let params = m.parameters.map { $0.map(Double.init) }
        let z = NetMatrix<Double>(rows: 2, cols: 4, data: [0.3, 0, 0, 0.8, 0.3 + delta, 0, 0, 0.8])
        let out = m.decodeRaw(z, params)
        let first = NetMatrix(rows: 1, cols: n * n, data: Array(out.data[..<(n * n)]))
        let turned = ImageRotation.rotate(first, height: n, width: n, angles: [delta])
        let disc = (0..<(n * n)).filter { k in
            let (y, x) = (Double(k / n) / 15 - 1, Double(k % n) / 15 - 1)
            return x * x + y * y < 0.8
        }
        let spread = out.data.max()! - out.data.min()!
        assertClose(disc.map { turned.data[$0] }, disc.map { out.data[n * n + $0] }, rtol: 0, atol: 0.02 * spread)
    }

    /// The convolution against a direct sum over the window (zero padding), and the pooling.
    func testConvolutionAgainstDirectSum() {
        let conv = ConvStack(height: 4, width: 5, channels: [2], activation: .relu, first: 0)
        var g = Xoshiro(seed: 9)
        let params: [[Double]] = conv.initialParameters(&g)
        let x = NetMatrix<Double>(rows: 2, cols: 20, data: (0..<40).map { _ in 2 * g.uniform() - 1 })
        var cache = ConvStack.Cache<Double>()
        let out = conv.forward(x, params, cache: &cache)
        XCTAssertEqual(out.cols, 2 * 2 * 2)
        for n in 0..<2 { for py in 0..<2 { for px in 0..<2 { for c in 0..<2 {
            var best = -Double.infinity
            for dy in 0..<2 { for dx in 0..<2 {
                let (y, xx) = (2 * py + dy, 2 * px + dx)
                var v = params[1][c]
                for ky in -1...1 { for kx in -1...1 {
                    let (sy, sx) = (y + ky, xx + kx)
                    if sy >= 0 && sy < 4 && sx >= 0 && sx < 5 { v += params[0][c * 9 + (ky + 1) * 3 + kx + 1] * x.data[n * 20 + sy * 5 + sx] }
                } }
                best = max(best, max(v, 0))
            } }
            XCTAssertEqual(out.data[n * 8 + (py * 2 + px) * 2 + c], best, accuracy: 1e-12)
        } } } }
    }

    /// The loss's parts against a direct computation from the networks' outputs.
    func testLossValue() {
        let (m, params, x, noise) = tiny(.mlp, .gaussian, shape: [7])
        let (mean, lv) = m.encode(x, params)
        var z = mean
        for i in 0..<z.count { z.data[i] += Foundation.exp(lv.data[i] / 2) * noise.data[i] }
        let a = m.decodeRaw(z, params)
        var rec = 0.0, kl = 0.0
        for i in 0..<a.count { rec += (a.data[i] - x.data[i]) * (a.data[i] - x.data[i]) }
        for i in 0..<mean.count { kl += 0.5 * (mean.data[i] * mean.data[i] + Foundation.exp(lv.data[i]) - 1 - lv.data[i]) }
        let loss = m.loss(x, noise: noise, params, gradients: false).0
        XCTAssertEqual(loss.reconstruction, rec / 3, accuracy: 1e-12)
        XCTAssertEqual(loss.kl, kl / 3, accuracy: 1e-12)
        XCTAssertEqual(loss.total, rec / 3 + 0.7 * kl / 3, accuracy: 1e-12)
    }

    /// Float runs the same arithmetic as Double, to float precision.
    func testFloatMatchesDouble() {
        let (m, params, x, noise) = tiny(.rotational, .bernoulli, shape: [4, 4])
        let f = { (t: NetMatrix<Double>) in NetMatrix<Float>(rows: t.rows, cols: t.cols, data: t.data.map(Float.init)) }
        let (ld, gd) = m.loss(x, noise: noise, params, gradients: true)
        let (lf, gf) = m.loss(f(x), noise: f(noise), params.map { $0.map(Float.init) }, gradients: true)
        XCTAssertEqual(lf.total, ld.total, accuracy: 1e-5 * abs(ld.total))
        for k in gd.indices { assertClose(gf[k].map(Double.init), gd[k], rtol: 1e-3, atol: 1e-5, "parameter \(k)") }
    }

    /// Float tanh against the library's, over the whole range.
    func testFloatTanh() {
        var xs = stride(from: -30.0, through: 30.0, by: 0.001).map { Float($0) } + [0, -0, 1e-8, -1e-8, 100, -100, 1e30, -1e30]
        let expected = xs.map { Foundation.tanh(Double($0)) }
        xs.withUnsafeMutableBufferPointer { Float.tanh($0.baseAddress!, count: $0.count) }
        let worst = zip(xs, expected).map { abs(Double($0) - $1) }.max()!
        XCTAssertLessThan(worst, 2e-7, "worst absolute error \(worst)")
        var odd: [Float] = [.nan, 0.5, -.infinity]
        odd.withUnsafeMutableBufferPointer { Float.tanh($0.baseAddress!, count: $0.count) }
        XCTAssertTrue(odd[0].isNaN)
        XCTAssertEqual(odd[1], Float(Foundation.tanh(0.5)), accuracy: 1e-7)
        XCTAssertEqual(odd[2], -1)
    }
}

/// The training loop against the plain one it stands for (shuffle, halves' gradients
/// weighted by their shares, Adam), on one thread and on two lanes; and an interrupted
/// epoch leaves the state of the last whole one.
final class VAETrainerTests: XCTestCase {
    func setUp(_ config: inout VAEConfig) -> (VAE, NetMatrix<Float>) {
        config.encoderHidden = [9]; config.decoderHidden = [7]; config.epochs = 3; config.batch = 7; config.seed = 5
        let m = VAE(config: config, shape: [11], field: "f", offset: 0, scale: 1)
        var g = Xoshiro(seed: 2)
        // 45 records, 41 trained on: batches of 7 and a last one of 6.
        return (m, NetMatrix<Float>(rows: 45, cols: 11, data: (0..<495).map { _ in Float(g.normal()) }))
    }

    func testTrainingEqualsThePlainLoopOnAnyThreadCount() {
        var c = VAEConfig()
        let (m0, x) = setUp(&c)
        // The plain loop, here.
        let (_, train) = VAETrainer.split(count: x.rows, config: c)
        var params = m0.parameters, adam = FloatAdam(learningRate: c.learningRate)
        var losses: [Double] = []
        for e in 1...c.epochs {
            var g = Xoshiro.stream(seed: c.seed, index: UInt64(e))
            var order = train
            order.shuffle(using: &g)
            let batches = stride(from: 0, to: order.count, by: c.batch).map { Array(order[$0..<min($0 + c.batch, order.count)]) }
            let noise = batches.map { b in (0..<(b.count * 2)).map { _ in Float(g.normal()) } }
            var sum = 0.0
            for (b, rows) in batches.enumerated() {
                let h = rows.count / 2
                let (l0, g0) = m0.loss(x.gather(rows[..<h]), noise: NetMatrix(rows: h, cols: 2, data: Array(noise[b][..<(2 * h)])), params, gradients: true)
                let (l1, g1) = m0.loss(x.gather(rows[h...]), noise: NetMatrix(rows: rows.count - h, cols: 2, data: Array(noise[b][(2 * h)...])), params, gradients: true)
                let (w0, w1) = (Double(h) / Double(rows.count), Double(rows.count - h) / Double(rows.count))
                adam.update(&params, g0, (g1, Float(w0), Float(w1)))
                sum += Double(rows.count) / Double(order.count) * (w0 * l0.total + w1 * l1.total)
            }
            losses.append(sum)
        }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2] {
            Parallel.threads = threads
            var m = m0
            var state = VAETrainingState(parameters: m.parameters, learningRate: c.learningRate)
            XCTAssertTrue(VAETrainer.train(&m, x, state: &state))
            XCTAssertEqual(state.parameters, params, "\(threads) threads")
            XCTAssertEqual(state.adam, adam, "\(threads) threads")
            assertClose(state.trainLoss, losses, rtol: 1e-12, atol: 0)
        }
    }

    func testAnInterruptedEpochIsDropped() {
        var c = VAEConfig()
        let (m0, x) = setUp(&c)
        for threads in [1, 2] {
            let saved = Parallel.threads
            defer { Parallel.threads = saved }
            Parallel.threads = threads
            // Stop during the third epoch (six batches an epoch, polled before each).
            let polls = Atomic<Int>(0)
            var m = m0
            var state = VAETrainingState(parameters: m.parameters, learningRate: c.learningRate)
            XCTAssertFalse(VAETrainer.train(&m, x, state: &state, interrupted: { polls.wrappingAdd(1, ordering: .relaxed).newValue > 2 * 7 + 3 }))
            var whole = c
            whole.epochs = 2
            var m2 = VAE(config: whole, shape: [11], field: "f", offset: 0, scale: 1)
            m2.parameters = m0.parameters
            var state2 = VAETrainingState(parameters: m2.parameters, learningRate: c.learningRate)
            XCTAssertTrue(VAETrainer.train(&m2, x, state: &state2))
            XCTAssertEqual(state.epoch, 2)
            XCTAssertEqual(state, state2, "\(threads) threads")
            XCTAssertEqual(m.parameters, m2.parameters)
        }
    }
}

final class LanePairTests: XCTestCase {
    /// Each phase sees everything the other lane wrote before the sync that ended the last.
    func testPhasesAreOrderedBySync() {
        let pair = LanePair()
        let cells = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2)
        defer { cells.deallocate() }
        cells.initialize(repeating: 0)
        var seen = [[Int]](repeating: [], count: 2)
        seen.withUnsafeMutableBufferPointer { seenLanes in
            nonisolated(unsafe) let (cells, seenLanes) = (cells, seenLanes)
            pair.run { lane in
                for round in 1...2000 {
                    cells[lane] = round
                    pair.sync()
                    seenLanes[lane].append(cells[1 - lane])
                    pair.sync()
                }
            }
        }
        XCTAssertEqual(seen[0], Array(1...2000))
        XCTAssertEqual(seen[1], Array(1...2000))
    }
}

final class VAEFileTests: XCTestCase {
    /// save → load gives the same model, state and encodings, bit for bit.
    func testSaveLoadEncodeIdentical() throws {
        var c = VAEConfig()
        c.decoder = .rotational; c.encoder = .cnn; c.encoderChannels = [2]; c.latent = 1
        c.encoderHidden = [6]; c.decoderHidden = [5, 4]; c.epochs = 2; c.batch = 4
        var m = VAE(config: c, shape: [4, 6], field: "image", offset: 0.25, scale: 2)
        var g = Xoshiro(seed: 1)
        let x = NetMatrix<Float>(rows: 10, cols: 24, data: (0..<240).map { _ in Float(g.uniform()) })
        var state = VAETrainingState(parameters: m.parameters, learningRate: c.learningRate)
        XCTAssertTrue(VAETrainer.train(&m, x, state: &state))
        VAETrainer.setLatentBox(&m, x)
        let dir = NSTemporaryDirectory() + "vae-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1e6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.save(to: dir + "/m.h5", state: state)
        let (back, backState, _) = try VAE.load(from: dir + "/m.h5")
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.parameters, m.parameters)
        XCTAssertEqual(back.latentLow, m.latentLow)
        XCTAssertEqual(back.shape, [4, 6])
        XCTAssertEqual(backState, state)
        XCTAssertEqual(back.encode(x, back.parameters).mean, m.encode(x, m.parameters).mean)
        XCTAssertEqual(back.decode(back.encode(x, back.parameters).mean), m.decode(m.encode(x, m.parameters).mean))
    }
}
