import Foundation
import DKLCore

/// The No-U-Turn sampler (multinomial sampling along the trajectory, the generalized
/// no-U-turn criterion checked across and between subtrees), with the warm-up that adapts
/// the step size by dual averaging (target acceptance `targetAccept`) and a diagonal or
/// dense metric from the draws of doubling windows: a fast start (15% of the warm-up), the
/// windows, and a last stretch (10%) for the step size alone. The metric is dense by
/// default for up to `NUTS.denseUpTo` coordinates: a structured GP's mean parameters trade
/// off against each other and the kernel's (a ridge a diagonal metric crosses slowly), and
/// against the O(n³) density a d×d metric costs nothing.
public struct NUTS: Sendable {
    /// log density of the unconstrained position and its gradient (may be −∞ or NaN where
    /// the model is not defined: such a point is a divergence).
    public typealias Density = @Sendable ([Double]) -> (value: Double, gradient: [Double])

    public var warmup = 1000
    public var samples = 1000
    public var maxDepth = 10
    public var targetAccept = 0.8
    public var metric = MetricKind.auto
    public var seed: UInt64 = 0

    /// The metric adapted in warm-up: dense up to `denseUpTo` coordinates (auto), or as told.
    public enum MetricKind: String, Sendable, CaseIterable { case auto, diag, dense }
    public static let denseUpTo = 12

    public init(warmup: Int = 1000, samples: Int = 1000, maxDepth: Int = 10, targetAccept: Double = 0.8, metric: MetricKind = .auto, seed: UInt64 = 0) {
        self.warmup = warmup; self.samples = samples; self.maxDepth = maxDepth; self.targetAccept = targetAccept; self.metric = metric; self.seed = seed
    }

    /// Whether the metric is dense for `dimension` coordinates.
    public func isDense(dimension: Int) -> Bool {
        switch metric {
        case .auto: return dimension > 1 && dimension <= NUTS.denseUpTo
        case .diag: return false
        case .dense: return true
        }
    }

    /// One chain's draws after warm-up, and the sampler's state at each.
    public struct Chain: Sendable {
        /// samples × dimension, unconstrained.
        public var draws: [[Double]]
        public var logDensity: [Double]
        public var divergent: [Bool]
        public var treeDepth: [Int]
        public var leapfrogs: [Int]
        public var acceptStat: [Double]
        public var energy: [Double]
        public var stepSize: Double
        /// The adapted inverse metric: its diagonal (or the dense matrix, row-major).
        public var inverseMetric: [Double]
        public var divergences: Int { divergent.filter { $0 }.count }
        /// Draws whose tree reached the largest depth.
        public var saturated: Int { treeDepth.filter { $0 >= maxDepthUsed }.count }
        public var maxDepthUsed: Int
    }

    /// Runs `chains` chains from `start` (jittered by uniform(−1, 1) in each coordinate,
    /// as Stan does, unless `jitter` is false), in parallel, each seeded by the seed and its
    /// index, so that the draws do not depend on the thread count.
    public func run(chains: Int, start: [Double], jitter: Bool = true, progress: (@Sendable (Int) -> Void)? = nil,
                    density: @escaping Density) throws -> [Chain] {
        let sampler = self
        return try Parallel.lanesMap(chains) { (k: Int) throws -> Chain in
            var rng = Xoshiro(seed: sampler.seed &+ 0x9E37_79B9 &* UInt64(k + 1))
            let q0 = jitter ? start.map { $0 + 2 * rng.uniform() - 1 } : start
            return try sampler.chain(start: q0, rng: &rng, density: density, progress: k == 0 ? progress : nil)
        }
    }

    struct Point {
        var q: [Double], p: [Double], logp: Double, grad: [Double]
    }

    /// The metric: M⁻¹ (diagonal, or dense with its Cholesky factor for drawing momenta).
    struct Metric {
        var diagonal: [Double]
        var dense: [Double]?
        var lower: [Double]?   // L with M⁻¹ = L·Lᵀ
        let n: Int

        init(identity n: Int) { self.n = n; diagonal = [Double](repeating: 1, count: n) }

        /// M⁻¹p.
        func sharp(_ p: [Double]) -> [Double] {
            guard let m = dense else { return zip(diagonal, p).map { $0 * $1 } }
            return (0..<n).map { i in (0..<n).reduce(0) { $0 + m[i * n + $1] * p[$1] } }
        }

        func kinetic(_ p: [Double]) -> Double { 0.5 * zip(p, sharp(p)).reduce(0) { $0 + $1.0 * $1.1 } }

        /// p ~ N(0, M): diagonal p = z/√m; dense p = L⁻ᵀz.
        func momentum(_ rng: inout Xoshiro) -> [Double] {
            let z = (0..<n).map { _ in rng.normal() }
            guard let l = lower else { return zip(z, diagonal).map { $0 / $1.squareRoot() } }
            var p = z
            for i in stride(from: n - 1, through: 0, by: -1) {   // solve Lᵀp = z
                var s = p[i]
                for j in (i + 1)..<n { s -= l[j * n + i] * p[j] }
                p[i] = s / l[i * n + i]
            }
            return p
        }
    }

    /// A running mean and (co)variance (Welford).
    struct Moments {
        var count = 0
        var mean: [Double]
        var m2: [Double]
        let n: Int, dense: Bool
        init(_ n: Int, dense: Bool) { self.n = n; self.dense = dense; mean = [Double](repeating: 0, count: n); m2 = [Double](repeating: 0, count: dense ? n * n : n) }
        mutating func add(_ x: [Double]) {
            count += 1
            let delta = zip(x, mean).map { $0 - $1 }
            for i in 0..<n { mean[i] += delta[i] / Double(count) }
            if dense {
                for i in 0..<n { for j in 0..<n { m2[i * n + j] += delta[i] * (x[j] - mean[j]) } }
            } else {
                for i in 0..<n { m2[i] += delta[i] * (x[i] - mean[i]) }
            }
        }
        /// Regularized towards 10⁻³ as Stan does: (c/(c+5))·Σ + 10⁻³·(5/(c+5)).
        func metric() -> Metric {
            var m = Metric(identity: n)
            let c = Double(count), w = c / (c + 5), shrink = 1e-3 * 5 / (c + 5)
            if dense {
                var s = m2.map { $0 / max(c - 1, 1) * w }
                for i in 0..<n { s[i * n + i] += shrink }
                m.dense = s
                m.diagonal = (0..<n).map { s[$0 * n + $0] }
                m.lower = NUTS.cholesky(s, n)
                if m.lower == nil { m.dense = nil }
            } else {
                m.diagonal = m2.map { $0 / max(c - 1, 1) * w + shrink }
            }
            return m
        }
    }

    static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        return l
    }

    /// Dual averaging of log ε towards the target acceptance (Hoffman and Gelman's constants).
    struct StepSize {
        var mu: Double, sBar = 0.0, xBar = 0.0, counter = 0.0
        let delta: Double
        init(_ eps: Double, delta: Double) { mu = Foundation.log(10 * eps); self.delta = delta }
        mutating func update(_ accept: Double) -> Double {
            counter += 1
            let a = min(1, accept.isFinite ? accept : 0)
            let eta = 1 / (counter + 10)
            sBar = (1 - eta) * sBar + eta * (delta - a)
            let x = mu - sBar * counter.squareRoot() / 0.05
            let xEta = Foundation.pow(counter, -0.75)
            xBar = (1 - xEta) * xBar + xEta * x
            return Foundation.exp(x)
        }
        var final: Double { Foundation.exp(xBar) }
    }

    func leapfrog(_ z: Point, _ eps: Double, _ metric: Metric, _ density: Density) -> Point {
        var p = z.p
        for i in p.indices { p[i] += 0.5 * eps * z.grad[i] }
        let v = metric.sharp(p)
        var q = z.q
        for i in q.indices { q[i] += eps * v[i] }
        let (logp, grad) = density(q)
        let finite = logp.isFinite && grad.allSatisfy(\.isFinite)
        if finite { for i in p.indices { p[i] += 0.5 * eps * grad[i] } }
        return Point(q: q, p: p, logp: finite ? logp : -.infinity, grad: finite ? grad : z.grad)
    }

    func hamiltonian(_ z: Point, _ metric: Metric) -> Double { z.logp.isFinite ? -z.logp + metric.kinetic(z.p) : .infinity }

    /// Stan's heuristic: double or halve ε until one leapfrog's acceptance crosses 0.8.
    func initialStepSize(_ z0: Point, _ eps0: Double, _ metric: Metric, _ rng: inout Xoshiro, _ density: Density) -> Double {
        var eps = eps0
        var z = z0
        z.p = metric.momentum(&rng)
        let h0 = hamiltonian(z, metric)
        var z1 = leapfrog(z, eps, metric, density)
        var delta = h0 - hamiltonian(z1, metric)
        let direction = delta > Foundation.log(0.8) ? 1.0 : -1.0
        for _ in 0..<100 {
            z.p = metric.momentum(&rng)
            let h = hamiltonian(z, metric)
            z1 = leapfrog(z, eps, metric, density)
            delta = h - hamiltonian(z1, metric)
            if direction == 1 && !(delta > Foundation.log(0.8)) { break }
            if direction == -1 && !(delta < Foundation.log(0.8)) { break }
            eps = direction == 1 ? 2 * eps : 0.5 * eps
            if eps > 1e7 || eps < 1e-10 { break }
        }
        return eps
    }

    struct Tree {
        var logWeight = -Double.infinity
        var sumAccept = 0.0
        var leapfrogs = 0
        var divergent = false
    }

    static func logSumExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return max(a, b) + Foundation.log1p(Foundation.exp(-Swift.abs(a - b)))
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func criterion(_ sharpMinus: [Double], _ sharpPlus: [Double], _ rho: [Double]) -> Bool {
        dot(sharpPlus, rho) > 0 && dot(sharpMinus, rho) > 0
    }

    /// Builds a subtree of 2^depth leapfrogs from `z` in direction `sign`: its proposal,
    /// its momenta sum, the momenta and sharp momenta at its ends; false when it is
    /// invalid (a divergence or a U-turn inside it).
    func build(_ depth: Int, _ z: inout Point, _ propose: inout Point, _ sharpBeg: inout [Double], _ sharpEnd: inout [Double],
               _ rho: inout [Double], _ pBeg: inout [Double], _ pEnd: inout [Double], _ h0: Double, _ sign: Double, _ eps: Double,
               _ tree: inout Tree, _ metric: Metric, _ rng: inout Xoshiro, _ density: Density) -> Bool {
        if depth == 0 {
            z = leapfrog(z, sign * eps, metric, density)
            tree.leapfrogs += 1
            var h = hamiltonian(z, metric)
            if h.isNaN { h = .infinity }
            if h - h0 > 1000 { tree.divergent = true }
            tree.logWeight = NUTS.logSumExp(tree.logWeight, h0 - h)
            tree.sumAccept += h0 - h > 0 ? 1 : Foundation.exp(h0 - h)
            propose = z
            sharpBeg = metric.sharp(z.p); sharpEnd = sharpBeg
            for i in rho.indices { rho[i] += z.p[i] }
            pBeg = z.p; pEnd = z.p
            return !tree.divergent
        }
        let n = z.q.count
        var initTree = Tree(), finalTree = Tree()
        var pInitEnd = [Double](repeating: 0, count: n), sharpInitEnd = pInitEnd, rhoInit = pInitEnd
        guard build(depth - 1, &z, &propose, &sharpBeg, &sharpInitEnd, &rhoInit, &pBeg, &pInitEnd, h0, sign, eps, &initTree, metric, &rng, density) else {
            merge(&tree, initTree); return false
        }
        var proposeFinal = z
        var pFinalBeg = pInitEnd, sharpFinalBeg = pInitEnd, rhoFinal = [Double](repeating: 0, count: n)
        let valid = build(depth - 1, &z, &proposeFinal, &sharpFinalBeg, &sharpEnd, &rhoFinal, &pFinalBeg, &pEnd, h0, sign, eps, &finalTree, metric, &rng, density)
        merge(&tree, initTree)
        guard valid else { merge(&tree, finalTree); return false }
        let subtree = NUTS.logSumExp(initTree.logWeight, finalTree.logWeight)
        if finalTree.logWeight > subtree || rng.uniform() < Foundation.exp(finalTree.logWeight - subtree) { propose = proposeFinal }
        merge(&tree, finalTree)
        let rhoSubtree = zip(rhoInit, rhoFinal).map { $0 + $1 }
        for i in rho.indices { rho[i] += rhoSubtree[i] }
        var persist = NUTS.criterion(sharpBeg, sharpEnd, rhoSubtree)
        persist = persist && NUTS.criterion(sharpBeg, sharpFinalBeg, zip(rhoInit, pFinalBeg).map { $0 + $1 })
        persist = persist && NUTS.criterion(sharpInitEnd, sharpEnd, zip(rhoFinal, pInitEnd).map { $0 + $1 })
        return persist
    }

    func merge(_ tree: inout Tree, _ sub: Tree) {
        tree.logWeight = NUTS.logSumExp(tree.logWeight, sub.logWeight)
        tree.sumAccept += sub.sumAccept
        tree.leapfrogs += sub.leapfrogs
        tree.divergent = tree.divergent || sub.divergent
    }

    /// One NUTS transition from `z0`: the next point and its statistics.
    func transition(_ z0: Point, _ eps: Double, _ metric: Metric, _ rng: inout Xoshiro, _ density: Density)
        -> (Point, depth: Int, leapfrogs: Int, accept: Double, divergent: Bool, energy: Double) {
        var z = z0
        z.p = metric.momentum(&rng)
        let h0 = hamiltonian(z, metric)
        var zFwd = z, zBck = z, sample = z
        let sharp = metric.sharp(z.p)
        var (pFwdFwd, sharpFwdFwd, pFwdBck, sharpFwdBck) = (z.p, sharp, z.p, sharp)
        var (pBckFwd, sharpBckFwd, pBckBck, sharpBckBck) = (z.p, sharp, z.p, sharp)
        var rho = z.p
        var logWeight = 0.0
        var tree = Tree()
        var depth = 0
        while depth < maxDepth {
            var rhoFwd = [Double](repeating: 0, count: rho.count), rhoBck = rhoFwd
            var sub = Tree()
            var propose = z
            let valid: Bool
            if rng.uniform() > 0.5 {
                rhoBck = rho; pBckFwd = pFwdBck; sharpBckFwd = sharpFwdBck
                var w = zFwd
                valid = build(depth, &w, &propose, &sharpFwdBck, &sharpFwdFwd, &rhoFwd, &pFwdBck, &pFwdFwd, h0, 1, eps, &sub, metric, &rng, density)
                zFwd = w
            } else {
                rhoFwd = rho; pFwdBck = pBckFwd; sharpFwdBck = sharpBckFwd
                var w = zBck
                valid = build(depth, &w, &propose, &sharpBckFwd, &sharpBckBck, &rhoBck, &pBckFwd, &pBckBck, h0, -1, eps, &sub, metric, &rng, density)
                zBck = w
            }
            merge(&tree, Tree(logWeight: -.infinity, sumAccept: sub.sumAccept, leapfrogs: sub.leapfrogs, divergent: sub.divergent))
            if !valid { break }
            depth += 1
            if sub.logWeight > logWeight || rng.uniform() < Foundation.exp(sub.logWeight - logWeight) { sample = propose }
            logWeight = NUTS.logSumExp(logWeight, sub.logWeight)
            rho = zip(rhoBck, rhoFwd).map { $0 + $1 }
            var persist = NUTS.criterion(sharpBckBck, sharpFwdFwd, rho)
            persist = persist && NUTS.criterion(sharpBckBck, sharpFwdBck, zip(rhoBck, pFwdBck).map { $0 + $1 })
            persist = persist && NUTS.criterion(sharpBckFwd, sharpFwdFwd, zip(rhoFwd, pBckFwd).map { $0 + $1 })
            if !persist { break }
        }
        let accept = tree.leapfrogs > 0 ? tree.sumAccept / Double(tree.leapfrogs) : 0
        return (sample, depth, tree.leapfrogs, accept, tree.divergent, hamiltonian(sample, metric))
    }

    /// The warm-up's metric windows: where the first starts, and their ends (iterations
    /// after which the metric is updated). None below 20 warm-up iterations.
    func windows() -> (start: Int, ends: [Int]) {
        guard warmup >= 20 else { return (warmup, []) }
        var initial = 75, terminal = 50, base = 25
        if initial + terminal + base > warmup {
            initial = Int(0.15 * Double(warmup)); terminal = Int(0.1 * Double(warmup)); base = warmup - initial - terminal
        }
        var ends: [Int] = []
        var start = initial, size = base
        let last = warmup - terminal
        while start < last {
            var end = start + size
            if end + 2 * size > last { end = last }
            ends.append(end)
            start = end; size *= 2
        }
        return (initial, ends)
    }

    func chain(start: [Double], rng: inout Xoshiro, density: @escaping Density, progress: (@Sendable (Int) -> Void)?) throws -> Chain {
        let n = start.count
        let (logp, grad) = density(start)
        guard logp.isFinite, grad.allSatisfy(\.isFinite) else {
            throw DKLError.data("the log posterior is not finite at the starting point")
        }
        var z = Point(q: start, p: [Double](repeating: 0, count: n), logp: logp, grad: grad)
        var metric = Metric(identity: n)
        var eps = initialStepSize(z, 1, metric, &rng, density)
        var adapt = StepSize(eps, delta: targetAccept)
        let (firstWindow, windowList) = windows()
        let ends = Set(windowList), lastWindow = windowList.last ?? 0
        let dense = isDense(dimension: n)
        var moments = Moments(n, dense: dense)
        var out = Chain(draws: [], logDensity: [], divergent: [], treeDepth: [], leapfrogs: [], acceptStat: [], energy: [], stepSize: eps,
                        inverseMetric: [], maxDepthUsed: maxDepth)
        for it in 0..<(warmup + samples) {
            if it % 64 == 0 { try Interrupts.check() }
            let t = transition(z, eps, metric, &rng, density)
            z = t.0
            if it < warmup {
                eps = adapt.update(t.accept)
                if it >= firstWindow && it < lastWindow { moments.add(z.q) }
                if ends.contains(it + 1) {
                    metric = moments.metric()
                    moments = Moments(n, dense: dense)
                    eps = initialStepSize(z, eps, metric, &rng, density)
                    adapt = StepSize(eps, delta: targetAccept)
                }
                if it == warmup - 1 { eps = adapt.final }
            } else {
                out.draws.append(z.q); out.logDensity.append(z.logp); out.divergent.append(t.divergent); out.treeDepth.append(t.depth)
                out.leapfrogs.append(t.leapfrogs); out.acceptStat.append(t.accept); out.energy.append(t.energy)
            }
            progress?(it + 1)
        }
        out.stepSize = eps
        out.inverseMetric = metric.dense ?? metric.diagonal
        return out
    }
}
