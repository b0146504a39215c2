import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-explore with a structured GP as its step model (--mean, --param, --inference): the
/// acquisition it records is EI of its prediction (MAP: one draw), a run extended equals
/// one run to the end, the physics' mean maps the property better than a plain GP from the
/// same number of points, and NUTS steps average the acquisition over the draws.
final class StructuredExploreTests: XCTestCase {
    func makeGrid(_ dir: TempDir) throws {
        _ = try Tools.python("""
            import numpy as np
            a = np.linspace(-1, 1, 30); k = np.linspace(0, 2, 30)
            A, K = np.meshgrid(a, k, indexing='ij')
            np.save('coords.npy', np.stack([A, K], axis=-1))
            np.save('truth.npy', 1.3 * np.sqrt(np.maximum(0.2 - A, 0)) * (1 + 0.3 * np.sin(2 * K)))
            """, cwd: dir.path)
    }

    let landau = ["--oracle", "truth.npy", "--mean", "A*sqrt(max(a0 - alpha, 0))", "--param", "A=lognormal:0,1", "--param", "a0=uniform:-1,1",
                  "--inputs", "alpha,k", "--init", "8", "-q", "coords.npy"]

    func records(_ dir: TempDir, _ file: String) throws -> [JSON] {
        try String(contentsOfFile: dir.file(file), encoding: .utf8).split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
    }

    func testTheStructuredStepModel() throws {
        let dir = TempDir()
        try makeGrid(dir)
        try Tools.expect(0, "dkl-explore", landau + ["--steps", "12", "--trace", "s.ndjson", "--maps", "s.h5"], cwd: dir.path)
        let trace = try records(dir, "s.ndjson")
        XCTAssertEqual(trace.count, 20)
        // MAP: the recorded acquisition is EI (ξ = 0.01) of the recorded prediction, from the best value before the step.
        for (i, r) in trace.enumerated() where r["step"]!.intValue! > 0 {
            let best = trace[..<i].map { $0["value"]!.doubleValue! }.max()!
            let want = Acquisition.ei(xi: 0.01).scores(mean: [r["mean"]!.doubleValue!], variance: [r["var"]!.doubleValue!], best: best)[0]
            XCTAssertEqual(r["acquisition"]!.doubleValue!, want, accuracy: 1e-9 * max(1, want))
            XCTAssertTrue(r["noise"]!.doubleValue!.isFinite && r["outputscale"]!.doubleValue! > 0)
            XCTAssertEqual(r["lengthscale"]?.arrayValue?.count, 2)
        }
        // Extending a finished run retrains the same models: the same trace as one run to the end.
        try Tools.expect(0, "dkl-explore", landau + ["--steps", "6", "--trace", "e.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-explore", landau + ["--steps", "12", "--trace", "e.ndjson"], cwd: dir.path)
        let strip = { (r: JSON) -> String in
            var r = r
            for k in ["seconds_train", "seconds_predict", "seconds_acquire", "seconds_measure", "time"] { r.set(k, .null) }
            return r.text
        }
        XCTAssertEqual(try records(dir, "e.ndjson").map(strip), trace.map(strip))
        // From the same 20 points the physics maps |P| better than a plain GP.
        try Tools.expect(0, "dkl-explore", ["--oracle", "truth.npy", "-w", "1", "-N", "none", "--extractor", "none", "--ensemble", "1", "--init", "8",
                                            "--steps", "12", "-q", "--trace", "g.ndjson", "--maps", "g.h5", "coords.npy"], cwd: dir.path)
        let out = try Tools.python("""
            import h5py, numpy as np
            t = np.load('truth.npy')
            e = [np.sqrt(np.nanmean((h5py.File(f, 'r')['mean'][()] - t) ** 2)) for f in ('s.h5', 'g.h5')]
            print(e[0], e[1])
            """, cwd: dir.path)
        let e = out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(e.count, 2, out)
        XCTAssertLessThan(e[0], e[1] / 2, "structured \(e[0]) against GP \(e[1])")
    }

    func testNUTSStepsAndMistakes() throws {
        let dir = TempDir()
        try makeGrid(dir)
        try Tools.expect(0, "dkl-explore", landau + ["--inference", "nuts", "--warmup", "100", "--samples", "50", "--steps", "3", "--trace", "n.ndjson"], cwd: dir.path)
        let trace = try records(dir, "n.ndjson")
        XCTAssertEqual(trace.count, 11)
        for r in trace.suffix(3) { XCTAssertGreaterThan(r["acquisition"]!.doubleValue!, 0) }
        let cases: [([String], String)] = [
            (landau + ["-w", "3", "--trace", "x.ndjson"], "a structured GP's inputs are the image's channels at a pixel: -w 1"),
            (landau + ["--batch", "fantasize", "--count", "2", "--trace", "x.ndjson"], "--batch fantasize goes with the DKL model, not a structured GP (--mean)"),
            (landau + ["--warmup", "10", "--trace", "x.ndjson"], "--warmup goes with --inference nuts"),
            (landau.map { $0 == "alpha,k" ? "alpha" : $0 } + ["--trace", "x.ndjson"], "--inputs names 1 channels; the image has 2"),
            (landau + ["--ensemble", "2", "--trace", "x.ndjson"], "--ensemble goes with the DKL model, not a structured GP"),
            (landau + ["--param", "B=normal:0,1", "--trace", "x.ndjson"], "--param B: no parameter of that name"),
            (["--oracle", "truth.npy", "--chains", "2", "--trace", "x.ndjson", "coords.npy"], "--chains goes with a structured GP (--mean, --param, --inference)"),
        ]
        for (args, message) in cases {
            let r = try Tools.expect(64, "dkl-explore", args, cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix("dkl-explore: error: " + message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("x.ndjson"))
        }
    }

    /// Two candidate means (hypotheses): each step weighs them by their leave-one-out
    /// predictive density; the trace records the weights, which come to favour the physics.
    func testCandidateMeansAreWeighed() throws {
        let dir = TempDir()
        try makeGrid(dir)
        let args = ["--oracle", "truth.npy", "--mean", "A*sqrt(max(a0 - alpha, 0))", "--mean", "c + b*alpha", "--param", "A=lognormal:0,1",
                    "--param", "a0=uniform:-1,1", "--param", "c=normal:0,1", "--param", "b=normal:0,1", "--inputs", "alpha,k", "--init", "6", "-q", "coords.npy"]
        try Tools.expect(0, "dkl-explore", args + ["--steps", "8", "--trace", "h.ndjson"], cwd: dir.path)
        let trace = try records(dir, "h.ndjson")
        XCTAssertEqual(trace.count, 14)
        for r in trace where r["step"]!.intValue! > 0 {
            let w = r["weights"]!.arrayValue!.map { $0.doubleValue! }
            XCTAssertEqual(w.count, 2)
            XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
        }
        XCTAssertGreaterThan(trace.last!["weights"]!.arrayValue![0].doubleValue!, 0.8, "the Landau mean is favoured")
        // One mean: no weights field.
        try Tools.expect(0, "dkl-explore", landau + ["--steps", "1", "--trace", "one.ndjson"], cwd: dir.path)
        XCTAssertNil(try StreamReader(path: dir.file("one.ndjson")).schema["weights"])
        // A prior that belongs to no model.
        let r = try Tools.expect(64, "dkl-explore", args + ["--param", "z=normal:0,1", "--steps", "1", "--trace", "x.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-explore: error: --param z: no parameter of that name in any model"), r.report)
    }
}
