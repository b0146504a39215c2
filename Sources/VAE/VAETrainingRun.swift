import Foundation
import Synchronization
import DKLCore
import DKLData

/// A VAE's training as vae-encode runs it: progress per epoch on stderr, the model file
/// saved every `saveEvery` epochs and at the end (with the latent box), and ^C ending the
/// run after the last whole epoch, which is saved, so that `--init` continues it exactly.
public struct VAETrainingRun {
    public var model: VAE
    public var state: VAETrainingState
    public let path: String
    public var provenance: [JSON] = []
    public var saveEvery = 10

    public init(model: VAE, state: VAETrainingState, path: String) {
        self.model = model; self.state = state; self.path = path
    }

    /// Trains on the normalized records `x`; returns the JSON summary of the fit, or throws
    /// `.interrupted` (after saving) when ^C stopped it.
    public mutating func run(_ x: NetMatrix<Float>, records: Int, progress: DKLCore.Progress?) throws -> JSON {
        var failure: Error?
        let saveFailed = Atomic<Bool>(false)   // read by the trainer's poll, which may run on a lane
        let (path, provenance, saveEvery) = (self.path, self.provenance, self.saveEvery)
        let started = Date()
        let startEpoch = state.epoch
        let finished = VAETrainer.train(&model, x, state: &state, report: { e, m, s in
            let v = e.validation.map { String(format: ", held-out %.5g", $0.total) } ?? ""
            let consistency = m.config.rotationConsistency > 0 ? String(format: ", consistency %.4g", e.train.consistency) : ""
            progress?.update(e.epoch, detail: String(format: "loss %.5g (reconstruction %.5g, KL %.4g", e.train.total, e.train.reconstruction, e.train.kl)
                             + consistency + ")" + v)
            if e.epoch % saveEvery == 0 {
                do { try m.save(to: path, state: s, provenance: provenance) } catch { failure = error; saveFailed.store(true, ordering: .relaxed) }
            }
        }, interrupted: { saveFailed.load(ordering: .relaxed) || Interrupts.signalNumber != 0 })
        if let failure { throw failure }
        let seconds = Date().timeIntervalSince(started)
        VAETrainer.setLatentBox(&model, x)
        try model.save(to: path, state: state, provenance: provenance)
        if !finished {
            throw DKLError(.interrupted, "interrupted: \(state.epoch) whole epochs are saved in \(path); continue with --init \(path)")
        }
        progress?.finish(state.epoch)
        return ["model": .string(path), "records": .number(Double(records)), "epochs": .number(Double(state.epoch)),
                "best_epoch": .number(Double(state.bestEpoch)), "early_stopped": .bool(state.stopped),
                "train_loss": .number(state.trainLoss.last ?? .nan), "seconds": .number(seconds),
                "seconds_per_epoch": .number(seconds / Double(max(state.epoch - startEpoch, 1))),
                "validation_loss": state.validationLoss.isEmpty ? .null : .number(state.bestValidation),
                "latent_low": .array(model.latentLow.map { .number($0) }), "latent_high": .array(model.latentHigh.map { .number($0) })]
    }
}
