import CLAPACKE
import Foundation

/// Fixed points and linear stability of the deterministic reduced Wong-Wang network
/// (Deco et al. 2014), with the model's analytic Jacobian.
///
/// Without noise, delays do not move fixed points, and the network state x = (S_E, S_I)
/// solves F(x) = 0 with F_E,i = -S_E,i / tau_E + (1 - S_E,i) gamma_E H_E(x_E,i),
/// F_I,i = -S_I,i / tau_I + gamma_I H_I(x_I,i), x_E,i holding G J_NMDA sum_j W_ij S_E,j.
/// Newton's method solves it with the 2N x 2N Jacobian (per node the 2 x 2 block of
/// `jacobianEntries`, plus dF_E,i/dS_E,j = (dF_E,i/dc_i) W_ij); LAPACK's dgeev gives its
/// eigenvalues (units 1/ms). Stability is that of the network without delays: a real
/// eigenvalue crossing zero (a fold, where the low state ends) happens at the same G with
/// delays (the delayed characteristic equation at lambda = 0 is det(J) = 0), while an
/// oscillatory crossing would shift with the delays.
public struct RWWStability {
    public let parameters: ReducedWongWang.Parameters
    /// Per-node J_i, w_+ and I_0 (nil: the parameters' value for every node).
    public let nodeJI: [Double]?, nodeWPlus: [Double]?, nodeI0: [Double]?
    public let weights: Matrix

    public init(parameters: ReducedWongWang.Parameters, weights: Matrix, nodeJI: [Double]? = nil,
                nodeWPlus: [Double]? = nil, nodeI0: [Double]? = nil) {
        self.parameters = parameters
        self.weights = weights
        self.nodeJI = nodeJI
        self.nodeWPlus = nodeWPlus
        self.nodeI0 = nodeI0
    }

    /// The stability problem of a simulation's network (its per-node J_i, w_+ and I_0).
    public init(spec: SimulationSpec<ReducedWongWang>) {
        self.init(parameters: spec.model.parameters, weights: spec.connectome.weights, nodeJI: spec.nodeParameters[0],
                  nodeWPlus: spec.nodeParameters[1], nodeI0: spec.nodeParameters[2])
    }

    var n: Int { weights.rows }

    public struct FixedPoint: Sendable, LinearisedPoint {
        /// S_E then S_I, per node.
        public let state: [Double]
        public let eigenvalues: [Eigenvalues.Value]
        public let iterations: Int
        public var meanSE: Double { state.prefix(state.count / 2).reduce(0, +) / Double(state.count / 2) }
    }

    /// F(x) and its Jacobian (row-major, 2N x 2N).
    public func residualAndJacobian(_ x: [Double]) -> (f: [Double], j: Matrix) {
        let model = ReducedWongWang(parameters: parameters)
        var f = [Double](repeating: 0, count: 2 * n)
        var j = Matrix(rows: 2 * n, columns: 2 * n)
        for i in 0..<n {
            var c = 0.0
            for k in 0..<n { c += weights[i, k] * x[k] }
            let ji = nodeJI?[i] ?? parameters.jI
            let d = model.drift(sE: x[i], sI: x[n + i], coupling: c, jI: ji, wPlus: nodeWPlus?[i], i0: nodeI0?[i])
            f[i] = d.dE; f[n + i] = d.dI
            let e = model.jacobianEntries(sE: x[i], sI: x[n + i], coupling: c, jI: ji, wPlus: nodeWPlus?[i], i0: nodeI0?[i])
            j[i, i] = e.ee; j[i, n + i] = e.ei; j[n + i, i] = e.ie; j[n + i, n + i] = e.ii
            for k in 0..<n where weights[i, k] != 0 { j[i, k] += e.ec * weights[i, k] }
        }
        return (f, j)
    }

    /// Newton from `start` (S_E then S_I), steps damped to stay inside [0, 1]; nil when it
    /// does not converge to |F| < tolerance.
    public func fixedPoint(from start: [Double], tolerance: Double = 1e-15, maxIterations: Int = 100) throws -> FixedPoint? {
        var x = start
        for iteration in 0..<maxIterations {
            let (f, j) = residualAndJacobian(x)
            let norm = f.map { abs($0) }.max() ?? 0
            if norm < tolerance {
                return FixedPoint(state: x, eigenvalues: try Eigenvalues.of(j), iterations: iteration)
            }
            guard norm.isFinite, var dx = RWWStability.solve(j, f) else { return nil }
            // Damp so that no variable leaves [0, 1].
            var scale = 1.0
            for k in x.indices where dx[k] != 0 {
                let next = x[k] - dx[k]
                if next < 0 { scale = min(scale, 0.9 * x[k] / dx[k]) }
                if next > 1 { scale = min(scale, 0.9 * (x[k] - 1) / dx[k]) }
            }
            dx = dx.map { $0 * scale }
            for k in x.indices { x[k] -= dx[k] }
        }
        return nil
    }

    /// Solves J y = f (LAPACK dgesv); nil when J is singular.
    static func solve(_ j: Matrix, _ f: [Double]) -> [Double]? {
        var a = j.values, b = f
        var pivots = [Int32](repeating: 0, count: j.rows)
        let n = Int32(j.rows)
        let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, 1, &a, n, &pivots, &b, 1)
        return info == 0 ? b : nil
    }

    /// The low-activity state: Newton from S_E = S_I = 0.05 everywhere.
    public func lowState(near guess: [Double]? = nil) throws -> FixedPoint? {
        try fixedPoint(from: guess ?? [Double](repeating: 0.05, count: 2 * n))
    }

    /// S_I on its nullcline (dS_I/dt = 0, one root since the drift falls with S_I) for a given S_E.
    func inhibitoryNullcline(_ sE: Double) -> Double {
        let p = parameters, model = ReducedWongWang(parameters: p)
        var lo = 0.0, hi = 1.0
        for _ in 0..<100 {
            let mid = 0.5 * (lo + hi)
            if model.drift(sE: sE, sI: mid, coupling: 0, jI: 0).dI > 0 { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// Fixed points from several starts (every node at S_E from 0.02 to 0.98, S_I on its
    /// nullcline), duplicates (max difference below 1e-6) merged, sorted by mean S_E.
    public func fixedPoints(starts: Int = 15) throws -> [FixedPoint] {
        var found: [FixedPoint] = []
        for k in 0..<starts {
            let level = 0.02 + 0.96 * Double(k) / Double(max(starts - 1, 1))
            let start = [Double](repeating: level, count: n) + [Double](repeating: inhibitoryNullcline(level), count: n)
            guard let p = try fixedPoint(from: start) else { continue }
            if !found.contains(where: { q in zip(q.state, p.state).allSatisfy { abs($0 - $1) < 1e-6 } }) { found.append(p) }
        }
        return found.sorted { $0.meanSE < $1.meanSE }
    }
}
