import Foundation
import Synchronization
import DKLCore

/// Progress of an ensemble's training on stderr, reported by the members' threads through
/// `observe` (the `observe` of `DKLEnsemble.train`): the iterations of all members so far,
/// and a stop when ^C has been pressed.
public final class EnsembleProgress: Sendable {
    private struct State {
        var iterations: [Int]
        let progress: DKLCore.Progress
    }
    private let state: Mutex<State>

    public init(tool: String, members: Int, iterations: Int, enabled: Bool) {
        state = Mutex(State(iterations: [Int](repeating: 0, count: members),
                            progress: DKLCore.Progress(tool: tool, what: "iterations", total: members * iterations, enabled: enabled)))
    }

    /// Member `member` has run `iteration` iterations (its loss `loss`); false once interrupted.
    @Sendable public func observe(_ member: Int, _ iteration: Int, _ loss: Double) -> Bool {
        state.withLock { s in
            s.iterations[member] = iteration
            s.progress.update(s.iterations.reduce(0, +))
        }
        return Interrupts.signalNumber == 0
    }

    /// The final line: every member's iterations.
    public func finish() { state.withLock { $0.progress.finish($0.iterations.reduce(0, +)) } }
}
