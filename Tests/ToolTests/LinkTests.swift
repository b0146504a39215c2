import Foundation
import TestSupport
import XCTest

/// Each executable links only the libraries of the layers it uses (Package.swift's
/// toolDependencies): the data tools carry no BLAS, the simulator no LAPACK.
final class LinkTests: XCTestCase {
    func libraries(_ tool: String) throws -> [String] {
        let r = try Tools.run("/usr/bin/ldd", [Tools.path(tool)])
        XCTAssertEqual(r.status, 0, r.report)
        return r.out.split(separator: "\n").compactMap { $0.split(separator: " ").first.map { String($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func testToolsLinkOnlyWhatTheyUse() throws {
        for tool in ["dkl-cat", "dkl-plot", "dkl-patches", "dkl-scalarize", "dkl-synth", "ferrosim"] {
            let libs = try libraries(tool)
            XCTAssertFalse(libs.contains { $0.hasPrefix("libopenblas") }, "\(tool): \(libs)")
            XCTAssertFalse(libs.contains { $0.hasPrefix("liblapacke") }, "\(tool): \(libs)")
            XCTAssertTrue(libs.contains { $0.hasPrefix("libhdf5") }, "\(tool) reads HDF5: \(libs)")
        }
        // The model tools do link them (the check above can fail).
        for tool in ["dkl-train", "dkl-explore", "vae-encode"] {
            let libs = try libraries(tool)
            XCTAssertTrue(libs.contains { $0.hasPrefix("libopenblas") } && libs.contains { $0.hasPrefix("liblapacke") }, "\(tool): \(libs)")
        }
    }
}
