import Foundation

/// Kuramoto phase oscillators.
///
/// Kuramoto (1975, 1984); network form as in Breakspear, Heitmann & Daffertshofer (2010),
/// Front Hum Neurosci 4:190. Time in ms, phases in rad:
///
///     d theta_i/dt = omega_i + K sum_j C_ij sin(theta_j(t - tau_ij) - theta_i)
///
/// with sine coupling. omega is a per-node parameter (default 2 pi 10 Hz = 0.0628 rad/ms
/// everywhere). With C_ij = 1/N all-to-all and natural frequencies of density g, the
/// incoherent state loses stability at K_c = 2 / (pi g(0)). The observable sin(theta)
/// drives BOLD by default. Noise: additive white on theta, sigma 0 by default.
public struct Kuramoto: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var omega = 2 * Double.pi * 0.01, k = 1.0
        public init() {}
    }

    public static let name = "kuramoto"

    public static let globalCouplingParameter = "K"
    public static let title = "Kuramoto phase oscillators"
    public static let reference = "Kuramoto (1984), Chemical Oscillations, Waves, and Turbulence; Breakspear et al. (2010)"
    public static let variables = [StateVariable("theta", unit: "rad", initial: 0...(2 * Double.pi))]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let observables = ["sin_theta"]
    public static let defaultBoldInput = BoldSource.observable(0)
    public static let nodeParameterNames = ["omega"]
    public static let defaultCoupling = CouplingKind.sine
    public static let noiseVariables = [0]
    public static let defaultNoise = NoiseSpec(kind: .white, sigma: 0)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("omega", \.omega, default: 2 * Double.pi * 0.01, unit: "rad/ms", range: -100...100, "natural frequency (every node)"),
        .init("K", \.k, default: 1, unit: "1/ms", range: 0...1000, "global coupling"),
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }
    public var nodeParameterDefaults: [Double] { [parameters.omega] }

    @inlinable @inline(__always)
    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        dx[0] = node[0] + parameters.k * c + input[0]
        let theta = s[0]
        observables[0] = VectorMath.Lanes(Foundation.sin(theta[0]), Foundation.sin(theta[1]),
                                          Foundation.sin(theta[2]), Foundation.sin(theta[3]))
    }

    public func jacobian(state s: [Double], coupling cs: [Double], node: [Double]) -> (state: [[Double]], coupling: [[Double]]) {
        ([[0]], [[parameters.k]])
    }
}
