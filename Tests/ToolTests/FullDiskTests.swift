import Foundation
import TestSupport
import XCTest

/// Every writer on a full disk: a 64 KiB tmpfs (mounted by the test, as root) that no
/// output fits in. Each tool exits 1 with "no space left on device" naming its output,
/// leaves nothing on the disk, and does not crash (the HDF5 writers segfaulted: a failed
/// close, then libhdf5's own clean-up at exit). Skipped, saying why, when no tmpfs can
/// be mounted (not root, or in a container that forbids it).
final class FullDiskTests: XCTestCase {
    func testEveryWriterOnAFullDiskFailsCleanly() throws {
        let dir = TempDir()
        let disk = dir.file("full")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = getuid() == 0 ? try Tools.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk]) : nil
        guard let mounted, mounted.status == 0 else {
            throw XCTSkip("a full disk needs a small tmpfs, mounted as root: \(mounted.map { $0.err } ?? "not root")")
        }
        defer { _ = try? Tools.run("/bin/umount", [disk]) }
        let share = Tools.root + "/share/plasmon/"
        try Tools.expect(0, "dkl-patches", ["-w", "5", "--stride", "4", share + "image.npy", "-o", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", share + "spectra.h5:/spectra", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "100", "--steps", "40", "-o", "traj.dkl"], cwd: dir.path)
        let writers: [(tool: String, args: [String], output: String)] = [
            ("dkl-train", ["-t", "t.dkl", "-n", "3", "--ensemble", "2", "--hidden", "256", "-o", "full/model.h5", "p.dkl"], "full/model.h5"),
            ("vae-encode", ["train", "--epochs", "1", "--encoder-hidden", "256", "--decoder-hidden", "256", "-q", "-o", "full/vae.h5", "traj.dkl"], "full/vae.h5"),
            ("ferrosim", ["-n", "16", "-T", "20", "--sweep", "k=0.5:1.5:40", "--maps", "full/maps.h5", "-o", "sweep.dkl"], "full/maps.h5"),
            ("dkl-explore", ["--oracle", share + "spectra.h5:/spectra", "-S", "gap=integral:1.35:2.05", "-w", "9", "--init", "6", "--steps", "1",
                             "--iterations", "10", "--ensemble", "1", "--trace", "trace.ndjson", "--maps", "full/maps.h5", share + "image.npy"], "full/maps.h5"),
            ("dkl-cat", ["--import", share + "spectra.h5:/spectra", "-o", "full/spectra.dkl"], "full/spectra.dkl"),
            ("dkl-scalarize", ["-S", "gap=integral:1.35:2.05", share + "spectra.h5:/spectra", "-J", "-o", "full/t.ndjson"], "full/t.ndjson"),
        ]
        for w in writers {
            let r = try Tools.run(w.tool, w.args, cwd: dir.path)
            XCTAssertFalse(r.signaled, r.report)
            XCTAssertEqual(r.status, 1, r.report)
            let last = r.err.split(separator: "\n").last.map(String.init) ?? ""
            XCTAssertTrue(last.hasPrefix("\(w.tool): \(w.output)") && last.lowercased().hasSuffix("no space left on device"), r.report)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk), [], "\(w.tool) left something on the full disk")
        }
        XCTAssertFalse(dir.exists("sweep.dkl"), "ferrosim's stream output is not left when its maps fail")
        XCTAssertEqual(dir.listing().filter { $0.contains(".tmp-") }, [])
    }
}
