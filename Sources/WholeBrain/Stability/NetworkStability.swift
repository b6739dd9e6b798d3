import Foundation

/// Fixed points, linear stability and the critical coupling of any model's noise-free network,
/// from the model's own drift and analytic Jacobian (`NeuralMassModel.jacobian`).
///
/// The state x holds variable v of node i at x[v N + i]. Without noise, delays do not move
/// fixed points: F_v,i(x) = f_v(x_i, c_i, p_i) = 0 with the network input c_i of the coupling
/// function (`CouplingKind`) on the exchanged signal s_j (the coupled variable x[cv N + j], or
/// a function of node j's state, `couplingSignal`, whose gradient the chain rule takes):
///   linear     c_i = sum_j C_ij s_j,                dc_i/ds_j = C_ij
///   diffusive  c_i = sum_j C_ij (s_j - s_i),        dc_i/ds_j = C_ij - delta_ij sum_k C_ik
///   sine       c_i = sum_j C_ij sin(s_j - s_i),     dc_i/ds_j = C_ij cos(s_j - s_i) - delta_ij sum_k C_ik cos(s_k - s_i)
/// The network Jacobian is the block diagonal of the models' state Jacobians plus
/// (df_v,i/dc_i)(dc_i/ds_j)(ds_j/dx_b,j) in column (b, j). Newton solves F = 0 (LAPACK dgesv); dgeev gives
/// the eigenvalues (1/ms), which are those of the network without delays: a real eigenvalue
/// crossing zero (a fold or branch point) happens at the same coupling with delays, an
/// oscillatory (Hopf) crossing shifts with them. The reduced Wong-Wang network has its own,
/// with feedback inhibition and continuation through folds (`RWWStability`, `RWWContinuation`);
/// this one agrees with it (a test) and serves every model whose coupling is one linear sum of
/// a state variable (not ALN's rate-coupled, variance-carrying, locally delayed input).
public struct NetworkStability<Model: NeuralMassModel> {
    public let model: Model
    public let weights: Matrix
    public let coupling: CouplingKind
    /// Per-node values of `Model.nodeParameterNames`, [parameter][node] as in `SimulationSpec`
    /// (nil: the model's uniform values).
    public let nodeParameters: [[Double]]?

    public init(model: Model, weights: Matrix, coupling: CouplingKind = Model.defaultCoupling, nodeParameters: [[Double]]? = nil) throws {
        guard Model.coupledObservable == nil, Model.couplingWeightPowers == [1], Model.localDelayObservables.isEmpty else {
            throw WholeBrainError.badValue(source: "--model", value: Model.name,
                                           expected: "a model whose network input is one linear sum of a state variable (\(Model.name) couples through an observable, several sums or intra-node delays)")
        }
        guard weights.rows == weights.columns,
              nodeParameters.map({ $0.count == Model.nodeParameterNames.count && $0.allSatisfy { $0.count == weights.rows } }) ?? true else {
            throw WholeBrainError.badValue(source: "weights", value: "\(weights.rows) x \(weights.columns)",
                                           expected: "a square matrix, and per node parameter of \(Model.name) one value per region")
        }
        self.model = model; self.weights = weights; self.coupling = coupling; self.nodeParameters = nodeParameters
    }

    var n: Int { weights.rows }
    var size: Int { Model.variables.count * weights.rows }

    public struct FixedPoint: Sendable, LinearisedPoint {
        /// Variable v of node i at state[v N + i].
        public let state: [Double]
        /// Sorted by real part, largest first (1/ms).
        public let eigenvalues: [Eigenvalues.Value]
        public let iterations: Int
    }

    /// F(x) and its Jacobian (row-major, VN x VN).
    public func residualAndJacobian(_ x: [Double]) -> (f: [Double], j: Matrix) {
        let v = Model.variables.count
        var f = [Double](repeating: 0, count: size)
        var j = Matrix(rows: size, columns: size)
        let rowSums = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + weights[i, $1] } }
        // The exchanged signal (the coupled variable, or a function of the state such as
        // Jansen-Rit's pyramidal rate) and its gradient, per node.
        let states = (0..<n).map { i in (0..<v).map { x[$0 * n + i] } }
        let signals = states.map { model.couplingSignal(state: $0) }
        let signalGradients = states.map { model.couplingSignalGradient(state: $0) }
        for i in 0..<n {
            let s = signals[i]
            var sum0 = 0.0, sum1 = 0.0
            for k in 0..<n where weights[i, k] != 0 {
                sum0 += weights[i, k] * coupling.pre(signals[k], channel: 0)
                if coupling.channels > 1 { sum1 += weights[i, k] * coupling.pre(signals[k], channel: 1) }
            }
            let c = coupling.post(sum0: sum0, sum1: sum1, local: s, rowSum: rowSums[i])
            let state = states[i]
            let node = nodeParameters?.map { $0[i] } ?? model.nodeParameterDefaults
            let drift = model.drift(state: state, coupling: [c], node: node)
            let (js, jc) = model.jacobian(state: state, coupling: [c], node: node)
            for a in 0..<v {
                f[a * n + i] = drift[a]
                for b in 0..<v { j[a * n + i, b * n + i] += js[a][b] }
                let dc = jc[0][a]
                guard dc != 0 else { continue }
                // dc_i/ds_k for every k, the diagonal term of the diffusive and sine couplings included.
                var diagonal = 0.0
                for k in 0..<n where weights[i, k] != 0 {
                    let w: Double
                    switch coupling {
                    case .linear: w = weights[i, k]
                    case .diffusive: w = weights[i, k]; diagonal -= weights[i, k]
                    case .sine:
                        w = weights[i, k] * Foundation.cos(signals[k] - s); diagonal -= w
                    }
                    for b in 0..<v where signalGradients[k][b] != 0 { j[a * n + i, b * n + k] += dc * w * signalGradients[k][b] }
                }
                for b in 0..<v where signalGradients[i][b] != 0 { j[a * n + i, b * n + i] += dc * diagonal * signalGradients[i][b] }
            }
        }
        return (f, j)
    }

    /// Newton from `start`, each step kept inside the variables' bounds (damped to 90% of the
    /// way to a bound); nil when it does not converge to max |F| < tolerance (per ms).
    public func fixedPoint(from start: [Double], tolerance: Double = 1e-13, maxIterations: Int = 100) throws -> FixedPoint? {
        precondition(start.count == size, "a start of \(size) values (variables x nodes)")
        var x = start
        for iteration in 0..<maxIterations {
            let (f, j) = residualAndJacobian(x)
            let norm = f.map { abs($0) }.max() ?? 0
            if norm < tolerance { return FixedPoint(state: x, eigenvalues: try Eigenvalues.of(j), iterations: iteration) }
            guard norm.isFinite, var dx = RWWStability.solve(j, f) else { return nil }
            var scale = 1.0
            for (v, variable) in Model.variables.enumerated() {
                guard let bounds = variable.bounds else { continue }
                for k in (v * n)..<((v + 1) * n) where dx[k] != 0 {
                    let next = x[k] - dx[k]
                    if next < bounds.lowerBound { scale = min(scale, 0.9 * (x[k] - bounds.lowerBound) / dx[k]) }
                    if next > bounds.upperBound { scale = min(scale, 0.9 * (x[k] - bounds.upperBound) / dx[k]) }
                }
            }
            dx = dx.map { $0 * scale }
            for k in x.indices { x[k] -= dx[k] }
        }
        return nil
    }

    /// Fixed points from uniform starts: every node at the same value of each variable, `starts`
    /// values spread over the variables' initial ranges; duplicates (max difference below 1e-6)
    /// merged, stable ones first, then by the mean of the coupled variable.
    public func fixedPoints(starts: Int = 9) throws -> [FixedPoint] {
        var found: [FixedPoint] = []
        for k in 0..<starts {
            let u = starts > 1 ? Double(k) / Double(starts - 1) : 0.5
            let start = Model.variables.flatMap { v in
                [Double](repeating: v.initialRange.lowerBound + u * (v.initialRange.upperBound - v.initialRange.lowerBound), count: n)
            }
            guard let point = try fixedPoint(from: start) else { continue }
            if !found.contains(where: { zip($0.state, point.state).allSatisfy { abs($0 - $1) < 1e-6 } }) { found.append(point) }
        }
        let cv = Model.coupledVariable, count = n
        func mean(_ p: FixedPoint) -> Double { p.state[(cv * count)..<((cv + 1) * count)].reduce(0, +) / Double(count) }
        return found.sorted { ($0.isStable ? 0 : 1, mean($0)) < ($1.isStable ? 0 : 1, mean($1)) }
    }
}

/// Where a stable fixed point of a network loses stability as the global coupling rises.
public struct CriticalCoupling: Sendable, Equatable {
    /// The coupling (the model's `globalCouplingParameter`) at the crossing, to `tolerance`.
    public let value: Double
    /// "fold or branch point" (a real eigenvalue crosses zero) or "Hopf" (a complex pair).
    public let kind: String
}

/// A stable fixed point followed over the global coupling: each value's point, up to where it
/// loses stability, and the crossing.
public struct CouplingScan: Sendable {
    public struct Point: Sendable {
        public let coupling: Double
        public let fixedPoint: NetworkStabilityPoint
    }
    public let points: [Point]
    public let critical: CriticalCoupling?
    /// Why there is no critical coupling (nil when there is one).
    public let reason: String?
}

/// A fixed point, independent of the model's type: state (variable v of node i at
/// state[v N + i]), eigenvalues (largest real part first, 1/ms) and the Newton iterations.
public typealias NetworkStabilityPoint = (state: [Double], eigenvalues: [Eigenvalues.Value])

extension NetworkStability {
    /// The network at coupling `g` (the model's `globalCouplingParameter`), the rest unchanged.
    func at(coupling g: Double) throws -> NetworkStability {
        var p = model.parameters
        try Model.parameterSpecs.apply([(Model.globalCouplingParameter, g)], to: &p, model: Model.name)
        return try NetworkStability(model: Model(parameters: p), weights: weights, coupling: coupling, nodeParameters: nodeParameters)
    }

    /// Follows the fixed point found from `start` at the lowest coupling of `range` (Newton from
    /// the previous point at each of `steps` values) and locates, by bisection to `tolerance`,
    /// where its leading eigenvalue's real part first crosses zero. A point Newton loses (the
    /// branch ends in a fold) counts as unstable there.
    public func scanCoupling(start: [Double], range: ClosedRange<Double>, steps: Int = 40, tolerance: Double = 1e-6) throws -> CouplingScan {
        let name = Model.globalCouplingParameter
        guard var previous = try at(coupling: range.lowerBound).fixedPoint(from: start) else {
            return CouplingScan(points: [], critical: nil, reason: "no fixed point found from the start at \(name) = \(range.lowerBound)")
        }
        var points = [CouplingScan.Point(coupling: range.lowerBound, fixedPoint: (previous.state, previous.eigenvalues))]
        guard previous.isStable else {
            return CouplingScan(points: points, critical: nil, reason: "the fixed point at \(name) = \(range.lowerBound) is already unstable (the network oscillates or sits elsewhere: see --map for limit cycles)")
        }
        var lower = range.lowerBound
        for k in 1...max(steps, 1) {
            let g = range.lowerBound + Double(k) / Double(max(steps, 1)) * (range.upperBound - range.lowerBound)
            let point = try at(coupling: g).fixedPoint(from: previous.state)
            if let point { points.append(.init(coupling: g, fixedPoint: (point.state, point.eigenvalues))) }
            if let point, point.isStable { previous = point; lower = g; continue }
            var upper = g, crossing = point?.leading ?? previous.leading
            while upper - lower > tolerance {
                let middle = 0.5 * (lower + upper)
                let p = try at(coupling: middle).fixedPoint(from: previous.state)
                if let p, p.isStable { lower = middle; previous = p } else { upper = middle; if let p { crossing = p.leading } }
            }
            let kind = abs(crossing.imaginary) > 1e-9 ? "Hopf" : "fold or branch point"
            return CouplingScan(points: points, critical: CriticalCoupling(value: 0.5 * (lower + upper), kind: kind), reason: nil)
        }
        return CouplingScan(points: points, critical: nil, reason: "the fixed point stays stable up to \(name) = \(range.upperBound)")
    }

    /// `scanCoupling`'s crossing: nil when the state stays stable over the range, or is
    /// unstable at its start.
    public static func criticalCoupling(model: Model, weights: Matrix, coupling: CouplingKind = Model.defaultCoupling,
                                        nodeParameters: [[Double]]? = nil, start: [Double], range: ClosedRange<Double>,
                                        steps: Int = 40, tolerance: Double = 1e-6) throws -> CriticalCoupling? {
        try NetworkStability(model: model, weights: weights, coupling: coupling, nodeParameters: nodeParameters)
            .scanCoupling(start: start, range: range, steps: steps, tolerance: tolerance).critical
    }
}

extension NeuralMassModel {
    /// The low state of this model's noise-free network (parameters: the defaults with
    /// `assignments`) followed over its global coupling: the stable fixed point with the lowest
    /// mean coupled variable at the start of `range` (`NetworkStability.fixedPoints`), then
    /// `scanCoupling`. Also returns every fixed point found at the start.
    public static func scanCoupling(assignments: [(name: String, value: Double)], weights: Matrix, coupling: CouplingKind? = nil,
                                    range: ClosedRange<Double>, steps: Int) throws -> (scan: CouplingScan, atStart: [NetworkStabilityPoint]) {
        var p = defaultParameters
        try parameterSpecs.apply(assignments.map { (parameterAliases[$0.name] ?? $0.name, $0.value) }, to: &p, model: name)
        try parameterSpecs.apply([(globalCouplingParameter, range.lowerBound)], to: &p, model: name)
        let stability = try NetworkStability(model: Self(parameters: p), weights: weights, coupling: coupling ?? defaultCoupling)
        let found = try stability.fixedPoints()
        let atStart = found.map { ($0.state, $0.eigenvalues) }
        guard let low = found.first(where: \.isStable) else {
            return (CouplingScan(points: [], critical: nil,
                                 reason: found.isEmpty ? "no fixed point found at \(globalCouplingParameter) = \(range.lowerBound)"
                                    : "no stable fixed point at \(globalCouplingParameter) = \(range.lowerBound): the network oscillates (see --map for limit cycles)"),
                    atStart)
        }
        return (try stability.scanCoupling(start: low.state, range: range, steps: steps), atStart)
    }
}
