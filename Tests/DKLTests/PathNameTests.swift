import DKL
import Foundation
import XCTest

/// PathName splits as NSString does (checked on names NSString handles), and handles the
/// one-character names on which Foundation's version traps.
final class PathNameTests: XCTestCase {
    func testSplitsAsFoundationDoes() {
        for p in ["a/b", "/a/b", "/ab", "ab", "ab/", "a//bc", "/", "./ab", "../ab/cd/", "dir/.out.h5.tmp-h-1-2", "/group/dataset"] {
            XCTAssertEqual(PathName.directory(p), (p as NSString).deletingLastPathComponent, p)
            XCTAssertEqual(PathName.base(p), (p as NSString).lastPathComponent, p)
        }
    }

    func testOneCharacterNames() {
        XCTAssertEqual(PathName.directory("x"), "")
        XCTAssertEqual(PathName.base("x"), "x")
        XCTAssertEqual(PathName.directory("d/x"), "d")
        XCTAssertEqual(PathName.base("/x"), "x")
        XCTAssertEqual(PathName.directory("/x"), "/")
        XCTAssertEqual(PathName.directory("//"), "/")   // as dirname(3); Foundation says ""
        XCTAssertEqual(PathName.directory(""), "")
        XCTAssertEqual(PathName.base(""), "")
    }
}
