import Foundation

/// Jansen-Rit neural mass: pyramidal cells with excitatory and inhibitory interneurons.
///
/// Jansen & Rit (1995), Biol Cybern 73:357 (after Lopes da Silva et al. 1974). Time in ms,
/// potentials in mV, rates in 1/ms:
///
///     dy0/dt = y3;  dy3/dt = A a S(y1 - y2) - 2 a y3 - a^2 y0
///     dy1/dt = y4;  dy4/dt = A a (mu + C2 S(C1 y0) + G c) - 2 a y4 - a^2 y1
///     dy2/dt = y5;  dy5/dt = B b C4 S(C3 y0) - 2 b y5 - b^2 y2
///     S(v) = 2 e0 / (1 + exp(r (v0 - v)))
///
/// A = 3.25 mV, B = 22 mV, a = 100 /s, b = 50 /s (0.1 and 0.05 /ms), e0 = 2.5 /s, v0 = 6 mV,
/// r = 0.56 /mV, C = 135, C1 = C, C2 = 0.8 C, C3 = C4 = 0.25 C, input mu = 220 /s (the middle
/// of the paper's 120-320 /s). Regions exchange S(y1 - y2), the pyramidal firing rate, which
/// enters the excitatory interneurons' input scaled by G (as TVB's JansenRit with sigmoidal
/// coupling). y1 - y2 is the EEG-like signal; with these defaults it oscillates near 11 Hz
/// (alpha). Noise: white on y4 (the paper's stochastic input), sigma 0 by default.
public struct JansenRit: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var aA = 3.25, bB = 22.0, a = 0.1, b = 0.05
        public var e0 = 0.0025, v0 = 6.0, r = 0.56, c = 135.0
        public var a1 = 1.0, a2 = 0.8, a3 = 0.25, a4 = 0.25, mu = 0.22, g = 1.0
        public init() {}
    }

    public static let name = "jr"

    public static let globalCouplingParameter = "G"
    public static let title = "Jansen-Rit"
    public static let reference = "Jansen & Rit (1995), Biol Cybern 73:357"
    public static let variables = [
        StateVariable("y0", unit: "mV", initial: -1...1), StateVariable("y1", unit: "mV", initial: -1...1),
        StateVariable("y2", unit: "mV", initial: -1...1), StateVariable("y3", unit: "mV/ms", initial: -0.5...0.5),
        StateVariable("y4", unit: "mV/ms", initial: -0.5...0.5), StateVariable("y5", unit: "mV/ms", initial: -0.5...0.5),
    ]
    public static let coupledVariable = 1
    public static let boldVariable = 1
    public static let observables = ["v_pyramidal", "rate"]
    public static let defaultBoldInput = BoldSource.observable(1)
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [4]
    public static let defaultNoise = NoiseSpec(kind: .white, sigma: 0)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("A", \.aA, default: 3.25, unit: "mV", range: 0...100, "excitatory synaptic gain"),
        .init("B", \.bB, default: 22, unit: "mV", range: 0...100, "inhibitory synaptic gain"),
        .init("a", \.a, default: 0.1, unit: "1/ms", range: 1e-4...10, "excitatory rate constant"),
        .init("b", \.b, default: 0.05, unit: "1/ms", range: 1e-4...10, "inhibitory rate constant"),
        .init("e0", \.e0, default: 0.0025, unit: "1/ms", range: 0...1, "half the maximal firing rate"),
        .init("v0", \.v0, default: 6, unit: "mV", range: -100...100, "firing threshold"),
        .init("r", \.r, default: 0.56, unit: "1/mV", range: 0...100, "sigmoid steepness"),
        .init("C", \.c, default: 135, unit: "1", range: 0...10_000, "connectivity constant"),
        .init("a1", \.a1, default: 1, unit: "1", range: 0...10, "C1 / C"),
        .init("a2", \.a2, default: 0.8, unit: "1", range: 0...10, "C2 / C"),
        .init("a3", \.a3, default: 0.25, unit: "1", range: 0...10, "C3 / C"),
        .init("a4", \.a4, default: 0.25, unit: "1", range: 0...10, "C4 / C"),
        .init("mu", \.mu, default: 0.22, unit: "1/ms", range: -10...10, "mean external input"),
        .init("G", \.g, default: 1, unit: "1", range: 0...1000, "global coupling"),
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    static func sigmoid(_ v: VectorMath.Lanes, _ p: Parameters) -> VectorMath.Lanes {
        (2 * p.e0) / (1 + VectorMath.exp(p.r * (p.v0 - v)))
    }

    static func sigmoid(_ v: Double, _ p: Parameters) -> Double { 2 * p.e0 / (1 + Foundation.exp(p.r * (p.v0 - v))) }
    /// S'(v) = r S (1 - S / (2 e0)).
    static func sigmoidSlope(_ v: Double, _ p: Parameters) -> Double {
        let s = sigmoid(v, p)
        return p.r * s * (1 - s / (2 * p.e0))
    }

    /// Regions exchange the pyramidal firing rate S(y1 - y2).
    @inlinable @inline(__always)
    public func couplingSignal(_ x: LaneBlock) -> VectorMath.Lanes {
        JansenRit.sigmoid(x[1] - x[2], parameters)
    }

    @inlinable @inline(__always)
    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let y0 = s[0], y1 = s[1], y2 = s[2]
        let pyramidal = JansenRit.sigmoid(y1 - y2, p)
        let aa = p.aA * p.a, bb = p.bB * p.b
        dx[0] = s[3]; dx[1] = s[4]; dx[2] = s[5]
        dx[3] = aa * pyramidal - 2 * p.a * s[3] - (p.a * p.a) * y0 + input[3]
        let drive = p.mu + (p.a2 * p.c) * JansenRit.sigmoid((p.a1 * p.c) * y0, p) + p.g * c
        dx[4] = aa * drive - 2 * p.a * s[4] - (p.a * p.a) * y1 + input[4]
        dx[5] = bb * (p.a4 * p.c) * JansenRit.sigmoid((p.a3 * p.c) * y0, p) - 2 * p.b * s[5] - (p.b * p.b) * y2 + input[5]
        observables[0] = y1 - y2
        observables[1] = pyramidal
    }

    public func jacobian(state s: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let aa = p.aA * p.a, bb = p.bB * p.b
        let sp = JansenRit.sigmoidSlope(s[1] - s[2], p)
        let s1 = JansenRit.sigmoidSlope(p.a1 * p.c * s[0], p) * p.a1 * p.c
        let s3 = JansenRit.sigmoidSlope(p.a3 * p.c * s[0], p) * p.a3 * p.c
        j.update(repeating: 0, count: 36)
        j[0 * 6 + 3] = 1; j[1 * 6 + 4] = 1; j[2 * 6 + 5] = 1
        j[3 * 6 + 0] = -p.a * p.a; j[3 * 6 + 1] = aa * sp; j[3 * 6 + 2] = -aa * sp; j[3 * 6 + 3] = -2 * p.a
        j[4 * 6 + 0] = aa * p.a2 * p.c * s1; j[4 * 6 + 1] = -p.a * p.a; j[4 * 6 + 4] = -2 * p.a
        j[5 * 6 + 0] = bb * p.a4 * p.c * s3; j[5 * 6 + 2] = -p.b * p.b; j[5 * 6 + 5] = -2 * p.b
        jc.update(repeating: 0, count: 6)
        jc[4] = aa * p.g
    }

    /// d S(y1 - y2)/d state: the signal regions exchange (and the observable "rate").
    public func couplingSignalGradient(state s: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        let sp = JansenRit.sigmoidSlope(s[1] - s[2], parameters)
        g.update(repeating: 0, count: 6)
        g[1] = sp; g[2] = -sp
    }

    /// Both observables (v_pyramidal = y1 - y2, rate = S(y1 - y2)) depend on the state alone.
    public func observableGradient(_ o: Int, state s: UnsafePointer<Double>, node: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) -> Bool {
        switch o {
        case 0: g.update(repeating: 0, count: 6); g[1] = 1; g[2] = -1; return true
        case 1: couplingSignalGradient(state: s, into: g); return true
        default: return false
        }
    }
}
