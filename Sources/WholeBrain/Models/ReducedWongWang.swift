import Foundation

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
/// Noise (default): additive white noise of amplitude sigma = 0.001 on both S, i.e.
/// sigma sqrt(dt) N(0, 1) per Euler-Maruyama step; S_E and S_I are kept in [0, 1]. The
/// published DMF code of Deco et al. (2014) uses 0.01 with J_i retuned by simulation under
/// that noise; WholeBrain solves feedback inhibition at the noise-free fixed point
/// (`FeedbackInhibition`), and at 0.01 the noise alone lifts the mean rate far above the 3 Hz
/// target (measured on HCP 101309: 4.8 Hz at 0.69 G*, 10 Hz at 0.87 G*), while at 0.001 runs
/// stay at the fixed point the stability analysis describes (3.08 Hz at 0.9 G*).
/// J_i may differ per node (feedback inhibition control sets it so), and so may w_+ and I_0
/// (regional heterogeneity, as in Demirtas et al. 2019 and Kong et al. 2021: `Heterogeneity`).
/// The parameter defaults
/// below are the single-node values; a network's default operating point (J_i per region by
/// FIC, G = 0.9 G*) is `RWWOperatingPoint`'s.
///
/// Defaults agree with Deco et al. (2014) and with The Virtual Brain's
/// `ReducedWongWangExcInh` (tau_E=100, tau_I=10, gamma_E=0.641/1000, gamma_I=1/1000,
/// W_E=1, W_I=0.7, I_0=0.382, w_+=1.4, J_NMDA=0.15, J_i=1, G=2, I_ext=0). Differences:
/// the paper writes gamma_E = 0.641 and gamma_I = 1 with time in seconds; the /1000 here
/// (as in TVB) converts to ms. TVB's optional feed-forward inhibition term (lambda, default
/// 0) is omitted. TVB's additive noise uses sqrt(2 D dt), so sigma here equals
/// sqrt(2 nsig) in TVB's terms. H(x) near a x - b = 0 is evaluated as y / (-expm1(-d y))
/// (exactly 1/d at y = 0), which has no cancellation.
public struct ReducedWongWang: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var aE = 310.0, bE = 125.0, dE = 0.16
        public var aI = 615.0, bI = 177.0, dI = 0.087
        public var tauE = 100.0, tauI = 10.0
        public var gammaE = 0.641 / 1000, gammaI = 1.0 / 1000
        public var wE = 1.0, wI = 0.7, i0 = 0.382
        public var wPlus = 1.4, jNMDA = 0.15, jI = 1.0
        public var g = 2.0, iExt = 0.0
        public init() {}
    }

    public static let name = "rww"

    public static let globalCouplingParameter = "G"
    public static let title = "Reduced Wong-Wang E/I"
    public static let reference = "Deco, Ponce-Alvarez, Hagmann, Romani, Mantini & Corbetta (2014), J Neurosci 34:7886"
    public static let variables = [
        StateVariable("S_E", unit: "1", initial: 0...0.2, bounds: 0...1),
        StateVariable("S_I", unit: "1", initial: 0...0.2, bounds: 0...1),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let observables = ["rate_E", "rate_I"]
    /// Per-node values, each defaulting to the uniform parameter: J_i, w_plus, I_0.
    public static let nodeParameterNames = ["J_i", "w_plus", "I_0"]
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .white, sigma: 0.001)
    public static let defaultParameters = Parameters()

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
        .init("gamma_E", \.gammaE, default: 0.641 / 1000, unit: "ms^-1 Hz^-1", range: 0...1, "kinetic factor of S_E"),
        .init("gamma_I", \.gammaI, default: 1.0 / 1000, unit: "ms^-1 Hz^-1", range: 0...1, "kinetic factor of S_I"),
        .init("W_E", \.wE, default: 1.0, unit: "1", range: 0...100, "scaling of I_0 onto the excitatory pool"),
        .init("W_I", \.wI, default: 0.7, unit: "1", range: 0...100, "scaling of I_0 onto the inhibitory pool"),
        .init("I_0", \.i0, default: 0.382, unit: "nA", range: -10...10, "effective external input"),
        .init("w_plus", \.wPlus, default: 1.4, unit: "1", range: 0...100, "local excitatory recurrence"),
        .init("J_NMDA", \.jNMDA, default: 0.15, unit: "nA", range: 0...100, "excitatory synaptic coupling"),
        .init("J_i", \.jI, default: 1.0, unit: "nA", range: 0...100, "inhibitory-to-excitatory coupling (every node)"),
        .init("G", \.g, default: 2.0, unit: "1", range: 0...1000, "global coupling scaling the connectome"),
        .init("I_ext", \.iExt, default: 0.0, unit: "nA", range: -10...10, "external stimulation of the excitatory pool"),
    ]

    public typealias Lanes = VectorMath.Lanes

    public let parameters: Parameters
    // Combinations the drift needs, computed once.
    @usableFromInline let excitatoryDrive, recurrence, globalGain, inhibitoryDrive, invDE, invDI, invTauE, invTauI: Double

    public init(parameters p: Parameters) {
        parameters = p
        excitatoryDrive = p.wE * p.i0 + p.iExt
        recurrence = p.wPlus * p.jNMDA
        globalGain = p.g * p.jNMDA
        inhibitoryDrive = p.wI * p.i0
        invDE = 1 / p.dE; invDI = 1 / p.dI
        invTauE = 1 / p.tauE; invTauI = 1 / p.tauI
    }

    public var nodeParameterDefaults: [Double] { [parameters.jI, parameters.wPlus, parameters.i0] }

    /// The drift's terms that may differ between nodes, for four nodes (one per lane): J_i,
    /// w_+ J_NMDA, W_E I_0 + I_ext and W_I I_0.
    @frozen public struct NodeTerms: Sendable {
        public var jI, recurrence, excitatoryDrive, inhibitoryDrive: Lanes
        @inlinable public init(jI: Lanes, recurrence: Lanes, excitatoryDrive: Lanes, inhibitoryDrive: Lanes) {
            self.jI = jI; self.recurrence = recurrence; self.excitatoryDrive = excitatoryDrive; self.inhibitoryDrive = inhibitoryDrive
        }
    }

    /// The per-node terms from J_i, w_+ and I_0, computed as `init` computes the uniform ones
    /// (so uniform values give the same bits).
    @inlinable @inline(__always)
    public func terms(jI: Lanes, wPlus: Lanes, i0: Lanes) -> NodeTerms {
        let p = parameters
        return NodeTerms(jI: jI, recurrence: wPlus * p.jNMDA, excitatoryDrive: p.wE * i0 + p.iExt, inhibitoryDrive: p.wI * i0)
    }

    /// The per-node terms with this model's uniform w_+ and I_0.
    @inlinable @inline(__always)
    public func terms(jI: Lanes) -> NodeTerms {
        NodeTerms(jI: jI, recurrence: Lanes(repeating: recurrence), excitatoryDrive: Lanes(repeating: excitatoryDrive),
                  inhibitoryDrive: Lanes(repeating: inhibitoryDrive))
    }

    /// One node's terms in every lane (w_+ and I_0: the model's unless given).
    @inlinable @inline(__always)
    public func terms(jI: Double, wPlus: Double? = nil, i0: Double? = nil) -> NodeTerms {
        terms(jI: Lanes(repeating: jI), wPlus: Lanes(repeating: wPlus ?? parameters.wPlus), i0: Lanes(repeating: i0 ?? parameters.i0))
    }

    /// H(x) = y / (1 - exp(-d y)), y = a x - b, computed as y / (-expm1(-d y)); 1/d at y = 0.
    @inlinable @inline(__always)
    public static func transfer(_ x: Lanes, a: Double, b: Double, d: Double) -> Lanes {
        transfer(x, a: Lanes(repeating: a), b: Lanes(repeating: b), d: Lanes(repeating: d))
    }

    /// `transfer` with constants per lane (the same operations in every lane; batched
    /// ensembles give each lane its own parameters).
    @inlinable @inline(__always)
    public static func transfer(_ x: Lanes, a: Lanes, b: Lanes, d: Lanes) -> Lanes {
        let y = a * x - b
        let h = y / -VectorMath.expm1(-d * y)
        return h.replacing(with: 1 / d, where: y .== Lanes(repeating: 0))
    }

    /// Scalar form of `transfer`.
    public static func transfer(_ x: Double, a: Double, b: Double, d: Double) -> Double {
        transfer(Lanes(repeating: x), a: a, b: b, d: d)[0]
    }

    /// dH/dx = a dH/dy with dH/dy = (1 - e - d y e) / (1 - e)^2, e = exp(-d y);
    /// 1/2 + d y / 6 near y = 0; 0 far below threshold.
    public static func transferDerivative(_ x: Double, a: Double, b: Double, d: Double) -> Double {
        let y = a * x - b
        let dy = d * y
        if abs(dy) < 1e-5 { return a * (0.5 + dy / 6) }
        if dy < -700 { return 0 }
        let em = -Foundation.expm1(-dy)      // 1 - e
        let e = 1 - em
        return a * (em - dy * e) / (em * em)
    }

    /// d^2H/dx^2 = a^2 d^2H/dy^2 with d^2H/dy^2 = d e (d y (1 + e) - 2 (1 - e)) / (1 - e)^3,
    /// e = exp(-d y); near y = 0 (|d y| < 0.01, where that formula cancels) the series of
    /// y / (1 - exp(-d y)) = (1/d) (1 + dy/2 + (dy)^2/12 - (dy)^4/720 + (dy)^6/30240 - ...)
    /// gives d/6 - d^3 y^2/60 + d^5 y^4/1008; 0 far below threshold. For the stability
    /// term's gradient (how the leading eigenvalue moves with the fixed point).
    public static func transferSecondDerivative(_ x: Double, a: Double, b: Double, d: Double) -> Double {
        let y = a * x - b
        let dy = d * y
        if abs(dy) < 0.01 {
            let s = dy * dy
            return a * a * d * (1.0 / 6 - s / 60 + s * s / 1008)
        }
        if dy < -700 { return 0 }
        let em = -Foundation.expm1(-dy)      // 1 - e
        let e = 1 - em
        return a * a * d * e * (dy * (1 + e) - 2 * em) / (em * em * em)
    }

    /// `transferDerivative` for four values at once (same formula and cut-offs).
    @inline(__always)
    public static func transferDerivative(_ x: Lanes, a: Double, b: Double, d: Double) -> Lanes {
        slope(x, em: -VectorMath.expm1(-(d * (a * x - b))), a: a, b: b, d: d)
    }

    /// `transfer` together with em = -expm1(-d y) = 1 - exp(-d y), which `slope` reuses.
    @inlinable @inline(__always)
    public static func transferKeepingExponential(_ x: Lanes, a: Double, b: Double, d: Double) -> (h: Lanes, em: Lanes) {
        let y = a * x - b
        let em = -VectorMath.expm1(-(d * y))
        return ((y / em).replacing(with: Lanes(repeating: 1 / d), where: y .== Lanes(repeating: 0)), em)
    }

    /// `transferDerivative` from em = -expm1(-d y) already computed (the same bits).
    @inlinable @inline(__always)
    public static func slope(_ x: Lanes, em: Lanes, a: Double, b: Double, d: Double) -> Lanes {
        let y = a * x - b
        let dy = d * y
        let e = 1 - em
        var g = a * (em - dy * e) / (em * em)
        let magnitude = dy.replacing(with: -dy, where: dy .< Lanes(repeating: 0))
        g.replace(with: a * (0.5 + dy / 6), where: magnitude .< Lanes(repeating: 1e-5))
        g.replace(with: Lanes(repeating: 0), where: dy .< Lanes(repeating: -700))
        return g
    }

    /// `transfer` and `transferDerivative` together from one expm1 (the same bits as each).
    @inlinable @inline(__always)
    public static func transferWithDerivative(_ x: Lanes, a: Double, b: Double, d: Double) -> (h: Lanes, slope: Lanes) {
        let (h, em) = transferKeepingExponential(x, a: a, b: b, d: d)
        return (h, slope(x, em: em, a: a, b: b, d: d))
    }

    @inlinable @inline(__always)
    public func drift(_ x: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let e0 = x[0], i0 = x[1]
        let t = terms(jI: node[0], wPlus: node[1], i0: node[2])
        let xE = t.excitatoryDrive + t.recurrence * e0 + globalGain * c - t.jI * i0
        let xI = t.inhibitoryDrive + p.jNMDA * e0 - i0
        let rE = ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE)
        let rI = ReducedWongWang.transfer(xI, a: p.aI, b: p.bI, d: p.dI)
        dx[0] = ((1 - e0) * (p.gammaE * rE) - e0 * invTauE) + input[0]
        dx[1] = (p.gammaI * rI - i0 * invTauI) + input[1]
        observables[0] = rE
        observables[1] = rI
    }

    /// The drift of four nodes at once (one per lane), with the engine's arithmetic.
    @inline(__always)
    public func drift(sE e0: Lanes, sI i0: Lanes, coupling c: Lanes, node t: NodeTerms) -> (dE: Lanes, dI: Lanes) {
        let p = parameters
        let xE = t.excitatoryDrive + t.recurrence * e0 + globalGain * c - t.jI * i0
        let xI = t.inhibitoryDrive + p.jNMDA * e0 - i0
        let rE = ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE)
        let rI = ReducedWongWang.transfer(xI, a: p.aI, b: p.bI, d: p.dI)
        return ((1 - e0) * (p.gammaE * rE) - e0 * invTauE, p.gammaI * rI - i0 * invTauI)
    }

    /// `drift(sE:sI:coupling:node:)` with uniform w_+ and I_0.
    @inline(__always)
    public func drift(sE: Lanes, sI: Lanes, coupling: Lanes, jI: Lanes) -> (dE: Lanes, dI: Lanes) {
        drift(sE: sE, sI: sI, coupling: coupling, node: terms(jI: jI))
    }

    /// `drift(sE:sI:coupling:node:)` (the same bits) and the transfer functions' em = 1 - exp(-d y)
    /// for E and I, which the adjoint passes back to `jacobianEntries` instead of recomputing.
    @inline(__always)
    public func driftKeepingExponentials(sE e0: Lanes, sI i0: Lanes, coupling c: Lanes, node t: NodeTerms)
        -> (dE: Lanes, dI: Lanes, emE: Lanes, emI: Lanes) {
        let p = parameters
        let xE = t.excitatoryDrive + t.recurrence * e0 + globalGain * c - t.jI * i0
        let xI = t.inhibitoryDrive + p.jNMDA * e0 - i0
        let (rE, emE) = ReducedWongWang.transferKeepingExponential(xE, a: p.aE, b: p.bE, d: p.dE)
        let (rI, emI) = ReducedWongWang.transferKeepingExponential(xI, a: p.aI, b: p.bI, d: p.dI)
        return ((1 - e0) * (p.gammaE * rE) - e0 * invTauE, p.gammaI * rI - i0 * invTauI, emE, emI)
    }

    /// The drift of one node without allocation, with the engine's arithmetic (one lane); w_+
    /// and I_0 the model's unless given.
    @inline(__always)
    public func drift(sE: Double, sI: Double, coupling c: Double, jI: Double, wPlus: Double? = nil, i0 nodeI0: Double? = nil)
        -> (dE: Double, dI: Double) {
        let p = parameters
        let t = terms(jI: jI, wPlus: wPlus, i0: nodeI0)
        let e0 = Lanes(repeating: sE), i0 = Lanes(repeating: sI)
        let xE = t.excitatoryDrive + t.recurrence * e0 + globalGain * Lanes(repeating: c) - t.jI * i0
        let xI = t.inhibitoryDrive + p.jNMDA * e0 - i0
        let rE = ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE)
        let rI = ReducedWongWang.transfer(xI, a: p.aI, b: p.bI, d: p.dI)
        let dE = (1 - e0) * (p.gammaE * rE) - e0 * invTauE
        let dI = p.gammaI * rI - i0 * invTauI
        return (dE[0], dI[0])
    }

    /// The Jacobian entries of one node without allocation:
    /// (dfE/dSE, dfE/dSI, dfI/dSE, dfI/dSI, dfE/dc, kE, kI) with kE = (1 - S_E) gamma_E H_E'
    /// and kI = gamma_I H_I' (what parameter derivatives need). The four-lane entries in one
    /// lane, so the adjoint's four-node groups and its remainder share one arithmetic.
    @inline(__always)
    public func jacobianEntries(sE: Double, sI: Double, coupling c: Double, jI: Double, wPlus: Double? = nil, i0: Double? = nil)
        -> (ee: Double, ei: Double, ie: Double, ii: Double, ec: Double, kE: Double, kI: Double) {
        let j = jacobianEntries(sE: Lanes(repeating: sE), sI: Lanes(repeating: sI), coupling: Lanes(repeating: c),
                                node: terms(jI: jI, wPlus: wPlus, i0: i0))
        return (j.ee[0], j.ei[0], j.ie[0], j.ii[0], j.ec[0], j.kE[0], j.kI[0])
    }

    /// `jacobianEntries` for four nodes at once (one per lane).
    @inline(__always)
    public func jacobianEntries(sE: Lanes, sI: Lanes, coupling c: Lanes, node t: NodeTerms)
        -> (ee: Lanes, ei: Lanes, ie: Lanes, ii: Lanes, ec: Lanes, kE: Lanes, kI: Lanes) {
        let p = parameters
        let xE = t.excitatoryDrive + t.recurrence * sE + globalGain * c - t.jI * sI
        let xI = t.inhibitoryDrive + p.jNMDA * sE - sI
        let (hE, slopeE) = ReducedWongWang.transferWithDerivative(xE, a: p.aE, b: p.bE, d: p.dE)
        let kE = (1 - sE) * p.gammaE * slopeE
        let kI = p.gammaI * ReducedWongWang.transferDerivative(xI, a: p.aI, b: p.bI, d: p.dI)
        return (-invTauE - p.gammaE * hE + kE * t.recurrence, -kE * t.jI, kI * p.jNMDA, -invTauI - kI, kE * globalGain, kE, kI)
    }

    /// `jacobianEntries` from the exponentials `driftKeepingExponentials` kept at this state
    /// (the same bits, no exponential evaluated).
    @inline(__always)
    public func jacobianEntries(sE: Lanes, sI: Lanes, coupling c: Lanes, node t: NodeTerms, emE: Lanes, emI: Lanes)
        -> (ee: Lanes, ei: Lanes, ie: Lanes, ii: Lanes, ec: Lanes, kE: Lanes, kI: Lanes) {
        let p = parameters
        let xE = t.excitatoryDrive + t.recurrence * sE + globalGain * c - t.jI * sI
        let xI = t.inhibitoryDrive + p.jNMDA * sE - sI
        let yE = p.aE * xE - p.bE
        let hE = (yE / emE).replacing(with: Lanes(repeating: 1 / p.dE), where: yE .== Lanes(repeating: 0))
        let kE = (1 - sE) * p.gammaE * ReducedWongWang.slope(xE, em: emE, a: p.aE, b: p.bE, d: p.dE)
        let kI = p.gammaI * ReducedWongWang.slope(xI, em: emI, a: p.aI, b: p.bI, d: p.dI)
        return (-invTauE - p.gammaE * hE + kE * t.recurrence, -kE * t.jI, kI * p.jNMDA, -invTauI - kI, kE * globalGain, kE, kI)
    }

    public func jacobian(state x: [Double], coupling cs: [Double], node: [Double]) -> (state: [[Double]], coupling: [[Double]]) {
        let c = cs.first ?? 0
        let p = parameters
        let (sE, sI) = (x[0], x[1])
        let ji = node.first ?? p.jI
        let wPlus = node.count > 1 ? node[1] : p.wPlus, nodeI0 = node.count > 2 ? node[2] : p.i0
        let xE = (p.wE * nodeI0 + p.iExt) + wPlus * p.jNMDA * sE + globalGain * c - ji * sI
        let xI = p.wI * nodeI0 + p.jNMDA * sE - sI
        let hE = ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE)
        let dhE = ReducedWongWang.transferDerivative(xE, a: p.aE, b: p.bE, d: p.dE)
        let dhI = ReducedWongWang.transferDerivative(xI, a: p.aI, b: p.bI, d: p.dI)
        let gE = (1 - sE) * p.gammaE * dhE
        return ([[-invTauE - p.gammaE * hE + gE * (wPlus * p.jNMDA), -gE * ji],
                 [p.gammaI * dhI * p.jNMDA, -invTauI - p.gammaI * dhI]],
                [[gE * globalGain, 0]])
    }

    /// Scalar drift at one node: (dS_E/dt, dS_I/dt, H_E, H_I).
    public static func drift(_ p: Parameters, sE: Double, sI: Double, coupling: Double, jI: Double, wPlus: Double? = nil, i0: Double? = nil)
        -> (dE: Double, dI: Double, rE: Double, rI: Double) {
        let m = ReducedWongWang(parameters: p)
        let node = [jI, wPlus ?? p.wPlus, i0 ?? p.i0]
        let d = m.drift(state: [sE, sI], coupling: [coupling], node: node)
        let o = m.observables(state: [sE, sI], coupling: [coupling], node: node)
        return (d[0], d[1], o[0], o[1])
    }
}
