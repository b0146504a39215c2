import DKL
import Foundation
import TestSupport
import XCTest

/// The GP's noise models: each point's own measured variance over a learnt floor, and a
/// learnt noise model log-linear in the embedding; their gradients, training, calibration
/// and model files.
final class NoiseModelTests: XCTestCase {
    /// ∂loss/∂τᵢ², each point's own noise variance, against central differences.
    func testTheLikelihoodsGradientInEachPointsNoise() throws {
        let (x, y, v, p) = PointNoiseTests.problem()
        let res = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p, pointNoise: v)
        XCTAssertEqual(res.gradPointNoise.count, x.rows)
        for i in [0, 13, 59] {
            var up = v, down = v
            up[i] += 1e-7; down[i] -= 1e-7
            let fu = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p, pointNoise: up, needsGradient: false).loss
            let fd = try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p, pointNoise: down, needsGradient: false).loss
            assertClose(res.gradPointNoise[i], (fu - fd) / 2e-7, rtol: 1e-5, atol: 1e-10)
        }
        XCTAssertTrue(try MarginalLikelihood.evaluate(inputs: x, targets: y, kernel: .matern52, parameters: p).gradPointNoise.isEmpty)
    }

    /// The tape op with a learnt noise model, τᵢ² = exp(a + b·zᵢ): the gradients in a, b and
    /// the inputs (through the kernel and through the noise) against central differences.
    func testTheLearntNoiseModelsGradient() throws {
        let (x, y, _, p) = PointNoiseTests.problem()
        let raw = GPConstraints().raw(p)
        func build(_ z: Matrix, _ w: Matrix) throws -> (tape: Tape, z: Var, w: Var, loss: Var) {
            let tape = Tape()
            let zv = tape.variable(z), wv = tape.variable(w)
            let noise = (zv.matmulT(wv.columns(0..<2)) + wv.columns(2..<3)).exp()
            let l = try zv.gpNegativeMLL(targets: y, kernel: .matern52, parameters: GPConstraints().parameters(tape.constant(raw)), pointNoise: noise)
            return (tape, zv, wv, l)
        }
        func loss(_ z: Matrix, _ w: Matrix) throws -> Double {
            let b = try build(z, w)
            return withExtendedLifetime(b.tape) { b.loss.value.data[0] }
        }
        let w = Matrix(row: [0.7, -0.4, log(0.05)])
        let (tape, zv, wv, l) = try build(x, w)
        tape.backward(l)
        let (gw, gz) = withExtendedLifetime(tape) { (tape.grad(wv), tape.grad(zv)) }
        for j in 0..<3 {
            var up = w, down = w
            up.data[j] += 1e-6; down.data[j] -= 1e-6
            assertClose(gw.data[j], (try loss(x, up) - loss(x, down)) / 2e-6, rtol: 1e-5, atol: 1e-10)
        }
        for (i, c) in [(4, 0), (31, 1)] {
            var up = x, down = x
            up[i, c] += 1e-6; down[i, c] -= 1e-6
            assertClose(gz[i, c], (try loss(up, w) - loss(down, w)) / 2e-6, rtol: 1e-5, atol: 1e-10)
        }
    }

    /// The calibration's scale solves mean(e²/(c·a + m)) = 1, clamped to [10⁻³, 10³].
    func testTheCalibrationWithKnownNoise() {
        let e = [0.5, 2.0, 0.1, 1.2, 3.0], a = [0.2, 1.0, 0.3, 0.5, 0.8], m = [0.1, 0.5, 0.05, 0.2, 0.4]
        let c = DKLTrainer.calibration(errors: e, scaled: a, own: m)
        let mean = (0..<5).map { e[$0] / (c * a[$0] + m[$0]) }.reduce(0, +) / 5
        XCTAssertEqual(mean, 1, accuracy: 1e-9)
        // With no measured noise it is the mean squared z.
        let plain = DKLTrainer.calibration(errors: e, scaled: a, own: [0, 0, 0, 0, 0])
        XCTAssertEqual(plain, (0..<5).map { e[$0] / a[$0] }.reduce(0, +) / 5, accuracy: 1e-9)
        XCTAssertEqual(DKLTrainer.calibration(errors: [1e-9], scaled: [1], own: [1]), 1e-3, accuracy: 1e-12, "errors below the known noise: the floor")
    }

    /// A model with measured noise: its posterior holds each point's variance over the
    /// floor (standardized), its predictions are the GP's with them, and its file keeps them;
    /// without the variances it is refused. A learnt noise model: its weights, its noise at
    /// new inputs, the same after a round trip through the file.
    func testTrainingSavingAndLoadingEachNoiseModel() throws {
        let x = randomMatrix(40, 3, seed: 8)
        let y = (0..<40).map { sin(2 * x[$0, 0]) + 0.5 * x[$0, 1] + 0.1 * Double($0 % 5) }
        let v = (0..<40).map { 0.001 + 0.05 * Double($0 % 4) }
        var config = DKLConfig()
        config.iterations = 30; config.hidden = [8]; config.embedding = 2; config.ensemble = 1
        config.noise = .measured
        XCTAssertThrowsError(try DKLTrainer.train(x: x, y: y, config: config)) { XCTAssertTrue("\($0)".contains("noise variance"), "\($0)") }
        XCTAssertThrowsError(try DKLTrainer.train(x: x, y: y, noise: v.map { $0 == 0.001 ? .nan : $0 }, config: config))
        let m = try DKLTrainer.train(x: x, y: y, noise: v, config: config)
        XCTAssertEqual(m.trainNoise, v)
        XCTAssertTrue(m.validationCoverage >= 0 && m.validationCoverage <= 1, "\(m.validationCoverage)")
        let post = try m.posterior()
        assertClose(post.pointNoise, v.map { $0 / (m.targetStd * m.targetStd) }, rtol: 1e-15)
        let direct = try GPPosterior(inputs: m.embed(x), targets: y.map { ($0 - m.targetMean) / m.targetStd }, kernel: m.config.kernel,
                                     parameters: m.gpParameters, pointNoise: v.map { $0 / (m.targetStd * m.targetStd) })
        let probe = randomMatrix(7, 3, seed: 9)
        let (p1, p2) = (try m.predict(probe), direct.predict(m.embed(probe), precision: .double))
        assertClose(p1.mean, p2.mean.map { $0 * m.targetStd + m.targetMean }, rtol: 1e-6, atol: 1e-9)
        let dir = TempDir()
        try m.save(to: dir.file("measured.h5"))
        let back = try DKLModel.load(from: dir.file("measured.h5"))
        XCTAssertEqual(back.config.noise, .measured)
        XCTAssertEqual(back.trainNoise, v)
        XCTAssertEqual(try back.predict(probe).mean, try m.predict(probe).mean)
        XCTAssertEqual(back.validationCoverage, m.validationCoverage)

        config.noise = .learnt
        let l = try DKLTrainer.train(x: x, y: y, config: config)
        XCTAssertEqual(l.noiseWeights.count, 3)
        XCTAssertTrue(l.trainNoise.isEmpty)
        let z = l.embed(probe)
        let want = (0..<7).map { i in (l.gpParameters.noise + exp(l.noiseWeights[2] + l.noiseWeights[0] * z[i, 0] + l.noiseWeights[1] * z[i, 1]))
            * l.targetStd * l.targetStd * l.varianceScale }
        assertClose(l.noiseVariance(probe), want, rtol: 1e-12)
        XCTAssertGreaterThan(Set(want.map { ($0 * 1e9).rounded() }).count, 1, "the noise varies with the input")
        try l.save(to: dir.file("learnt.h5"))
        let lb = try DKLModel.load(from: dir.file("learnt.h5"))
        XCTAssertEqual(lb.config.noise, .learnt)
        XCTAssertEqual(lb.noiseWeights, l.noiseWeights)
        XCTAssertEqual(lb.noiseVariance(probe), l.noiseVariance(probe))
        XCTAssertEqual(try lb.predict(probe).variance, try l.predict(probe).variance)
        // dkl-predict --noisy adds the noise predicted at each patch.
        let patches = (0..<7).map { "{\"y\":\($0),\"x\":0,\"patch\":[\(probe.row($0).map { "\($0)" }.joined(separator: ","))]}" }
        try ("{\"dkl_stream\":1,\"fields\":[{\"name\":\"y\",\"dtype\":\"i32\",\"shape\":[]},{\"name\":\"x\",\"dtype\":\"i32\",\"shape\":[]},"
             + "{\"name\":\"patch\",\"dtype\":\"f64\",\"shape\":[3]}]}\n" + patches.joined(separator: "\n") + "\n").write(toFile: dir.file("p.ndjson"), atomically: true, encoding: .utf8)
        let noisy = try Tools.expect(0, "dkl-predict", ["--model", "learnt.h5", "--noisy", "-J", "p.ndjson"], cwd: dir.path).out
        let latent = try l.predict(probe).variance
        for (i, line) in noisy.split(separator: "\n").dropFirst().enumerated() {
            assertClose(try JSONParser.parse(String(line))["var"]!.doubleValue!, latent[i] + want[i], rtol: 1e-9)
        }

        // A homoscedastic model's noise is its floor everywhere.
        config.noise = .homoscedastic
        let h = try DKLTrainer.train(x: x, y: y, config: config)
        XCTAssertEqual(Set(h.noiseVariance(probe)).count, 1)
        XCTAssertTrue(try h.posterior().pointNoise.isEmpty)
    }
}
