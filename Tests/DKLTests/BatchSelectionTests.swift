import DKL
import Foundation
import TestSupport
import XCTest

final class BatchSelectionTests: XCTestCase {
    func setUpPosterior() throws -> (GPPosterior, Matrix) {
        let x = randomMatrix(15, 2, seed: 1), c = randomMatrix(200, 2, seed: 2)
        let y = (0..<15).map { sin(3 * x[$0, 0]) + x[$0, 1] }
        let post = try GPPosterior(inputs: x, targets: y, kernel: .matern52,
                                   parameters: GPParameters(lengthscales: [0.4, 0.6], outputscale: 1.3, noise: 0.01, mean: 0.1))
        return (post, c)
    }

    /// The rank-one fantasy equals conditioning on each fantasy and predicting again.
    func testGreedyFantasizedEqualsRefittingWithFantasies() throws {
        let (post, c) = try setUpPosterior()
        let (mean, variance) = post.predict(c)
        let acq = Acquisition.ucb(beta: 4)
        let best = post.targets.max()!
        let fast = BatchSelection.greedyFantasized(posterior: post, candidates: c, mean: mean, variance: variance,
                                                   q: 5, acquisition: acq, best: best, excluded: [0, 1])
        // Reference: refit with each fantasy (observed at its posterior mean), predict all again.
        var slow: [Int] = []
        var current = post
        var blocked: Set<Int> = [0, 1]
        for _ in 0..<5 {
            let (m, v) = current.predict(c)
            let i = BatchSelection.argmax(acq.scores(mean: m, variance: v, best: best), excluding: blocked)!
            slow.append(i)
            blocked.insert(i)
            current = try current.adding(c.row(i), m[i])
            assertClose(current.predict(c).mean, mean, rtol: 1e-8, atol: 1e-10, "a believer's fantasy leaves the mean unchanged")
        }
        XCTAssertEqual(fast, slow)
        XCTAssertEqual(Set(fast).count, 5)
        XCTAssertFalse(fast.contains(0) || fast.contains(1))
    }

    func testLocalPenalizationSpreadsThePicks() {
        // A single smooth bump: without penalization the top 3 are neighbours.
        var coords: [(Int, Int)] = []
        var scores: [Double] = []
        for y in 0..<20 { for x in 0..<20 { coords.append((y, x)); scores.append(-Double((y - 10) * (y - 10) + (x - 10) * (x - 10))) } }
        let picks = BatchSelection.locallyPenalized(scores: scores, coordinates: coords, q: 3, radius: 3)
        XCTAssertEqual(coords[picks[0]].0, 10); XCTAssertEqual(coords[picks[0]].1, 10)
        for a in picks { for b in picks where a != b {
            let d = hypot(Double(coords[a].0 - coords[b].0), Double(coords[a].1 - coords[b].1))
            XCTAssertGreaterThan(d, 2.5, "picks \(coords[a]) and \(coords[b]) are too close")
        } }
        // A recent point damps its neighbourhood before anything is chosen.
        let away = BatchSelection.locallyPenalized(scores: scores, coordinates: coords, q: 1, radius: 3, recent: [(10, 10)])
        XCTAssertNotEqual(coords[away[0]].0 * 100 + coords[away[0]].1, 1010)
    }

    func testArgmaxTiesAndNaN() {
        XCTAssertEqual(BatchSelection.argmax([1, 3, 3, .nan]), 1)
        XCTAssertEqual(BatchSelection.argmax([.nan, 2], excluding: [1]), nil)
    }

    func testThompsonSamplesHaveThePosteriorMoments() throws {
        let (post, c) = try setUpPosterior()
        let pts = c.rows(0..<4)
        let (mean, variance) = post.predict(pts)
        var rng = Xoshiro(seed: 9)
        let draws = 4000
        var sum = [Double](repeating: 0, count: 4), sq = sum
        for _ in 0..<draws {
            let s = try Thompson.draw(posterior: post, points: pts, rng: &rng)
            for i in 0..<4 { sum[i] += s[i]; sq[i] += s[i] * s[i] }
        }
        for i in 0..<4 {
            let m = sum[i] / Double(draws), v = sq[i] / Double(draws) - m * m
            XCTAssertEqual(m, mean[i], accuracy: 4 * (variance[i] / Double(draws)).squareRoot() + 1e-9)
            XCTAssertEqual(v, variance[i], accuracy: 0.1 * variance[i] + 1e-9)
        }
        let pick = try Thompson.choose(posterior: post, candidates: c, maxSubset: 50, seed: 1, excluded: [3])
        XCTAssertNotNil(pick)
        XCTAssertNotEqual(pick, 3)
    }
}

final class EnsembleFantasiesTests: XCTestCase {
    /// Before any fantasy the ensemble's predictions, bit for bit; after fantasies, each
    /// member's variance equals conditioning that member's GP on the fantasies (at its
    /// posterior means) and predicting again, and the combined moments follow.
    func testFantasiesEqualRefittingEveryMember() throws {
        let x = randomMatrix(40, 5, seed: 21), y = (0..<40).map { sin(2 * Double($0) / 7) }
        let cand = randomMatrix(1500, 5, seed: 22)
        var c = DKLConfig()
        c.iterations = 20
        c.hidden = [8]
        c.ensemble = 2
        let e = try DKLEnsemble.train(x: x, y: y, config: c)
        var f = try EnsembleFantasies(ensemble: e, candidates: cand)
        let direct = try e.predict(cand)
        XCTAssertEqual(f.mean, direct.mean)
        XCTAssertEqual(f.variance, direct.variance)
        let picks = [17, 1203]
        for i in picks { f.observe(i) }
        var refitted: [(mean: [Double], variance: [Double])] = []
        for m in e.members {
            var post = try m.posterior()
            let z = m.embed(cand)
            for i in picks { post = try post.adding(z.row(i), post.predict(z.rows(i..<(i + 1))).mean[0]) }
            let (mu, v) = post.predict(z)
            refitted.append(m.inTargetUnits(mean: mu, variance: v))
        }
        let expected = Ensemble.combine(refitted)
        assertClose(f.mean, expected.mean, rtol: 1e-8, atol: 1e-10)
        assertClose(f.variance, expected.variance, rtol: 1e-6, atol: 1e-9)
        for i in picks { XCTAssertLessThan(f.variance[i], direct.variance[i]) }
        XCTAssertLessThan(f.variance.reduce(0, +), direct.variance.reduce(0, +))

        // Greedy batches: the first pick is the plain argmax; no repeats; exclusions hold.
        var g = try EnsembleFantasies(ensemble: e, candidates: cand)
        let acq = Acquisition.ucb(beta: 4)
        let batch = BatchSelection.greedyFantasized(&g, q: 4, acquisition: acq, best: y.max()!, excluded: [5])
        let plain = acq.scores(mean: direct.mean, variance: direct.variance, best: y.max()!, maximize: true)
        XCTAssertEqual(batch.first?.index, BatchSelection.argmax(plain, excluding: [5]))
        XCTAssertEqual(batch.first?.score, plain[batch[0].index])
        XCTAssertEqual(Set(batch.map(\.index)).count, 4)
        XCTAssertFalse(batch.contains { $0.index == 5 })
    }
}
