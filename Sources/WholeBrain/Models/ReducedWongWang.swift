/// Two-population reduced Wong-Wang model (dynamic mean field) of one brain region.
///
/// Deco, Ponce-Alvarez, Hagmann, Romani, Mantini & Corbetta (2014), "How local
/// excitation-inhibition ratio impacts the whole brain dynamics", J Neurosci 34:7886.
/// Time in ms, currents in nA, rates in Hz, gating variables S dimensionless in [0, 1]:
///
///     x_E = W_E I_0 + w_+ J_NMDA S_E + G J_NMDA sum_j C_ij S_E,j(t - tau_ij) - J_i S_I + I_ext
///     x_I = W_I I_0 + J_NMDA S_E - S_I
///     H(x) = (a x - b) / (1 - exp(-d (a x - b)))         E: a=310 /nC, b=125 Hz, d=0.16 s
///                                                          I: a=615 /nC, b=177 Hz, d=0.087 s
///     dS_E/dt = -S_E / tau_E + (1 - S_E) gamma_E H(x_E)
///     dS_I/dt = -S_I / tau_I + gamma_I H(x_I)
///
/// Noise: additive, sigma * sqrt(dt) * N(0, 1) on both S per Euler-Maruyama step, with
/// S_E and S_I kept in [0, 1] after each step.
///
/// Defaults agree with Deco et al. (2014) and with The Virtual Brain's
/// `ReducedWongWangExcInh` (tau_E=100, tau_I=10, gamma_E=0.641/1000, gamma_I=1/1000,
/// W_E=1, W_I=0.7, I_0=0.382, w_+=1.4, J_NMDA=0.15, J_i=1, G=2, I_ext=0). Differences:
/// the paper writes gamma_E = 0.641 and gamma_I = 1 with time in seconds; the /1000 here
/// (as in TVB) converts to ms. TVB's optional feed-forward inhibition term (lambda, default
/// 0) is omitted. TVB's additive noise uses sqrt(2 D dt), so sigma here equals
/// sqrt(2 nsig) in TVB's terms. H(x) near a x - b = 0 is evaluated as y / (-expm1(-d y))
/// (exactly 1/d at y = 0), which has no cancellation.
public struct ReducedWongWang: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var aE = 310.0, bE = 125.0, dE = 0.16
        public var aI = 615.0, bI = 177.0, dI = 0.087
        public var tauE = 100.0, tauI = 10.0
        public var gammaE = 0.641 / 1000, gammaI = 1.0 / 1000
        public var wE = 1.0, wI = 0.7, i0 = 0.382
        public var wPlus = 1.4, jNMDA = 0.15, jI = 1.0
        public var g = 2.0, iExt = 0.0
        public var sigma = 0.01
        public init() {}
    }

    public static let name = "rww"
    public static let title = "Reduced Wong-Wang E/I (Deco et al. 2014)"
    public static let stateVariables = ["S_E", "S_I"]

    /// Every parameter with its unit, default and range; `--set name=value` uses these names.
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("a_E", \.aE, default: 310, unit: "nC^-1", range: 0...10_000, "gain of the excitatory transfer function"),
        .init("b_E", \.bE, default: 125, unit: "Hz", range: 0...10_000, "threshold of the excitatory transfer function"),
        .init("d_E", \.dE, default: 0.16, unit: "s", range: 1e-6...100, "curvature of the excitatory transfer function"),
        .init("a_I", \.aI, default: 615, unit: "nC^-1", range: 0...10_000, "gain of the inhibitory transfer function"),
        .init("b_I", \.bI, default: 177, unit: "Hz", range: 0...10_000, "threshold of the inhibitory transfer function"),
        .init("d_I", \.dI, default: 0.087, unit: "s", range: 1e-6...100, "curvature of the inhibitory transfer function"),
        .init("tau_E", \.tauE, default: 100, unit: "ms", range: 1e-3...1e5, "NMDA decay time"),
        .init("tau_I", \.tauI, default: 10, unit: "ms", range: 1e-3...1e5, "GABA decay time"),
        .init("gamma_E", \.gammaE, default: 0.641 / 1000, unit: "ms^-1 Hz^-1 (per ms per Hz)", range: 0...1, "kinetic factor of S_E"),
        .init("gamma_I", \.gammaI, default: 1.0 / 1000, unit: "ms^-1 Hz^-1", range: 0...1, "kinetic factor of S_I"),
        .init("W_E", \.wE, default: 1.0, unit: "1", range: 0...100, "scaling of I_0 onto the excitatory pool"),
        .init("W_I", \.wI, default: 0.7, unit: "1", range: 0...100, "scaling of I_0 onto the inhibitory pool"),
        .init("I_0", \.i0, default: 0.382, unit: "nA", range: -10...10, "effective external input"),
        .init("w_plus", \.wPlus, default: 1.4, unit: "1", range: 0...100, "local excitatory recurrence"),
        .init("J_NMDA", \.jNMDA, default: 0.15, unit: "nA", range: 0...100, "excitatory synaptic coupling"),
        .init("J_i", \.jI, default: 1.0, unit: "nA", range: 0...100, "inhibitory-to-excitatory coupling (every node)"),
        .init("G", \.g, default: 2.0, unit: "1", range: 0...1000, "global coupling scaling the connectome"),
        .init("I_ext", \.iExt, default: 0.0, unit: "nA", range: -10...10, "external stimulation of the excitatory pool"),
        .init("sigma", \.sigma, default: 0.01, unit: "nA (per sqrt ms)", range: 0...10, "noise amplitude on S_E and S_I"),
    ]

    public typealias Lanes = VectorMath.Lanes

    /// H(x) = y / (1 - exp(-d y)), y = a x - b, computed as y / (-expm1(-d y)); 1/d at y = 0.
    @inlinable @inline(__always)
    public static func transfer(_ x: Lanes, a: Double, b: Double, d: Double) -> Lanes {
        let y = a * x - b
        let denominator = -VectorMath.expm1(-d * y)
        let h = y / denominator
        return h.replacing(with: Lanes(repeating: 1 / d), where: y .== Lanes(repeating: 0))
    }

    /// Scalar form of `transfer` for tests and analysis.
    public static func transfer(_ x: Double, a: Double, b: Double, d: Double) -> Double {
        transfer(Lanes(repeating: x), a: a, b: b, d: d)[0]
    }

    /// Input currents (x_E, x_I) for states, network input `c = sum_j C_ij S_E,j` and J_i.
    @inlinable @inline(__always)
    public static func currents(_ p: Parameters, sE: Lanes, sI: Lanes, coupling c: Lanes, jI: Lanes) -> (Lanes, Lanes) {
        let xE = p.wE * p.i0 + p.wPlus * p.jNMDA * sE + p.g * p.jNMDA * c - jI * sI + p.iExt
        let xI = p.wI * p.i0 + p.jNMDA * sE - sI
        return (xE, xI)
    }

    /// The deterministic drift (dS_E/dt, dS_I/dt) in 1/ms, plus the rates (H_E, H_I) in Hz.
    @inlinable @inline(__always)
    public static func drift(_ p: Parameters, sE: Lanes, sI: Lanes, coupling c: Lanes, jI: Lanes)
        -> (dE: Lanes, dI: Lanes, rE: Lanes, rI: Lanes) {
        let (xE, xI) = currents(p, sE: sE, sI: sI, coupling: c, jI: jI)
        let rE = transfer(xE, a: p.aE, b: p.bE, d: p.dE)
        let rI = transfer(xI, a: p.aI, b: p.bI, d: p.dI)
        let dE = -sE / p.tauE + (1 - sE) * p.gammaE * rE
        let dI = -sI / p.tauI + p.gammaI * rI
        return (dE, dI, rE, rI)
    }

    /// Parameter combinations the step kernel needs, computed once per run.
    public struct StepConstants: Sendable {
        public let excitatoryDrive, recurrence, globalGain, inhibitoryDrive, jNMDA, iExt: Double
        public let aE, bE, dE, invDE, aI, bI, dI, invDI: Double
        public let invTauE, invTauI, gammaE, gammaI: Double
        public let dt, noiseScale: Double

        public init(_ p: Parameters, dt: Double) {
            excitatoryDrive = p.wE * p.i0 + p.iExt
            recurrence = p.wPlus * p.jNMDA
            globalGain = p.g * p.jNMDA
            inhibitoryDrive = p.wI * p.i0
            jNMDA = p.jNMDA; iExt = p.iExt
            aE = p.aE; bE = p.bE; dE = p.dE; invDE = 1 / p.dE
            aI = p.aI; bI = p.bI; dI = p.dI; invDI = 1 / p.dI
            invTauE = 1 / p.tauE; invTauI = 1 / p.tauI
            gammaE = p.gammaE; gammaI = p.gammaI
            self.dt = dt
            noiseScale = p.sigma * dt.squareRoot()
        }
    }

    /// H(x) with precomputed 1/d.
    @inlinable @inline(__always)
    static func transfer(_ x: Lanes, a: Double, b: Double, d: Double, invD: Double) -> Lanes {
        let y = a * x - b
        let h = y / -VectorMath.expm1(-d * y)
        return h.replacing(with: Lanes(repeating: invD), where: y .== Lanes(repeating: 0))
    }

    /// One Euler-Maruyama step of `groups` x 4 nodes stored as structure-of-arrays:
    /// S <- S + dt f(S, c) + sigma sqrt(dt) xi, then clamped to [0, 1] (NaN is kept, so a
    /// divergence stays visible). Writes the rate H_E, adds the BOLD input (S_E after the
    /// step, or H_E) to `boldInput` and the unclamped new S_E + S_I to `check`.
    @inlinable
    public static func eulerMaruyamaStep(_ k: StepConstants, groups: Int,
                                         sE: UnsafeMutablePointer<Double>, sI: UnsafeMutablePointer<Double>,
                                         coupling: UnsafePointer<Double>, jI: UnsafePointer<Double>,
                                         noiseE: UnsafePointer<Double>, noiseI: UnsafePointer<Double>,
                                         rateE: UnsafeMutablePointer<Double>, boldInput: UnsafeMutablePointer<Double>,
                                         rateDrivesBold: Bool, check: UnsafeMutablePointer<Double>) {
        let zero = Lanes(repeating: 0), one = Lanes(repeating: 1)
        for g in 0..<groups {
            let o = 4 * g
            let e0 = load(sE + o), i0 = load(sI + o)
            let xE = k.excitatoryDrive + k.recurrence * e0 + k.globalGain * load(coupling + o) - load(jI + o) * i0
            let xI = k.inhibitoryDrive + k.jNMDA * e0 - i0
            let rE = transfer(xE, a: k.aE, b: k.bE, d: k.dE, invD: k.invDE)
            let rI = transfer(xI, a: k.aI, b: k.bI, d: k.dI, invD: k.invDI)
            let fE = (one - e0) * (k.gammaE * rE) - e0 * k.invTauE
            let fI = k.gammaI * rI - i0 * k.invTauI
            var e1 = e0 + k.dt * fE + k.noiseScale * load(noiseE + o)
            var i1 = i0 + k.dt * fI + k.noiseScale * load(noiseI + o)
            store(load(check + o) + (e1 + i1), check + o)
            e1.replace(with: zero, where: e1 .< zero); e1.replace(with: one, where: e1 .> one)
            i1.replace(with: zero, where: i1 .< zero); i1.replace(with: one, where: i1 .> one)
            store(e1, sE + o)
            store(i1, sI + o)
            store(rE, rateE + o)
            store(load(boldInput + o) + (rateDrivesBold ? rE : e1), boldInput + o)
        }
    }

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Double>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
    @inlinable @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Double>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
    @inlinable @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

    /// Scalar drift for one node (tests, fixed points).
    public static func drift(_ p: Parameters, sE: Double, sI: Double, coupling: Double, jI: Double)
        -> (dE: Double, dI: Double, rE: Double, rI: Double) {
        let r = drift(p, sE: Lanes(repeating: sE), sI: Lanes(repeating: sI),
                      coupling: Lanes(repeating: coupling), jI: Lanes(repeating: jI))
        return (r.dE[0], r.dI[0], r.rE[0], r.rI[0])
    }
}
