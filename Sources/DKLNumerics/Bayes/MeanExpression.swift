import Foundation
import DKLCore

/// A mean function written by the user (`--mean EXPR`): arithmetic over the inputs (named,
/// e.g. x1…xd or a stream's fields) and named parameters, parsed by the toolkit, never by a
/// shell or an interpreter:
///
///     expr    = term { ("+" | "−") term }
///     term    = unary { ("*" | "/") unary }
///     unary   = "−" unary | power
///     power   = primary [ "^" unary ]            (right-associative: 2^3^2 = 2^9; −x^2 = −(x²))
///     primary = number | name | name "(" expr { "," expr } ")" | "(" expr ")"
///
/// Functions: exp log sqrt abs tanh sigmoid sin cos step (one argument; step(x) = 1 for
/// x > 0, else 0) and min max (two). A name that is not an input is a parameter, numbered
/// in order of first appearance. Values and gradients (with respect to the parameters) are
/// computed on the toolkit's autodiff tape.
public struct MeanExpression: Sendable, CustomStringConvertible {
    public indirect enum Node: Sendable, Equatable {
        case number(Double)
        case input(Int)
        case parameter(Int)
        case negate(Node)
        case binary(Character, Node, Node)
        case call(String, [Node])
    }

    public let text: String
    public let root: Node
    public let inputs: [String]
    /// The parameters' names, in order of first appearance.
    public let parameters: [String]

    public static let unaryFunctions: Set<String> = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "sin", "cos", "step"]
    public static let binaryFunctions: Set<String> = ["min", "max"]

    public var description: String { text }

    /// Parses `text`; `inputs` are the names that stand for the data's columns, `option`
    /// names where the text came from in messages (the text and a caret under the column).
    public init(_ text: String, inputs: [String], option: String = "--mean") throws {
        var parser = Parser(text: text, inputs: inputs, option: option)
        root = try parser.parse()
        self.text = text; self.inputs = inputs; parameters = parser.parameters
    }

    /// The expression's value at every row of `x` (n×d, the inputs' columns) for the
    /// parameters `theta`.
    public func values(_ x: Matrix, _ theta: [Double]) -> [Double] {
        let tape = Tape()
        return evaluate(on: tape, x: x, parameters: theta.map { tape.constant(.scalar($0)) }).value.data
    }

    /// The values, and the gradient of Σᵢ wᵢ·m(xᵢ; θ) with respect to θ (one reverse sweep).
    public func valuesAndGradient(_ x: Matrix, _ theta: [Double], weights: [Double]) -> (values: [Double], gradient: [Double]) {
        let tape = Tape()
        let p = theta.map { tape.variable(.scalar($0)) }
        let m = evaluate(on: tape, x: x, parameters: p)
        let w = tape.constant(Matrix(rows: x.rows, cols: 1, data: weights))
        tape.backward((m * w).sum())
        return (m.value.data, p.map { tape.grad($0).data[0] })
    }

    /// The expression on `tape`: an n×1 column (a constant expression is broadcast).
    public func evaluate(on tape: Tape, x: Matrix, parameters p: [Var]) -> Var {
        precondition(x.cols == inputs.count && p.count == parameters.count)
        let n = x.rows
        let columns = (0..<x.cols).map { c in tape.constant(Matrix(rows: n, cols: 1, data: (0..<n).map { x.data[$0 * x.cols + c] })) }
        let zeros = tape.constant(Matrix(rows: n, cols: 1))
        func column(_ v: Var) -> Var { v.rows == n && v.cols == 1 ? v : zeros + v }
        func eval(_ node: Node) -> Var {
            switch node {
            case .number(let v): return tape.constant(.scalar(v))
            case .input(let i): return columns[i]
            case .parameter(let k): return p[k]
            case .negate(let a): return eval(a).scaled(-1)
            case let .binary(op, a, b):
                var (u, v) = (eval(a), eval(b))
                if u.value.count == 1 && v.value.count > 1 { u = column(u) }
                switch op {
                case "+": return u + v
                case "-": return u - v
                case "*": return u * v
                case "/": return u / v
                default: return MeanExpression.power(u, v)
                }
            case let .call(name, args):
                if args.count == 2 {
                    var (u, v) = (eval(args[0]), eval(args[1]))
                    if u.value.count == 1 && v.value.count > 1 { u = column(u) }
                    return MeanExpression.extremum(u, v, max: name == "max")
                }
                let a = eval(args[0])
                switch name {
                case "exp": return a.exp()
                case "log": return a.log()
                case "sqrt": return a.sqrt()
                case "tanh": return a.tanh()
                case "sigmoid": return a.sigmoid()
                case "sin": return a.sin()
                case "cos": return a.cos()
                case "abs": return MeanExpression.unary(a, { Swift.abs($0) }, { x in x > 0 ? 1 : x < 0 ? -1 : 0 })
                default: return MeanExpression.unary(a, { $0 > 0 ? 1 : 0 }, { _ in 0 })   // step
                }
            }
        }
        return column(eval(root))
    }

    static func unary(_ a: Var, _ f: (Double) -> Double, _ df: @escaping @Sendable (Double) -> Double) -> Var {
        let out = a.value.map(f)
        return a.tape.record(out, parents: [a]) { g, t in
            let x = t.value(a)
            var ga = g
            for i in 0..<g.count { ga.data[i] = g.data[i] * df(x.data[i]) }
            t.accumulate(a, ga)
        }
    }

    /// u^v elementwise (v the same shape as u, or a scalar): ∂/∂u = v·u^(v−1), ∂/∂v = u^v·log u.
    static func power(_ u: Var, _ v: Var) -> Var {
        let (uv, vv) = (u.value, v.value)
        let bi: (Int) -> Int = vv.count == 1 ? { _ in 0 } : { $0 }
        var out = uv
        for i in 0..<out.count { out.data[i] = Foundation.pow(uv.data[i], vv.data[bi(i)]) }
        let result = out
        return u.tape.record(out, parents: [u, v]) { g, t in
            let (x, y) = (t.value(u), t.value(v))
            var gu = g, gv = Matrix(rows: y.rows, cols: y.cols)
            for i in 0..<g.count {
                let (xi, yi) = (x.data[i], y.data[bi(i)])
                gu.data[i] = yi == 0 ? 0 : g.data[i] * yi * Foundation.pow(xi, yi - 1)
                gv.data[bi(i)] += xi > 0 ? g.data[i] * result.data[i] * Foundation.log(xi) : 0
            }
            t.accumulate(u, gu)
            t.accumulate(v, gv)
        }
    }

    /// min or max elementwise; the gradient goes to the chosen argument (to the first on a tie).
    static func extremum(_ u: Var, _ v: Var, max: Bool) -> Var {
        let (uv, vv) = (u.value, v.value)
        let bi: (Int) -> Int = vv.count == 1 ? { _ in 0 } : { $0 }
        var out = uv
        var first = [Bool](repeating: true, count: uv.count)
        for i in 0..<out.count {
            let (a, b) = (uv.data[i], vv.data[bi(i)])
            first[i] = max ? a >= b : a <= b
            out.data[i] = first[i] ? a : b
        }
        let chosen = first
        return u.tape.record(out, parents: [u, v]) { g, t in
            let y = t.value(v)
            var gu = g, gv = Matrix(rows: y.rows, cols: y.cols)
            for i in 0..<g.count {
                if chosen[i] { gv.data[bi(i)] += 0 } else { gv.data[bi(i)] += g.data[i]; gu.data[i] = 0 }
            }
            t.accumulate(u, gu)
            t.accumulate(v, gv)
        }
    }

    /// A recursive-descent parser over the text's characters, with the column of every error.
    struct Parser {
        let chars: [Character]
        let text: String
        let inputs: [String]
        let option: String
        var position = 0
        var parameters: [String] = []
        var depth = 0

        init(text: String, inputs: [String], option: String) {
            self.text = text; chars = Array(text); self.inputs = inputs; self.option = option
        }

        func fail(_ message: String, at column: Int? = nil) -> DKLError {
            let c = min(column ?? position, chars.count)
            let caret = String(repeating: " ", count: c) + "^"
            return DKLError.usage("\(option): \(message) at column \(c + 1):\n  \(text)\n  \(caret)")
        }

        mutating func skipSpaces() { while position < chars.count, chars[position].isWhitespace { position += 1 } }

        mutating func peek() -> Character? { skipSpaces(); return position < chars.count ? chars[position] : nil }

        mutating func parse() throws -> Node {
            guard chars.count <= 10_000 else { throw DKLError.usage("\(option): the expression is longer than 10,000 characters") }
            guard peek() != nil else { throw fail("an empty expression", at: 0) }
            let node = try expression()
            if let c = peek() { throw fail(c == ")" ? "a ')' without its '('" : "unexpected '\(c)'") }
            return node
        }

        mutating func expression() throws -> Node {
            depth += 1
            defer { depth -= 1 }
            guard depth < 200 else { throw fail("the expression nests too deeply") }
            var node = try term()
            while let c = peek(), c == "+" || c == "-" {
                position += 1
                node = .binary(c, node, try term())
            }
            return node
        }

        mutating func term() throws -> Node {
            var node = try unary()
            while let c = peek(), c == "*" || c == "/" {
                position += 1
                node = .binary(c, node, try unary())
            }
            return node
        }

        mutating func unary() throws -> Node {
            if peek() == "-" {
                position += 1
                depth += 1
                defer { depth -= 1 }
                guard depth < 200 else { throw fail("the expression nests too deeply") }
                return .negate(try unary())
            }
            if peek() == "+" { throw fail("a '+' where a value was expected") }
            return try power()
        }

        mutating func power() throws -> Node {
            let base = try primary()
            if peek() == "^" {
                position += 1
                depth += 1
                defer { depth -= 1 }
                guard depth < 200 else { throw fail("the expression nests too deeply") }
                return .binary("^", base, try unary())
            }
            return base
        }

        mutating func primary() throws -> Node {
            guard let c = peek() else { throw fail("the expression ends where a value was expected") }
            let start = position
            if c == "(" {
                position += 1
                let node = try expression()
                guard peek() == ")" else { throw fail(peek() == nil ? "a '(' is not closed" : "expected ')'") }
                position += 1
                return node
            }
            if c.isNumber || c == "." {
                var end = position
                while end < chars.count, chars[end].isNumber || chars[end] == "." { end += 1 }
                if end < chars.count, chars[end] == "e" || chars[end] == "E" {
                    var e = end + 1
                    if e < chars.count, chars[e] == "+" || chars[e] == "-" { e += 1 }
                    if e < chars.count, chars[e].isNumber {
                        while e < chars.count, chars[e].isNumber { e += 1 }
                        end = e
                    }
                }
                let literal = String(chars[position..<end])
                guard let v = Double(literal), v.isFinite else { throw fail("'\(literal)' is not a number", at: start) }
                position = end
                return .number(v)
            }
            guard c.isLetter || c == "_", c.isASCII else { throw fail("unexpected '\(c)'") }
            var end = position
            while end < chars.count, chars[end].isASCII, chars[end].isLetter || chars[end].isNumber || chars[end] == "_" { end += 1 }
            let name = String(chars[position..<end])
            position = end
            if peek() == "(" {
                let arity = MeanExpression.unaryFunctions.contains(name) ? 1 : MeanExpression.binaryFunctions.contains(name) ? 2 : 0
                guard arity > 0 else {
                    throw fail("unknown function '\(name)' (exp, log, sqrt, abs, tanh, sigmoid, sin, cos, step, min, max)", at: start)
                }
                position += 1
                var args = [try expression()]
                while peek() == "," { position += 1; args.append(try expression()) }
                guard peek() == ")" else { throw fail(peek() == nil ? "a '(' is not closed" : "expected ',' or ')'") }
                guard args.count == arity else {
                    throw fail("\(name) takes \(arity) argument\(arity == 1 ? "" : "s"), not \(args.count)", at: start)
                }
                position += 1
                return .call(name, args)
            }
            if MeanExpression.unaryFunctions.contains(name) || MeanExpression.binaryFunctions.contains(name) {
                throw fail("'\(name)' is a function: write \(name)(…)", at: start)
            }
            if let i = inputs.firstIndex(of: name) { return .input(i) }
            if let k = parameters.firstIndex(of: name) { return .parameter(k) }
            parameters.append(name)
            return .parameter(parameters.count - 1)
        }
    }
}
