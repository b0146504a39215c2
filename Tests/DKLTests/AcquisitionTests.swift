import DKL
import Foundation
import TestSupport
import XCTest

/// Acquisition values against mpmath at 60 digits (Tests/Fixtures/acquisition).
final class AcquisitionTests: XCTestCase {
    static let reference = try! JSONParser.parse(String(contentsOfFile: fixtures + "/acquisition/reference.json", encoding: .utf8))

    func testLogEIHelperEverywhereIncludingFarTails() {
        for pair in AcquisitionTests.reference["log_h"]!.arrayValue! {
            let (u, expected) = (pair.arrayValue![0].doubleValue!, pair.arrayValue![1].doubleValue!)
            assertClose(Normal.logEIHelper(u), expected, rtol: 1e-12, "log h(\(u))")
            XCTAssertTrue(Normal.logEIHelper(u).isFinite, "finite at u = \(u)")
        }
        // The naive formula underflows long before: EI itself is 0 at u = −40, its log is not −∞.
        XCTAssertEqual(Normal.eiHelper(-40), 0, accuracy: 1e-300)
        XCTAssertLessThan(Normal.logEIHelper(-1e6), -4.99e11)
    }

    func testScoresAgainstReference() {
        for c in AcquisitionTests.reference["scores"]!.arrayValue! {
            let (mu, sd, best, xi) = (c["mean"]!.doubleValue!, c["sd"]!.doubleValue!, c["best"]!.doubleValue!, c["xi"]!.doubleValue!)
            assertClose(Acquisition.ei(xi: xi).score(mean: mu, sd: sd, best: best), c["ei"]!.doubleValue!, rtol: 1e-12, atol: 1e-300, "EI")
            assertClose(Acquisition.logEI(xi: xi).score(mean: mu, sd: sd, best: best), c["log_ei"]!.doubleValue!, rtol: 1e-12, "log EI")
            assertClose(Acquisition.pi(xi: xi).score(mean: mu, sd: sd, best: best), c["pi"]!.doubleValue!, rtol: 1e-12, atol: 1e-300, "PI")
            assertClose(Acquisition.ei(xi: xi).score(mean: mu, sd: sd, best: best, maximize: false), c["ei_min"]!.doubleValue!, rtol: 1e-12, atol: 1e-300, "EI, minimizing")
            assertClose(Acquisition.pi(xi: xi).score(mean: mu, sd: sd, best: best, maximize: false), c["pi_min"]!.doubleValue!, rtol: 1e-12, atol: 1e-300, "PI, minimizing")
        }
    }

    func testSimpleRulesAndLimits() {
        XCTAssertEqual(Acquisition.kappa(10).score(mean: 1, sd: 0.5, best: 99), 6)
        XCTAssertEqual(Acquisition.ucb(beta: 4).score(mean: 1, sd: 0.5, best: 0), 2)
        XCTAssertEqual(Acquisition.kappa(10).score(mean: 1, sd: 0.5, best: 0, maximize: false), 4)
        XCTAssertEqual(Acquisition.maxVariance.score(mean: 1, sd: 0.5, best: 0), 0.25)
        // σ = 0: EI is the plain improvement; ξ demands more improvement in either direction.
        XCTAssertEqual(Acquisition.ei(xi: 0.1).score(mean: 2, sd: 0, best: 1), 0.9, accuracy: 1e-15)
        XCTAssertEqual(Acquisition.ei(xi: 0.1).score(mean: 0, sd: 0, best: 1, maximize: false), 0.9, accuracy: 1e-15)
        XCTAssertGreaterThan(Acquisition.ei(xi: 0).score(mean: 0, sd: 1, best: 0), Acquisition.ei(xi: 0.5).score(mean: 0, sd: 1, best: 0))
        XCTAssertEqual(Acquisition.best(observed: [3, -1, 2]), 3)
        XCTAssertEqual(Acquisition.best(observed: [3, -1, 2], maximize: false), -1)
        XCTAssertEqual(Acquisition.ei(xi: 0).scores(mean: [0, 1], variance: [1, 0], best: 0.5).count, 2)
    }
}
