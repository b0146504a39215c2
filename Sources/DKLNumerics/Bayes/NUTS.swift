import Foundation
import DKLCore

/// The No-U-Turn sampler (multinomial sampling along the trajectory, the generalized
/// no-U-turn criterion checked across and between subtrees), with the warm-up that adapts
/// the step size by dual averaging (target acceptance `targetAccept`) and a diagonal or
/// dense metric from the draws of doubling windows: a fast start (15% of the warm-up), the
/// windows, and a last stretch (10%) for the step size alone. A dense metric follows a
/// ridge (a structured GP's mean parameters trading off against each other and the
/// kernel's) in fewer steps, and against the O(n³) density a d×d metric costs nothing; but
/// it is learnt from the warm-up's draws, which must have seen the posterior's tails: the
/// diagonal one is the default, as in Stan and NumPyro.
public struct NUTS: Sendable {
    /// log density of the unconstrained position and its gradient (may be −∞ or NaN where
    /// the model is not defined: such a point is a divergence).
    public typealias Density = @Sendable ([Double]) -> (value: Double, gradient: [Double])

    public var warmup = 1000
    public var samples = 1000
    public var maxDepth = 10
    public var targetAccept = 0.8
    public var metric = MetricKind.diag
    public var seed: UInt64 = 0

    /// The metric adapted in warm-up.
    public enum MetricKind: String, Sendable, CaseIterable { case diag, dense }

    public init(warmup: Int = 1000, samples: Int = 1000, maxDepth: Int = 10, targetAccept: Double = 0.8, metric: MetricKind = .diag, seed: UInt64 = 0) {
        self.warmup = warmup; self.samples = samples; self.maxDepth = maxDepth; self.targetAccept = targetAccept; self.metric = metric; self.seed = seed
    }

    /// Whether the metric is dense for `dimension` coordinates (one coordinate: diagonal).
    public func isDense(dimension: Int) -> Bool { metric == .dense && dimension > 1 }

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
    /// index, so that the draws do not depend on the thread count. Throws `interrupted` if
    /// a deferred ^C arrives (see `states` to stop and continue instead).
    public func run(chains: Int, start: [Double], jitter: Bool = true, progress: (@Sendable (Int) -> Void)? = nil,
                    density: @escaping Density) throws -> [Chain] {
        let states = try self.states(chains: chains, start: start, jitter: jitter, progress: progress, density: density)
        guard states.allSatisfy(\.finished) else { throw DKLError(.interrupted, "interrupted") }
        return states.map(\.chain)
    }

    /// The chains' states after running them to the end, or as far as they got when a
    /// deferred ^C arrived (each stops after its current iteration): `resume` (the states
    /// of an interrupted run of the same sampler and density) continues them, and the
    /// draws are then the same, to the bit, as those of a run that was never stopped.
    /// `until` stops every chain after that many iterations (to run them in pieces).
    public func states(chains: Int, start: [Double], jitter: Bool = true, resume: [ChainState]? = nil, until: Int? = nil,
                       progress: (@Sendable (Int) -> Void)? = nil, density: @escaping Density) throws -> [ChainState] {
        if let resume, resume.count != chains || resume.contains(where: { $0.q.count != start.count }) {
            throw DKLError.data("the saved chains do not match this sampler (\(resume.count) chains of \(resume.first?.q.count ?? 0) coordinates)")
        }
        let sampler = self
        return try Parallel.lanesMap(chains) { (k: Int) throws -> ChainState in
            var state: ChainState
            if let resume { state = resume[k] } else {
                var rng = Xoshiro(seed: sampler.seed &+ 0x9E37_79B9 &* UInt64(k + 1))
                let q0 = jitter ? start.map { $0 + 2 * rng.uniform() - 1 } : start
                state = try sampler.initialState(start: q0, rng: rng, density: density)
            }
            try sampler.advance(&state, until: until, density: density, progress: k == 0 ? progress : nil)
            return state
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

    /// A chain's state between two iterations: all that its next iterations depend on, so
    /// that a chain saved and continued gives the draws it would have given unstopped.
    public struct ChainState: Sendable {
        /// Iterations done (warm-up and kept).
        public internal(set) var iteration = 0
        public internal(set) var rng: Xoshiro
        /// The position (unconstrained); its density and gradient are evaluated again.
        public internal(set) var q: [Double]
        var eps: Double
        var adapt: StepSize
        var metric: Metric
        var moments: Moments
        /// The draws kept so far and their statistics.
        public internal(set) var chain: Chain
        let total: Int
        public var finished: Bool { iteration >= total }
    }

    func initialState(start: [Double], rng: Xoshiro, density: Density) throws -> ChainState {
        let n = start.count
        let (logp, grad) = density(start)
        guard logp.isFinite, grad.allSatisfy(\.isFinite) else {
            throw DKLError.data("the log posterior is not finite at the starting point")
        }
        var rng = rng
        let z = Point(q: start, p: [Double](repeating: 0, count: n), logp: logp, grad: grad)
        let metric = Metric(identity: n)
        let eps = initialStepSize(z, 1, metric, &rng, density)
        return ChainState(rng: rng, q: start, eps: eps, adapt: StepSize(eps, delta: targetAccept), metric: metric,
                          moments: Moments(n, dense: isDense(dimension: n)),
                          chain: Chain(draws: [], logDensity: [], divergent: [], treeDepth: [], leapfrogs: [], acceptStat: [], energy: [],
                                       stepSize: eps, inverseMetric: [], maxDepthUsed: maxDepth),
                          total: warmup + samples)
    }

    /// Runs a chain on from its state to the end, or until a deferred ^C (checked after
    /// every iteration).
    func advance(_ state: inout ChainState, until: Int?, density: Density, progress: (@Sendable (Int) -> Void)?) throws {
        let n = state.q.count
        let (logp, grad) = density(state.q)
        guard logp.isFinite, grad.allSatisfy(\.isFinite) else { throw DKLError.data("the log posterior is not finite at the chain's position") }
        var z = Point(q: state.q, p: [Double](repeating: 0, count: n), logp: logp, grad: grad)
        let (firstWindow, windowList) = windows()
        let ends = Set(windowList), lastWindow = windowList.last ?? 0
        let dense = isDense(dimension: n)
        var (rng, eps, adapt, metric, moments, out) = (state.rng, state.eps, state.adapt, state.metric, state.moments, state.chain)
        var it = state.iteration
        defer { state.iteration = it; state.rng = rng; state.q = z.q; state.eps = eps; state.adapt = adapt; state.metric = metric; state.moments = moments; state.chain = out }
        while it < min(until ?? .max, warmup + samples) {
            if Interrupts.signalNumber != 0 { return }
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
            it += 1
            progress?(it)
        }
        if it == warmup + samples {
            out.stepSize = eps
            out.inverseMetric = metric.dense ?? metric.diagonal
        }
    }
}

// MARK: - Saving a chain's state

extension NUTS.ChainState {
    /// The state as JSON: numbers as the bytes of their float64 values (base64, little
    /// endian), so that a chain continues to the bit.
    public var json: JSON {
        func pack(_ v: [Double]) -> JSON {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(8 * v.count)
            for d in v { withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            return .string(Data(bytes).base64EncodedString())
        }
        func ints(_ v: [Int]) -> JSON { JSON(v) }
        return .object([
            ("iteration", .number(Double(iteration))), ("total", .number(Double(total))),
            ("rng", JSON(rng.state.map { String($0, radix: 16) })),
            ("q", pack(q)), ("eps", pack([eps])),
            ("adapt", pack([adapt.mu, adapt.sBar, adapt.xBar, adapt.counter, adapt.delta])),
            ("metric_diagonal", pack(metric.diagonal)), ("metric_dense", metric.dense.map(pack) ?? .null),
            ("moments_count", .number(Double(moments.count))), ("moments_dense", .bool(moments.dense)),
            ("moments_mean", pack(moments.mean)), ("moments_m2", pack(moments.m2)),
            ("draws", pack(chain.draws.flatMap { $0 })), ("log_density", pack(chain.logDensity)),
            ("divergent", ints(chain.divergent.map { $0 ? 1 : 0 })), ("tree_depth", ints(chain.treeDepth)),
            ("leapfrogs", ints(chain.leapfrogs)), ("accept_stat", pack(chain.acceptStat)), ("energy", pack(chain.energy)),
            ("max_depth", .number(Double(chain.maxDepthUsed))),
        ])
    }

    /// A state read back from `json`, checked against the sampler that continues it and
    /// the dimension of its density (throws `data` naming what does not fit).
    public init(json: JSON, sampler: NUTS, dimension n: Int) throws {
        func fail(_ what: String) -> DKLError { DKLError.data("a saved chain's state is damaged or from another sampler: \(what)") }
        func unpack(_ key: String, _ count: Int?) throws -> [Double] {
            guard let text = json[key]?.stringValue, let data = Data(base64Encoded: text), data.count % 8 == 0 else { throw fail(key) }
            let words = data.count / 8
            if let count, words != count { throw fail("\(key) holds \(words) numbers, not \(count)") }
            return (0..<words).map { k in Double(bitPattern: UInt64(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self) })) }
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = json[key]?.intValue, range.contains(v) else { throw fail(key) }
            return v
        }
        func ints(_ key: String, _ count: Int) throws -> [Int] {
            guard let v = json[key]?.intArray, v.count == count else { throw fail(key) }
            return v
        }
        let total = sampler.warmup + sampler.samples
        guard try int("total", 0...Int.max) == total else { throw fail("its warm-up and samples differ from this run's") }
        let iteration = try int("iteration", 0...total)
        let kept = max(0, iteration - sampler.warmup)
        guard let words = json["rng"]?.arrayValue?.compactMap({ $0.stringValue.flatMap { UInt64($0, radix: 16) } }),
              let rng = Xoshiro(state: words) else { throw fail("rng") }
        let dense = sampler.isDense(dimension: n)
        guard json["moments_dense"]?.boolValue == dense else { throw fail("its metric differs from this run's") }
        let q = try unpack("q", n)
        let a = try unpack("adapt", 5)
        var metric = NUTS.Metric(identity: n)
        metric.diagonal = try unpack("metric_diagonal", n)
        if json["metric_dense"] != nil && json["metric_dense"] != .null {
            let m = try unpack("metric_dense", n * n)
            guard let lower = NUTS.cholesky(m, n) else { throw fail("metric_dense is not positive definite") }
            metric.dense = m; metric.lower = lower
        }
        var moments = NUTS.Moments(n, dense: dense)
        moments.count = try int("moments_count", 0...total)
        moments.mean = try unpack("moments_mean", n)
        moments.m2 = try unpack("moments_m2", dense ? n * n : n)
        let flat = try unpack("draws", kept * n)
        let chain = NUTS.Chain(draws: (0..<kept).map { Array(flat[($0 * n)..<($0 * n + n)]) }, logDensity: try unpack("log_density", kept),
                               divergent: try ints("divergent", kept).map { $0 != 0 }, treeDepth: try ints("tree_depth", kept),
                               leapfrogs: try ints("leapfrogs", kept), acceptStat: try unpack("accept_stat", kept), energy: try unpack("energy", kept),
                               stepSize: .nan, inverseMetric: [], maxDepthUsed: try int("max_depth", 1...64))
        let eps = try unpack("eps", 1)[0]
        guard eps > 0, eps.isFinite, q.allSatisfy(\.isFinite) else { throw fail("its step size or position is not finite") }
        var adapt = NUTS.StepSize(1, delta: a[4])
        (adapt.mu, adapt.sBar, adapt.xBar, adapt.counter) = (a[0], a[1], a[2], a[3])
        self.init(iteration: iteration, rng: rng, q: q, eps: eps, adapt: adapt, metric: metric, moments: moments, chain: chain, total: total)
    }
}
