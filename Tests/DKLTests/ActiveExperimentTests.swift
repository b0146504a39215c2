import DKL
import DKLCommandLine
import Foundation
import TestSupport
import ToolOptions
import XCTest

/// The active experiment as library code: a whole run on an in-memory oracle measures the
/// same points, in the same order, with the same values, as dkl-explore on the same data;
/// an interrupted run continued on its trace ends the same.
final class ActiveExperimentTests: XCTestCase {
    /// Measuring reads a Swift array; it counts its calls.
    final class MemoryOracle: Oracle {
        let truth: [Double], width: Int
        var calls = 0
        init(_ truth: [Double], width: Int) { self.truth = truth; self.width = width }
        var itemShape: [Int] { [1] }
        func measure(y: Int, x: Int) throws -> Reading { calls += 1; return Reading([truth[y * width + x]]) }
    }

    let stepOptions = ["--extractor", "none", "-w", "1", "--ensemble", "1", "--iterations", "30"]

    func plan(count: Int = 1) throws -> ExperimentPlan {
        let cmd = Command(name: "t", usage: [], summary: "", options: Option.stepModel + Option.acquisitionParameters + [Option.seed, Option("window", "w", value: "W", help: "")])
        let a = try cmd.parse(stepOptions)
        let (f, name) = try a.acquisition()
        return ExperimentPlan(model: try a.stepModelConfig(), acquisition: f!, acquisitionName: name, perStep: count, initialCount: 5, steps: 4)
    }

    func testAWholeExperimentMatchesTheTool() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(5).normal(size=(10, 11)))", cwd: dir.path)
        let source = try ArrayFile.open(dir.file("truth.npy"))
        let truth = try source.readAll()
        let grid = try CandidateGrid(image: source, window: 1, even: .interpolate, normalization: .minmax)
        let oracle = MemoryOracle(truth, width: 11)
        let experiment = try ActiveExperiment(grid: grid, oracle: oracle, plan: try plan(count: 2), value: { $0[0] },
                                              tracePath: dir.file("lib.ndjson"), attributes: [:], signature: "test")
        try experiment.run()
        XCTAssertEqual(experiment.measured.count, 5 + 4 * 2)
        XCTAssertEqual(oracle.calls, 13, "every point measured once")
        XCTAssertEqual(Set(experiment.measured.map(\.candidate)).count, 13)
        for p in experiment.measured {
            let (y, x) = grid.centres[p.candidate]
            XCTAssertEqual(p.value, truth[y * 11 + x])
        }
        XCTAssertEqual(experiment.measured.map(\.step), [0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
        // The tool, on the same data and options.
        try Tools.expect(0, "dkl-explore", ["--oracle", "truth.npy", "--init", "5", "--steps", "4", "--count", "2", "-j", "1", "--trace", "tool.ndjson"]
                         + stepOptions + ["truth.npy"], cwd: dir.path)
        let tool = try String(contentsOfFile: dir.file("tool.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(tool.map { [$0["step"]!.intValue!, $0["y"]!.intValue!, $0["x"]!.intValue!] },
                       experiment.measured.map { [$0.step, grid.centres[$0.candidate].0, grid.centres[$0.candidate].1] })
        XCTAssertEqual(tool.map { $0["value"]!.doubleValue! }, experiment.measured.map(\.value))
        // The library's trace holds the same points; opened again, it continues with nothing
        // to measure, and its final maps mark every measured pixel with its step.
        let again = try ActiveExperiment(grid: grid, oracle: oracle, plan: try plan(count: 2), value: { $0[0] },
                                         tracePath: dir.file("lib.ndjson"), attributes: [:], signature: "test")
        XCTAssertEqual(again.measured, experiment.measured)
        try again.run()
        XCTAssertEqual(oracle.calls, 13, "nothing measured twice")
        let maps = try again.finalMaps()
        for p in again.measured {
            let (y, x) = grid.centres[p.candidate]
            XCTAssertEqual(maps.step[y * 11 + x], Double(p.step))
        }
        XCTAssertEqual(maps.step.filter { $0 >= 0 }.count, 13)
        XCTAssertTrue(maps.mean.allSatisfy(\.isFinite) && maps.sd.allSatisfy { $0 >= 0 })
        // Another experiment's trace is refused.
        XCTAssertThrowsError(try ActiveExperiment(grid: grid, oracle: oracle, plan: try plan(count: 2), value: { $0[0] },
                                                  tracePath: dir.file("lib.ndjson"), attributes: [:], signature: "another"))
    }

    /// A run cut after its initial points (the trace truncated to them) continues to the
    /// same points as an uninterrupted run.
    func testAContinuedRunEqualsAnUninterruptedOne() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(9).normal(size=(9, 9)))", cwd: dir.path)
        let source = try ArrayFile.open(dir.file("truth.npy"))
        let truth = try source.readAll()
        let grid = try CandidateGrid(image: source, window: 1, even: .interpolate, normalization: .minmax)
        func open(_ path: String) throws -> ActiveExperiment {
            try ActiveExperiment(grid: grid, oracle: MemoryOracle(truth, width: 9), plan: try plan(), value: { $0[0] },
                                 tracePath: dir.file(path), attributes: [:], signature: "test")
        }
        let whole = try open("whole.ndjson")
        try whole.run()
        let lines = try String(contentsOfFile: dir.file("whole.ndjson"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try (lines.prefix(1 + 7).joined(separator: "\n") + "\n").write(toFile: dir.file("cut.ndjson"), atomically: true, encoding: .utf8)
        let cut = try open("cut.ndjson")
        XCTAssertEqual(cut.measured.count, 7)
        try cut.run()
        XCTAssertEqual(cut.measured, whole.measured)
    }

    /// Where a trace says a value was measured (the instrument's report, read back from a
    /// file): the nearest usable candidate, whatever the numbers (a position far off the
    /// image, the largest integers, NaN), never a trap.
    func testTheNearestCandidateOfAnyPosition() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('img.npy', np.arange(20.0).reshape(4, 5))", cwd: dir.path)
        let grid = try CandidateGrid(image: try ArrayFile.open(dir.file("img.npy")), window: 1, even: .interpolate, normalization: .minmax)
        func at(_ y: Double, _ x: Double) -> [Int]? { grid.nearest(y: y, x: x).map { [grid.centres[$0].0, grid.centres[$0].1] } }
        XCTAssertEqual(at(2, 3), [2, 3])
        XCTAssertEqual(at(2.4, 2.6), [2, 3])
        XCTAssertEqual(at(-7, 1), [0, 1])
        XCTAssertEqual(at(1e30, -1e30), [3, 0])
        XCTAssertEqual(at(-9.3e18, 9.3e18), [0, 4])
        XCTAssertEqual(at(.greatestFiniteMagnitude, 2), [3, 2])
        XCTAssertNil(at(.nan, 1))
        XCTAssertNil(at(1, .infinity))
    }
}
