import Foundation
import DKLCore
import DKLData

/// Where a tool's records go: a stream (-o, --ndjson, --binary, as every tool), or with
/// --tsv a tab-separated table (to -o, atomically, or stdout).
public final class RecordSink {
    let stream: StreamOutput?
    let table: (file: AtomicFile?, writer: ByteWriter)?
    let schema: Schema

    public init(_ inv: Invocation, _ header: StreamHeader) throws {
        schema = header.schema
        guard inv.args.flag("tsv") else { stream = try inv.openOutput(header); table = nil; return }
        if inv.args.flag("ndjson") || inv.args.flag("binary") { throw DKLError.usage("--tsv writes a table: give no --ndjson or --binary") }
        stream = nil
        if let p = inv.args.string("output"), p != "-" {
            let f = try AtomicFile(path: p)
            table = (f, f.writer)
        } else {
            table = (nil, ByteWriter.stdout())
        }
        try table!.writer.write(TSVTable.headerLine(schema))
    }

    public func write(_ rec: UnsafeRawBufferPointer) throws {
        if let stream { try stream.writer.write(rec) } else { try table!.writer.append { TSVTable.append(rec, schema: schema, to: &$0) } }
    }

    /// `n` records laid end to end.
    public func write(records: UnsafeRawBufferPointer, count n: Int) throws {
        if let stream { try stream.writer.write(records: records, count: n); return }
        let rs = schema.recordSize
        for i in 0..<n { try write(UnsafeRawBufferPointer(rebasing: records[(i * rs)..<((i + 1) * rs)])) }
    }

    public func commit() throws {
        if let stream { try stream.commit(); return }
        try table!.writer.flush()
        try table!.file?.commit()
    }
}
