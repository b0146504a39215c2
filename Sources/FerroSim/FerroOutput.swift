/// The optional array outputs of a run of many histories, as HDF5 files written atomically
/// a batch of histories at a time (memory does not grow with the number of histories):
/// maps /px, /py, /curl (histories × n × n) and series /mean_px, /mean_py, /sum_abs_curl
/// (histories × steps), each file with /id (histories).
import DKLCore
import DKLData

public final class FerroOutput {
    let count: Int
    let n: Int
    var maps: (file: HDF5Writer, px: HDF5Writer.Rows, py: HDF5Writer.Rows, curl: HDF5Writer.Rows, id: HDF5Writer.Rows)?
    let seriesPath: String?
    /// Created at the first batch, when the histories' length is known.
    var series: (file: HDF5Writer, px: HDF5Writer.Rows, py: HDF5Writer.Rows, curl: HDF5Writer.Rows, id: HDF5Writer.Rows, steps: Int)?

    /// - Parameters: `count` histories on an n×n lattice; nil paths are not written.
    public init(maps mapsPath: String?, series seriesPath: String?, count: Int, n: Int) throws {
        self.count = count; self.n = n; self.seriesPath = seriesPath
        if let mapsPath {
            let w = try HDF5Writer(path: mapsPath)
            let shape = [count, n, n]
            maps = (w, try w.rows("/px", shape: shape, like: .double([])), try w.rows("/py", shape: shape, like: .double([])),
                    try w.rows("/curl", shape: shape, like: .double([])), try w.rows("/id", shape: [count], like: .int64([])))
        }
    }

    /// Whether either output is asked for (the runs must then keep maps or series).
    public var keepsMaps: Bool { maps != nil }
    public var keepsSeries: Bool { seriesPath != nil }

    /// Appends the next histories' arrays, in order.
    public func append(ids: [Int], _ outcomes: [FerroBatch.Outcome]) throws {
        let sites = n * n
        if let m = maps {
            for (c, rows) in [m.px, m.py, m.curl].enumerated() {
                var v = [Double]()
                v.reserveCapacity(outcomes.count * sites)
                for o in outcomes { v.append(contentsOf: o.maps[(c * sites)..<((c + 1) * sites)]) }
                try rows.append(.double(v))
            }
            try m.id.append(.int64(ids.map { Int64($0) }))
        }
        guard let path = seriesPath, let first = outcomes.first else { return }
        if series == nil {
            let steps = first.series.count / 3
            let w = try HDF5Writer(path: path)
            let shape = [count, steps]
            series = (w, try w.rows("/mean_px", shape: shape, like: .double([])), try w.rows("/mean_py", shape: shape, like: .double([])),
                      try w.rows("/sum_abs_curl", shape: shape, like: .double([])), try w.rows("/id", shape: [count], like: .int64([])), steps)
        }
        let s = series!
        guard outcomes.allSatisfy({ $0.series.count == s.steps * 3 }) else { throw DKLError.data("--series needs histories of one length", file: path) }
        for (c, rows) in [s.px, s.py, s.curl].enumerated() {
            try rows.append(.double(outcomes.flatMap { h in (0..<s.steps).map { h.series[3 * $0 + c] } }))
        }
        try s.id.append(.int64(ids.map { Int64($0) }))
    }

    /// Puts the files in place (every history must have been appended).
    public func commit() throws {
        if let path = seriesPath, series == nil {
            // No history at all: empty datasets.
            let w = try HDF5Writer(path: path)
            for name in ["/mean_px", "/mean_py", "/sum_abs_curl"] { try w.write(name, shape: [0, 0], values: .double([])) }
            try w.write("/id", shape: [0], values: .int64([]))
            try w.commit()
        }
        try maps?.file.commit()
        try series?.file.commit()
    }

    /// Removes the temporary files.
    public func abort() {
        maps?.file.abort()
        series?.file.abort()
    }
}
