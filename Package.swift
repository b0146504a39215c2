// swift-tools-version:6.0
// dkl: small composable commands for deep kernel learning and active experiments.
// No package dependencies: Foundation, XCTest and Debian system libraries (OpenBLAS, HDF5, zlib).
import PackageDescription

let tools = ["dkl-acquire", "dkl-cat", "dkl-explore", "dkl-patches", "dkl-plot", "dkl-predict", "dkl-replay", "dkl-scalarize", "dkl-synth", "dkl-train", "ferrosim", "vae-encode"]

let package = Package(
    name: "dkl",
    products: [.library(name: "DKL", targets: ["DKL"])]
        + tools.map { .executable(name: $0, targets: [$0]) },
    targets: [
        // OpenBLAS (cblas.h) and LAPACKE; wrapped only by Sources/DKL/Linalg.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        // libhdf5 (serial); wrapped only by Sources/DKL/Formats/HDF5*.swift.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        // zlib's deflate; used only by Sources/DKL/Plot/PNG.swift.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // malloc tuning (mallopt), which the Glibc module does not export (used by IO/Allocator.swift),
        // and the elementwise Float kernels compiled per vector width (used by NN/VectorKernels.swift).
        .target(name: "CPlatform"),
        .target(name: "DKL", dependencies: ["COpenBLAS", "CHDF5", "CZlib", "CPlatform"]),
        .target(name: "TestSupport", dependencies: ["DKL"], path: "Tests/TestSupport"),
        .testTarget(name: "DKLTests", dependencies: ["DKL", "TestSupport"]),
        .testTarget(name: "ToolTests", dependencies: ["DKL", "TestSupport"]),
    ] + tools.map { .executableTarget(name: $0, dependencies: ["DKL"]) }
)
