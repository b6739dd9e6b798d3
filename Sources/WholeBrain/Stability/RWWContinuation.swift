import Foundation

/// Every branch of fixed points of the noise-free reduced Wong-Wang network as one parameter
/// varies: low, high and the unstable branch between them, with eigenvalues, folds and G*.
///
/// Pseudo-arclength continuation (Keller 1977; e.g. Kuznetsov, *Elements of Applied
/// Bifurcation Theory*, ch. 10): the curve F(x, p) = 0 in (x, p), x = (S_E, S_I) per node, is
/// followed by arclength s, so it passes folds where p turns back. Each step predicts along
/// the unit tangent t (solving [F_x F_p; t_prev^T] t = [0; 1]) and corrects with Newton on
/// [F(x, p); t . (u - u_predicted)] = 0. F_x is the model's analytic Jacobian; F_p is a
/// central difference in p (the parameter enters smoothly; the corrector's convergence does
/// not depend on F_p being exact). Distances weight the 2N state components by 1/(2N) (an RMS
/// change of state) against the parameter.
///
/// With feedback inhibition (`Inhibition.feedback`) J_i is recomputed at every parameter value
/// (`FeedbackInhibition.localInhibition`), as Deco et al. (2014) retuned it for every G: the
/// FIC state then exists for every G and loses stability at G* (a real eigenvalue crosses zero
/// where another branch meets it) instead of ending in a fold.
///
/// Stability is that of the network without delays (see `RWWStability`). Eigenvalues in 1/ms.
public struct RWWContinuation {
    /// How J_i is set along the curve.
    public enum Inhibition: Sendable, Equatable {
        /// Fixed J_i: the parameters' J_i for every node, or one value per node.
        case fixed([Double]?)
        /// Feedback inhibition control: per-node J_i for this excitatory rate (Hz) at every value.
        case feedback(rate: Double)
    }

    public let parameters: ReducedWongWang.Parameters
    public let weights: Matrix
    public let parameter: WritableKeyPath<ReducedWongWang.Parameters, Double>
    public let inhibition: Inhibition

    public init(parameters: ReducedWongWang.Parameters, weights: Matrix,
                parameter: WritableKeyPath<ReducedWongWang.Parameters, Double> = \.g, inhibition: Inhibition = .fixed(nil)) {
        self.parameters = parameters
        self.weights = weights
        self.parameter = parameter
        self.inhibition = inhibition
    }

    var n: Int { weights.rows }

    /// Where a stable state counts as high activity: mean excitatory rate above this (Hz).
    public static let highRateThreshold = 10.0

    /// One point of a branch.
    public struct Point: Sendable {
        public let value: Double
        /// S_E then S_I, per node.
        public let state: [Double]
        public let eigenvalues: [Eigenvalues.Value]
        /// Mean excitatory rate over nodes (Hz).
        public let meanRate: Double
        public var leading: Eigenvalues.Value { eigenvalues[0] }
        public var isStable: Bool { leading.real < 0 }
        public var unstableCount: Int { eigenvalues.filter { $0.real >= 0 }.count }
        public var meanSE: Double { state.prefix(state.count / 2).reduce(0, +) / Double(state.count / 2) }
        /// "low" or "high" (stable, by mean E rate) or "unstable".
        public var branch: String {
            guard isStable else { return "unstable" }
            return meanRate > RWWContinuation.highRateThreshold ? "high" : "low"
        }
    }

    /// Where stability changes along a curve.
    public struct Bifurcation: Sendable {
        public let value: Double
        /// "fold", "branch point" (a real eigenvalue crosses zero while the curve goes on) or "Hopf".
        public let kind: String
        /// Mean S_E there.
        public let meanSE: Double
        /// True when the curve, followed from its start, loses stability here.
        public let losesStability: Bool
    }

    /// The network at one parameter value (J_i retuned there with feedback inhibition).
    public func system(at value: Double) throws -> RWWStability {
        var p = parameters
        p[keyPath: parameter] = value
        switch inhibition {
        case let .fixed(nodeJI):
            return RWWStability(parameters: p, weights: weights, nodeJI: nodeJI)
        case let .feedback(rate):
            return RWWStability(parameters: p, weights: weights,
                                nodeJI: try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: rate))
        }
    }

    /// F(x, p), its state Jacobian and dF/dp (central difference).
    func evaluate(_ x: [Double], _ value: Double) throws -> (f: [Double], fx: Matrix, fp: [Double]) {
        let (f, fx) = try system(at: value).residualAndJacobian(x)
        let h = 1e-6 * max(1, abs(value))
        let up = try system(at: value + h).residualAndJacobian(x).f
        let down = try system(at: value - h).residualAndJacobian(x).f
        return (f, fx, zip(up, down).map { ($0 - $1) / (2 * h) })
    }

    /// The point with its eigenvalues.
    func point(_ x: [Double], _ value: Double) throws -> Point {
        let system = try system(at: value)
        let (_, j) = system.residualAndJacobian(x)
        let p = system.parameters
        var rate = 0.0
        for i in 0..<n {
            var c = 0.0
            for k in 0..<n { c += weights[i, k] * x[k] }
            rate += ReducedWongWang.drift(p, sE: x[i], sI: x[n + i], coupling: c, jI: system.nodeJI?[i] ?? p.jI).rE
        }
        return Point(value: value, state: x, eigenvalues: try Eigenvalues.of(j), meanRate: rate / Double(n))
    }

    /// Newton at a fixed parameter value from `start`; nil without convergence.
    public func solve(at value: Double, from start: [Double]) throws -> Point? {
        guard let fixed = try system(at: value).fixedPoint(from: start, tolerance: 1e-12) else { return nil }
        return try point(fixed.state, value)
    }

    /// The extended Jacobian [[F_x, F_p], [w t^T]] (row-major, 2N+1 square).
    func extended(_ fx: Matrix, _ fp: [Double], tangent t: [Double]) -> Matrix {
        let m = 2 * n
        var a = Matrix(rows: m + 1, columns: m + 1)
        for r in 0..<m {
            for c in 0..<m { a[r, c] = fx[r, c] }
            a[r, m] = fp[r]
        }
        let w = 1 / Double(m)
        for c in 0..<m { a[m, c] = w * t[c] }
        a[m, m] = t[m]
        return a
    }

    /// Weighted norm of a step in (x, p).
    func norm(_ u: [Double]) -> Double {
        let m = 2 * n
        var s = 0.0
        for k in 0..<m { s += u[k] * u[k] }
        return (s / Double(m) + u[m] * u[m]).squareRoot()
    }

    /// Unit tangent at (x, p), oriented along `previous` (or with dp/ds of sign `direction`).
    func tangent(_ x: [Double], _ value: Double, previous: [Double]?, direction: Double) throws -> [Double]? {
        let (_, fx, fp) = try evaluate(x, value)
        let m = 2 * n
        var guess = previous ?? ([Double](repeating: 0, count: m) + [direction])
        if previous == nil {
            // dx/dp from F_x dx = -F_p.
            guard let dx = RWWStability.solve(fx, fp.map { -$0 }) else { return nil }
            guess = dx + [1]
            let s = norm(guess)
            guess = guess.map { $0 * direction / s }
        }
        var rhs = [Double](repeating: 0, count: m + 1)
        rhs[m] = 1
        guard var t = RWWStability.solve(extended(fx, fp, tangent: guess), rhs) else { return nil }
        let s = norm(t)
        t = t.map { $0 / s }
        let w = 1 / Double(m)
        var dot = t[m] * guess[m]
        for k in 0..<m { dot += w * t[k] * guess[k] }
        return dot < 0 ? t.map { -$0 } : t
    }

    /// Newton on [F(x, p); t . (u - predicted)] = 0 from the predicted point.
    func correct(_ predicted: [Double], tangent t: [Double]) throws -> (x: [Double], value: Double, iterations: Int)? {
        let m = 2 * n, w = 1 / Double(m)
        var u = predicted
        for iteration in 0..<15 {
            let x = Array(u[0..<m]), value = u[m]
            guard x.allSatisfy({ $0 > -0.05 && $0 < 1.05 }) else { return nil }
            let (f, fx, fp) = try evaluate(x, value)
            var arc = t[m] * (u[m] - predicted[m])
            for k in 0..<m { arc += w * t[k] * (u[k] - predicted[k]) }
            let residual = max(f.map { abs($0) }.max() ?? 0, abs(arc))
            guard residual.isFinite else { return nil }
            if residual < 1e-12 { return (x, value, iteration) }
            guard let du = RWWStability.solve(extended(fx, fp, tangent: t), f + [arc]) else { return nil }
            for k in u.indices { u[k] -= du[k] }
        }
        return nil
    }

    /// A followed curve: its points in order of arclength and where stability changed.
    public struct Curve: Sendable {
        public var points: [Point]
        public var bifurcations: [Bifurcation]
        /// Why it stopped: "end of range", "left the unit square", "joined another branch",
        /// "step limit", "no convergence" or "singular Jacobian".
        public var ended: String
    }

    /// Follows the curve through `start` with dp/ds of sign `direction` until the parameter
    /// leaves `range`, the state leaves [0, 1], or `maxPoints` points; steps of at most
    /// (range width) / `steps` in the weighted norm. `stopNear` ends the curve when it runs
    /// along another curve (three points in a row within 1e-3 of its points: the two join);
    /// crossing it once, as at a branch point, is passing through.
    public func follow(from start: Point, direction: Double, over range: ClosedRange<Double>, steps: Int = 80,
                       maxPoints: Int = 2000, stopNear other: [Point] = []) throws -> Curve {
        let width = range.upperBound - range.lowerBound
        let maxStep = width / Double(max(steps, 1)), minStep = maxStep * 1e-6
        var step = maxStep, near = 0
        var points = [start]
        var bifurcations: [Bifurcation] = []
        guard var t = try tangent(start.state, start.value, previous: nil, direction: direction) else {
            return Curve(points: points, bifurcations: [], ended: "singular Jacobian at the start")
        }
        while points.count < maxPoints {
            let last = points.last!
            let u0 = last.state + [last.value]
            let predicted = zip(u0, t).map { $0 + step * $1 }
            guard let corrected = try correct(predicted, tangent: t) else {
                if step <= minStep { return Curve(points: points, bifurcations: bifurcations, ended: "no convergence") }
                step /= 2
                continue
            }
            var x = corrected.x, value = corrected.value
            var ended: String?
            if value > range.upperBound || value < range.lowerBound {
                // Land exactly on the end of the range (Newton in x there).
                let bound = value > range.upperBound ? range.upperBound : range.lowerBound
                guard let end = try solve(at: bound, from: x) else { return Curve(points: points, bifurcations: bifurcations, ended: "end of range") }
                x = end.state; value = bound; ended = "end of range"
            }
            if !x.allSatisfy({ $0 >= 0 && $0 <= 1 }) { return Curve(points: points, bifurcations: bifurcations, ended: "left the unit square") }
            let next = try point(x, value)
            if let b = try locate(between: last, next, tangent: t) { bifurcations.append(b) }
            points.append(next)
            if let ended { return Curve(points: points, bifurcations: bifurcations, ended: ended) }
            // Crossing another curve (at a branch point) is passing through; running along it
            // for three points is tracing it again: drop those and stop.
            if other.contains(where: { q in abs(q.value - value) < 1e-3 * max(1, width) && norm(zip(q.state + [0], x + [0]).map { $0 - $1 }) < 1e-3 }) {
                near += 1
                if near >= 3 {
                    points.removeLast(near - 1)
                    return Curve(points: points, bifurcations: bifurcations, ended: "joined another branch")
                }
            } else {
                near = 0
            }
            guard let nt = try tangent(x, value, previous: t, direction: direction) else {
                return Curve(points: points, bifurcations: bifurcations, ended: "singular Jacobian")
            }
            t = nt
            if corrected.iterations <= 3 { step = min(step * 1.5, maxStep) }
        }
        return Curve(points: points, bifurcations: bifurcations, ended: "step limit")
    }

    /// Where the leading eigenvalue's real part changes sign between two neighbouring points:
    /// bisection along the chord's arclength from `a` (corrector at each trial), to 1e-10 in
    /// the parameter. Nil when the stability does not change.
    func locate(between a: Point, _ b: Point, tangent t: [Double]) throws -> Bifurcation? {
        guard a.isStable != b.isStable else { return nil }
        let u0 = a.state + [a.value]
        let chord = zip(b.state + [b.value], u0).map { $0 - $1 }
        let length = norm(chord)
        var lo = 0.0, hi = length
        var found = b
        // Along the chord direction from a, corrected onto the curve with that direction.
        let direction = chord.map { $0 / length }
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            guard let c = try correct(zip(u0, direction).map { $0 + mid * $1 }, tangent: direction) else { break }
            let p = try point(c.x, c.value)
            if p.isStable == a.isStable { lo = mid } else { hi = mid; found = p }
            if abs(p.value - found.value) < 1e-12 && hi - lo < 1e-10 { break }
        }
        // A fold where the tangent is vertical in the parameter (the curve turns back there);
        // a branch point where the curve goes on through the crossing.
        let kind: String
        if found.leading.imaginary != 0 {
            kind = "Hopf"
        } else if let tf = try tangent(found.state, found.value, previous: t, direction: 1), abs(tf[2 * n]) < 1e-3 {
            kind = "fold"
        } else {
            kind = "branch point"
        }
        return Bifurcation(value: found.value, kind: kind, meanSE: found.meanSE, losesStability: a.isStable && !b.isStable)
    }

    /// The diagram: the curve from the lowest-activity state at the start of the range
    /// (followed upwards) and, where it is not the same curve and `highBranch`, the one from
    /// the highest state at the end of the range (followed downwards).
    public struct Diagram: Sendable {
        public let curves: [Curve]
        /// Where the low-activity state at the start of the range first loses stability
        /// inside the range (G* for G); nil when it does not (`reason` says why).
        public let critical: Bifurcation?
        public let reason: String?
    }

    public func diagram(over range: ClosedRange<Double>, steps: Int = 80, highBranch: Bool = true) throws -> Diagram {
        var curves: [Curve] = []
        let low = try solve(at: range.lowerBound, from: [Double](repeating: 0.05, count: n) + [Double](repeating: 0.05, count: n))
        var critical: Bifurcation?, reason: String?
        if let low {
            let curve = try follow(from: low, direction: 1, over: range, steps: steps)
            curves.append(curve)
            if !low.isStable {
                reason = "the low-activity state is already unstable at the start of the range"
            } else if low.branch == "high" {
                reason = "the state at the start of the range is already a high-activity one"
            } else if let first = curve.bifurcations.first(where: \.losesStability), first.value > range.lowerBound, first.value < range.upperBound {
                critical = first
            } else {
                reason = "the low-activity state stays stable over the whole range"
            }
        } else {
            reason = "no fixed point found from a low-activity start at the start of the range"
        }
        // The high branch, from the end of the range downwards, unless the first curve reached it.
        let highStart = [Double](repeating: 0.9, count: n) + [Double](repeating: 0.1, count: n)
        if highBranch, let high = try solve(at: range.upperBound, from: highStart), high.isStable {
            let reached = curves.first?.points.contains { q in abs(q.value - high.value) < 1e-9 && norm(zip(q.state + [0], high.state + [0]).map { $0 - $1 }) < 1e-6 } ?? false
            if !reached {
                var curve = try follow(from: high, direction: -1, over: range, steps: steps, stopNear: curves.first?.points ?? [])
                // A crossing already found on the first curve (a branch point both pass) is listed once.
                let known = curves.first?.bifurcations ?? []
                curve.bifurcations.removeAll { b in known.contains { $0.kind == b.kind && abs($0.value - b.value) < 1e-3 * max(1, range.upperBound - range.lowerBound) } }
                curves.append(curve)
            }
        }
        return Diagram(curves: curves, critical: critical, reason: reason)
    }
}
