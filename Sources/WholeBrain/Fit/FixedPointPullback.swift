import Foundation

/// The gradient of a quantity that depends on the network Jacobian at the low fixed point,
/// with respect to the model's parameters and the connection weights, for a fit.
///
/// Given M = dPhi/dJ (2N x 2N, the quantity's sensitivity to each Jacobian entry: for the
/// leading eigenvalue Re(conj(w) v^T) / (w^H v), for the linearised FC the adjoint of the
/// Lyapunov equation), J depends on theta directly and through x*(theta), and
/// dx*/dtheta = -J^-1 dF/dtheta, so with Phi(x, theta) = sum_ab M_ab J_ab(x, theta) and mu
/// solving J^T mu = dPhi/dx: dPhi/dtheta = dPhi/dtheta|_x - mu . dF/dtheta. The entries of J
/// are those of `ReducedWongWang.jacobianEntries`; their derivatives with respect to the state
/// use H'' (`transferSecondDerivative`). J_i are taken as given (per node); a fit that
/// retunes them by feedback inhibition adds dPhi/dJ_i dJ_i/dtheta
/// (`GradientFit.foldRetunedInhibition`).
enum FixedPointPullback {
    /// dPhi/dtheta for `parameters` (map slopes: 0, `GradientFit` takes them through the
    /// per-node values) and, if asked, dPhi/dW_ij; nil when J is singular at `x`.
    static func gradient(of m: Matrix, spec: SimulationSpec<ReducedWongWang>, state x: [Double], jacobian: Matrix,
                         parameters: [RWWGradient.Parameter], weightGradient wantWeights: Bool)
        -> (gradient: [RWWGradient.Parameter: Double], weightGradient: Matrix?)? {
        let p = spec.model.parameters
        let w = spec.connectome.weights
        let n = w.rows
        let nodeJI = spec.nodeParameters[0], nodeWPlus = spec.nodeParameters[1], nodeI0 = spec.nodeParameters[2]
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
            for k in 0..<n where w[i, k] != 0 { mw[i] += m[i, k] * w[i, k] }
            // Phi = sum_i [-M_EiEi / tau_E - gamma_E M_EiEi H_E + P_i kE_i + Q_i kI_i - M_IiIi / tau_I].
            pCoef[i] = recurrence[i] * m[i, i] + globalGain * mw[i] - nodeJI[i] * m[i, n + i]
            qCoef[i] = p.jNMDA * m[n + i, i] - m[n + i, n + i]
        }
        // dPhi/dx through the currents (a_i: x_E, b_i: x_I) and the explicit (1 - S_E).
        var a = c, b = c, gradPhi = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            a[i] = -p.gammaE * m[i, i] * dhE[i] + pCoef[i] * (1 - x[i]) * p.gammaE * ddhE[i]
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
                for i in 0..<n { s += alpha[i] * p.jNMDA * x[i] + kE[i] * p.jNMDA * m[i, i] }
            case .jNMDA:
                for i in 0..<n {
                    s += alpha[i] * (nodeWPlus[i] * x[i] + p.g * c[i]) + beta[i] * x[i]
                        + kE[i] * (nodeWPlus[i] * m[i, i] + p.g * mw[i]) + kI[i] * m[n + i, i]
                }
            case .i0:
                for i in 0..<n { s += alpha[i] * p.wE + beta[i] * p.wI }
            case .jI:
                for i in 0..<n { s += -alpha[i] * x[n + i] - kE[i] * m[i, n + i] }
            case let .nodeJI(i):
                s = -alpha[i] * x[n + i] - kE[i] * m[i, n + i]
            case .sigma:
                s = 0
            case let .nodeWPlus(i):
                s = alpha[i] * p.jNMDA * x[i] + kE[i] * p.jNMDA * m[i, i]
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
                for k in 0..<n { g[i, k] = globalGain * (alpha[i] * x[k] + kE[i] * m[i, k]) }
            }
            weightGradient = g
        }
        return (gradient, weightGradient)
    }
}
