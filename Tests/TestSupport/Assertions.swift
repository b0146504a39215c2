import XCTest

/// Asserts that `observed` matches `expected` elementwise within `atol + rtol·|expected|`;
/// names NaNs and reports the worst error and where it is.
public func assertClose(_ observed: [Double], _ expected: [Double], rtol: Double = 1e-12, atol: Double = 0,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard observed.count == expected.count else {
        XCTFail("count \(observed.count) != expected \(expected.count) \(message)", file: file, line: line)
        return
    }
    var worst = 0.0, at = -1
    for i in observed.indices {
        let (o, e) = (observed[i], expected[i])
        if e.isNaN || o.isNaN {
            if e.isNaN != o.isNaN { XCTFail("NaN mismatch at \(i): \(o) vs \(e) \(message)", file: file, line: line); return }
            continue
        }
        if e.isInfinite || o.isInfinite {
            if o != e { XCTFail("infinity mismatch at \(i): \(o) vs \(e) \(message)", file: file, line: line); return }
            continue
        }
        let excess = abs(o - e) - (atol + rtol * abs(e))
        if excess > worst { worst = excess; at = i }
    }
    if at >= 0 {
        XCTFail("max error exceeds tolerance at \(at): \(observed[at]) vs \(expected[at]) (|Δ| = \(abs(observed[at] - expected[at]))) \(message)",
                file: file, line: line)
    }
}

public func assertClose(_ observed: [Float], _ expected: [Double], rtol: Double = 1e-6, atol: Double = 0,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(observed.map(Double.init), expected, rtol: rtol, atol: atol, message, file: file, line: line)
}

public func assertClose(_ observed: Double, _ expected: Double, rtol: Double = 1e-12, atol: Double = 0,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose([observed], [expected], rtol: rtol, atol: atol, message, file: file, line: line)
}
