import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-fit as a user runs it: the fit file read back predicts as the library does, the
/// draws are the same on any number of threads, and every mistake is one message with the
/// documented status and no file written.
final class DklFitTests: XCTestCase {
    func makeData(_ dir: TempDir, n: Int = 25, nan: Int = 0) throws {
        _ = try Tools.python("""
            import json, numpy as np, sys
            n, nan = int(sys.argv[1]), int(sys.argv[2])
            rng = np.random.default_rng(3)
            a = rng.uniform(-1, 1, n); k = rng.uniform(0, 2, n)
            P = 1.3 * np.sqrt(np.maximum(0.2 - a, 0)) + 0.1 * np.sin(2 * k) + 0.03 * rng.normal(size=n)
            with open('d.ndjson', 'w') as f:
                f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": "alpha", "dtype": "f64", "shape": []}, {"name": "k", "dtype": "f64", "shape": []},
                                    {"name": "P", "dtype": "f64", "shape": []}], "attrs": {}}) + "\\n")
                for i in range(n): f.write(json.dumps({"alpha": a[i], "k": k[i], "P": None if i < nan else P[i]}) + "\\n")
            """, args: [String(n), String(nan)], cwd: dir.path)
    }

    let landau = ["--mean", "A*sqrt(max(a0 - alpha, 0))", "--param", "A=lognormal:0,1", "--param", "a0=uniform:-1,1", "--target", "P"]

    /// ^C while sampling saves the chains beside the fit (FIT.part), writes no fit and
    /// exits 130; the same command continues them and gives the draws of a fit that was
    /// never stopped; other options refuse the saved state.
    func testAnInterruptedFitContinuesToTheSameDraws() throws {
        let dir = TempDir()
        try makeData(dir, n: 90)
        let args = landau + ["--inference", "nuts", "--chains", "2", "--warmup", "1500", "--samples", "1500", "-q", "d.ndjson"]
        let started = Date()
        try Tools.expect(0, "dkl-fit", args + ["-o", "whole.h5", "--draws", "whole.ndjson"], cwd: dir.path)
        let whole = Date().timeIntervalSince(started)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("dkl-fit"))
        p.arguments = args + ["-o", "cut.h5", "--draws", "cut.ndjson"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        usleep(UInt32(whole * 0.4 * 1e6))
        p.interrupt()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if p.terminationStatus == 0 { throw XCTSkip("the fit ended before the interrupt") }
        XCTAssertEqual(p.terminationStatus, 130, message)
        XCTAssertTrue(message.hasPrefix("dkl-fit: interrupted after ") && message.contains("the same command continues them"), message)
        XCTAssertTrue(dir.exists("cut.h5.part"))
        XCTAssertFalse(dir.exists("cut.h5"))
        XCTAssertFalse(dir.exists("cut.ndjson"))
        let other = try Tools.expect(1, "dkl-fit", args + ["--seed", "9", "-o", "cut.h5"], cwd: dir.path)
        XCTAssertTrue(other.err.contains("cut.h5.part: the state of another fit"), other.err)
        try Tools.expect(0, "dkl-fit", args + ["-o", "cut.h5", "--draws", "cut.ndjson"], cwd: dir.path)
        XCTAssertFalse(dir.exists("cut.h5.part"))
        func draws(_ name: String) throws -> [Substring] { try String(contentsOfFile: dir.file(name), encoding: .utf8).split(separator: "\n").dropFirst().map { $0 } }
        let (a, b) = (try draws("whole.ndjson"), try draws("cut.ndjson"))
        XCTAssertEqual(a.count, 3000)
        XCTAssertEqual(a, b)
    }

    /// Over one input with a Matérn kernel the likelihood is the Kalman filter's; the
    /// MAP it reaches is the one the Cholesky factorization reaches (DKL_DENSE_LIKELIHOOD=1).
    func testOneInputFitsAlikeByKalmanFilterAndByCholesky() throws {
        let dir = TempDir()
        try makeData(dir, n: 30)
        let args = landau + ["--inputs", "alpha", "-k", "matern32", "d.ndjson"]
        let kalman = try Tools.expect(0, "dkl-fit", args + ["-o", "a.h5"], cwd: dir.path)
        let cholesky = try Tools.run("dkl-fit", args + ["-o", "b.h5"], cwd: dir.path, env: ["DKL_DENSE_LIKELIHOOD": "1"])
        XCTAssertEqual(cholesky.status, 0, cholesky.report)
        let (a, b) = (try JSONParser.parse(kalman.out), try JSONParser.parse(cholesky.out))
        let (pa, pb) = (try XCTUnwrap(a["parameters"]?.arrayValue), try XCTUnwrap(b["parameters"]?.arrayValue))
        XCTAssertEqual(pa.map { $0["name"]?.stringValue }, ["A", "a0", "lengthscale", "outputscale", "noise"])
        for (x, y) in zip(pa, pb) {
            let (u, v) = (try XCTUnwrap(x["mean"]?.doubleValue), try XCTUnwrap(y["mean"]?.doubleValue))
            XCTAssertEqual(u, v, accuracy: 1e-4 * max(abs(v), 1e-3), x["name"]?.stringValue ?? "")
        }
        let (la, lb) = (try XCTUnwrap(a["log_marginal_likelihood"]?.doubleValue), try XCTUnwrap(b["log_marginal_likelihood"]?.doubleValue))
        XCTAssertEqual(la, lb, accuracy: 1e-6 * abs(lb))
    }

    func testTheFitFileAndItsDraws() throws {
        let dir = TempDir()
        try makeData(dir, nan: 3)
        let nuts = ["--inference", "nuts", "--chains", "3", "--warmup", "200", "--samples", "150", "--seed", "5"]
        let r = try Tools.expect(0, "dkl-fit", landau + nuts + ["-j", "1", "-o", "one.h5", "d.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("dkl-fit: 3 records without a finite target or inputs left out"), r.report)
        XCTAssertTrue(r.err.contains("fitting 6 parameters (A, a0, lengthscale_alpha, lengthscale_k, outputscale, noise) to 22 points"), r.report)
        let summary = try JSONParser.parse(r.out)
        XCTAssertEqual(summary["points"]?.intValue, 22)
        XCTAssertEqual(summary["draws"]?.intValue, 450)
        XCTAssertEqual(summary["parameters"]?.arrayValue?.count, 6)
        for key in ["elpd_loo", "se_loo", "elpd_waic", "p_waic", "divergences", "log_marginal_likelihood"] { XCTAssertNotNil(summary[key]?.doubleValue, key) }
        // The same draws on two threads.
        try Tools.expect(0, "dkl-fit", landau + nuts + ["-j", "2", "-o", "two.h5", "d.ndjson"], cwd: dir.path)
        let one = try BayesianFit.load(from: dir.file("one.h5")), two = try BayesianFit.load(from: dir.file("two.h5"))
        XCTAssertEqual(one.draws, two.draws)
        XCTAssertEqual(one.draws.count, 450)
        XCTAssertEqual(one.model.parameters.map(\.name), ["A", "a0", "lengthscale_alpha", "lengthscale_k", "outputscale", "noise"])
        // The summary's means are the draws'.
        for (k, p) in summary["parameters"]!.arrayValue!.enumerated() {
            XCTAssertEqual(p["mean"]!.doubleValue!, one.draws.map { $0[k] }.reduce(0, +) / 450, accuracy: 1e-12)
        }
        // The file's model predicts as a model built from the same data and draws.
        let at = Matrix(rows: 3, cols: 2, data: [-0.5, 1.0, 0.1, 0.5, 0.6, 1.5])
        let rebuilt = try StructuredGP(mean: try MeanExpression("A*sqrt(max(a0 - alpha, 0))", inputs: ["alpha", "k"]), kernel: .matern52, x: one.model.x, y: one.model.y,
                                       priors: Dictionary(uniqueKeysWithValues: one.model.parameters.map { ($0.name, $0.prior) }))
        let want = try BayesianFit(model: rebuilt, inference: .nuts, draws: one.draws, chains: 3, summaries: []).predict(at)
        let got = try one.predict(at)
        XCTAssertEqual(got.mean, want.mean)
        XCTAssertEqual(got.variance, want.variance)
        // MAP: one row, the mode.
        let map = try JSONParser.parse(try Tools.expect(0, "dkl-fit", landau + ["--kernel", "none", "-o", "map.h5", "-q", "d.ndjson"], cwd: dir.path).out)
        XCTAssertEqual(try BayesianFit.load(from: dir.file("map.h5")).draws.count, 1)
        XCTAssertEqual(map["parameters"]?.arrayValue?.map { $0["name"]!.stringValue! }, ["A", "a0", "noise"])
        XCTAssertEqual(map["parameters"]!.arrayValue![1]["mean"]!.doubleValue!, 0.2, accuracy: 0.06)
    }

    func testMistakesAreOneMessage() throws {
        let dir = TempDir()
        try makeData(dir)
        try makeData(TempDir())
        let cases: [([String], Int32, String)] = [
            (landau + ["-o", "f.h5", "missing.ndjson"], 1, "dkl-fit: missing.ndjson: no such file"),
            (["--mean", "A*(alpha+", "--param", "A=normal:0,1", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --mean: the expression ends where a value was expected at column 10:"),
            (["--mean", "A*alpha", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: the mean's parameter 'A' needs a prior: --param A=DIST (e.g. normal:0,1)"),
            (["--mean", "A*alpha", "--param", "A=beta:1,2", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --param A: unknown distribution 'beta'"),
            (["--mean", "A*alpha", "--param", "A", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --param must be NAME=DIST, not 'A'"),
            (landau + ["--param", "noise=normal:0,1", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --param noise: the noise must be positive"),
            (landau + ["--param", "B=normal:0,1", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --param B: no parameter of that name"),
            (landau + ["--warmup", "10", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --warmup goes with --inference nuts"),
            (landau + ["--kernel", "cubic", "-o", "f.h5", "d.ndjson"], 64, "dkl-fit: error: --kernel must be rbf, matern12, matern32, matern52 or none"),
            (landau + ["--inputs", "alpha,zeta", "-o", "f.h5", "d.ndjson"], 1, "dkl-fit: d.ndjson:header: no numeric field 'zeta' for --inputs"),
            (["--target", "P", "-o", "f.h5", "d.ndjson", "--kernel", "none"], 64, "dkl-fit: error: --kernel none needs a mean function (--mean EXPR)"),
            (landau + ["d.ndjson"], 64, "dkl-fit: error: give the fit file with -o FIT"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-fit", args, cwd: dir.path)
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("f.h5"), "no file written: \(args)")
        }
        // Fewer than two usable records.
        let few = TempDir()
        try makeData(few, n: 3, nan: 2)
        let r = try Tools.expect(1, "dkl-fit", landau + ["-o", "f.h5", "d.ndjson"], cwd: few.path)
        XCTAssertTrue(r.err.contains("dkl-fit: d.ndjson: 1 record with a finite target and inputs: at least 2 are needed"), r.report)
        // A damaged fit file is refused when read.
        try Tools.expect(0, "dkl-fit", landau + ["--kernel", "none", "-q", "-o", "ok.h5", "d.ndjson"], cwd: dir.path)
        XCTAssertThrowsError(try BayesianFit.load(from: dir.file("d.ndjson")))
    }

    /// The posterior of a structured GP (a decay with an offset as the mean, a Matérn 5/2
    /// GP, six priors) against NumPyro's NUTS in a long run (Tests/Fixtures/bayes): every
    /// parameter's mean within three combined Monte-Carlo standard errors, and its spread:
    /// for a positive parameter the sd of its logarithm (the sampler's coordinate, where the
    /// posterior is near normal: a lengthscale's own sd, with a kurtosis near 100, is too
    /// noisy to test), for the others the sd; each within three combined Monte-Carlo errors
    /// of the sd (from the fourth moment and the ESS of the squared deviations).
    func testThePosteriorAgreesWithNumPyro() throws {
        let fixtures = Tools.root + "/Tests/Fixtures/bayes/"
        let reference = try JSONParser.parse(try String(contentsOfFile: fixtures + "reference.json", encoding: .utf8))
        let dir = TempDir()
        let r = try Tools.expect(0, "dkl-fit", ["--mean", "A*exp(-alpha/L) + c", "--param", "A=lognormal:0,1", "--param", "L=lognormal:0,0.5",
                                                "--param", "c=normal:0,1", "--param", "lengthscale=lognormal:0,1", "--param", "outputscale=lognormal:-2,1",
                                                "--param", "noise=lognormal:-5,1", "--target", "y", "--inference", "nuts", "--chains", "4",
                                                "--warmup", "1000", "--samples", "2500", "-o", dir.file("fit.h5"), "--draws", dir.file("draws.ndjson"),
                                                fixtures + "data.ndjson"])
        let summary = try JSONParser.parse(r.out)
        let parameters = summary["parameters"]!.arrayValue!
        XCTAssertEqual(parameters.map { $0["name"]!.stringValue! }, ["A", "L", "c", "lengthscale", "outputscale", "noise"])
        let rows = try String(contentsOfFile: dir.file("draws.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(rows.count, 4 * 2500)
        for p in parameters {
            let name = p["name"]!.stringValue!
            let ref = reference["parameters"]![name]!
            let (mean, sd, mcse, ess) = (p["mean"]!.doubleValue!, p["sd"]!.doubleValue!, p["mcse_mean"]!.doubleValue!, p["ess_bulk"]!.doubleValue!)
            let (refMean, refSD, refMCSE, refESS) = (ref["mean"]!.doubleValue!, ref["sd"]!.doubleValue!, ref["mcse_mean"]!.doubleValue!, ref["ess"]!.doubleValue!)
            XCTAssertEqual(mean, refMean, accuracy: 3 * (mcse * mcse + refMCSE * refMCSE).squareRoot(), name)
            if let refLogSD = ref["log_sd"]?.doubleValue, let refLogMCSE = ref["log_mcse_sd"]?.doubleValue {
                let chains = (0..<4).map { c in rows.filter { $0["chain"]!.intValue! == c }.map { Foundation.log($0[name]!.doubleValue!) } }
                let all = chains.flatMap { $0 }
                let m = all.reduce(0, +) / Double(all.count)
                let logSD = (all.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(all.count - 1)).squareRoot()
                let ours = MCMCDiagnostics.sdStandardError(chains)
                XCTAssertEqual(logSD, refLogSD, accuracy: 3 * (ours * ours + refLogMCSE * refLogMCSE).squareRoot(), "log \(name)")
            } else {
                let mcseSD = p["mcse_sd"]!.doubleValue!
                XCTAssertEqual(sd, refSD, accuracy: 3 * mcseSD * (1 + ess / refESS).squareRoot(), name)
            }
            XCTAssertLessThan(p["rhat"]!.doubleValue!, 1.01, name)
            XCTAssertGreaterThan(ess, 500, name)
        }
    }

    /// A fit in the pipe: dkl-predict gives the posterior mixture and every draw's
    /// prediction, dkl-acquire averages EI over the draws (not EI of the mixture), and
    /// Thompson sampling draws from the posterior (with no GP, the mean function's best).
    func testPredictAndAcquireWithAFit() throws {
        let dir = TempDir()
        try makeData(dir)
        _ = try Tools.python("""
            import json, numpy as np
            a, k = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(0, 2, 5), indexing='ij')
            with open('cand.ndjson', 'w') as f:
                f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": n, "dtype": t, "shape": []} for n, t in (("y", "i32"), ("x", "i32"), ("alpha", "f64"), ("k", "f64"))], "attrs": {}}) + "\\n")
                for y in range(9):
                    for x in range(5): f.write(json.dumps({"y": y, "x": x, "alpha": a[y, x], "k": k[y, x]}) + "\\n")
            """, cwd: dir.path)
        let nuts = ["--inference", "nuts", "--chains", "2", "--warmup", "150", "--samples", "60", "--seed", "2", "-q"]
        try Tools.expect(0, "dkl-fit", landau + nuts + ["-o", "fit.h5", "d.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-predict", ["-m", "fit.h5", "--draws", "40", "cand.ndjson", "-o", "pred.ndjson"], cwd: dir.path)
        let fit = try BayesianFit.load(from: dir.file("fit.h5"))
        let reader = try StreamReader(path: dir.file("cand.ndjson"))
        let (coords, x) = try FitData.candidates(reader, names: fit.model.inputNames)
        XCTAssertEqual(coords.count, 45)
        let want = try fit.predict(x, maxDraws: 40)
        let recs = try String(contentsOfFile: dir.file("pred.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(recs.count, 45)
        for (i, r) in recs.enumerated() {
            XCTAssertEqual(r["mean"]!.doubleValue!, want.mean[i])
            XCTAssertEqual(r["var"]!.doubleValue!, want.variance[i])
            XCTAssertEqual(r["draw_mean"]!.arrayValue!.map { $0.doubleValue! }, want.perDraw.map { $0.mean[i] })
            // lo and hi: the mixture's distribution function is 2.5% and 97.5% there.
            let cdf = { (q: Double) in want.perDraw.reduce(0.0) { $0 + 0.5 * erfc(-(q - $1.mean[i]) / ($1.variance[i] * 2).squareRoot()) } / Double(want.perDraw.count) }
            XCTAssertEqual(cdf(r["lo"]!.doubleValue!), 0.025, accuracy: 1e-9)
            XCTAssertEqual(cdf(r["hi"]!.doubleValue!), 0.975, accuracy: 1e-9)
        }
        // EI averaged over the 40 draws.
        let out = try Tools.expect(0, "dkl-acquire", ["-a", "ei", "--best", "0.9", "--map", "pred.ndjson", "-J"], cwd: dir.path).out
        let scores = try out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0))["score"]!.doubleValue! }
        var averaged = [Double](repeating: 0, count: 45)
        for d in want.perDraw {
            let s = Acquisition.ei(xi: 0.01).scores(mean: d.mean, variance: d.variance, best: 0.9)
            for i in 0..<45 { averaged[i] += s[i] / 40 }
        }
        for i in 0..<45 { XCTAssertEqual(scores[i], averaged[i], accuracy: 1e-12) }
        let mixture = Acquisition.ei(xi: 0.01).scores(mean: want.mean, variance: want.variance, best: 0.9)
        XCTAssertGreaterThan(zip(mixture, averaged).map { abs($0 - $1) }.max()!, 1e-6, "the draws' average is not EI of the mixture")
        // Thompson: with no GP, the drawn mean function's best is at the smallest α.
        try Tools.expect(0, "dkl-fit", landau + nuts + ["--kernel", "none", "-o", "pure.h5", "d.ndjson"], cwd: dir.path)
        let picks = try Tools.expect(0, "dkl-acquire", ["-a", "thompson", "--model", "pure.h5", "--count", "3", "--seed", "4", "cand.ndjson", "-J"], cwd: dir.path).out
        let chosen = try picks.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(chosen.count, 3)
        XCTAssertEqual(Set(chosen.map { $0["x"]!.intValue! }).count, 3, "each choice is excluded from the next")
        for c in chosen { XCTAssertEqual(c["y"]?.intValue, 0) }
        // The same seed, the same choices (the header's time left out: the runs may straddle a second).
        let again = try Tools.expect(0, "dkl-acquire", ["-a", "thompson", "--model", "fit.h5", "--count", "2", "--seed", "4", "--no-provenance", "cand.ndjson", "-J"], cwd: dir.path).out
        XCTAssertEqual(again, try Tools.expect(0, "dkl-acquire", ["-a", "thompson", "--model", "fit.h5", "--count", "2", "--seed", "4", "--no-provenance", "cand.ndjson", "-J"], cwd: dir.path).out)
        // Mistakes.
        XCTAssertTrue(try Tools.expect(64, "dkl-predict", ["-m", "fit.h5", "--embedding", "cand.ndjson"], cwd: dir.path).err.contains("--embedding goes with a DKL model, not a fit"))
        XCTAssertTrue(try Tools.expect(1, "dkl-predict", ["-m", "fit.h5", "pred.ndjson"], cwd: dir.path).err.contains("the candidates need the fit's inputs: fields alpha, k"))
    }
}
