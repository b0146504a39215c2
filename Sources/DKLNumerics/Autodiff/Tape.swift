/// A reverse-mode autodiff tape over matrices. Each op records its value and a backward
/// closure that turns the gradient of its output into gradients of its inputs; `backward`
/// runs the closures in reverse order. Build a fresh tape per evaluation.
import DKLCore

public final class Tape {
    public private(set) var values: [Matrix] = []
    var grads: [Matrix?] = []
    var backwards: [((Matrix, Tape) -> Void)?] = []
    var needsGrad: [Bool] = []

    public init() {}

    /// A leaf whose gradient is wanted (a parameter or an input being checked).
    public func variable(_ m: Matrix) -> Var { record(m, needsGrad: true, nil) }
    /// A leaf without gradient (data).
    public func constant(_ m: Matrix) -> Var { record(m, needsGrad: false, nil) }

    /// Records an op's value; `backward` receives the gradient of the value.
    public func record(_ value: Matrix, parents: [Var], _ backward: @escaping (Matrix, Tape) -> Void) -> Var {
        let needs = parents.contains { needsGrad[$0.id] }
        return record(value, needsGrad: needs, needs ? backward : nil)
    }

    func record(_ value: Matrix, needsGrad: Bool, _ backward: ((Matrix, Tape) -> Void)?) -> Var {
        values.append(value)
        grads.append(nil)
        backwards.append(backward)
        self.needsGrad.append(needsGrad)
        return Var(id: values.count - 1, tape: self)
    }

    public func value(_ v: Var) -> Matrix { values[v.id] }

    /// Adds `g` to the gradient of `v` (used by backward closures). `g` is evaluated only
    /// when `v` needs a gradient, so no work is spent on constants such as the inputs.
    @inline(__always)
    public func accumulate(_ v: Var, _ g: @autoclosure () -> Matrix) {
        guard needsGrad[v.id] else { return }
        let g = g()
        if var existing = grads[v.id] {
            grads[v.id] = nil
            existing.data.withUnsafeMutableBufferPointer { e in
                g.data.withUnsafeBufferPointer { gg in for i in 0..<gg.count { e[i] += gg[i] } }
            }
            grads[v.id] = existing
        } else {
            grads[v.id] = g
        }
    }

    /// Back-propagates from the scalar `loss` (seed gradient 1).
    public func backward(_ loss: Var) {
        precondition(values[loss.id].count == 1, "backward from a non-scalar")
        grads[loss.id] = .scalar(1)
        for i in stride(from: loss.id, through: 0, by: -1) {
            guard let g = grads[i], let b = backwards[i] else { continue }
            b(g, self)
            if i != loss.id && backwards[i] != nil { grads[i] = nil }   // free intermediate gradients
        }
    }

    /// The gradient of the loss with respect to leaf `v` (zeros if it did not contribute).
    public func grad(_ v: Var) -> Matrix {
        grads[v.id] ?? Matrix(rows: values[v.id].rows, cols: values[v.id].cols)
    }
}

/// A handle to a value on a tape.
public struct Var {
    public let id: Int
    public unowned let tape: Tape
    public var value: Matrix { tape.values[id] }
    public var rows: Int { tape.values[id].rows }
    public var cols: Int { tape.values[id].cols }
}
