import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// What "measuring" a position means in an active experiment: reading it from a
/// pre-acquired data set, or asking an instrument program.
public protocol Oracle {
    /// The shape of one measurement (a spectrum [E] or a diffraction pattern [ky, kx]).
    var itemShape: [Int] { get }
    /// The measurement at pixel (y, x).
    func measure(y: Int, x: Int) throws -> Reading
    /// The measurements' calibration (their energy axis, the detector's axes), as array
    /// attributes; known after the first measurement for an instrument.
    var calibration: JSON { get }
}

extension Oracle {
    public var calibration: JSON { .object([]) }
}

/// One measurement: its values, where the instrument says it was taken, and what else it said.
public struct Reading: Sendable {
    public var values: [Double]
    /// The position the instrument reports (pixels; fractional under drift); nil: where asked.
    public var position: (y: Double, x: Double)?
    /// The instrument's metadata (a JSON object: its dwell, time, …; empty for a file).
    public var meta: JSON

    public init(_ values: [Double], position: (y: Double, x: Double)? = nil, meta: JSON = .object([])) {
        self.values = values; self.position = position; self.meta = meta
    }
}

/// A pre-acquired spectrum image H×W×E (or 4D-STEM cube H×W×ky×kx): measuring reads that
/// position. An H×W map holds the property itself (a simulation's result over a grid, a
/// latent space's ground truth): a measurement is then its one value.
public final class ArrayOracle: Oracle {
    public let source: ArraySource
    /// Shot noise at a dose, drawn afresh for each measurement (nil: the values as stored).
    public var noise: ShotNoise?
    public var itemShape: [Int] { isMap ? [1] : Array(source.shape.dropFirst(2)) }
    /// Whether the source is an H×W map of the property.
    public var isMap: Bool { source.rank == 2 }
    public var calibration: JSON { InstrumentProtocol.calibration(source.attributes) }
    public var height: Int { source.shape[0] }
    public var width: Int { source.shape[1] }

    public init(_ source: ArraySource) throws {
        try source.requireRank([2, 3, 4], "a map H×W, a spectrum image H×W×E or a 4D-STEM cube H×W×ky×kx")
        self.source = source
    }

    public func measure(y: Int, x: Int) throws -> Reading {
        guard y >= 0, y < height, x >= 0, x < width else {
            throw DKLError.data("(\(y), \(x)) is outside the oracle's \(height)×\(width) grid", file: source.name)
        }
        let values = try source.read(at: [y, x])
        return Reading(noise.map { $0.resample(values, y: y, x: x) } ?? values)
    }
}

/// An instrument program, run directly (never through a shell) as `COMMAND ARGS… Y X`; it
/// answers with the measurement on its standard output, as an NPY file or a dkl stream
/// whose first record's field `spectrum` (or `value`, or its only field, or its only array
/// field) holds it; one number is the property itself (a simulator's answer). A failure, a
/// timeout or an answer of the wrong shape is retried, then reported.
public final class CommandOracle: Oracle {
    public let command: [String]
    /// Learnt from the first answer unless given; later answers must match it.
    public private(set) var itemShape: [Int]
    public let timeout: Double
    public let retries: Int

    public init(command: [String], itemShape: [Int] = [], timeout: Double = 600, retries: Int = 2) {
        self.command = command; self.itemShape = itemShape; self.timeout = timeout; self.retries = retries
    }

    public func measure(y: Int, x: Int) throws -> Reading {
        var last = ""
        for _ in 0...retries {
            try Interrupts.check()
            do { return Reading(try once(y: y, x: x)) } catch let e as DKLError { last = e.message }
        }
        throw DKLError.data("measuring (\(y), \(x)) failed \(retries + 1) times; last: \(last)", file: command[0])
    }

    func once(y: Int, x: Int) throws -> [Double] {
        let program = command[0].contains("/") ? command[0] : try CommandOracle.find(command[0])
        let run = try ChildProcess.run(program, Array(command.dropFirst()) + [String(y), String(x)], timeout: timeout)
        let message = run.lastErrorLines()
        switch run.ending {
        case .exited(0): break
        case .exited(let code): throw DKLError.data("exit status \(code)\(message.isEmpty ? "" : ": " + message)")
        case .signalled(let sig): throw DKLError.data("killed by signal \(sig)\(message.isEmpty ? "" : ": " + message)")
        case .timedOut: throw DKLError.data("no answer within \(timeout) s (stopped)\(message.isEmpty ? "" : "; its last words: " + message)")
        }
        let data = Data(run.output)
        let tmp = NSTemporaryDirectory() + "/dkl-measure-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).bin"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else { throw DKLError.data("cannot write \(tmp)") }
        defer { unlink(tmp) }
        let values: [Double], answered: [Int]
        if ArrayFile.isArrayFile(tmp) {
            let a = try ArrayFile.open(tmp)
            (values, answered) = (try a.readAll(), a.shape)
        } else {
            let r: StreamReader
            do { r = try StreamReader(path: tmp) } catch { throw DKLError.data("the answer is neither NPY nor a dkl stream") }
            let only = r.schema.fields.count == 1 && r.schema.fields[0].dtype != .string ? 0 : nil
            guard let field = r.schema.index(of: "spectrum") ?? r.schema.index(of: "value") ?? only ?? r.schema.fields.firstIndex(where: { $0.count > 1 }) else {
                throw DKLError.data("the answer's stream has no field 'spectrum' or 'value', and no array field")
            }
            guard let rec = try r.next() else { throw DKLError.data("the answer's stream has no record") }
            (values, answered) = (RecordView(rec, r.schema).doubles(field), r.schema.fields[field].shape)
        }
        let shape = answered.isEmpty ? [1] : answered   // one number: the property itself
        if itemShape.isEmpty { itemShape = shape }
        guard shape == itemShape else { throw DKLError.data("the answer has shape \(shape), expected \(itemShape)") }
        return values
    }

    /// The program's path from PATH.
    static func find(_ name: String) throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw DKLError.data("no program '\(name)' on PATH")
    }
}
