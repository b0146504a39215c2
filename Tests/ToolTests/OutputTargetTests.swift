import DKL
import Foundation
import TestSupport
import XCTest

/// `-o` as a user expects: a symlink's target is written (the link stays), `/dev/null` and a
/// FIFO are written through (never replaced by a regular file), a directory is refused with
/// one message; an HDF5 output on a device is refused. Stream, NPY, PNG and HDF5 writers.
final class OutputTargetTests: XCTestCase {
    func testSymlinksDevicesFIFOsAndDirectories() throws {
        let dir = TempDir()
        let synth = ["trajectories", "-n", "4", "-T", "6", "--no-provenance"]
        try Tools.expect(0, "dkl-synth", synth + ["-o", "ref.dkl"], cwd: dir.path)
        let ref = try Data(contentsOf: URL(fileURLWithPath: dir.file("ref.dkl")))
        // A symlink to an existing file, and one whose target does not exist yet (relative).
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir.file("target.dkl")))
        try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink("target.dkl", dir.file("link.dkl")), 0)
        XCTAssertEqual(symlink("../sub/new.dkl", dir.file("sub/dangling.dkl")), 0)
        for (link, target) in [("link.dkl", "target.dkl"), ("sub/dangling.dkl", "sub/new.dkl")] {
            try Tools.expect(0, "dkl-synth", synth + ["-o", link], cwd: dir.path)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir.file(link)).isEmpty, false, "\(link) is still a link")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file(target))), ref, target)
        }
        XCTAssertEqual(dir.listing().filter { $0.contains(".tmp-") }, [])
        // /dev/null: written through, still a character device.
        for (tool, args) in [("dkl-synth", synth + ["-o", "/dev/null"]), ("dkl-cat", ["ref.dkl", "--export", "/dev/null", "--field", "A"]),
                             ("dkl-plot", ["line", "--y", "A", "-o", "/dev/null", "ref.dkl"])] {
            try Tools.expect(0, tool, args, cwd: dir.path)
            var st = stat()
            XCTAssertEqual(stat("/dev/null", &st), 0)
            XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "\(tool) left /dev/null a character device")
        }
        // A FIFO: the bytes reach its reader.
        XCTAssertEqual(mkfifo(dir.file("pipe"), 0o600), 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat pipe > got.dkl"]
        reader.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        try reader.run()
        try Tools.expect(0, "dkl-synth", synth + ["-o", "pipe"], cwd: dir.path)
        reader.waitUntilExit()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file("got.dkl"))), ref)
        var st = stat()
        XCTAssertEqual(lstat(dir.file("pipe"), &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        // A directory, and HDF5 output on a device: one message, exit 1.
        let d = try Tools.expect(1, "dkl-synth", synth + ["-o", "sub"], cwd: dir.path)
        XCTAssertEqual(d.err, "dkl-synth: sub: is a directory (give a file name)\n")
        XCTAssertEqual(symlink("/dev/null", dir.file("dev.h5")), 0)
        let h = try Tools.expect(1, "dkl-cat", ["ref.dkl", "--export", "dev.h5:/a", "--field", "A"], cwd: dir.path)
        XCTAssertEqual(h.err, "dkl-cat: dev.h5: is a device or a FIFO: this output must be a regular file\n", h.report)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("sub")))
    }

    /// Temporaries left by a process killed with -9 are removed by the next run writing the
    /// same output; those of a live process or of another host are left alone.
    /// One-character output names (Foundation's path splitting trapped on them, in every
    /// tool): a stream, an HDF5 file and a PNG, here and in a folder.
    func testOneCharacterNames() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.file("d"), withIntermediateDirectories: true)
        let image = Tools.root + "/share/plasmon/image.npy"
        for folder in ["", "d/"] {
            try Tools.expect(0, "dkl-patches", ["-w", "5", "--stride", "16", image, "-o", folder + "x"], cwd: dir.path)
            XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["--count", folder + "x"], cwd: dir.path).out, "16\n")
            try Tools.expect(0, "ferrosim", ["-n", "4", "-T", "10", "--maps", folder + "m", "-o", "s.dkl"], cwd: dir.path)
            XCTAssertEqual(try ArrayFile.open(dir.file(folder + "m") + ":/px").shape, [1, 4, 4])
            try Tools.expect(0, "dkl-plot", ["map", "-o", folder + "p", image], cwd: dir.path)
            XCTAssertEqual(Array(try dir.read(folder + "p").prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        }
        XCTAssertEqual(dir.listing().filter { $0.contains(".tmp-") }, [])
    }

    func testStaleTemporariesAreRemoved() throws {
        let dir = TempDir()
        var buf = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(gethostname(&buf, buf.count - 1), 0)
        let host = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter { $0.isLetter || $0.isNumber || $0 == "." }
        // A pid that is surely gone: a child that has exited and been reaped.
        let gone = try Tools.run("/bin/sh", ["-c", "echo $$"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        let stale = ".out.dkl.tmp-\(host)-\(gone)-0", live = ".out.dkl.tmp-\(host)-\(getpid())-0", other = ".out.dkl.tmp-elsewhere-\(gone)-0"
        for name in [stale, live, other] { _ = try dir.write(name, "partial") }
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "2", "-T", "4", "-o", "out.dkl"], cwd: dir.path)
        XCTAssertEqual(Set(dir.listing()), ["out.dkl", live, other])
    }
}
