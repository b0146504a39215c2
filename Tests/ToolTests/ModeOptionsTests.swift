import Foundation
import TestSupport
import XCTest

/// Tools with modes refuse another mode's options (exit 64, one message naming the option
/// and the modes it belongs to) instead of ignoring them, before any file is read.
final class ModeOptionsTests: XCTestCase {
    func testAnotherModesOptionIsRefused() throws {
        let dir = TempDir()
        let cases: [(String, [String], String)] = [
            ("vae-encode", ["decode", "-m", "missing.h5", "--epochs", "5"], "--epochs does not go with decode (it is an option of train)"),
            ("vae-encode", ["encode", "-m", "missing.h5", "--grid", "3x3"], "--grid does not go with encode (it is an option of decode)"),
            ("vae-encode", ["train", "-o", "m.h5", "--model", "x.h5", "missing.npy"], "--model does not go with train (it is an option of encode, decode)"),
            ("dkl-plot", ["line", "-o", "f.png", "--frames", "0", "missing.npy"], "--frames does not go with line (it is an option of map)"),
            ("dkl-plot", ["map", "-o", "f.png", "--color", "suit", "missing.npy"], "--color does not go with map (it is an option of scatter)"),
            ("dkl-plot", ["scatter", "-o", "f.png", "--x", "a", "--y", "b", "--markers", "missing.dkl"], "--markers does not go with scatter (it is an option of line)"),
            ("dkl-synth", ["cards", "--channels", "8", "-"], "--channels does not go with cards (it is an option of plasmon)"),
            ("dkl-synth", [dir.path + "/p", "--rotation", "10"], "--rotation does not go with plasmon (it is an option of cards)"),
            ("dkl-synth", ["trajectories", "--size", "8x8", "-"], "--size does not go with trajectories (it is an option of plasmon, 4dstem, cards)"),
            ("dkl-synth", ["plasmon", dir.path + "/p", "-o", "x.dkl"], "--output does not go with plasmon (it is an option of trajectories, cards)"),
        ]
        for (tool, args, message) in cases {
            let r = try Tools.expect(64, tool, args, cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix("\(tool): error: \(message)\n"), r.report)
            XCTAssertTrue(r.out.isEmpty, r.report)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/p"), "nothing was written")
        // A mode's own options still work, and the shared ones in every mode.
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "3", "-T", "5", "--seed", "2", "-o", dir.path + "/t.dkl"])
        try Tools.expect(0, "dkl-plot", ["line", "-o", dir.path + "/t.png", "--y", "A", "--title", "A", "--markers", dir.path + "/t.dkl"])
    }
}
