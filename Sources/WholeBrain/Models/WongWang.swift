import Foundation

/// Single-population reduced Wong-Wang model (dynamic mean field) of one brain region.
///
/// Wong & Wang (2006), J Neurosci 26:1314, as reduced for whole-brain modelling by Deco,
/// Ponce-Alvarez, Mantini, Romani, Hagmann & Corbetta (2013), J Neurosci 33:11239.
/// Time in ms, currents in nA, rates in Hz, S dimensionless in [0, 1]:
///
///     x = w J_N S + G J_N sum_j C_ij S_j(t - tau_ij) + I_0 + I_ext
///     H(x) = (a x - b) / (1 - exp(-d (a x - b)))     a = 270 /nC, b = 108 Hz, d = 0.154 s
///     dS/dt = -S / tau_S + (1 - S) gamma H(x)
///
/// Defaults from Deco et al. (2013): tau_S = 100 ms, gamma = 0.641 (per s, /1000 here for ms),
/// w = 0.9, J_N = 0.2609 nA, I_0 = 0.3 nA. The Virtual Brain's `ReducedWongWang` defaults
/// differ (w = 0.6, I_o = 0.33). Noise: additive white, sigma = 0.001 by default (a
/// WholeBrain choice; the paper varies it).
public struct WongWang: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var a = 270.0, b = 108.0, d = 0.154
        public var tauS = 100.0, gamma = 0.641 / 1000
        public var w = 0.9, jN = 0.2609, i0 = 0.3, iExt = 0.0, g = 1.0
        public init() {}
    }

    public static let name = "ww"

    public static let globalCouplingParameter = "G"
    public static let title = "Wong-Wang single population"
    public static let reference = "Deco, Ponce-Alvarez, Mantini, Romani, Hagmann & Corbetta (2013), J Neurosci 33:11239"
    public static let variables = [StateVariable("S", unit: "1", initial: 0...0.2, bounds: 0...1)]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let observables = ["rate"]
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [0]
    public static let defaultNoise = NoiseSpec(kind: .white, sigma: 0.001)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("a", \.a, default: 270, unit: "nC^-1", range: 0...10_000, "gain of the transfer function"),
        .init("b", \.b, default: 108, unit: "Hz", range: 0...10_000, "threshold of the transfer function"),
        .init("d", \.d, default: 0.154, unit: "s", range: 1e-6...100, "curvature of the transfer function"),
        .init("tau_S", \.tauS, default: 100, unit: "ms", range: 1e-3...1e5, "NMDA decay time"),
        .init("gamma", \.gamma, default: 0.641 / 1000, unit: "ms^-1 Hz^-1", range: 0...1, "kinetic factor"),
        .init("w", \.w, default: 0.9, unit: "1", range: 0...100, "local excitatory recurrence"),
        .init("J_N", \.jN, default: 0.2609, unit: "nA", range: 0...100, "excitatory synaptic coupling"),
        .init("I_0", \.i0, default: 0.3, unit: "nA", range: -10...10, "external input"),
        .init("I_ext", \.iExt, default: 0, unit: "nA", range: -10...10, "additional stimulation"),
        .init("G", \.g, default: 1.0, unit: "1", range: 0...1000, "global coupling"),
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    public func drift(_ x: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let s = x[0]
        let current = (p.w * p.jN) * s + (p.g * p.jN) * c + (p.i0 + p.iExt)
        let h = ReducedWongWang.transfer(current, a: p.a, b: p.b, d: p.d)
        dx[0] = ((1 - s) * (p.gamma * h) - s / p.tauS) + input[0]
        observables[0] = h
    }

    public func jacobian(state x: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let current = p.w * p.jN * x[0] + p.g * p.jN * c + p.i0 + p.iExt
        let h = ReducedWongWang.transfer(current, a: p.a, b: p.b, d: p.d)
        let dh = ReducedWongWang.transferDerivative(current, a: p.a, b: p.b, d: p.d)
        let k = (1 - x[0]) * p.gamma * dh
        j[0] = -1 / p.tauS - p.gamma * h + k * p.w * p.jN
        jc[0] = k * p.g * p.jN
    }
}
