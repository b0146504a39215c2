import DKL
import Foundation
import TestSupport
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsOrderAndValues() throws {
        let text = #"{"b":1,"a":[true,false,null,-2.5,"x\"y\\z\n\u00e9"],"c":{"d":1e-7}}"#
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v["a"]?.arrayValue?[4].stringValue, "x\"y\\z\né")
        XCTAssertEqual(v["c"]?["d"]?.doubleValue, 1e-7)
        XCTAssertEqual(v.objectValue?.map(\.0), ["b", "a", "c"])
        XCTAssertEqual(try JSONParser.parse(v.text), v)
    }

    func testSurrogatePairsAndControlEscapes() throws {
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00""#).stringValue, "😀")
        XCTAssertEqual(JSON.string("\u{1}").text, #""\u0001""#)
        XCTAssertThrowsError(try JSONParser.parse(#""\ud83d""#))
    }

    func testErrorsCarryOffsets() {
        for (bad, offset) in [("{\"a\":}", 5), ("[1,2", 4), ("tru", 0), ("{\"a\" 1}", 5), ("1 2", 2), ("\"abc", 4), ("-", 0), ("01", 1)] {
            XCTAssertThrowsError(try JSONParser.parse(bad), bad) { e in
                XCTAssertEqual((e as? JSONParser.Failure)?.offset, offset, "\(bad): \(e)")
            }
        }
    }

    func testInfinityAndNaNSpelling() throws {
        XCTAssertEqual(JSON.number(.infinity).text, "1e999")
        XCTAssertEqual(JSON.number(-.infinity).text, "-1e999")
        XCTAssertEqual(JSON.number(.nan).text, "null")
        XCTAssertEqual(try JSONParser.parse("-1e999").doubleValue, -.infinity)
    }

    /// Every float32 printed in shortest form parses back to the same bits, and doubles
    /// agree with strtod (the correctly rounded reference) bit for bit.
    func testNumbersAgreeWithStrtod() throws {
        var rng = Xoshiro(seed: 7)
        var worst = 0
        for n in 0..<200_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let f = Float(bitPattern: bits)
            guard f.isFinite else { continue }
            var out: [UInt8] = []
            JSONNumber.append(f, to: &out)
            let back = try JSONParser.parse(String(decoding: out, as: UTF8.self)).doubleValue!
            if Float(back).bitPattern != f.bitPattern { worst += 1; XCTFail("float \(f) printed \(String(decoding: out, as: UTF8.self)) read \(back)"); break }
            let d = Double(bitPattern: rng.next() >> 2 | (n % 2 == 0 ? 0 : 1 << 63))
            guard d.isFinite else { continue }
            for text in [d.description, String(format: "%.17g", d), String(format: "%.6e", d), String(n) + "." + String(n % 97) + "e-" + String(n % 30)] {
                let mine = try JSONParser.parse(text).doubleValue!
                let ref = strtod(text, nil)
                if mine.bitPattern != ref.bitPattern { XCTFail("\(text): \(mine) vs strtod \(ref)"); return }
            }
        }
        XCTAssertEqual(worst, 0)
    }
}
