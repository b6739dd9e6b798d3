import Foundation

/// The expected-FC term of a fit: how far the FC pattern an infinitely long run would show
/// (`LinearisedFC`: the stationary BOLD covariance of the network linearised at its
/// low-activity fixed point, delays neglected) lies from the target FC,
///
///     L_efc = 1 - r(FC_lin, FC_target)      (Pearson r over the upper triangles),
///
/// with no noise realisation in it: a simulated run's FC scatters around FC_lin (for 120 s at
/// 0.9 G*, two seeds agree at r 0.64-0.71), so a gradient of the simulated FC pattern is about
/// as noisy as what connection gains or regional parameters are to learn, while this one is
/// exact and the same every step. FC_lin does not depend on the noise amplitude (sigma scales
/// the covariance), so the term carries nothing about sigma; nor about the FC level of a
/// finite, band-passed run, which the simulated terms keep.
///
/// Exact gradient: dL/dFC from the correlation, through the Lyapunov adjoint to dL/dJ
/// (`LinearisedFC.jacobianGradient`), then through the fixed point to the parameters and
/// connection weights (`FixedPointPullback`).
public enum ExpectedFCTerm {
    public struct Evaluation: Sendable {
        /// L_efc and r(FC_lin, FC_target).
        public let value: Double, correlation: Double
        /// The low-activity fixed point (S_E then S_I per node).
        public let state: [Double]
        /// dL/dtheta for the parameters asked for, and dL/dW_ij if asked for.
        public let gradient: [RWWGradient.Parameter: Double]
        public let weightGradient: Matrix?
    }

    /// The term at the low state of `spec`'s network (Newton from `guess`, default every S at
    /// 0.05); nil when there is no stable low state (no stationary covariance to compare).
    public static func evaluate(spec: SimulationSpec<ReducedWongWang>, target: Matrix, parameters: [RWWGradient.Parameter],
                                weightGradient wantWeights: Bool = false, near guess: [Double]? = nil) throws -> Evaluation? {
        let stability = RWWStability(spec: spec)
        guard let low = try stability.lowState(near: guess), low.isStable else { return nil }
        let linear = try LinearisedFC(stability: stability, state: low.state, sigma: 1, balloon: spec.balloon)
        let (r, dr) = correlationGradient(linear.fc, target)
        let n = target.rows
        var g = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in (i + 1)..<n { g[i, j] = -dr[i, j] } }
        let m = try linear.jacobianGradient(fcGradient: g)
        let (_, jacobian) = stability.residualAndJacobian(low.state)
        guard let pulled = FixedPointPullback.gradient(of: m, spec: spec, state: low.state, jacobian: jacobian, parameters: parameters,
                                                       weightGradient: wantWeights) else { return nil }
        return Evaluation(value: 1 - r, correlation: r, state: low.state, gradient: pulled.gradient, weightGradient: pulled.weightGradient)
    }

    /// r of the upper triangles of `a` and `b`, and dr/da_ij for i < j (zero elsewhere):
    /// with centred vectors x, y, dr/dx = y / (|x| |y|) - r x / |x|^2.
    public static func correlationGradient(_ a: Matrix, _ b: Matrix) -> (r: Double, gradient: Matrix) {
        let x = FunctionalConnectivity.upperTriangle(a), y = FunctionalConnectivity.upperTriangle(b)
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for k in x.indices { let (dx, dy) = (x[k] - mx, y[k] - my); sxy += dx * dy; sxx += dx * dx; syy += dy * dy }
        let norm = (sxx * syy).squareRoot(), r = sxy / norm
        var g = Matrix(rows: a.rows, columns: a.columns)
        var k = 0
        for i in 0..<a.rows {
            for j in (i + 1)..<a.columns {
                g[i, j] = (y[k] - my) / norm - r * (x[k] - mx) / sxx
                k += 1
            }
        }
        return (r, g)
    }
}
