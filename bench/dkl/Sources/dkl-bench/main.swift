import DKL
import Foundation

// The canonical static workload: 16×16 patches of the globally normalized image, all 12,769
// candidates, targets the standardized ratio map; train on train_idx_N, predict everything,
// score on the held-out candidates. Prints one "RESULT {json}" line like the anchor runner.
//   dkl-bench --n 500 --seed 0 --setting canonical|default [--data DIR]
// canonical: the anchors' recipe (500 Adam iterations, lr 0.01, no validation split);
// default:   the toolkit's defaults (held-out validation picks the iteration and calibrates).
var args = [String: String]()
var it = CommandLine.arguments.dropFirst().makeIterator()
while let k = it.next() { if k.hasPrefix("--"), let v = it.next() { args[String(k.dropFirst(2))] = v } }
let data = args["data"] ?? "../shared/bench/data"
let n = Int(args["n"] ?? "500")!, seed = UInt64(args["seed"] ?? "0")!, setting = args["setting"] ?? "canonical"

let img = try ArrayFile.open(data + "/image.npy").readAll()
let (lo, hi) = (img.min()!, img.max()!)
let truth = try ArrayFile.open(data + "/truth_ratio.npy").readAll()
var X = Matrix(rows: 12769, cols: 256)
var raw = [Double](repeating: 0, count: 12769)
for i in 0..<113 { for j in 0..<113 {
    let k = i * 113 + j
    for r in 0..<16 { for c in 0..<16 { X.data[k * 256 + r * 16 + c] = (img[(i + r) * 128 + j + c] - lo) / (hi - lo) } }
    raw[k] = truth[(i + 8) * 128 + j + 8]
} }
let mean = raw.reduce(0, +) / 12769
let sd = (raw.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12769).squareRoot()
let y = raw.map { ($0 - mean) / sd }
let train = try ArrayFile.open(data + "/train_idx_\(n).npy").readAll().map { Int($0) }

/// The machine's dgemm, Cholesky and sgemm rates at n = 2000 (the denominators of the FLOP
/// fractions), GFLOP/s, the median of five runs each.
func machineRates() throws -> (dgemm: Double, cholesky: Double, sgemm: Double) {
    let m = 2000
    var g = Xoshiro(seed: 1)
    let a = Matrix(rows: m, cols: m, data: (0..<(m * m)).map { _ in g.uniform() - 0.5 })
    var spd = a.matmul(a, transB: true)
    for i in 0..<m { spd[i, i] += Double(m) }
    var gemm = [Double](), chol = [Double](), sgemm = [Double]()
    let a32 = a.data.map { Float($0) }
    var c32 = [Float](repeating: 0, count: m * m)
    for _ in 0..<5 {
        let t0 = Date(); _ = a.matmul(a); gemm.append(2 * pow(Double(m), 3) / Date().timeIntervalSince(t0) / 1e9)
        let t1 = Date(); _ = try Cholesky(spd); chol.append(pow(Double(m), 3) / 3 / Date().timeIntervalSince(t1) / 1e9)
        let t2 = Date()
        a32.withUnsafeBufferPointer { p in c32.withUnsafeMutableBufferPointer { BLAS.gemm(p.baseAddress!, p.baseAddress!, $0.baseAddress!, m: m, n: m, k: m) } }
        sgemm.append(2 * pow(Double(m), 3) / Date().timeIntervalSince(t2) / 1e9)
    }
    return (gemm.sorted()[2], chol.sorted()[2], sgemm.sorted()[2])
}

if setting == "peak" {
    let rates = try machineRates()
    let r: JSON = ["anchor": "peak", "n": 2000, "dgemm_gflops": .number(rates.dgemm),
                   "cholesky_gflops": .number(rates.cholesky), "sgemm_gflops": .number(rates.sgemm),
                   "blas_threads": .string(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default")]
    print("RESULT " + r.text)
    exit(0)
}

var config = DKLConfig()
config.seed = seed
if setting == "canonical" || setting == "million" {
    // The anchors' model: one MLP 256-64-64-2 and an RBF kernel, no validation split.
    config.validationFraction = 0; config.ensemble = 1; config.kernel = .rbf; config.embedding = 2; config.hidden = [64, 64]
}
if setting == "million" {
    // Prediction of 1,000,000 candidates in bounded memory: a model trained briefly, then
    // candidates made chunk by chunk (patches of the image, shifted in brightness so that
    // none repeats) and predicted one chunk at a time.
    config.iterations = 50
    let model = try DKLTrainer.train(x: X.gather(train), y: train.map { y[$0] }, config: config)
    let post = try model.posterior()
    let total = 1_000_000, chunk = 8192
    var done = 0, sumMean = 0.0, maxVar = 0.0
    let t0 = Date()
    while done < total {
        let rows = min(chunk, total - done)
        var c = Matrix(rows: rows, cols: 256)
        for r in 0..<rows {
            let k = (done + r) % 12769, shift = Double((done + r) / 12769) * 1e-4
            for j in 0..<256 { c.data[r * 256 + j] = X.data[k * 256 + j] + shift }
        }
        let p = try model.predict(c, posterior: post)
        sumMean += p.mean.reduce(0, +)
        maxVar = max(maxVar, p.variance.max()!)
        done += rows
    }
    let s = Date().timeIntervalSince(t0)
    let r: JSON = ["anchor": "dkl-million", "n": .number(Double(n)), "candidates": .number(Double(total)),
                   "predict_s": .number(s), "candidates_per_s": .number(Double(total) / s),
                   "mean_of_means": .number(sumMean / Double(total)), "max_variance": .number(maxVar)]
    print("RESULT " + r.text)
    exit(0)
}
if setting == "phases" {
    // Each phase of one model's posterior and prediction (the defaults' model, briefly
    // trained: the phases' times do not depend on the weights), the median of five runs each.
    config.ensemble = 1; config.iterations = 20
    let model = try DKLTrainer.train(x: X.gather(train), y: train.map { y[$0] }, config: config)
    let p = model.gpParameters
    let z = model.embed(model.trainInputs)
    func median(_ body: () throws -> Void) rethrows -> Double {
        var t: [Double] = []
        for _ in 0..<5 { let t0 = Date(); try body(); t.append(Date().timeIntervalSince(t0)) }
        return t.sorted()[2]
    }
    var k = Matrix(rows: 0, cols: 0)
    let kernel = median { k = config.kernel.matrix(z, z, lengthscales: p.lengthscales, outputscale: p.outputscale) }
    for i in 0..<n { k[i, i] += p.noise }
    var chol: Cholesky?
    let factor = try median { chol = try Cholesky(k) }
    let inverse = median { _ = chol!.inverseFactor() }
    var zc = Matrix(rows: 0, cols: 0)
    let network = median { zc = model.embed(X) }
    let post = try model.posterior()
    let single = median { _ = post.predict(zc, precision: .single) }
    let double = median { _ = post.predict(zc, precision: .double) }
    let nd = Double(n), m = 12769.0
    let rates = try machineRates()
    let r: JSON = ["anchor": "dkl-phases", "n": .number(nd), "dgemm_gflops": .number(rates.dgemm),
                   "cholesky_gflops": .number(rates.cholesky), "sgemm_gflops": .number(rates.sgemm),
                   "kernel_s": .number(kernel), "cholesky_s": .number(factor), "cholesky_gflop": .number(nd * nd * nd / 3 / 1e9),
                   "inverse_s": .number(inverse), "inverse_gflop": .number(nd * nd * nd / 3 / 1e9),
                   "network_s": .number(network), "network_gflop": .number(2 * m * (256 * 64 + 64 * 64 + 64 * Double(config.embedding)) / 1e9),
                   "predict_single_s": .number(single), "product_single_gflop": .number(nd * nd * (m - nd) / 1e9),
                   "predict_double_s": .number(double), "product_double_gflop": .number(nd * nd * m / 1e9)]
    print("RESULT " + r.text)
    exit(0)
}
if setting == "precision" {
    // The single-precision variance product against float64 on the same models: the largest
    // relative difference of any candidate's variance, the NLPD of both, and their times
    // (alternating, medians of three, the posteriors built beforehand).
    let ensemble = try DKLEnsemble.train(x: X.gather(train), y: train.map { y[$0] }, config: config)
    let posteriors = try ensemble.posteriors()
    func with(_ p: VariancePrecision) -> DKLEnsemble {
        var e = ensemble
        for k in e.members.indices { e.members[k].config.variancePrecision = p }
        return e
    }
    let (single, double) = (with(.single), with(.double))
    var times: [VariancePrecision: [Double]] = [:]
    var preds: [VariancePrecision: (mean: [Double], variance: [Double], noise: Double)] = [:]
    for _ in 0..<3 {
        for (p, e) in [(VariancePrecision.double, double), (.single, single)] {
            let t0 = Date()
            preds[p] = try e.predict(X, posteriors: posteriors)
            times[p, default: []].append(Date().timeIntervalSince(t0))
        }
    }
    let trainSet = Set(train)
    func nlpd(_ q: (mean: [Double], variance: [Double], noise: Double)) -> Double {
        var s = 0.0, c = 0
        for k in 0..<12769 where !trainSet.contains(k) {
            let v = q.variance[k] + q.noise, e = q.mean[k] - y[k]
            s += 0.5 * log(2 * .pi * v) + e * e / (2 * v); c += 1
        }
        return s / Double(c)
    }
    let (a, b) = (preds[.double]!, preds[.single]!)
    let worst = zip(a.variance, b.variance).map { abs($1 - $0) / $0 }.max()!
    let meanDiff = zip(a.mean, b.mean).map { abs($1 - $0) }.max()!
    let median = { (x: [Double]) in x.sorted()[x.count / 2] }
    let r: JSON = ["anchor": "dkl-precision", "n": .number(Double(n)), "seed": .number(Double(seed)),
                   "members": .number(Double(ensemble.members.count)),
                   "max_relative_variance_difference": .number(worst), "max_mean_difference": .number(meanDiff),
                   "nlpd_double": .number(nlpd(a)), "nlpd_single": .number(nlpd(b)),
                   "predict_s_double": .number(median(times[.double]!)), "predict_s_single": .number(median(times[.single]!))]
    print("RESULT " + r.text)
    exit(0)
}
// When each iteration ends (the first member's): the median gap is one iteration's time,
// which a pause of the shared machine moves less than the total does.
final class Stamps: @unchecked Sendable {
    let lock = NSLock()
    var times: [Double] = []
    func add() { lock.lock(); times.append(Date().timeIntervalSinceReferenceDate); lock.unlock() }
}
let stamps = Stamps()
let t0 = Date()
let ensemble = try DKLEnsemble.train(x: X.gather(train), y: train.map { y[$0] }, config: config) { member, _, _ in
    if member == 0 { stamps.add() }
    return true
}
let model = ensemble.members[0]
let t1 = Date()
let pred = try ensemble.predict(X)
let t2 = Date()
_ = try ensemble.predict(X)
let t3 = Date()
let trainSet = Set(train)
var se = 0.0, nlpd = 0.0, inside = 0, count = 0
for k in 0..<12769 where !trainSet.contains(k) {
    let v = pred.variance[k] + pred.noise, e = pred.mean[k] - y[k]
    se += e * e
    nlpd += 0.5 * log(2 * .pi * v) + e * e / (2 * v)
    if abs(e) <= 2 * v.squareRoot() { inside += 1 }
    count += 1
}
let p = model.gpParameters
let result: JSON = [
    "anchor": .string("dkl-\(setting)"), "mode": "static", "n": .number(Double(n)), "seed": .number(Double(seed)),
    "dtype": "float64", "train_iters": .number(Double(config.iterations)), "iters_done": .number(Double(model.lossCurve.count)),
    "kept_iteration": .number(Double(model.keptIteration)),
    "train_s": .number(t1.timeIntervalSince(t0)), "predict_s": .number(t2.timeIntervalSince(t1)),
    "predict_again_s": .number(t3.timeIntervalSince(t2)),
    "rmse": .number((se / Double(count)).squareRoot()), "nlpd": .number(nlpd / Double(count)),
    "coverage_2sd": .number(Double(inside) / Double(count)), "n_test": .number(Double(count)),
    "noise": .number(p.noise), "variance_scale": .number(model.varianceScale),
    "blas_threads": .string(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "default"),
    "ms_per_iteration_mean": .number(1000 * t1.timeIntervalSince(t0) / Double(max(ensemble.members.map(\.lossCurve.count).reduce(0, +), 1))),
    "ms_per_iteration": .number(1000 * { (g: [Double]) in g.isEmpty ? Double.nan : g.sorted()[g.count / 2] }(zip(stamps.times.dropFirst(), stamps.times).map { $0 - $1 })),
    "members": .number(Double(ensemble.members.count)),
    "fit_points": .number(Double(setting == "canonical" ? n : n - Int((Double(n) * config.validationFraction).rounded()))),
]
print("RESULT " + result.text)
