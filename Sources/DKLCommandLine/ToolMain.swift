import Foundation
import DKLCore
import DKLData

/// What a tool's `run` receives: its parsed arguments and the shared conventions.
public struct Invocation {
    public let command: Command
    public let args: Arguments
    /// The full argument vector (program name first), for provenance.
    public let argv: [String]

    /// Whether progress lines should be printed on stderr.
    public var showsProgress: Bool {
        !args.flag("quiet") && (args.flag("progress") || isatty(2) != 0)
    }

    /// The header with this command appended to its provenance (unless `--no-provenance`).
    public func stamped(_ header: StreamHeader) -> StreamHeader {
        var h = header
        if !args.flag("no-provenance") {
            h.provenance.append(StreamHeader.provenanceEntry(tool: command.name, argv: Array(argv.dropFirst())))
        }
        return h
    }

    /// Opens the stream output named by `-o` (or stdout) in the encoding the options choose.
    public func openOutput(_ header: StreamHeader) throws -> StreamOutput {
        let path = args.string("output")
        let enc = StreamOutput.encoding(explicit: try args.explicitEncoding(), path: path)
        return try StreamOutput(path: path, header: stamped(header), encoding: enc)
    }

    /// Prints a note on stderr unless `--quiet`.
    public func note(_ message: String) {
        guard !args.flag("quiet") else { return }
        StandardError.write("\(command.name): \(message)\n")
    }

    /// Throws a usage error unless the number of positional arguments is in `range`.
    public func expectPositionals(_ range: ClosedRange<Int>) throws {
        let n = args.positionals.count
        if n < range.lowerBound { throw DKLError.usage(n == 0 ? "missing input" : "too few arguments") }
        if n > range.upperBound { throw DKLError.usage("unexpected argument '\(args.positionals[range.upperBound])'") }
    }
}

/// The one place where errors become messages and exit statuses (see `DKLError`).
public enum ToolMain {
    public static func run(_ command: Command, argv: [String] = CommandLine.arguments, _ body: (Invocation) throws -> Void) -> Never {
        Interrupts.install()
        func say(_ s: String) { StandardError.write(s) }
        do {
            let args = try command.parse(Array(argv.dropFirst()))
            if args.flag("help") {
                let out = ByteWriter.stdout()
                try out.write(command.helpText)
                try out.flush()
                exit(0)
            }
            if args.flag("version") {
                let out = ByteWriter.stdout()
                try out.write("\(command.name) \(DKLVersion.string)\n")
                try out.flush()
                exit(0)
            }
            // The one place threads are configured: Parallel's loops and OpenBLAS follow it.
            if command.options.contains(where: { $0.long == "threads" }) { Parallel.threads = try args.threads() }
            try body(Invocation(command: command, args: args, argv: argv))
            exit(0)
        } catch let e as DKLError {
            switch e.kind {
            case .brokenPipe: exit(0)
            case .usage:
                say("\(command.name): error: \(e.message)\n\(command.usageText)\nSee '\(command.name) --help'.\n")
                exit(64)
            case .interrupted:
                say("\(command.name): \(e.message)\n")
                exit(128 + max(Interrupts.signalNumber, 2))
            case .data:
                say("\(command.name): \(DKLError.oneLine(e.description))\n")
                exit(1)
            }
        } catch {
            say("\(command.name): \(DKLError.oneLine("\(error)"))\n")
            exit(1)
        }
    }
}
