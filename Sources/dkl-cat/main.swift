import DKLCore
import DKLData
import DKLImaging
import DKLCommandLine

// dkl-cat: inspect, check, convert and join dkl streams; import arrays as streams and
// export stream fields as arrays.
let command = Command(
    name: "dkl-cat",
    usage: ["[options] [STREAM...]",
            "--list [-J] FILE...",
            "--import ARRAY [--field NAME] [options]",
            "--export ARRAY --field NAME [STREAM]"],
    summary: """
        Concatenate dkl streams (stdin when none or '-') and write them as one stream,
        converting between the binary and NDJSON encodings; print a header; keep the first
        or last records or some fields; validate streams; list the signals of array and
        instrument files (NPY, HDF5, DM3/DM4, Velox EMD, Nanonis 3ds/dat, Igor ibw: see
        dkl-formats(5)); import one as a stream, or export a stream field back to an array
        on its grid; merge sorted streams (--merge: the shards of a job array) or join two
        on a key (--join); write a table (--tsv) for awk, spreadsheets and R.
        """,
    options: [
        Option("header", "H", help: "print the header as JSON (one line) and exit"),
        Option("check", "c", help: "validate each input whole; print 'FILE: ok, N records' (exit 1 if not)"),
        Option("count", "n", help: "print the number of records"),
        Option("head", value: "N", help: "keep the first N records"),
        Option("tail", value: "N", help: "keep the last N records"),
        Option("fields", "f", value: "A,B,...", help: "keep these fields, in this order"),
        Option("list", "l", help: "list the signals of each FILE (dkl-formats(5)): how to name one, its name, kind, shape, calibration (-J: NDJSON)"),
        Option("import", "i", value: "ARRAY", help: "read an array (file.npy, file.h5[:/path|:QUANTITY], file.dm3[:INDEX|:NAME], file.3ds:CHANNEL, …) as a stream"),
        Option("export", "e", value: "ARRAY", help: "write the field named by --field to an array file (.npy or .h5[:/path])"),
        Option("field", value: "NAME", help: "the field to import into or export from"),
        Option("rows", help: "import the first axis as records {id, NAME[rest]} (a list of spectra, histories, …)"),
        Option("dtype", value: "f32|f64", help: "element type of imported values (default f32)"),
        Option("merge", "m", value: "A,B,...", help: "merge inputs each sorted by these fields (the shards of a job array) into one sorted stream"),
        Option("sort", value: "A,B,...", help: "write the records in ascending order of these numeric fields (ties keep their order), e.g. to --join"),
        Option("join", value: "A,B,...", help: "join two streams sorted by these fields: each record of the first with the second's fields of the same key"),
        Option("tsv", "T", help: "write a tab-separated table (column names first; arrays as NAME[i]) instead of a stream"),
    ] + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    let inputs = a.positionals.isEmpty ? ["-"] : a.positionals

    if a.flag("list") {
        guard !a.positionals.isEmpty else { throw DKLError.usage("--list needs a FILE") }
        let out = ByteWriter.stdout()
        for path in a.positionals {
            let signals = try ArrayFile.list(path)
            try out.write(a.flag("ndjson") ? signals.map { $0.json.text + "\n" }.joined() : ArraySignal.table(signals))
        }
        try out.flush()
        return
    }

    if let spec = a.string("import") {
        guard a.positionals.isEmpty else { throw DKLError.usage("--import reads its array, not streams") }
        let dtype = DType(rawValue: a.string("dtype") ?? "f32")
        guard let dtype, dtype.isFloat else { throw DKLError.usage("--dtype must be f32 or f64") }
        let source = try ArrayFile.open(spec)
        let schema = try locating(file: spec) { try ArrayStreams.importSchema(shape: source.shape, field: a.string("field"), dtype: dtype, rows: a.flag("rows")) }
        let out = try inv.openOutput(StreamHeader(schema: schema, attrs: ArrayStreams.importAttributes(source)))
        let progress = Progress(tool: command.name, what: "rows", total: source.shape.first, enabled: inv.showsProgress)
        try ArrayStreams.importRecords(source, to: out.writer, progress: progress)
        try out.commit()
        progress.finish(source.shape.first ?? 0)
        return
    }

    if let spec = a.string("export") {
        guard let field = a.string("field") else { throw DKLError.usage("--export needs --field NAME") }
        try inv.expectPositionals(0...1)
        let reader = try StreamReader(path: inputs[0])
        let (shape, values) = try ArrayStreams.export(reader, field: field)
        let f32 = (a.string("dtype") ?? (reader.schema[field]?.dtype == .f32 ? "f32" : "f64")) == "f32"
        // The pixel size at the top, for dkl-plot's scale bar, also when it came with the source.
        var attrs = reader.header.attrs
        if attrs["pixel_size"] == nil, let pixel = PixelSize(attributes: attrs) { for (k, v) in pixel.attributes { attrs.set(k, v) } }
        try ArrayFile.write(spec, shape: shape, values: f32 ? .float(values.map { Float($0) }) : .double(values), attributes: attrs)
        return
    }

    if a.flag("header") {
        let out = ByteWriter.stdout()
        for path in inputs {
            let r = try StreamReader(path: path)
            try out.write(r.header.json.text + "\n")
        }
        try out.flush()
        return
    }

    if a.flag("check") || a.flag("count") {
        let out = ByteWriter.stdout()
        for path in inputs {
            let r = try StreamReader(path: path)
            while let batch = try r.nextBatch(maxRecords: 4096) {
                if a.flag("check") {
                    for i in 0..<batch.count {
                        try locating(file: r.name, record: batch.firstRecord + i) { try RecordView(batch.record(i), r.schema).validate() }
                    }
                }
            }
            try out.write(a.flag("check") ? "\(r.name): ok, \(r.recordsRead) records, \(r.encoding.rawValue)\n" : "\(r.recordsRead)\n")
        }
        try out.flush()
        return
    }

    if let spec = a.string("merge") {
        if let o = ["head", "tail", "fields"].first(where: { a.string($0) != nil }) { throw DKLError.usage("--merge writes every record: give no --\(o)") }
        let merger = try StreamMerger(paths: inputs, keys: spec.split(separator: ",").map(String.init))
        let out = try RecordSink(inv, merger.header)
        while let r = try merger.next() { try r.withUnsafeBytes { try out.write($0) } }
        try out.commit()
        return
    }

    if let spec = a.string("sort") {
        if let o = ["head", "tail", "fields", "merge", "join"].first(where: { a.string($0) != nil }) { throw DKLError.usage("--sort writes every record: give no --\(o)") }
        guard inputs.count == 1 else { throw DKLError.usage("--sort takes one stream") }
        let reader = try StreamReader(path: inputs[0])
        let records = try StreamSorter.sorted(reader, keys: spec.split(separator: ",").map(String.init))
        let out = try RecordSink(inv, reader.header)
        for r in records { try r.withUnsafeBytes { try out.write($0) } }
        try out.commit()
        return
    }

    if let spec = a.string("join") {
        if let o = ["head", "tail", "fields", "merge"].first(where: { a.string($0) != nil }) { throw DKLError.usage("--join writes every joined record: give no --\(o)") }
        guard inputs.count == 2 else { throw DKLError.usage("--join takes two streams") }
        let joiner = try StreamJoiner(inputs[0], inputs[1], keys: spec.split(separator: ",").map(String.init))
        let out = try RecordSink(inv, joiner.header)
        while let r = try joiner.next() { try r.withUnsafeBytes { try out.write($0) } }
        try out.commit()
        if joiner.unmatched > 0 { inv.note("\(joiner.unmatched) records of \(inputs[0]) have no partner in \(inputs[1]) and were left out") }
        return
    }

    // Concatenate, select and convert.
    let selection = try StreamSelection(paths: inputs, fields: a.string("fields").map { $0.split(separator: ",").map(String.init) },
                                        head: try a.optionalInt("head", range: 0...Int.max), tail: try a.optionalInt("tail", range: 0...Int.max))
    let out = try RecordSink(inv, selection.header)
    try selection.run(write: { try out.write($0) }, writeRecords: { try out.write(records: $0, count: $1) })
    try out.commit()
}
