// swift-tools-version:6.0
// dkl: small composable commands for deep kernel learning and active experiments.
// No package dependencies: Foundation, XCTest and Debian system libraries (OpenBLAS, HDF5, zlib).
//
// The library is layered; each target may use only the targets listed as its dependencies,
// and the compiler checks it (README, "Architecture"):
//
//   tools (Sources/<tool>/main.swift)
//     ToolOptions            argument groups shared by the model tools
//     PlotOptions            dkl-plot's figures from its arguments
//     DKLCommandLine         options, ToolMain (errors → messages and exit statuses)
//   DKL                      umbrella: re-exports every library target
//   DeepKernel   VAE   FerroSim   Plot
//   DKLImaging               patches, spectra and scalarizers, synthetic scenes
//   DKLNumerics   DKLData    linear algebra … GP, acquisitions │ files, formats, streams
//   DKLCore                  errors, interrupts, progress, JSON, random, Parallel
import PackageDescription

let tools = ["dkl-acquire", "dkl-cat", "dkl-explore", "dkl-fit", "dkl-patches", "dkl-plot", "dkl-predict", "dkl-replay", "dkl-scalarize", "dkl-synth", "dkl-train", "dkl-twin", "ferrosim", "vae-encode"]

/// What each tool imports: no tool links a library it does not use (dkl-cat and dkl-plot
/// link no OpenBLAS, ferrosim no LAPACKE; ToolTests/LinkTests checks it with ldd).
let toolDependencies: [String: [Target.Dependency]] = [
    "dkl-acquire": ["DKLCore", "DKLNumerics", "DKLData", "DeepKernel", "DKLCommandLine", "ToolOptions"],
    "dkl-cat": ["DKLCore", "DKLCommandLine", "DKLData", "DKLImaging"],
    "dkl-fit": ["DKLCore", "DKLNumerics", "DKLData", "DeepKernel", "DKLCommandLine"],
    "dkl-explore": ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging", "DeepKernel", "Plot", "DKLCommandLine", "ToolOptions"],
    "dkl-patches": ["DKLCore", "DKLCommandLine", "DKLData", "DKLImaging"],
    "dkl-plot": ["DKLCore", "DKLCommandLine", "DKLData", "Plot", "PlotOptions"],
    "dkl-predict": ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging", "DeepKernel", "DKLCommandLine", "ToolOptions"],
    "dkl-replay": ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging", "DeepKernel", "Plot", "DKLCommandLine", "ToolOptions"],
    "dkl-scalarize": ["DKLCore", "DKLCommandLine", "DKLData", "DKLImaging"],
    "dkl-synth": ["DKLCore", "DKLCommandLine", "DKLData", "DKLImaging"],
    "dkl-train": ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging", "DeepKernel", "DKLCommandLine", "ToolOptions"],
    "dkl-twin": ["DKLCore", "DKLCommandLine", "DKLData"],
    "ferrosim": ["DKLCore", "DKLCommandLine", "DKLData", "FerroSim"],
    "vae-encode": ["DKLCore", "DKLNumerics", "DKLData", "VAE", "DKLCommandLine", "ToolOptions"],
]

let package = Package(
    name: "dkl",
    products: [.library(name: "DKL", targets: ["DKL"])]
        + tools.map { .executable(name: $0, targets: [$0]) },
    targets: [
        // OpenBLAS (cblas.h) and LAPACKE; imported only by DKLNumerics/Linalg.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        // libhdf5 (serial): its headers at build time, the library loaded on first use
        // (Sources/CHDF5/lazy.h); imported only by DKLData/Formats/HDF5*.swift.
        .systemLibrary(name: "CHDF5", providers: [.apt(["libhdf5-dev"])]),
        // zlib's deflate; imported only by Plot/PNG.swift.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // malloc tuning (mallopt), which the Glibc module does not export (DKLData/IO/Allocator.swift),
        // and the elementwise Float kernels compiled per vector width (VAE/VectorKernels.swift).
        .target(name: "CPlatform"),

        .target(name: "DKLCore"),
        .target(name: "DKLNumerics", dependencies: ["DKLCore", "COpenBLAS", "CPlatform"]),   // CPlatform: the vector kernels
        .target(name: "DKLData", dependencies: ["DKLCore", "CHDF5", "CPlatform"]),   // CPlatform: mallopt, pipe2, closefrom
        .target(name: "DKLImaging", dependencies: ["DKLCore", "DKLData"]),
        .target(name: "DeepKernel", dependencies: ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging"]),
        .target(name: "VAE", dependencies: ["DKLCore", "DKLNumerics", "DKLData", "CPlatform"]),
        .target(name: "FerroSim", dependencies: ["DKLCore", "DKLData"]),
        .target(name: "Plot", dependencies: ["DKLCore", "DKLData", "CZlib"]),
        .target(name: "DKL", dependencies: ["DKLCore", "DKLNumerics", "DKLData", "DKLImaging",
                                            "DeepKernel", "VAE", "FerroSim", "Plot"]),
        .target(name: "DKLCommandLine", dependencies: ["DKLCore", "DKLData"]),
        .target(name: "ToolOptions", dependencies: ["DKLCommandLine", "DKLImaging", "DeepKernel", "VAE"]),
        .target(name: "PlotOptions", dependencies: ["DKLCommandLine", "DKLData", "Plot"]),

        .target(name: "TestSupport", dependencies: ["DKL"], path: "Tests/TestSupport"),
        .testTarget(name: "DKLTests", dependencies: ["DKL", "DKLCommandLine", "ToolOptions", "TestSupport"]),
        .testTarget(name: "ToolTests", dependencies: ["DKL", "TestSupport"]),
    ] + tools.map { .executableTarget(name: $0, dependencies: toolDependencies[$0]!) }
)
