import DKL
import Foundation
import TestSupport
import XCTest

/// A scalarizer's variance from the spectrum's own counts (CountNoise, Bound.variances).
final class CountNoiseTests: XCTestCase {
    /// An EELS-like spectrum: a power-law background, an edge at 450, a peak at 300; values
    /// of a detector with gain 2, a dark level of 10 and read noise 1.5.
    static let axis = EnergyAxis(start: 200, step: 1, count: 400)
    static let noise = CountNoise(gain: 2, offset: 10, read: 1.5)
    static var spectrum: [Double] {
        axis.values.map { e in
            4e7 * pow(e, -2.2) + (e >= 450 ? 300 * exp(-(e - 450) / 80) : 0) + 400 * exp(-(e - 300) * (e - 300) / 50) + 10
        }
    }
    static let specs = ["integral:280:320", "mean:280:320", "ratio:280:320:500:560", "edge:400:440:455:520",
                        "edgeratio:400:440:455:520:240:270:285:315"]

    /// The counting noise estimated from spectra alone: 2,000 spectra drawn from the model
    /// (gain 0.3, dark level 10, read noise 1.5) with a dark region before a background and
    /// a peak of varying strength; the estimate against the truth.
    func testTheNoiseEstimatedFromTheDarkRegion() throws {
        let truth = CountNoise(gain: 0.3, offset: 10, read: 1.5)
        let energies = (0..<80).map { Double($0) * 0.1 }
        var rng = Xoshiro(seed: 11)
        var estimate = try CountNoise.Estimate(energies: energies, dark: 0...0.75)
        for k in 0..<2000 {
            let amplitude = 0.5 + 1.5 * Double(k % 17) / 16
            let spectrum = energies.map { e -> Double in
                let counts = e < 0.8 ? 0 : amplitude * (300 * exp(-(e - 0.8) / 3) + 400 * exp(-(e - 4.5) * (e - 4.5) / 0.8))
                return truth.gain * Poisson.sample(counts, &rng) + truth.offset + truth.read * rng.normal()
            }
            spectrum.withUnsafeBufferPointer { estimate.add($0) }
        }
        let got = try estimate.noise(file: nil)
        XCTAssertEqual(got.gain / truth.gain, 1, accuracy: 0.03, "gain \(got.gain)")
        XCTAssertEqual(got.offset, truth.offset, accuracy: 0.02)
        XCTAssertEqual(got.read / truth.read, 1, accuracy: 0.03, "read \(got.read)")
        // A region of one channel, and spectra with no counts above the dark level, are refused.
        XCTAssertThrowsError(try CountNoise.Estimate(energies: energies, dark: 0...0.05))
        var flat = try CountNoise.Estimate(energies: energies, dark: 0...0.75)
        for _ in 0..<50 { energies.map { _ in 10 + rng.normal() }.withUnsafeBufferPointer { flat.add($0) } }
        XCTAssertThrowsError(try flat.noise(file: "f.npy")) { XCTAssertTrue("\($0)".contains("does not grow"), "\($0)") }
        XCTAssertNil(try CountNoise.darkRegion("2:1"))
        XCTAssertEqual(try CountNoise.darkRegion("dark:-5:-1"), -5 ... -1)
        XCTAssertThrowsError(try CountNoise.darkRegion("dark:3:1"))
    }

    /// The predicted variance against the spread of 4,000 noisy spectra drawn from the model
    /// (Poisson counts on the gain, the dark level, Gaussian read noise), for every kind.
    func testVariancesMatchTheSpreadOfNoisySpectra() throws {
        let clean = CountNoiseTests.spectrum, noise = CountNoiseTests.noise
        var rng = Xoshiro(seed: 7)
        let draws = (0..<4000).map { _ in
            clean.map { v in noise.gain * Poisson.sample((v - noise.offset) / noise.gain, &rng) + noise.offset + noise.read * rng.normal() }
        }
        for spec in CountNoiseTests.specs {
            let bound = try Scalarizer.parse(spec).bind(CountNoiseTests.axis)
            let predicted = clean.withUnsafeBufferPointer { bound.variances($0, noise: noise)[0] }
            let values = draws.map { d in d.withUnsafeBufferPointer { bound.evaluate($0).values[0] } }
            let mean = values.reduce(0, +) / Double(values.count)
            let spread = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
            // A variance from 4,000 draws is within about 2.2% (one sd) of the truth.
            XCTAssertEqual(predicted / spread, 1, accuracy: 0.08, "\(spec): predicted \(predicted), spread \(spread)")
        }
    }

    /// The same for a diffraction pattern's detectors: a disc of about 40 counts a pixel off
    /// the centre, on a background of 2, electrons counted one by one.
    func testPatternVariancesMatchTheSpreadOfNoisyPatterns() throws {
        let (h, w) = (32, 32)
        let detector = Detector(height: h, width: w, centre: (16, 16))
        let clean = (0..<(h * w)).map { i -> Double in
            let (dy, dx) = (Double(i / w) - 17.5, Double(i % w) - 15.2)
            return 2 + 40 * exp(-(dy * dy + dx * dx) / 30)
        }
        let noise = CountNoise(gain: 1)
        var rng = Xoshiro(seed: 9)
        let draws = (0..<4000).map { _ in clean.map { Poisson.sample($0, &rng) } }
        for spec in ["com_x", "com_y", "com", "com_angle", "bf:6", "adf:6:12", "dpc"] {
            let bound = try Scalarizer.parse(spec).bind(detector)
            let predicted = clean.withUnsafeBufferPointer { bound.variances($0, noise: noise) }
            XCTAssertEqual(predicted.count, bound.scalarizer.fieldNames.count)
            for f in predicted.indices {
                let values = draws.map { d in d.withUnsafeBufferPointer { bound.evaluate($0).values[f] } }
                let mean = values.reduce(0, +) / Double(values.count)
                let spread = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
                XCTAssertEqual(predicted[f] / spread, 1, accuracy: 0.08, "\(spec)[\(f)]: predicted \(predicted[f]), spread \(spread)")
            }
        }
    }

    /// A band integral's variance is Σ w²·Var exactly; kinds it does not reach give NaN; NaN in
    /// the band gives NaN; binning k channels divides the gain and the read variance by k.
    func testTheExactCasesAndTheRest() throws {
        let s = CountNoiseTests.spectrum, noise = CountNoiseTests.noise
        let bound = try Scalarizer.parse("integral:280:320").bind(CountNoiseTests.axis)
        let want = (80...120).reduce(0.0) { $0 + noise.gain * (s[$1] - 10) + 1.5 * 1.5 }
        XCTAssertEqual(s.withUnsafeBufferPointer { bound.variances($0, noise: noise)[0] }, want, accuracy: 1e-9 * want)
        for spec in ["max:280:320", "peak:280:320", "fit:gauss:280:320"] {
            let b = try Scalarizer.parse(spec).bind(CountNoiseTests.axis)
            XCTAssertTrue(s.withUnsafeBufferPointer { b.variances($0, noise: noise) }.allSatisfy(\.isNaN), spec)
        }
        var holed = s
        holed[100] = .nan
        XCTAssertTrue(holed.withUnsafeBufferPointer { bound.variances($0, noise: noise)[0] }.isNaN)
        XCTAssertEqual(noise.binned(4), CountNoise(gain: 0.5, offset: 10, read: 0.75))
        XCTAssertEqual(noise.variance(5), 1.5 * 1.5, "below the dark level: read noise alone")
        XCTAssertEqual(try CountNoise.parse("2:10:1.5"), noise)
        XCTAssertEqual(try CountNoise.parse("3"), CountNoise(gain: 3))
        for bad in ["0", "-1:2", "2:x", "2:1:-1", "1:2:3:4", "", "inf"] {
            XCTAssertThrowsError(try CountNoise.parse(bad), bad)
        }
    }

    /// dkl-scalarize --counts: NAME_var after the values, the library's numbers; patterns and
    /// a bad --counts refused.
    func testTheTool() throws {
        let dir = TempDir()
        let s = CountNoiseTests.spectrum
        let rows = (0..<6).map { k in s.map { $0 * (1 + 0.1 * Double(k)) } }
        try NPYFile.write(dir.file("si.npy"), shape: [2, 3, 400], values: .double(rows.flatMap { $0 }))
        let out = try Tools.expect(0, "dkl-scalarize", ["-S", "g=integral:280:320", "-S", "e=edge:400:440:455:520", "--energy", "200:1", "--counts", "2:10:1.5",
                                                        "-J", "si.npy"], cwd: dir.path).out
        let lines = out.split(separator: "\n").map(String.init)
        let header = try JSONParser.parse(lines[0])
        XCTAssertEqual(header["fields"]?.arrayValue?.map { $0["name"]!.stringValue! }, ["y", "x", "g", "e", "g_var", "e_var", "flags"])
        let scal = SpectrumScalarizers(bound: [try Scalarizer.parse("g=integral:280:320").bind(CountNoiseTests.axis),
                                               try Scalarizer.parse("e=edge:400:440:455:520").bind(CountNoiseTests.axis)])
        var noisy = scal
        noisy.noise = CountNoiseTests.noise
        for (k, line) in lines.dropFirst().enumerated() {
            let r = try JSONParser.parse(line)
            let want = rows[k].withUnsafeBufferPointer { noisy.evaluate($0).values }
            XCTAssertEqual(["g", "e", "g_var", "e_var"].map { r[$0]!.doubleValue! }, want)
        }
        let bad = try Tools.expect(64, "dkl-scalarize", ["-S", "integral:280:320", "--energy", "200:1", "--counts", "0:1", "si.npy"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("--counts must be GAIN[:OFFSET[:READ]]"), bad.err)
    }
}
