// swift-tools-version:6.0
// The DKL benchmark on the shared canonical workload (../../../shared/bench/README.md),
// built apart from the toolkit so that it is not installed with it.
import PackageDescription

let package = Package(
    name: "dkl-bench",
    dependencies: [.package(path: "../..")],
    targets: [.executableTarget(name: "dkl-bench", dependencies: [.product(name: "DKL", package: "main")])]
)
