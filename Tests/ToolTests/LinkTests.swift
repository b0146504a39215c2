import Foundation
import TestSupport
import XCTest

/// Each executable links only the libraries of the layers it uses (Package.swift's
/// toolDependencies): the data tools carry no BLAS, the simulator no LAPACK; and none
/// links libhdf5, which is loaded when an HDF5 file is first read or written.
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
            XCTAssertFalse(libs.contains { $0.hasPrefix("libhdf5") || $0.hasPrefix("libcurl") }, "\(tool): \(libs)")
        }
        // The model tools do link them (the check above can fail).
        for tool in ["dkl-train", "dkl-explore", "vae-encode"] {
            let libs = try libraries(tool)
            XCTAssertTrue(libs.contains { $0.hasPrefix("libopenblas") } && libs.contains { $0.hasPrefix("liblapacke") }, "\(tool): \(libs)")
        }
    }

    /// libhdf5 (and the fifty libraries Debian's brings) is loaded by a run that reads or
    /// writes an HDF5 file, and by no other: the dynamic loader's own account (LD_DEBUG).
    func testHDF5IsLoadedOnlyWhenAFileNeedsIt() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import h5py, numpy as np
            np.save('a.npy', np.arange(6.0).reshape(2, 3))
            with h5py.File('a.h5', 'w') as f: f['a'] = np.arange(6.0).reshape(2, 3)
            """, cwd: dir.path)
        func loaded(_ args: [String]) throws -> [String] {
            let r = try Tools.run(Tools.path("dkl-cat"), args, cwd: dir.path, env: ["LD_DEBUG": "libs"])
            XCTAssertEqual(r.status, 0, r.report)
            return r.err.split(separator: "\n").filter { $0.contains("calling init:") }.map(String.init)
        }
        XCTAssertFalse(try loaded(["--version"]).contains { $0.contains("libhdf5") })
        XCTAssertFalse(try loaded(["--import", "a.npy", "-o", "n.dkl"]).contains { $0.contains("libhdf5") })
        XCTAssertTrue(try loaded(["--import", "a.h5", "-o", "h.dkl"]).contains { $0.contains("libhdf5") })
        // The same numbers either way.
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["-J", "--no-provenance", "n.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst(),
                       try Tools.expect(0, "dkl-cat", ["-J", "--no-provenance", "h.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst())
    }
}
