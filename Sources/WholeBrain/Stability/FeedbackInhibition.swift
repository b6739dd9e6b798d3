import Foundation

/// Feedback inhibition control (Deco et al. 2014): per-node J_i chosen so that, at the network's
/// fixed point, every excitatory population fires at a target rate (3 Hz in the paper).
///
/// Deco et al. adjusted J_i by repeated simulation; here the fixed point is solved directly.
/// With every node at the target rate r: x_E = H_E^-1(r); S_E = gamma_E tau_E r / (1 + gamma_E
/// tau_E r) (from dS_E/dt = 0); S_I solves S_I = tau_I gamma_I H_I(W_I I_0 + J_NMDA S_E - S_I)
/// (one root: the right side falls as S_I rises); and the excitatory current balance gives
///
///     J_i = (W_E I_0 + I_ext + w_+ J_NMDA S_E + G J_NMDA S_E sum_j C_ij - x_E) / S_I.
///
/// Rates in Hz, currents in nA, times in ms. Whether that fixed point is stable is a separate
/// question (`RWWStability`): FIC makes the 3 Hz state exist, not necessarily attract, and
/// the network can have other fixed points that a run from random initial states reaches.
public enum FeedbackInhibition {
    /// The state every node has at the FIC fixed point: (x_E, S_E, S_I).
    public static func targetState(parameters p: ReducedWongWang.Parameters, rate: Double) throws -> (xE: Double, sE: Double, sI: Double) {
        guard rate > 0, rate.isFinite else {
            throw WholeBrainError.badValue(source: "--fic", value: "\(rate)", expected: "a target rate > 0 Hz")
        }
        // x_E with H_E(x_E) = r: H_E rises monotonically, so bisection.
        var lo = -10.0, hi = 10.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if ReducedWongWang.transfer(mid, a: p.aE, b: p.bE, d: p.dE) < rate { lo = mid } else { hi = mid }
        }
        let xE = 0.5 * (lo + hi)
        let sE = p.gammaE * p.tauE * rate / (1 + p.gammaE * p.tauE * rate)
        // S_I - tau_I gamma_I H_I(W_I I_0 + J_NMDA S_E - S_I) rises with S_I: bisection on [0, 1].
        lo = 0; hi = 1
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            let xI = p.wI * p.i0 + p.jNMDA * sE - mid
            if mid - p.tauI * p.gammaI * ReducedWongWang.transfer(xI, a: p.aI, b: p.bI, d: p.dI) < 0 { lo = mid } else { hi = mid }
        }
        return (xE, sE, 0.5 * (lo + hi))
    }

    /// J_i per node for a target excitatory rate (Hz); `wPlus` and `i0` give per-node w_+ and
    /// I_0 (regional heterogeneity; nil: the parameters' uniform values). With I_0 per node
    /// each node has its own S_I (the inhibitory balance depends on I_0), x_E and S_E do not.
    public static func localInhibition(parameters p: ReducedWongWang.Parameters, weights: Matrix, targetRate: Double = 3,
                                       wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> [Double] {
        let states = try nodeStates(parameters: p, nodes: weights.rows, rate: targetRate, i0: i0)
        return (0..<weights.rows).map { i in
            var strength = 0.0
            for j in 0..<weights.columns { strength += weights[i, j] }
            let (xE, sE, sI) = states[i]
            let w = wPlus?[i] ?? p.wPlus, input = i0?[i] ?? p.i0
            return (p.wE * input + p.iExt + w * p.jNMDA * sE + p.g * p.jNMDA * sE * strength - xE) / sI
        }
    }

    /// `targetState` of every node (one solve per distinct I_0).
    static func nodeStates(parameters p: ReducedWongWang.Parameters, nodes: Int, rate: Double, i0: [Double]?)
        throws -> [(xE: Double, sE: Double, sI: Double)] {
        var solved: [Double: (xE: Double, sE: Double, sI: Double)] = [:]
        return try (0..<nodes).map { i in
            let input = i0?[i] ?? p.i0
            if let known = solved[input] { return known }
            var q = p
            q.i0 = input
            let state = try targetState(parameters: q, rate: rate)
            solved[input] = state
            return state
        }
    }

    /// The FIC network's state: every node at the target rate, S_E then S_I (S_I per node
    /// with per-node I_0).
    public static func state(parameters p: ReducedWongWang.Parameters, nodes: Int, rate: Double, i0: [Double]? = nil) throws -> [Double] {
        let states = try nodeStates(parameters: p, nodes: nodes, rate: rate, i0: i0)
        return states.map(\.sE) + states.map(\.sI)
    }

    /// The leading eigenvalue (1/ms) of the network Jacobian at the FIC state, J_i retuned for
    /// `p.g` (w_+ and I_0 per node if given).
    public static func leadingEigenvalue(parameters p: ReducedWongWang.Parameters, weights: Matrix, rate: Double,
                                         wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> Eigenvalues.Value {
        let ji = try localInhibition(parameters: p, weights: weights, targetRate: rate, wPlus: wPlus, i0: i0)
        let x = try state(parameters: p, nodes: weights.rows, rate: rate, i0: i0)
        return try Eigenvalues.of(RWWStability(parameters: p, weights: weights, nodeJI: ji, nodeWPlus: wPlus, nodeI0: i0).residualAndJacobian(x).j)[0]
    }

    /// G* of the FIC network: the coupling where the state with every node at `rate` (which
    /// exists for every G, J_i retuned each time) loses stability, by bisection on the sign of
    /// the leading eigenvalue's real part to `tolerance` in G after a scan of `range` in 64
    /// steps. Nil when that state is stable over the whole range (or already unstable at its start).
    public static func criticalCoupling(parameters: ReducedWongWang.Parameters, weights: Matrix, rate: Double = 3,
                                        range: ClosedRange<Double> = 0...10, tolerance: Double = 1e-9,
                                        wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> (value: Double, hopf: Bool)? {
        func lead(_ g: Double) throws -> Eigenvalues.Value {
            var p = parameters
            p.g = g
            return try leadingEigenvalue(parameters: p, weights: weights, rate: rate, wPlus: wPlus, i0: i0)
        }
        guard try lead(range.lowerBound).real < 0 else { return nil }
        var lo = range.lowerBound, hi: Double?
        for k in 1...64 {
            let g = range.lowerBound + (range.upperBound - range.lowerBound) * Double(k) / 64
            if try lead(g).real >= 0 { hi = g; break }
            lo = g
        }
        guard var hi else { return nil }
        var crossing = try lead(hi)
        while hi - lo > tolerance {
            let mid = 0.5 * (lo + hi)
            let l = try lead(mid)
            if l.real < 0 { lo = mid } else { hi = mid; crossing = l }
        }
        return (0.5 * (lo + hi), crossing.imaginary != 0)
    }

    /// How the FIC J_i move with the parameters, for the chain rule of a fit that retunes them
    /// as it goes. With num_i = W_E I_0 + I_ext + w_+ J_NMDA S_E + G J_NMDA S_E s_i - x_E and
    /// J_i = num_i / S_I (s_i = sum_j C_ij; x_E and S_E fixed by the target rate):
    ///     dJ_i/dG = J_NMDA S_E s_i / S_I,   dJ_i/dw_+ = J_NMDA S_E / S_I,
    ///     dJ_i/dC_ij = G J_NMDA S_E / S_I (every j),
    ///     dJ_i/dJ_NMDA = (w_+ + G s_i) S_E / S_I - num_i dS_I/dJ_NMDA / S_I^2,
    ///     dJ_i/dI_0 = W_E / S_I - num_i dS_I/dI_0 / S_I^2,
    /// where S_I solves S_I = tau_I gamma_I H_I(W_I I_0 + J_NMDA S_E - S_I), so by implicit
    /// differentiation dS_I/dtheta = tau_I gamma_I H_I' dx_I/dtheta / (1 + tau_I gamma_I H_I').
    /// Per node i: dJ_i/dG, dJ_i/dw_+ (global or node i's own), dJ_i/dJ_NMDA, dJ_i/dI_0 (global
    /// or node i's own) and dJ_i/dC_ij (the same for every j).
    public struct Sensitivities: Sendable {
        public let dG: [Double], dWPlus: [Double], dJNMDA: [Double], dI0: [Double]
        public let dWeight: [Double]
    }

    public static func sensitivities(parameters p: ReducedWongWang.Parameters, weights: Matrix, rate: Double,
                                     wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> Sensitivities {
        let states = try nodeStates(parameters: p, nodes: weights.rows, rate: rate, i0: i0)
        var dG: [Double] = [], dWPlus: [Double] = [], dJNMDA: [Double] = [], dI0: [Double] = [], dWeight: [Double] = []
        for i in 0..<weights.rows {
            let (xE, sE, sI) = states[i]
            let w = wPlus?[i] ?? p.wPlus, input = i0?[i] ?? p.i0
            let xI = p.wI * input + p.jNMDA * sE - sI
            let k = p.tauI * p.gammaI * ReducedWongWang.transferDerivative(xI, a: p.aI, b: p.bI, d: p.dI)
            let dSIdJNMDA = k * sE / (1 + k), dSIdI0 = k * p.wI / (1 + k)
            var strength = 0.0
            for j in 0..<weights.columns { strength += weights[i, j] }
            let num = p.wE * input + p.iExt + w * p.jNMDA * sE + p.g * p.jNMDA * sE * strength - xE
            dG.append(p.jNMDA * sE * strength / sI)
            dWPlus.append(p.jNMDA * sE / sI)
            dJNMDA.append((w + p.g * strength) * sE / sI - num * dSIdJNMDA / (sI * sI))
            dI0.append(p.wE / sI - num * dSIdI0 / (sI * sI))
            dWeight.append(p.g * p.jNMDA * sE / sI)
        }
        return Sensitivities(dG: dG, dWPlus: dWPlus, dJNMDA: dJNMDA, dI0: dI0, dWeight: dWeight)
    }
}
