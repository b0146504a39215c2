import Foundation
import DKLCore
import DKLData

/// An instrument program started once and asked for every measurement over the instrument
/// protocol (InstrumentProtocol, dkl-instrument(7)): `hello` when it starts, `measure` per
/// point, `bye` at the end. An answer that is late, malformed, of the wrong shape or an
/// error is retried on the same session; a program that died or hung is stopped and started
/// again (a new session); past the retries and one restart the run stops with what happened
/// and the program's last words on stderr.
public final class InstrumentOracle: Oracle {
    public let command: [String]
    /// From the hello (when it says) or the first answer; later answers must match it.
    public private(set) var itemShape: [Int]
    public let timeout: Double
    public let retries: Int
    /// How many times a failed session is restarted before the run stops.
    public let restarts: Int
    var process: PersistentProcess?
    /// Sessions started so far.
    public private(set) var sessions = 0
    /// Sent with every measure request when set (seconds per measurement).
    public var dwell: Double?
    /// The calibration the hello gave (`attrs`: the energy axis, the detector's axes).
    public private(set) var attributes: JSON = .object([])
    public var calibration: JSON { InstrumentProtocol.calibration(attributes) }

    public init(command: [String], timeout: Double = 600, retries: Int = 2, restarts: Int = 1) {
        self.command = command; self.itemShape = []; self.timeout = timeout; self.retries = retries; self.restarts = restarts
    }

    deinit { close() }

    /// Says bye and stops the program.
    public func close() {
        guard let p = process else { return }
        p.write(Array(#"{"op":"bye"}"#.utf8) + [0x0A])
        _ = try? p.readLine(until: Date().addingTimeInterval(min(timeout, 2)))
        p.stop(grace: 1)
        process = nil
    }

    /// The program's path, from PATH when it has no '/'.
    var programPath: String {
        get throws { command[0].contains("/") ? command[0] : try CommandOracle.find(command[0]) }
    }

    func start() throws -> PersistentProcess {
        let p = try PersistentProcess(try programPath, Array(command.dropFirst()))
        sessions += 1
        do {
            let hello = try exchange(p, ["op": "hello", "protocol": .number(Double(InstrumentProtocol.version))])
            guard hello.ok else { throw DKLError.data("refused the session: \(hello.error ?? "no reason given")") }
            if let shape = hello.shape, itemShape.isEmpty { itemShape = shape }
            if case .object = hello.json["attrs"] ?? .null { attributes = hello.json["attrs"]! }
        } catch {
            p.stop(grace: 1)
            throw error
        }
        return p
    }

    /// Sends `request` and reads its response (and payload), within the timeout.
    func exchange(_ p: PersistentProcess, _ request: JSON) throws -> (ok: Bool, error: String?, shape: [Int]?, values: [Double]?, json: JSON) {
        guard p.write(Array(request.text.utf8) + [0x0A]) else { throw PersistentProcess.ReadFailure.ended }
        let deadline = Date().addingTimeInterval(timeout)
        let r = try InstrumentProtocol.parse(try p.readLine(until: deadline))
        var values = r.values
        if let (n, dtype) = r.payload { values = InstrumentProtocol.decode(try p.readBytes(n, until: deadline), dtype: dtype) }
        return (r.ok, r.error, r.shape, values, r.json)
    }

    /// The measurement of a response: the position it reports (`y` and `x`, when both are
    /// finite numbers) and its other members as metadata.
    static func measurement(_ values: [Double], _ response: JSON) -> Reading {
        var position: (y: Double, x: Double)?
        if let ry = response["y"]?.doubleValue, let rx = response["x"]?.doubleValue, ry.isFinite, rx.isFinite { position = (ry, rx) }
        var meta: [(String, JSON)] = []
        if case let .object(members) = response {
            meta = members.filter { !["ok", "shape", "values", "dtype", "bytes", "y", "x"].contains($0.0) }
        }
        return Reading(values, position: position, meta: .object(meta))
    }

    public func measure(y: Int, x: Int) throws -> Reading {
        var problems: [String] = []
        var restartsLeft = restarts
        while true {
            try Interrupts.check()
            if process == nil {
                do { process = try start() } catch let e as DKLError {
                    problems.append("starting it: \(e.message)")
                } catch PersistentProcess.ReadFailure.timedOut {
                    problems.append("no answer to hello within \(timeout) s")
                } catch {
                    problems.append("it ended before answering hello")
                }
            }
            if let p = process {
                for _ in 0...retries {
                    do {
                        var request: JSON = ["op": "measure", "y": .number(Double(y)), "x": .number(Double(x))]
                        if let dwell { request.set("dwell", .number(dwell)) }
                        let r = try exchange(p, request)
                        guard r.ok else { problems.append("error: \(r.error ?? "no reason given")"); continue }
                        guard let values = r.values else { problems.append("an answer without values"); continue }
                        let shape = r.shape ?? [values.count]
                        guard shape.reduce(1, *) == values.count else { problems.append("\(values.count) values for the shape \(shape)"); continue }
                        if itemShape.isEmpty { itemShape = shape }
                        guard shape == itemShape else { problems.append("an answer of shape \(shape), expected \(itemShape)"); continue }
                        guard values.allSatisfy(\.isFinite) else { problems.append("an answer with NaN or infinity"); continue }
                        return InstrumentOracle.measurement(values, r.json)
                    } catch let e as DKLError {
                        // A malformed line: the session may be out of step; start afresh.
                        problems.append(e.message)
                        break
                    } catch PersistentProcess.ReadFailure.timedOut {
                        problems.append("no answer within \(timeout) s")
                        break
                    } catch {
                        problems.append("it ended")
                        break
                    }
                }
                // The session failed: stop it (a hung program is killed) and maybe start again.
                let words = p.lastErrorLines()
                if !words.isEmpty { problems.append("its last words: \(words)") }
                p.stop(grace: 1)
                process = nil
            }
            if restartsLeft == 0 {
                throw DKLError.data("measuring (\(y), \(x)) failed after \(sessions) session\(sessions == 1 ? "" : "s"): \(problems.suffix(4).joined(separator: "; "))", file: command[0])
            }
            restartsLeft -= 1
        }
    }
}
