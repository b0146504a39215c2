import Foundation
import DKLCore
import DKLData
import DKLNumerics

/// NUTS that survives ^C: when a deferred interrupt stops the chains, their states go to
/// a state file beside the fit (FIT.part); the same command run again continues them,
/// and its draws are those of a run that was never stopped. The state file names the run
/// it belongs to (the options and a hash of the data), so another fit never continues it.
public struct ResumableSampling {
    public let statePath: String
    let signature: String

    public static let format = "dkl-nuts-state"
    /// The largest state file read (its draws and the chains' states).
    static let largestState = 1 << 30

    /// The state file of the fit written to `output`, for a run defined by `options` (its
    /// arguments without those that do not change the draws) on `model`'s data.
    public init(output: String, options: String, model: StructuredGP) {
        statePath = output + ".part"
        var h: UInt64 = 0xCBF2_9CE4_8422_2325   // FNV-1a over the data's bits
        for v in model.x.data + model.y { var b = v.bitPattern; for _ in 0..<8 { h = (h ^ (b & 0xFF)) &* 0x100_0000_01B3; b >>= 8 } }
        signature = options + "\u{1F}data:\(model.y.count)x\(model.x.cols):" + String(h, radix: 16)
    }

    /// The saved states, if a state file of this run exists (nil when there is none).
    public func saved(sampler: NUTS, chains: Int, dimension: Int) throws -> [NUTS.ChainState]? {
        guard FileManager.default.fileExists(atPath: statePath) else { return nil }
        let reader = try ByteReader(path: statePath)
        var bytes: [UInt8] = []
        while try reader.refill() {
            guard reader.offset + reader.available <= ResumableSampling.largestState else {
                throw DKLError.data("a state file larger than 1 GiB: not one dkl-fit wrote", file: statePath)
            }
            bytes += reader.bytes
            reader.consume(reader.available)
        }
        let json: JSON
        do { json = try JSONParser.parse(String(decoding: bytes, as: UTF8.self)) } catch {
            throw DKLError.data("not a dkl-fit state file (\(error)): remove it to start afresh", file: statePath)
        }
        guard json["format"]?.stringValue == ResumableSampling.format else {
            throw DKLError.data("not a dkl-fit state file: remove it to start afresh", file: statePath)
        }
        guard json["signature"]?.stringValue == signature else {
            throw DKLError.data("the state of another fit (other options or data): run that fit's command to continue it, or remove the file", file: statePath)
        }
        guard let list = json["chains"]?.arrayValue, list.count == chains else { throw DKLError.data("damaged: its chains do not match --chains", file: statePath) }
        return try list.enumerated().map { k, c in
            try locating(file: statePath, record: k + 1) { try NUTS.ChainState(json: c, sampler: sampler, dimension: dimension) }
        }
    }

    /// Writes the states atomically.
    public func save(_ states: [NUTS.ChainState]) throws {
        let json = JSON.object([("format", .string(ResumableSampling.format)), ("version", 1), ("signature", .string(signature)),
                                ("chains", .array(states.map(\.json)))])
        let file = try AtomicFile(path: statePath)
        do {
            try file.writer.write(json.text + "\n")
            try file.commit()
        } catch { file.abort(); throw error }
    }

    /// Draws from the posterior, continuing the saved states if there are any; on a
    /// deferred ^C, saves the states and throws `interrupted` (saying how far the chains
    /// got). The state file is removed once the fit is done.
    public func nuts(_ model: StructuredGP, sampler: NUTS, chains: Int, progress: (@Sendable (Int) -> Void)? = nil,
                     note: (String) -> Void = { _ in }) throws -> BayesianFit {
        let resume = try saved(sampler: sampler, chains: chains, dimension: model.free.count)
        if let resume {
            note("continuing the chains from \(statePath) (iterations \(resume.map { String($0.iteration) }.joined(separator: ", ")) of \(sampler.warmup + sampler.samples))")
        }
        do {
            let fit = try BayesianFit.nuts(model, sampler: sampler, chains: chains, resume: resume, progress: progress)
            if resume != nil { unlink(statePath) }
            return fit
        } catch let stopped as BayesianFit.Stopped {
            try save(stopped.states)
            let done = stopped.states.map(\.iteration).reduce(0, +), total = chains * (sampler.warmup + sampler.samples)
            throw DKLError(.interrupted, "interrupted after \(done) of \(total) iterations: the chains are saved in \(statePath); the same command continues them")
        }
    }
}
