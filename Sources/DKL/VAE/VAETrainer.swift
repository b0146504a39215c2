import Foundation

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
    public static func train(_ model: inout VAE, _ x: Tensor<Float>, state: inout VAETrainingState,
                             report: (Epoch, VAE, VAETrainingState) -> Void = { _, _, _ in }, interrupted: () -> Bool = { false }) -> Bool {
        // Every batch allocates and frees the same few MB of activations: keep them in the heap.
        Allocator.keepLargeBlocks()
        // All the work runs on the toolkit's lanes with one BLAS thread each: switching
        // OpenBLAS's thread count per batch would restart its pool every time.
        return BLAS.singleThreaded { trainEpochs(&model, x, state: &state, report: report, interrupted: interrupted) }
    }

    static func trainEpochs(_ model: inout VAE, _ x: Tensor<Float>, state: inout VAETrainingState,
                            report: (Epoch, VAE, VAETrainingState) -> Void, interrupted: () -> Bool) -> Bool {
        let config = model.config
        let (validation, train) = split(count: x.rows, config: config)
        let xv = validation.isEmpty ? nil : x.gather(validation)
        let l = model.latentWidth
        while state.epoch < config.epochs && !state.stopped {
            let e = state.epoch + 1
            var g = Xoshiro.stream(seed: config.seed, index: UInt64(e))
            var order = train
            order.shuffle(using: &g)
            var params = state.parameters, adam = state.adam
            var batches: [(loss: VAELoss, weight: Double)] = []
            var start = 0
            while start < order.count {
                if interrupted() { return false }
                let idx = order[start..<min(start + config.batch, order.count)]
                let noise = Tensor<Float>(rows: idx.count, cols: l, data: (0..<(idx.count * l)).map { _ in Float(g.normal()) })
                let (loss, grads, shares) = batchLoss(model, x, idx, noise, params)
                adam.update(&params, grads[0], grads.count > 1 ? (grads[1], shares[0], shares[1]) : nil)
                batches.append((loss, Double(idx.count)))
                start += config.batch
            }
            let sum = VAELoss.mean(batches)
            var report1 = Epoch(epoch: e, train: sum, validation: nil)
            state.parameters = params
            state.adam = adam
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

    /// The loss and the gradients of a mini-batch's two halves, computed side by side (each
    /// with single-threaded BLAS, which beats threading the batch's small products), with
    /// the halves' shares of the batch: the caller combines them in order, so the result
    /// does not depend on the thread count.
    static func batchLoss(_ model: VAE, _ x: Tensor<Float>, _ rows: ArraySlice<Int>, _ noise: Tensor<Float>,
                          _ params: [[Float]]) -> (VAELoss, [[[Float]]], [Float]) {
        let n = rows.count
        if n < 2 {
            let (loss, grads) = model.loss(x.gather(rows), noise: noise, params, gradients: true)
            return (loss, [grads], [1])
        }
        let ranges = [0..<(n / 2), (n / 2)..<n]
        let halves = Parallel.lanesMap(2) { k in
            let r = ranges[k]
            return model.loss(x.gather(rows[(rows.startIndex + r.lowerBound)..<(rows.startIndex + r.upperBound)]),
                              noise: noise.gather(r), params, gradients: true)
        }
        let shares = ranges.map { Double($0.count) / Double(n) }
        return (VAELoss.mean([(halves[0].0, shares[0]), (halves[1].0, shares[1])]), halves.map(\.1), shares.map(Float.init))
    }

    /// The loss at the latent means (no sampling noise), in chunks taken two at a time side
    /// by side and summed in order.
    public static func evaluate(_ model: VAE, _ x: Tensor<Float>, _ params: [[Float]]) -> VAELoss {
        let step = max(model.config.batch, 256)
        let chunks = stride(from: 0, to: x.rows, by: step).map { $0..<min($0 + step, x.rows) }
        let losses = Parallel.lanesMap(chunks.count) { model.loss(x.gather(chunks[$0]), noise: nil, params, gradients: false).0 }
        return VAELoss.mean(zip(losses, chunks).map { ($0, Double($1.count)) })
    }

    /// Sets the model's latent bounding box from the means of the records `x`.
    public static func setLatentBox(_ model: inout VAE, _ x: Tensor<Float>) {
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
