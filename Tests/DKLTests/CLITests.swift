import DKL
import DKLCommandLine
import Foundation
import TestSupport
import XCTest

final class CLITests: XCTestCase {
    let cmd = Command(name: "t", usage: ["[options] FILE"], summary: "test", options: [
        Option("output", "o", value: "FILE", help: "out"),
        Option("count", "n", value: "N", help: "n"),
        Option("fields", "f", value: "A", repeatable: true, help: "f"),
        Option("verbose", "v", help: "v"),
    ])

    func testForms() throws {
        let a = try cmd.parse(["-o", "x", "--count=3", "-fa", "--fields", "b", "-vq", "in", "-", "--", "--not-an-option"])
        XCTAssertEqual(a.string("output"), "x")
        XCTAssertEqual(try a.int("count", default: 0), 3)
        XCTAssertEqual(a.strings("fields"), ["a", "b"])
        XCTAssertTrue(a.flag("verbose") && a.flag("quiet"))
        XCTAssertEqual(a.positionals, ["in", "-", "--not-an-option"])
        XCTAssertEqual(try cmd.parse(["--out=y", "--cou", "4"]).string("output"), "y", "unique prefixes")
    }

    func testUsageErrors() {
        for (args, message) in [(["--bogus"], "unknown option '--bogus'"), (["-z"], "unknown option '-z'"),
                                (["--output"], "needs a value"), (["-o", "a", "-o", "b"], "given twice"),
                                (["--verbose=1"], "takes no value"), (["-5"], "negative number")] {
            XCTAssertThrowsError(try cmd.parse(args)) { e in
                XCTAssertEqual((e as? DKLError)?.kind, .usage)
                XCTAssertTrue("\(e)".contains(message), "\(args): \(e)")
            }
        }
        XCTAssertThrowsError(try cmd.parse(["-n", "x"]).int("count", default: 0))
        XCTAssertThrowsError(try cmd.parse(["-n", "9"]).int("count", default: 0, range: 0...5))
    }

    func testHelpListsEveryOption() {
        for o in cmd.options { XCTAssertTrue(cmd.helpText.contains("--" + o.long), o.long) }
        XCTAssertTrue(cmd.helpText.hasPrefix("usage: t [options] FILE\n"))
    }
}

final class RandomTests: XCTestCase {
    /// Reference values from an independent implementation (xoshiro256** with a SplitMix64 seeder,
    /// as published by Blackman and Vigna), computed in Python for seed 42.
    func testXoshiroMatchesReference() throws {
        let out = try Tools.python("""
            M = (1 << 64) - 1
            z = 42
            def sm():
                global z
                z = (z + 0x9E3779B97F4A7C15) & M
                x = z
                x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M
                x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M
                return x ^ (x >> 31)
            s = [sm() for _ in range(4)]
            rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
            for _ in range(5):
                r = (rotl((s[1] * 5) & M, 7) * 9) & M
                t = (s[1] << 17) & M
                s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
                print(r)
            """)
        var g = Xoshiro(seed: 42)
        XCTAssertEqual(out.split(separator: "\n").map { UInt64($0)! }, (0..<5).map { _ in g.next() })
    }

    func testNormalMoments() {
        var g = Xoshiro(seed: 1)
        let n = 200_000
        let x = (0..<n).map { _ in g.normal() }
        let mean = x.reduce(0, +) / Double(n)
        let v = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 4 / Double(n).squareRoot())
        XCTAssertEqual(v, 1, accuracy: 0.02)
    }
}

final class BLASTests: XCTestCase {
    func testGemmAndCholeskyAgainstHandValues() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]          // 2×3
        let b: [Double] = [7, 8, 9, 10, 11, 12]       // 3×2
        var c = [Double](repeating: 0, count: 4)
        BLAS.gemm(a, b, &c, m: 2, n: 2, k: 3)
        XCTAssertEqual(c, [58, 64, 139, 154])
        var s: [Double] = [4, 2, 2, 3]
        XCTAssertEqual(BLAS.potrf(&s, n: 2), 0)
        assertClose([s[0], s[2], s[3]], [2, 1, 2.0.squareRoot()], rtol: 1e-15)
        var bad: [Double] = [1, 2, 2, 1]
        XCTAssertEqual(BLAS.potrf(&bad, n: 2), 2)
    }
}

final class FastMathTests: XCTestCase {
    /// FastMath.exp against the C library's exp over the kernels' range, worst error reported.
    func testExpAgainstLibm() {
        var g = Xoshiro(seed: 4)
        var worst = 0.0, at = 0.0
        for i in 0..<1_000_000 {
            let x = i < 1000 ? -Double(i) * 0.708 : -708 * g.uniform() * (i % 2 == 0 ? 1 : 0.01) + (i % 7 == 0 ? 5 * g.uniform() : 0)
            let e = Foundation.exp(x), f = FastMath.exp(x)
            let rel = abs(f - e) / e
            if rel > worst { worst = rel; at = x }
        }
        XCTAssertLessThan(worst, 5e-16, "worst relative error \(worst) at x = \(at)")
        XCTAssertEqual(FastMath.exp(0), 1)
        XCTAssertEqual(FastMath.exp(-Double.infinity), 0)
        XCTAssertEqual(FastMath.exp(-707.5), Foundation.exp(-707.5), accuracy: 4e-16 * Foundation.exp(-707.5))
        XCTAssertEqual(FastMath.exp(-800), 0)
        // The four lanes are independent: each equals the value computed alone.
        let v = SIMD4<Double>(-0.1, -800, -3.5, -707.9), e4 = FastMath.exp4(v)
        for i in 0..<4 { XCTAssertEqual(e4[i], FastMath.exp(v[i])) }
    }

    /// sqrt4 is correctly rounded: bit for bit the scalar square root.
    func testSqrt4() {
        var g = Xoshiro(seed: 5)
        for _ in 0..<10_000 {
            let v = SIMD4<Double>(g.uniform() * 1e-300, g.uniform(), g.uniform() * 1e6, 0)
            let s = FastMath.sqrt4(v)
            for i in 0..<4 { XCTAssertEqual(s[i].bitPattern, v[i].squareRoot().bitPattern) }
        }
    }
}
