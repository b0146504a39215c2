/// The optional array outputs of a run of many histories, as HDF5 files written atomically.
public enum FerroOutput {
    /// /px, /py, /curl (histories × n × n) and /id, from each history's 3·n² map values.
    public static func writeMaps(_ path: String, ids: [Int], n: Int, maps: [Double]) throws {
        let sites = n * n, h = ids.count
        let w = try HDF5Writer(path: path)
        do {
            for (c, name) in ["px", "py", "curl"].enumerated() {
                var v = [Double]()
                v.reserveCapacity(h * sites)
                for i in 0..<h {
                    let start = (3 * i + c) * sites
                    v.append(contentsOf: maps[start..<(start + sites)])
                }
                try w.write("/" + name, shape: [h, n, n], values: .double(v))
            }
            try w.write("/id", shape: [h], values: .int64(ids.map { Int64($0) }))
            try w.commit()
        } catch { w.abort(); throw error }
    }

    /// /mean_px, /mean_py, /sum_abs_curl (histories × steps) and /id, from each history's
    /// per-step triples; every history must have the same length.
    public static func writeSeries(_ path: String, ids: [Int], series: [[Double]]) throws {
        let steps = (series.first?.count ?? 0) / 3
        guard series.allSatisfy({ $0.count == steps * 3 }) else {
            throw DKLError.data("--series needs histories of one length", file: path)
        }
        let w = try HDF5Writer(path: path)
        do {
            for (c, name) in ["mean_px", "mean_py", "sum_abs_curl"].enumerated() {
                let v = series.flatMap { h in (0..<steps).map { h[3 * $0 + c] } }
                try w.write("/" + name, shape: [series.count, steps], values: .double(v))
            }
            try w.write("/id", shape: [ids.count], values: .int64(ids.map { Int64($0) }))
            try w.commit()
        } catch { w.abort(); throw error }
    }
}
