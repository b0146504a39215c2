import Foundation
import DKLCore
import DKLData

/// One command-line option: `--long` (and `-s`), taking a value when `value` names it.
public struct Option: Sendable {
    public let long: String
    public let short: Character?
    /// The value's placeholder in help (`FILE`, `N`); nil for a flag.
    public let value: String?
    public let help: String
    public let repeatable: Bool

    public init(_ long: String, _ short: Character? = nil, value: String? = nil, repeatable: Bool = false, help: String) {
        self.long = long; self.short = short; self.value = value; self.help = help; self.repeatable = repeatable
    }

    /// Options every tool has.
    public static let common: [Option] = [
        Option("help", "h", help: "print this help and exit"),
        Option("version", help: "print the version and exit"),
        Option("quiet", "q", help: "print no progress or notes on stderr"),
        Option("progress", help: "show progress on stderr even when it is not a terminal"),
    ]

    /// `--seed` and `--threads`, for tools with randomness or parallel work.
    public static let seed = Option("seed", value: "N", help: "seed of the random generator (default 0): the same seed gives the same output")
    public static let threads = Option("threads", "j", value: "N", help: "worker threads (default: the number of cores)")
    public static let shard = Option("shard", value: "K/N", help: "handle only items i with i mod N = K-1 (a Slurm array task)")

    /// The detector of the diffraction-pattern scalarizers (-S com, bf, adf, dpc): its
    /// reference centre, mask and counting disc (`radius` names the last: dkl-explore's
    /// --radius is its batches').
    public static func detector(radius: String = "radius") -> [Option] {
        [Option("centre", value: "KY,KX", help: "the detector's reference centre for com, bf, adf, dpc (default: the centre of mass of the mean pattern)"),
         Option("mask", value: "ARRAY", help: "detector pixels counted by com, bf, adf, dpc: a ky×kx array, nonzero = counted"),
         Option(radius, value: "R", help: "count only detector pixels within R pixels of the centre (com, bf, adf, dpc)")]
    }

    /// Options of every tool that writes a stream.
    public static let streamOutput: [Option] = [
        Option("output", "o", value: "FILE", help: "write the stream to FILE (atomically) instead of stdout"),
        Option("ndjson", "J", help: "write NDJSON (default: binary, or NDJSON to a terminal or a .ndjson/.jsonl file)"),
        Option("binary", "B", help: "write the binary encoding"),
        Option("no-provenance", help: "do not append this command to the header's provenance"),
    ]
}

/// A tool's name, usage lines, summary and options: everything `--help` prints.
public struct Command: Sendable {
    public let name: String
    public let usage: [String]
    public let summary: String
    public let options: [Option]
    public let details: String

    public init(name: String, usage: [String], summary: String, options: [Option], details: String = "") {
        self.name = name; self.usage = usage; self.summary = summary; self.details = details
        self.options = options + Option.common
    }

    public var usageText: String {
        usage.enumerated().map { (i, u) in (i == 0 ? "usage: " : "       ") + name + " " + u }.joined(separator: "\n")
    }

    public var helpText: String {
        var lines = [usageText, "", summary, "", "options:"]
        for o in options {
            var left = "  " + (o.short.map { "-\($0), " } ?? "    ") + "--" + o.long
            if let v = o.value { left += " " + v }
            let pad = max(1, 30 - left.count)
            lines.append(left.count < 30 ? left + String(repeating: " ", count: pad) + o.help : left + "\n" + String(repeating: " ", count: 30) + o.help)
        }
        if !details.isEmpty { lines += ["", details] }
        lines.append("\nSee \(name)(1) for exit status and examples.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The arguments that define a computation, for checkpoints: `args` without the options
    /// named in `skipping` (and their values).
    public func signature(of args: [String], skipping: Set<String>) -> String {
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            i += 1
            let long = a.hasPrefix("--") ? String(a.dropFirst(2).prefix { $0 != "=" }) : nil
            let short = !a.hasPrefix("--") && a.hasPrefix("-") && a.count >= 2 ? a.dropFirst().first : nil
            if let o = options.first(where: { (long != nil && $0.long == long) || (short != nil && $0.short == short && a.count == 2) }),
               skipping.contains(o.long) {
                if o.value != nil && !a.contains("=") && (long != nil || a.count == 2) { i += 1 }
                continue
            }
            out.append(a)
        }
        return out.joined(separator: "\u{1F}")
    }

    /// Parses `args` (without the program name). Throws usage errors.
    public func parse(_ args: [String]) throws -> Arguments {
        var result = Arguments()
        var i = 0
        func option(long: String) throws -> Option {
            if let o = options.first(where: { $0.long == long }) { return o }
            let near = options.filter { $0.long.hasPrefix(long) }
            if near.count == 1 { return near[0] }
            throw DKLError.usage("unknown option '--\(long)'")
        }
        func store(_ o: Option, _ v: String) throws {
            if !o.repeatable, result.values[o.long] != nil { throw DKLError.usage("option '--\(o.long)' given twice") }
            result.values[o.long, default: []].append(v)
        }
        var onlyPositional = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositional || a == "-" || !a.hasPrefix("-") { result.positionals.append(a); continue }
            if a == "--" { onlyPositional = true; continue }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                let (name, inline) = body.firstIndex(of: "=").map { (String(body[..<$0]), String(body[body.index(after: $0)...])) } ?? (String(body), nil)
                let o = try option(long: name)
                if let _ = o.value {
                    if let v = inline { try store(o, v) } else {
                        guard i < args.count else { throw DKLError.usage("option '--\(o.long)' needs a value (\(o.value!))") }
                        try store(o, args[i]); i += 1
                    }
                } else {
                    if inline != nil { throw DKLError.usage("option '--\(o.long)' takes no value") }
                    try store(o, "")
                }
                continue
            }
            // Short options: -x, -xVALUE, -x VALUE, and bundled flags -qJ.
            var chars = Array(a.dropFirst())
            while !chars.isEmpty {
                let c = chars.removeFirst()
                guard let o = options.first(where: { $0.short == c }) else {
                    if c.isNumber || c == "." { throw DKLError.usage("unexpected argument '\(a)' (a negative number needs --option=\(a))") }
                    throw DKLError.usage("unknown option '-\(c)'")
                }
                if o.value != nil {
                    var v = String(chars)
                    if v.hasPrefix("=") { v.removeFirst() }
                    if chars.isEmpty {
                        guard i < args.count else { throw DKLError.usage("option '-\(c)' needs a value (\(o.value!))") }
                        v = args[i]; i += 1
                    }
                    try store(o, v)
                    chars = []
                } else {
                    try store(o, "")
                }
            }
        }
        if result.values["ndjson"] != nil && result.values["binary"] != nil {
            throw DKLError.usage("give at most one of --ndjson and --binary")
        }
        return result
    }
}

/// Parsed options and positional arguments, with typed, checked accessors.
public struct Arguments: Sendable {
    public var values: [String: [String]] = [:]
    public var positionals: [String] = []

    public init() {}

    public func flag(_ long: String) -> Bool { values[long] != nil }
    public func string(_ long: String) -> String? { values[long]?.last }
    public func strings(_ long: String) -> [String] { values[long] ?? [] }

    public func int(_ long: String, default d: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let s = string(long) else { return d }
        guard let v = Int(s) else { throw DKLError.usage("option '--\(long)' needs an integer, not '\(s)'") }
        guard range.contains(v) else { throw DKLError.usage("option '--\(long)' must be in \(range.lowerBound)...\(range.upperBound), not \(v)") }
        return v
    }

    public func optionalInt(_ long: String, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard string(long) != nil else { return nil }
        return try int(long, default: 0, range: range)
    }

    public func double(_ long: String, default d: Double) throws -> Double {
        guard let s = string(long) else { return d }
        guard let v = Double(s), v.isFinite else { throw DKLError.usage("option '--\(long)' needs a finite number, not '\(s)'") }
        return v
    }

    /// A seed for the toolkit's generator: `--seed N` (default `d`).
    public func seed(default d: UInt64 = 0) throws -> UInt64 {
        guard let s = string("seed") else { return d }
        guard let v = UInt64(s) else { throw DKLError.usage("option '--seed' needs a non-negative integer, not '\(s)'") }
        return v
    }

    /// `--shard K/N`: this process handles the items whose 0-based index i has i mod N = K − 1.
    /// Returns (K − 1, N); (0, 1) without the option.
    public func shard() throws -> (index: Int, count: Int) {
        guard let s = string("shard") else { return (0, 1) }
        let parts = s.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, (1...n).contains(k) else {
            throw DKLError.usage("--shard takes K/N with 1 ≤ K ≤ N, not '\(s)'")
        }
        return (k - 1, n)
    }

    /// `--threads N` (default: the number of active cores).
    public func threads() throws -> Int {
        try int("threads", default: ProcessInfo.processInfo.activeProcessorCount, range: 1...4096)
    }

    /// The encoding chosen by `--ndjson`/`--binary`, or nil.
    public func explicitEncoding() throws -> StreamEncoding? {
        if flag("ndjson") && flag("binary") { throw DKLError.usage("give at most one of --ndjson and --binary") }
        return flag("ndjson") ? .ndjson : flag("binary") ? .binary : nil
    }
}

/// The options each mode of a tool with modes takes (`vae-encode train|encode|decode`,
/// `dkl-plot map|scatter|line`, `dkl-synth plasmon|trajectories|cards`): an option of
/// another mode is refused (exit 64) instead of being ignored.
public struct ModeOptions: Sendable {
    /// Each mode and the options only it (or some modes) takes.
    public let modes: [(name: String, options: [String])]
    /// Options every mode takes (besides help, version, quiet and progress).
    public let shared: [String]

    public init(_ modes: [(String, [String])], shared: [String]) {
        self.modes = modes.map { (name: $0.0, options: $0.1) }
        self.shared = shared
    }

    /// Throws a usage error naming the first option given that `mode` does not take.
    public func check(_ a: Arguments, mode: String) throws {
        let allowed = Set(shared + Option.common.map(\.long) + (modes.first { $0.name == mode }?.options ?? []))
        for name in a.values.keys.sorted() where !allowed.contains(name) {
            let owners = modes.filter { $0.options.contains(name) }.map(\.name)
            throw DKLError.usage("--\(name) does not go with \(mode)" + (owners.isEmpty ? "" : " (it is an option of \(owners.joined(separator: ", ")))"))
        }
    }
}
