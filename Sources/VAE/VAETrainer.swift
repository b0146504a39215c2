import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// Where training stands after a whole epoch: enough to continue exactly as if it had
/// never stopped (stored in the model file).
public struct VAETrainingState: Sendable, Equatable {
    /// Epochs completed.
    public var epoch = 0
    /// The parameters after the last epoch (the model keeps the best ones).
    public var parameters: [[Float]]
    public var adam: FloatAdam
    public var bestValidation = Double.infinity
    public var bestEpoch = 0
    public var trainLoss: [Double] = []
    public var validationLoss: [Double] = []
    /// Whether early stopping ended training.
    public var stopped = false

    public init(parameters: [[Float]], learningRate: Double) {
        self.parameters = parameters
        adam = FloatAdam(learningRate: learningRate)
    }
}

/// Mini-batch training of a VAE by Adam with early stopping on a held-out part. Epoch e
/// shuffles and draws its noise from its own seeded stream, so a run continued from a saved
/// state gives the same model as one that never stopped.
public enum VAETrainer {
    /// One epoch's report.
    public struct Epoch: Sendable {
        public var epoch: Int
        public var train: VAELoss
        public var validation: VAELoss?
    }

    /// The indices held out for validation and those trained on.
    public static func split(count: Int, config: VAEConfig) -> (validation: [Int], train: [Int]) {
        var g = Xoshiro.stream(seed: config.seed, index: 0x5A11)
        var order = Array(0..<count)
        order.shuffle(using: &g)
        let held = count >= 10 ? Int((config.validationFraction * Double(count)).rounded()) : 0
        return (Array(order[0..<held]).sorted(), Array(order[held...]).sorted())
    }

    /// Trains `model` on the normalized records `x` from `state` (a fresh one when nil)
    /// until the configured epochs or early stopping; `report` is called after every epoch
    /// with the model (its best parameters so far) and the state.
    /// `interrupted` is polled between batches: when it returns true, the epoch under way
    /// is dropped and training returns false (the state is that of the last whole epoch).
    public static func train(_ model: inout VAE, _ x: NetMatrix<Float>, state: inout VAETrainingState,
                             report: (Epoch, VAE, VAETrainingState) -> Void = { _, _, _ in }, interrupted: @Sendable () -> Bool = { false }) -> Bool {
        // Every batch allocates and frees the same few MB of activations: keep them in the heap.
        Allocator.keepLargeBlocks()
        // All the work runs on the toolkit's lanes with one BLAS thread each: switching
        // OpenBLAS's thread count per batch would restart its pool every time.
        return BLAS.singleThreaded { trainEpochs(&model, x, state: &state, report: report, interrupted: interrupted) }
    }

    static func trainEpochs(_ model: inout VAE, _ x: NetMatrix<Float>, state: inout VAETrainingState,
                            report: (Epoch, VAE, VAETrainingState) -> Void, interrupted: @Sendable () -> Bool) -> Bool {
        let config = model.config
        let (validation, train) = split(count: x.rows, config: config)
        let xv = validation.isEmpty ? nil : x.gather(validation)
        let l = model.latentWidth
        let arrays = ArrayBoxes(state.parameters, state.adam)
        let pair = LanePair()
        while state.epoch < config.epochs && !state.stopped {
            let e = state.epoch + 1
            var g = Xoshiro.stream(seed: config.seed, index: UInt64(e))
            var order = train
            order.shuffle(using: &g)
            let batches = stride(from: 0, to: order.count, by: config.batch).map { order[$0..<min($0 + config.batch, order.count)] }
            let turns = config.decoder == .rotational && config.rotationConsistency > 0
            let noise = batches.map { idx in
                let n = NetMatrix<Float>(rows: idx.count, cols: l, data: (0..<(idx.count * l)).map { _ in Float(g.normal()) })
                // The consistency term's turns, uniform over the circle.
                return BatchNoise(latent: n, turns: turns ? (0..<idx.count).map { _ in Float((2 * g.uniform() - 1) * Double.pi) } : nil)
            }
            guard let losses = epoch(model, x, batches, noise, arrays, state.adam, pair, interrupted) else { return false }
            let sum = VAELoss.mean(zip(losses, batches).map { ($0, Double($1.count)) })
            let params = arrays.parameters
            state.parameters = params
            state.adam.step += batches.count
            (state.adam.m, state.adam.v) = arrays.moments
            var report1 = Epoch(epoch: e, train: sum, validation: nil)
            state.epoch = e
            state.trainLoss.append(sum.total)
            if let xv {
                let v = evaluate(model, xv, params)
                report1.validation = v
                state.validationLoss.append(v.total)
                if v.total < state.bestValidation {
                    state.bestValidation = v.total
                    state.bestEpoch = e
                    model.parameters = params
                } else if config.patience > 0 && e - state.bestEpoch >= config.patience {
                    state.stopped = true
                }
            } else {
                state.bestEpoch = e
                model.parameters = params
            }
            report(report1, model, state)
        }
        return true
    }

    /// A batch's draws: the latent noise ε, and the consistency term's turns δ (when on).
    struct BatchNoise { var latent: NetMatrix<Float>; var turns: [Float]? }

    /// The parameters and Adam moments one box per array, so that the two lanes can each
    /// update their own arrays at the same time; each lane takes a set of arrays of about
    /// half the parameters. Box k is written by its lane only, between the syncs that
    /// order those writes before the other lane reads the parameters.
    final class ArrayBoxes: Sendable {
        final class Box { var p: [Float]; var m: [Float]; var v: [Float]; init(_ p: [Float], _ m: [Float], _ v: [Float]) { self.p = p; self.m = m; self.v = v } }
        let boxes: SharedBuffer<Box>
        let lanes: [[Int]]

        init(_ params: [[Float]], _ adam: FloatAdam) {
            let storage = UnsafeMutableBufferPointer<Box>.allocate(capacity: params.count)
            _ = storage.initialize(from: params.indices.map { k in
                adam.m.isEmpty ? Box(params[k], [Float](repeating: 0, count: params[k].count), [Float](repeating: 0, count: params[k].count))
                               : Box(params[k], adam.m[k], adam.v[k])
            })
            boxes = SharedBuffer(storage)
            // Largest first, each to the lane with fewer values so far.
            var lanes: [[Int]] = [[], []], load = [0, 0]
            for k in params.indices.sorted(by: { params[$0].count > params[$1].count }) {
                let j = load[0] <= load[1] ? 0 : 1
                lanes[j].append(k); load[j] += params[k].count
            }
            self.lanes = lanes
        }

        deinit { boxes.buffer.deinitialize(); boxes.buffer.deallocate() }

        var parameters: [[Float]] { boxes.buffer.map(\.p) }
        var moments: ([[Float]], [[Float]]) { (boxes.buffer.map(\.m), boxes.buffer.map(\.v)) }
    }

    /// One epoch's batches on the two lanes of `pair`: each lane computes the loss and
    /// gradients of its half of the batch, then (after both are done) applies Adam to its
    /// own arrays with the halves' gradients weighted by their shares, combined in order,
    /// so the result does not depend on the thread count. Nil when `interrupted`.
    static func epoch(_ model: VAE, _ x: NetMatrix<Float>, _ batches: [ArraySlice<Int>], _ noise: [BatchNoise], _ arrays: ArrayBoxes,
                      _ adam: FloatAdam, _ pair: LanePair, _ interrupted: @Sendable () -> Bool) -> [VAELoss]? {
        if interrupted() { return nil }
        // Slots each written by one lane between the syncs that order them before the
        // other lane's reads: a half's result by its lane, the rest by lane 0.
        let halvesMemory = UnsafeMutableBufferPointer<(VAELoss, [[Float]])?>.allocate(capacity: 2)
        let lossesMemory = UnsafeMutableBufferPointer<VAELoss>.allocate(capacity: batches.count)
        let stopMemory = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 1)
        halvesMemory.initialize(repeating: nil); lossesMemory.initialize(repeating: VAELoss()); stopMemory.initialize(repeating: false)
        defer { halvesMemory.deinitialize(); halvesMemory.deallocate(); lossesMemory.deallocate(); stopMemory.deallocate() }
        let (halves, losses, stop) = (SharedBuffer(halvesMemory), SharedBuffer(lossesMemory), SharedBuffer(stopMemory))
        let serial = Parallel.threads < 2
        @Sendable func lane(_ lane: Int) {
            for (b, rows) in batches.enumerated() {
                let n = rows.count
                let ranges = n < 2 ? [0..<n] : [0..<(n / 2), (n / 2)..<n]
                let shares = ranges.map { Double($0.count) / Double(n) }
                for k in ranges.indices where serial || k == lane {
                    halves[k] = half(model, x, rows, ranges[k], noise[b], arrays)
                }
                if !serial { pair.sync() }
                let c = adam.constants(step: adam.step + b + 1, w0: Float(shares[0]), w1: Float(shares.count > 1 ? shares[1] : 0))
                let (g0, g1) = (halves[0]!.1, ranges.count > 1 ? halves[1]!.1 : nil)
                for k in serial ? arrays.lanes.flatMap({ $0 }) : arrays.lanes[lane] {
                    let box = arrays.boxes[k]
                    FloatAdam.apply(&box.p, &box.m, &box.v, g0[k], g1?[k], c)
                }
                if lane == 0 {
                    losses[b] = VAELoss.mean(ranges.indices.map { (halves[$0]!.0, shares[$0]) })
                    stop[0] = interrupted()
                }
                if !serial { pair.sync() }
                if stop[0] { return }
            }
        }
        if serial { lane(0) } else { pair.run(lane) }
        return stop[0] ? nil : Array(losses.buffer)
    }

    /// The loss and gradients of rows `range` of a batch, at the parameters as they stand
    /// (a snapshot released on return, so that the Adam step after it updates in place).
    static func half(_ model: VAE, _ x: NetMatrix<Float>, _ rows: ArraySlice<Int>, _ range: Range<Int>, _ noise: BatchNoise,
                     _ arrays: ArrayBoxes) -> (VAELoss, [[Float]]) {
        let xb = x.gather(rows[(rows.startIndex + range.lowerBound)..<(rows.startIndex + range.upperBound)])
        let turned = noise.turns.map { angles in
            let a = Array(angles[range])
            return (ImageRotation.rotate(xb, height: model.shape[0], width: model.shape[1], angles: a), a)
        }
        return model.loss(xb, noise: noise.latent.gather(range), arrays.parameters, gradients: true, turned: turned)
    }

    /// The loss at the latent means (no sampling noise), in chunks taken two at a time side
    /// by side and summed in order.
    public static func evaluate(_ model: VAE, _ x: NetMatrix<Float>, _ params: [[Float]]) -> VAELoss {
        let step = max(model.config.batch, 256)
        let chunks = stride(from: 0, to: x.rows, by: step).map { $0..<min($0 + step, x.rows) }
        let losses = Parallel.lanesMap(chunks.count) { model.loss(x.gather(chunks[$0]), noise: nil, params, gradients: false).0 }
        return VAELoss.mean(zip(losses, chunks).map { ($0, Double($1.count)) })
    }

    /// Sets the model's latent bounding box from the means of the records `x`.
    public static func setLatentBox(_ model: inout VAE, _ x: NetMatrix<Float>) {
        var low = [Double](repeating: .infinity, count: model.latentWidth), high = low.map { -$0 }
        var start = 0
        while start < x.rows {
            let idx = start..<min(start + 1024, x.rows)
            let mean = model.encode(x.gather(idx), model.parameters).mean
            for i in 0..<mean.rows {
                for j in 0..<mean.cols {
                    low[j] = min(low[j], Double(mean.data[i * mean.cols + j])); high[j] = max(high[j], Double(mean.data[i * mean.cols + j]))
                }
            }
            start += 1024
        }
        if x.rows > 0 { model.latentLow = low; model.latentHigh = high }
    }
}
