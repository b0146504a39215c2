import DKLCore
import DKLData
import DKLCommandLine

// dkl-twin: a digital-twin instrument serving a pre-acquired array over the instrument
// protocol (dkl-instrument(7)) on its standard input and output.
let command = Command(
    name: "dkl-twin",
    usage: ["[options] ARRAY"],
    summary: """
        Serve ARRAY (a spectrum image H×W×E, a 4D-STEM cube H×W×ky×kx or a property map H×W,
        in any file of dkl-formats(5)) as an instrument: JSON requests on standard input,
        one per line (hello, measure at y and x, image, bye), JSON responses on standard
        output, as dkl-instrument(7) specifies; so that 'dkl-explore --instrument dkl-twin
        --instrument-arg ARRAY' rehearses an experiment before the microscope time. Options
        make it behave like an instrument: Poisson noise at a dose (per unit dwell), a
        drift of the scan, a latency, injected failures and a crash.
        """,
    options: [
        Option("image", value: "ARRAY", help: "the structural image answered to {\"op\":\"image\"} (an overview scan)"),
        Option("dose", value: "D", help: "counts per unit intensity and unit dwell: each value v is measured at dwell t as Poisson(v·D·t)/(D·t) (default: none, the values as stored)"),
        Option("drift", value: "VY,VX", help: "the scan's drift in pixels per measurement: the nth measurement is taken n·(VY,VX) from where it was asked, and that position reported"),
        Option("latency", value: "S", help: "seconds each measurement takes (default 0)"),
        Option("fail-rate", value: "P", help: "the share of measurements answered with an error (default 0)"),
        Option("crash-at", value: "N", help: "exit, unanswering, at the Nth measurement of a session (for testing)"),
        Option("binary", help: "send values as a binary payload (f8) after the response line"),
        Option.seed,
    ]
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    var twin = Twin(cube: try ArrayFile.open(a.positionals[0]))
    try twin.cube.requireRank([2, 3, 4], "a property map H×W, a spectrum image H×W×E or a 4D-STEM cube H×W×ky×kx")
    twin.image = try a.string("image").map { try ArrayFile.open($0) }
    if let d = a.string("dose") {
        guard let v = Double(d), v > 0, v.isFinite else { throw DKLError.usage("--dose must be a positive number of counts per unit intensity") }
        twin.dose = v
    }
    if let d = a.string("drift") {
        let v = d.split(separator: ",").compactMap { Double($0) }
        guard v.count == 2, v.allSatisfy({ $0.isFinite && abs($0) <= 100 }), d.split(separator: ",").count == 2 else {
            throw DKLError.usage("--drift must be VY,VX: pixels per measurement, each from -100 to 100")
        }
        twin.drift = (v[0], v[1])
    }
    twin.latency = try a.double("latency", default: 0)
    guard twin.latency >= 0, twin.latency <= 60 else { throw DKLError.usage("--latency must be from 0 to 60 seconds") }
    twin.failRate = try a.double("fail-rate", default: 0)
    guard (0...1).contains(twin.failRate) else { throw DKLError.usage("--fail-rate must be from 0 to 1") }
    if a.string("crash-at") != nil { twin.crashAt = try a.int("crash-at", default: 0, range: 1...Int(Int32.max)) }
    twin.binary = a.flag("binary")
    twin.seed = UInt64(try a.int("seed", default: 0, range: 0...Int.max))
    try twin.serve()
}
