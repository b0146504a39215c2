import DKL
import Foundation
import TestSupport
import XCTest

/// The bundled sample data is what the toolkit's own generator makes, and it has the
/// physics dkl-synth(1) describes.
final class SampleDataTests: XCTestCase {
    func testShareIsReproducedByDklSynth() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["--seed", "0", "share/plasmon"], cwd: dir.path)
        let shipped = Tools.root + "/share/plasmon/"
        for spec in ["image.npy", "spectra.h5:/spectra", "spectra.h5:/truth/gap_band", "spectra.h5:/energy"] {
            let a = try ArrayFile.open(shipped + spec).readAll()
            let b = try ArrayFile.open(dir.file("share/plasmon/") + spec).readAll()
            assertClose(b, a, rtol: 1e-6, atol: 1e-9, spec)
        }
    }

    func testPhysicsOfTheSampleData() throws {
        let image = try ArrayFile.open(Tools.root + "/share/plasmon/image.npy")
        XCTAssertEqual(image.shape, [64, 64])
        let cube = try ArrayFile.open(Tools.root + "/share/plasmon/spectra.h5:/spectra")
        XCTAssertEqual(cube.shape, [64, 64, 96])
        let energy = try ArrayFile.open(Tools.root + "/share/plasmon/spectra.h5:/energy").readAll()
        assertClose(energy[0], 0.5, rtol: 1e-12)
        assertClose(energy[95], 4.5, rtol: 1e-12)
        XCTAssertEqual(cube.attributes["energy_step_eV"]?.doubleValue ?? 0, 4.0 / 95, accuracy: 1e-12)
        // Substrate pixels are dark, particle pixels bright: the image is bimodal.
        let img = try image.readAll()
        let bright = img.filter { $0 > 0.5 }.count, dark = img.filter { $0 < 0.25 }.count
        XCTAssertGreaterThan(bright, 300)
        XCTAssertGreaterThan(dark, 1500)
        // The zero-loss tail falls with energy in every spectrum.
        let s = try cube.read(at: [10, 20])
        XCTAssertGreaterThan(s[0], 3 * s[40])
        XCTAssertTrue(s.allSatisfy(\.isFinite))
    }
}
