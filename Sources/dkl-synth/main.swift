import DKL

// dkl-synth: writes the synthetic plasmonic-particle STEM-EELS data set the toolkit
// ships in share/ (a structural image and a spectrum image with its energy axis).
let command = Command(
    name: "dkl-synth",
    usage: ["[options] DIR"],
    summary: """
        Write a synthetic STEM-EELS data set of metal nanoparticles into DIR: image.npy
        (the HAADF-like structural image, float32 H×W) and spectra.h5 (/spectra float32
        H×W×E, /energy in eV, /image, /truth/edge_band and /truth/gap_band: noise-free band
        integrals). The same seed gives the same files.
        """,
    options: [
        Option("size", "s", value: "HxW", help: "grid size (default 64x64)"),
        Option("channels", "E", value: "N", help: "energy channels from 0.5 to 4.5 eV (default 96)"),
        Option("particles", "p", value: "N", help: "number of particles (default 14)"),
        Option.seed,
    ]
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    let dir = a.positionals[0]
    let dims = (a.string("size") ?? "64x64").split(separator: "x").compactMap { Int($0) }
    guard dims.count == 2, dims.allSatisfy({ (4...4096).contains($0) }) else { throw DKLError.usage("--size must be HxW with sides from 4 to 4096") }
    let channels = try a.int("channels", default: 96, range: 8...4096)
    let count = try a.int("particles", default: 14, range: 0...10_000)
    var scene = PlasmonScene(height: dims[0], width: dims[1], channels: channels, particles: count, seed: try a.seed())
    try FileSystem.makeDirectory(dir)

    let image = scene.image()
    let progress = Progress(tool: command.name, what: "rows", total: dims[0], enabled: inv.showsProgress)
    var spectra = [Float](); spectra.reserveCapacity(dims[0] * dims[1] * channels)
    var edge = [Double](), gap = [Double]()
    let edgeBand = scene.energy.map { $0 >= 2.3 && $0 <= 3.1 }, gapBand = scene.energy.map { $0 >= 1.35 && $0 <= 2.05 }
    let dE = scene.energy[1] - scene.energy[0]
    for y in 0..<dims[0] {
        for x in 0..<dims[1] {
            let s = scene.spectrum(y: y, x: x)
            spectra += s.noisy
            edge.append(dE * zip(s.clean, edgeBand).filter(\.1).map(\.0).reduce(0, +))
            gap.append(dE * zip(s.clean, gapBand).filter(\.1).map(\.0).reduce(0, +))
        }
        progress.update(y + 1)
    }
    try NPYFile.write(dir + "/image.npy", shape: dims, values: .float(image))
    let w = try HDF5Writer(path: dir + "/spectra.h5")
    do {
        try w.write("/spectra", shape: dims + [channels], values: .float(spectra))
        try w.write("/energy", shape: [channels], values: .double(scene.energy))
        try w.write("/image", shape: dims, values: .float(image))
        try w.write("/truth/edge_band", shape: dims, values: .double(edge))
        try w.write("/truth/gap_band", shape: dims, values: .double(gap))
        try w.setAttribute("/spectra", "energy_start_eV", .number(scene.energy[0]))
        try w.setAttribute("/spectra", "energy_step_eV", .number(dE))
        try w.setAttribute("/spectra", "units", "counts (arb.)")
        try w.setAttribute("/truth/edge_band", "band_eV", [2.3, 3.1])
        try w.setAttribute("/truth/gap_band", "band_eV", [1.35, 2.05])
        try w.setAttribute("/", "generator", .string("dkl-synth \(DKLVersion.string)"))
        try w.setAttribute("/", "argv", JSON(Array(inv.argv.dropFirst())))
        try w.commit()
    } catch { w.abort(); throw error }
    progress.finish(dims[0])
}
