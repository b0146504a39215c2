import Foundation
import DKLCore

/// A digital-twin instrument: serves a pre-acquired array (a spectrum image H×W×E, a 4D-STEM
/// cube H×W×ky×kx, or a property map H×W) over the instrument protocol on standard input and
/// output, so that an experiment can be rehearsed end to end before the microscope time.
public struct Twin {
    public var cube: ArraySource
    /// The structural image answered to `{"op":"image"}` (an overview scan).
    public var image: ArraySource?
    /// Counts per unit intensity and unit dwell: each value v is measured at dwell t as
    /// Poisson(v·dose·t)/(dose·t), seeded by the seed, the point and how often it was measured.
    public var dose: Double?
    /// The scan's drift in pixels per measurement (y, x): the n-th measurement of a session
    /// asked at (y, x) is taken at the pixel nearest (y + n·vy, x + n·vx), and that position
    /// is reported.
    public var drift: (y: Double, x: Double) = (0, 0)
    /// Seconds each measurement takes.
    public var latency = 0.0
    /// The share of measurements answered with an error.
    public var failRate = 0.0
    /// The process exits, unanswering, at this measurement (1-based).
    public var crashAt: Int?
    /// Values as a binary payload (f8) instead of JSON numbers.
    public var binary = false
    public var seed: UInt64 = 0

    public init(cube: ArraySource) { self.cube = cube }

    /// Answers requests until `bye` or the end of its input.
    public func serve() throws {
        var rng = Xoshiro(seed: seed)
        var measured = 0
        var repeats: [Int64: Int] = [:]
        let noise = dose.map { ShotNoise(dose: $0, seed: seed) }
        let out = FileHandle.standardOutput
        func send(_ j: JSON, payload: [Double]? = nil) {
            var data = Data((j.text + "\n").utf8)
            if let payload { payload.withUnsafeBytes { data.append(contentsOf: $0) } }
            out.write(data)
        }
        func answer(_ values: [Double], shape: [Int], extra: [(String, JSON)] = []) {
            if binary {
                send(.object([("ok", .bool(true)), ("shape", JSON(shape)), ("dtype", "f8"), ("bytes", .number(Double(values.count * 8)))] + extra), payload: values)
            } else {
                send(.object([("ok", .bool(true)), ("shape", JSON(shape)), ("values", .array(values.map { .number($0) }))] + extra))
            }
        }
        let item = cube.rank == 2 ? [1] : Array(cube.shape.dropFirst(2))
        while let line = readLine() {
            let request: JSON
            do { request = try JSONParser.parse(line) } catch {
                send(["ok": .bool(false), "error": "the request is not JSON"])
                continue
            }
            switch request["op"]?.stringValue {
            case "hello":
                send(["ok": .bool(true), "protocol": .number(Double(InstrumentProtocol.version)), "name": "dkl-twin", "shape": JSON(item),
                      "attrs": InstrumentProtocol.calibration(cube.attributes)])
            case "bye":
                send(["ok": .bool(true)])
                return
            case "image":
                guard let image else { send(["ok": .bool(false), "error": "no image (dkl-twin --image)"]); continue }
                answer(try image.readAll(), shape: image.shape)
            case "measure":
                guard let y = request["y"]?.intValue, let x = request["x"]?.intValue,
                      (0..<cube.shape[0]).contains(y), (0..<cube.shape[1]).contains(x) else {
                    send(["ok": .bool(false), "error": .string("measure needs a y and an x on the \(cube.shape[0])×\(cube.shape[1]) grid")])
                    continue
                }
                measured += 1
                if let crashAt, measured >= crashAt { exit(3) }
                if latency > 0 { usleep(UInt32(min(latency, 60) * 1e6)) }
                if failRate > 0, rng.uniform() < failRate {
                    send(["ok": .bool(false), "error": "injected failure"])
                    continue
                }
                let dwell = request["dwell"]?.doubleValue ?? 1
                guard dwell > 0, dwell.isFinite else { send(["ok": .bool(false), "error": "dwell must be a positive number"]); continue }
                // Where the probe is after the drift so far (fractional), and the pixel read there.
                let (ay, ax) = (Double(y) + Double(measured - 1) * drift.y, Double(x) + Double(measured - 1) * drift.x)
                let (py, px) = (Int(min(max(ay, 0), Double(cube.shape[0] - 1)).rounded()), Int(min(max(ax, 0), Double(cube.shape[1] - 1)).rounded()))
                var values = cube.rank == 2 ? [try cube.readBlock(start: [py, px], count: [1, 1])[0]] : try cube.read(at: [py, px])
                if let noise {
                    let key = Int64(py) << 32 | Int64(px)
                    values = noise.resample(values, y: py, x: px, repeat: repeats[key, default: 0], dwell: dwell)
                    repeats[key, default: 0] += 1
                }
                answer(values, shape: item, extra: [("y", .number(drift == (0, 0) ? Double(y) : ay)), ("x", .number(drift == (0, 0) ? Double(x) : ax)),
                                                    ("dwell", .number(dwell)), ("time", .number(Date().timeIntervalSince1970))])
            default:
                send(["ok": .bool(false), "error": "unknown op (hello, measure, image, bye)"])
            }
        }
    }
}

