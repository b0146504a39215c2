import Foundation
import DKLCore

/// Choosing q points at once on a discrete candidate set.
public enum BatchSelection {
    /// Greedy selection with fantasized observations ("kriging believer"): after each pick
    /// the GP is conditioned on a fantasy at its posterior mean (`FantasizedVariance`), so
    /// the next pick sees that point's uncertainty removed.
    ///
    /// - Parameters:
    ///   - posterior: the GP (in the embedding space of `candidates`, standardized units).
    ///   - candidates: m×d embedded candidates; `mean`, `variance`: their latent predictions.
    ///   - excluded: candidate indices never chosen (already measured).
    /// - Returns: the chosen candidate indices, in order.
    public static func greedyFantasized(posterior: GPPosterior, candidates: Matrix, mean: [Double], variance: [Double],
                                        q: Int, acquisition: Acquisition, best: Double, maximize: Bool = true,
                                        excluded: Set<Int> = []) -> [Int] {
        var fantasies = FantasizedVariance(posterior: posterior, candidates: candidates, variance: variance)
        var chosen: [Int] = []
        var blocked = excluded
        for _ in 0..<min(q, candidates.rows - blocked.count) {
            let scores = acquisition.scores(mean: mean, variance: fantasies.variance, best: best, maximize: maximize)
            guard let i = BatchSelection.argmax(scores, excluding: blocked) else { break }
            chosen.append(i)
            blocked.insert(i)
            fantasies.observe(i)
        }
        return chosen
    }

    /// The same for any model that fantasizes (an ensemble fantasizes each pick in every
    /// member). Returns the picks with their scores when picked (the first is the plain argmax).
    public static func greedyFantasized<F: Fantasizing>(_ fantasies: inout F, q: Int, acquisition: Acquisition, best: Double,
                                        maximize: Bool = true, excluded: Set<Int> = []) -> [(index: Int, score: Double)] {
        var chosen: [(index: Int, score: Double)] = []
        var blocked = excluded
        for pick in 0..<min(q, fantasies.mean.count - blocked.count) {
            let scores = acquisition.scores(mean: fantasies.mean, variance: fantasies.variance, best: best, maximize: maximize)
            guard let i = BatchSelection.argmax(scores, excluding: blocked) else { break }
            chosen.append((i, scores[i]))
            blocked.insert(i)
            if pick + 1 < q { fantasies.observe(i) }
        }
        return chosen
    }

    /// Greedy selection where each chosen point damps the scores around it in pixel
    /// coordinates: s ← min + (s − min)·(1 − exp(−d²/(2r²))) (local penalization), and the
    /// same around `recent` points (a recent-point penalty).
    public static func locallyPenalized(scores: [Double], coordinates: [(Int, Int)], q: Int, radius: Double,
                                        excluded: Set<Int> = [], recent: [(Int, Int)] = []) -> [Int] {
        precondition(scores.count == coordinates.count)
        var s = scores
        let floor = (scores.filter(\.isFinite).min() ?? 0)
        func damp(around c: (Int, Int)) { BatchSelection.damp(&s, coordinates: coordinates, around: c, radius: radius, floor: floor) }
        for c in recent { damp(around: c) }
        var chosen: [Int] = []
        var blocked = excluded
        for _ in 0..<q {
            guard let i = argmax(s, excluding: blocked) else { break }
            chosen.append(i)
            blocked.insert(i)
            damp(around: coordinates[i])
        }
        return chosen
    }

    /// The local penalty of `locallyPenalized` around one choice c:
    /// s ← floor + (s − floor)·(1 − exp(−d²/(2r²))) for every finite score.
    public static func damp(_ s: inout [Double], coordinates: [(Int, Int)], around c: (Int, Int), radius: Double, floor: Double) {
        for k in 0..<s.count where s[k].isFinite {
            let dy = Double(coordinates[k].0 - c.0), dx = Double(coordinates[k].1 - c.1)
            s[k] = floor + (s[k] - floor) * (1 - exp(-(dy * dy + dx * dx) / (2 * radius * radius)))
        }
    }

    /// The index of the largest score not excluded (the lowest index among ties); NaN never wins.
    public static func argmax(_ scores: [Double], excluding: Set<Int> = []) -> Int? {
        var best: Int?
        for (i, v) in scores.enumerated() where !excluding.contains(i) && !v.isNaN {
            if best == nil || v > scores[best!] { best = i }
        }
        return best
    }
}

