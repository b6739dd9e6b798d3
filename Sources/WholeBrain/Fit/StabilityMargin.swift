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
/// and M = Re(conj(w) v^T) / (w^H v), dlambda = sum_ab M_ab dJ_ab, carried to the parameters
/// through the fixed point by `FixedPointPullback`.
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
        let stability = RWWStability(spec: spec)
        guard let low = try stability.lowState(near: guess) else { return nil }
        let x = low.state
        let (_, jacobian) = stability.residualAndJacobian(x)
        let leading = try Eigenvalues.leading(jacobian)
        let n = spec.connectome.regionCount
        // Re(M_ab) = Re(conj(w_a) v_b / d), d = w^H v.
        let (vr, vi) = leading.right, (wr, wi) = leading.left
        var dRe = 0.0, dIm = 0.0
        for a in 0..<(2 * n) { dRe += wr[a] * vr[a] + wi[a] * vi[a]; dIm += wr[a] * vi[a] - wi[a] * vr[a] }
        let d2 = dRe * dRe + dIm * dIm
        guard d2 > 0 else { return nil }
        var m = Matrix(rows: 2 * n, columns: 2 * n)
        for a in 0..<(2 * n) {
            for b in 0..<(2 * n) {
                let re = wr[a] * vr[b] + wi[a] * vi[b], im = wr[a] * vi[b] - wi[a] * vr[b]
                m[a, b] = (re * dRe + im * dIm) / d2
            }
        }
        guard let pulled = FixedPointPullback.gradient(of: m, spec: spec, state: x, jacobian: jacobian, parameters: parameters,
                                                       weightGradient: wantWeights) else { return nil }
        return Evaluation(eigenvalue: leading.value, state: x, gradient: pulled.gradient, weightGradient: pulled.weightGradient)
    }

    /// L_stab for a leading eigenvalue and the target lambda* (< 0), and dL/dlambda.
    public static func term(eigenvalue lambda: Double, target: Double) -> (value: Double, derivative: Double) {
        let r = (lambda - target) / target
        return (r * r, 2 * r / target)
    }
}
