import Foundation
import DKLCore
import DKLData

/// Where the spectra (or diffraction patterns) come from: an array H×W×item, read one
/// image row at a time, or a stream of records with y, x and an item field.
public enum SpectrumSource {
    case array(ArraySource)
    case stream(StreamReader, field: Int)

    /// Opens `path`: an array of rank 2 + `itemRank` (a spectrum image H×W×E for 1, a 4D-STEM
    /// cube H×W×ky×kx for 2), or a stream whose field `field` has that rank.
    /// A stream without `field` may hold the items in the first of `alternatives` it has (an
    /// experiment's trace keeps its patterns as `spectrum`).
    public static func open(_ path: String, field: String, itemRank: Int, alternatives: [String] = []) throws -> SpectrumSource {
        let what = itemRank == 2 ? "a 4D-STEM cube H×W×ky×kx" : "a spectrum image H×W×E"
        if path != "-" && ArrayFile.isArrayFile(ArrayFile.split(path).0) {
            let cube = try ArrayFile.open(path)
            try cube.requireRank([2 + itemRank], what)
            return .array(cube)
        }
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        guard reader.schema.index(of: "y") != nil, reader.schema.index(of: "x") != nil else {
            throw DKLError.data("the stream has no fields y and x", file: reader.name, location: "header")
        }
        guard let f = reader.schema.index(of: field) ?? alternatives.lazy.compactMap({ reader.schema.index(of: $0) }).first else {
            throw DKLError.data("the stream has no field '\(field)' (--field)", file: reader.name, location: "header")
        }
        let shape = reader.schema.fields[f].shape
        guard shape.count == itemRank else {
            throw DKLError.data("field '\(reader.schema.fields[f].name)' has shape \(shape); \(itemRank == 2 ? "diffraction-pattern scalarizers need patterns [ky, kx]" : "spectra need shape [E]")",
                                file: reader.name, location: "header")
        }
        return .stream(reader, field: f)
    }

    /// The shape of one item: [E] or [ky, kx].
    public var item: [Int] {
        switch self {
        case let .array(cube): return Array(cube.shape.dropFirst(2))
        case let .stream(r, f): return r.schema.fields[f].shape
        }
    }

    public var name: String {
        switch self {
        case let .array(cube): return cube.name
        case let .stream(r, _): return r.name
        }
    }

    /// The size of a pixel of the grid, when the file or the stream's header gives it.
    public var pixelSize: PixelSize? {
        switch self {
        case let .array(cube): return PixelSize(attributes: cube.attributes)
        case let .stream(r, _): return PixelSize(attributes: r.header.attrs)
        }
    }

    /// What `scalarizers` bind to: the energy axis of the spectra (from `energy`, the file or
    /// the stream's header), or the detector of the patterns (`detector`'s options; the
    /// centre of the cube's mean pattern when none is given).
    public func geometry(for scalarizers: [Scalarizer], energy: String?, detector: DetectorOptions) throws -> ItemGeometry {
        switch self {
        case let .array(cube):
            return try ItemGeometry.resolve(for: scalarizers, item: item, cube: cube, attributes: [cube.attributes], energy: energy, detector: detector, name: cube.name)
        case let .stream(r, _):
            return try ItemGeometry.resolve(for: scalarizers, item: item, cube: nil, attributes: [r.header.attrs, r.header.attrs["source_attrs"] ?? .null],
                                            energy: energy, detector: detector, name: r.name)
        }
    }

    /// The energy axis of `channels` channels: from `option`, or from the file or the stream's header.
    public func energyAxis(option: String?, channels: Int) throws -> EnergyAxis {
        switch self {
        case let .array(cube): return try EnergyAxis.resolve(option: option, source: cube, channels: channels)
        case let .stream(r, _): return try EnergyAxis.resolve(option: option, header: r.header, channels: channels, name: r.name)
        }
    }

    /// Every item scalarized, a batch at a time (an image row, or up to 1024 records):
    /// `body(pixels, results)`; `progress` counts rows or records. Interruptible between batches.
    public func scalarize(_ scalarizers: SpectrumScalarizers, progress: DKLCore.Progress?,
                          _ body: ([(Int, Int)], [(values: [Double], flags: UInt8)]) throws -> Void) throws {
        switch self {
        case let .array(cube):
            let (h, w) = (cube.shape[0], cube.shape[1])
            try scalarizers.forEachRow(of: cube) { y, results in
                try body((0..<w).map { (y, $0) }, results)
                progress?.update(y + 1)
            }
            progress?.finish(h)
        case let .stream(reader, f):
            let (iy, ix) = (reader.schema.index(of: "y")!, reader.schema.index(of: "x")!)
            let width = item.reduce(1, *)
            var done = 0
            while let batch = try reader.nextBatch(maxRecords: 1024) {
                try Interrupts.check()
                var values = [Double](), coords: [(Int, Int)] = []
                values.reserveCapacity(batch.count * width)
                for i in 0..<batch.count {
                    let r = RecordView(batch.record(i), reader.schema)
                    coords.append((r.int(iy), r.int(ix)))
                    values += r.doubles(f)
                }
                try body(coords, scalarizers.evaluate(values, count: batch.count, width: width))
                done += batch.count
                progress?.update(done)
            }
            progress?.finish(done)
        }
    }
}

extension CentreOfMass {
    /// The mean diffraction pattern of a 4D-STEM cube H×W×ky×kx (NaN pixels left out), one
    /// image row at a time; interruptible between rows.
    public static func meanPattern(_ cube: ArraySource) throws -> [Double] {
        let n = Double(cube.shape[0] * cube.shape[1])
        return try patternSum(cube).map { $0 / n }
    }

    /// The sum of the cube's patterns (the mean's centre of mass without the division).
    static func patternSum(_ cube: ArraySource) throws -> [Double] {
        let (ky, kx) = (cube.shape[2], cube.shape[3])
        var mean = [Double](repeating: 0, count: ky * kx)
        for y in 0..<cube.shape[0] {
            try Interrupts.check()
            let row = try cube.readBlock(start: [y, 0, 0, 0], count: [1, cube.shape[1], ky, kx])
            for (i, v) in row.enumerated() where v.isFinite { mean[i % (ky * kx)] += v }
        }
        return mean
    }

    /// The reference centre: the centre of mass of the cube's mean pattern over `mask`.
    public static func reference(_ cube: ArraySource, mask: [Bool]?) throws -> (y: Double, x: Double) {
        let sum = try patternSum(cube)
        guard let c = sum.withUnsafeBufferPointer({ raw($0, height: cube.shape[2], width: cube.shape[3], mask: mask) }) else {
            throw DKLError.data("the mean diffraction pattern has no positive intensity", file: cube.name)
        }
        return c
    }

    /// A detector mask from an array ky×kx (nonzero: counted).
    public static func loadMask(_ path: String, height ky: Int, width kx: Int) throws -> [Bool] {
        let arr = try ArrayFile.open(path)
        guard arr.shape == [ky, kx] else { throw DKLError.data("the mask has shape \(arr.shape) but the patterns are \(ky)×\(kx)", file: path) }
        let v = try arr.readAll()
        guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the mask holds NaN or infinity", file: path) }
        return v.map { $0 != 0 }
    }

    /// The detector pixels within `radius` of `centre`.
    public static func disc(height ky: Int, width kx: Int, centre: (y: Double, x: Double), radius: Double) -> [Bool] {
        (0..<(ky * kx)).map { i in
            let (dy, dx) = (Double(i / kx) - centre.y, Double(i % kx) - centre.x)
            return dy * dy + dx * dx <= radius * radius
        }
    }
}
