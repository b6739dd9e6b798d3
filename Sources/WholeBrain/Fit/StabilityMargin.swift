import Foundation

/// The stability-boundary term of a fit: keeps the network's low-activity state near the
/// point where it loses stability, where resting-state fits are best (Deco et al. 2013, 2014),
/// without crossing it.
///
/// lambda is the real part of the leading eigenvalue (1/ms) of the 2N x 2N Jacobian J of the
/// deterministic network at its low-activity fixed point x* (`RWWStability`); the term is
///
///     L_stab = ((lambda - lambda*) / lambda*)^2,        lambda* < 0 the target,
///
/// 0 at the target, 1 at the boundary (lambda = 0) and at twice the target's distance from
/// it. It replaces the relation Griffiths et al. (2022) impose between the E-I gains
/// (g_EI = a g_IE^2 - b g_IE + c, fitted to an isolated node's bifurcation diagram) by the
/// network's own stability, so G, the local gains, per-node J_i and the connection gains all
/// feel it.
///
/// Exact gradient: with right and left eigenvectors v, w (J v = lambda v, w^H J = lambda w^H)
/// and M = Re(conj(w) v^T) / (w^H v), dlambda = sum_ab M_ab dJ_ab. J depends on theta directly
/// and through x*(theta), and dx*/dtheta = -J^-1 dF/dtheta, so with Phi(x, theta) =
/// sum_ab M_ab J_ab(x, theta) and mu solving J^T mu = dPhi/dx:
/// dlambda/dtheta = dPhi/dtheta - mu . dF/dtheta. The entries of J are those of
/// `ReducedWongWang.jacobianEntries`; their derivatives use H'' (`transferSecondDerivative`).
///
/// Beyond the fold the low state no longer exists; the term then counts as at the boundary
/// (L = ((0 - lambda*) / lambda*)^2 = 1) with the gradient of the last state found, which
/// points back into the stable region (documented, not exact: there is no lambda to
/// differentiate).
public enum StabilityMargin {
    public struct Evaluation: Sendable {
        /// Real and imaginary part of the leading eigenvalue (1/ms).
        public let eigenvalue: Eigenvalues.Value
        /// The low-activity fixed point (S_E then S_I per node), a warm start for the next call.
        public let state: [Double]
        /// dlambda/dtheta (real part) for the parameters asked for.
        public let gradient: [RWWGradient.Parameter: Double]
        /// dlambda/dW_ij for the connectome weights (nil unless asked for).
        public let weightGradient: Matrix?
    }

    /// The leading eigenvalue at the low state of `spec`'s network and its gradient; nil when
    /// Newton from `guess` (default: every S at 0.05) finds no fixed point.
    public static func evaluate(spec: SimulationSpec<ReducedWongWang>, parameters: [RWWGradient.Parameter],
                                weightGradient wantWeights: Bool = false, near guess: [Double]? = nil) throws -> Evaluation? {
        let p = spec.model.parameters
        let w = spec.connectome.weights
        let n = w.rows
        let nodeJI = spec.nodeParameters[0], nodeWPlus = spec.nodeParameters[1], nodeI0 = spec.nodeParameters[2]
        let stability = RWWStability(spec: spec)
        guard let low = try stability.lowState(near: guess) else { return nil }
        let x = low.state
        let (_, jacobian) = stability.residualAndJacobian(x)
        let leading = try Eigenvalues.leading(jacobian)
        // Re(M_ab) = Re(conj(w_a) v_b / d), d = w^H v.
        let (vr, vi) = leading.right, (wr, wi) = leading.left
        var dRe = 0.0, dIm = 0.0
        for a in 0..<(2 * n) { dRe += wr[a] * vr[a] + wi[a] * vi[a]; dIm += wr[a] * vi[a] - wi[a] * vr[a] }
        let d2 = dRe * dRe + dIm * dIm
        guard d2 > 0 else { return nil }
        func m(_ a: Int, _ b: Int) -> Double {
            let re = wr[a] * vr[b] + wi[a] * vi[b], im = wr[a] * vi[b] - wi[a] * vr[b]
            return (re * dRe + im * dIm) / d2
        }
        // w_+ J_NMDA per node (regional w_+), and G J_NMDA.
        let recurrence = nodeWPlus.map { $0 * p.jNMDA }, globalGain = p.g * p.jNMDA
        // Node quantities at x*.
        var c = [Double](repeating: 0, count: n), hE = c, dhE = c, ddhE = c, dhI = c, ddhI = c
        var kE = c, kI = c, mw = c, pCoef = c, qCoef = c
        for i in 0..<n {
            for k in 0..<n { c[i] += w[i, k] * x[k] }
            let xE = p.wE * nodeI0[i] + p.iExt + recurrence[i] * x[i] + globalGain * c[i] - nodeJI[i] * x[n + i]
            let xI = p.wI * nodeI0[i] + p.jNMDA * x[i] - x[n + i]
            hE[i] = ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE)
            dhE[i] = ReducedWongWang.transferDerivative(xE, a: p.aE, b: p.bE, d: p.dE)
            ddhE[i] = ReducedWongWang.transferSecondDerivative(xE, a: p.aE, b: p.bE, d: p.dE)
            dhI[i] = ReducedWongWang.transferDerivative(xI, a: p.aI, b: p.bI, d: p.dI)
            ddhI[i] = ReducedWongWang.transferSecondDerivative(xI, a: p.aI, b: p.bI, d: p.dI)
            kE[i] = (1 - x[i]) * p.gammaE * dhE[i]
            kI[i] = p.gammaI * dhI[i]
            for k in 0..<n where w[i, k] != 0 { mw[i] += m(i, k) * w[i, k] }
            // Phi = sum_i [-M_EiEi / tau_E - gamma_E M_EiEi H_E + P_i kE_i + Q_i kI_i - M_IiIi / tau_I].
            pCoef[i] = recurrence[i] * m(i, i) + globalGain * mw[i] - nodeJI[i] * m(i, n + i)
            qCoef[i] = p.jNMDA * m(n + i, i) - m(n + i, n + i)
        }
        // dPhi/dx through the currents (a_i: x_E, b_i: x_I) and the explicit (1 - S_E).
        var a = c, b = c, gradPhi = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            a[i] = -p.gammaE * m(i, i) * dhE[i] + pCoef[i] * (1 - x[i]) * p.gammaE * ddhE[i]
            b[i] = qCoef[i] * p.gammaI * ddhI[i]
        }
        for j in 0..<n {
            var fromCoupling = 0.0
            for i in 0..<n where w[i, j] != 0 { fromCoupling += a[i] * w[i, j] }
            gradPhi[j] = recurrence[j] * a[j] + globalGain * fromCoupling + p.jNMDA * b[j] - pCoef[j] * p.gammaE * dhE[j]
            gradPhi[n + j] = -nodeJI[j] * a[j] - b[j]
        }
        guard let mu = RWWStability.solve(jacobian.transposed, gradPhi) else { return nil }
        // dlambda/dtheta = sum_i [alpha_i dx_E,i/dtheta + beta_i dx_I,i/dtheta + kE_i dP_i/dtheta + kI_i dQ_i/dtheta].
        let alpha = (0..<n).map { a[$0] - mu[$0] * kE[$0] }
        let beta = (0..<n).map { b[$0] - mu[n + $0] * kI[$0] }
        var gradient: [RWWGradient.Parameter: Double] = [:]
        for q in parameters {
            var s = 0.0
            switch q {
            case .g:
                for i in 0..<n { s += alpha[i] * p.jNMDA * c[i] + kE[i] * p.jNMDA * mw[i] }
            case .wPlus:
                for i in 0..<n { s += alpha[i] * p.jNMDA * x[i] + kE[i] * p.jNMDA * m(i, i) }
            case .jNMDA:
                for i in 0..<n {
                    s += alpha[i] * (nodeWPlus[i] * x[i] + p.g * c[i]) + beta[i] * x[i]
                        + kE[i] * (nodeWPlus[i] * m(i, i) + p.g * mw[i]) + kI[i] * m(n + i, i)
                }
            case .i0:
                for i in 0..<n { s += alpha[i] * p.wE + beta[i] * p.wI }
            case .jI:
                for i in 0..<n { s += -alpha[i] * x[n + i] - kE[i] * m(i, n + i) }
            case let .nodeJI(i):
                s = -alpha[i] * x[n + i] - kE[i] * m(i, n + i)
            case .sigma:
                s = 0
            case let .nodeWPlus(i):
                s = alpha[i] * p.jNMDA * x[i] + kE[i] * p.jNMDA * m(i, i)
            case let .nodeI0(i):
                s = alpha[i] * p.wE + beta[i] * p.wI
            case .wPlusSlope, .i0Slope:
                s = 0                               // GradientFit's: through the per-node ones
            }
            gradient[q] = s
        }
        var weightGradient: Matrix?
        if wantWeights {
            var g = Matrix(rows: n, columns: n)
            for i in 0..<n {
                for k in 0..<n { g[i, k] = globalGain * (alpha[i] * x[k] + kE[i] * m(i, k)) }
            }
            weightGradient = g
        }
        return Evaluation(eigenvalue: leading.value, state: x, gradient: gradient, weightGradient: weightGradient)
    }

    /// L_stab for a leading eigenvalue and the target lambda* (< 0), and dL/dlambda.
    public static func term(eigenvalue lambda: Double, target: Double) -> (value: Double, derivative: Double) {
        let r = (lambda - target) / target
        return (r * r, 2 * r / target)
    }
}
