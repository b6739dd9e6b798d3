/// Montbrio-Pazo-Roxin mean field of quadratic integrate-and-fire neurons.
///
/// Montbrio, Pazo & Roxin (2015), Phys Rev X 5:021028: the exact firing-rate equations of a
/// population of QIF neurons with Lorentzian-distributed excitabilities (centre eta, half
/// width Delta). Time in ms:
///
///     tau dr/dt = Delta / (pi tau) + 2 r v
///     tau dv/dt = v^2 + eta + J tau r - (pi tau r)^2 + I + G c
///
/// r is the firing rate (kept >= 0), v the mean membrane potential. Defaults: Delta = 1,
/// eta = -5, J = 15, I = 0 (the paper's bistable regime: a low-rate node and a high-rate
/// focus, at tau r = 0.081 and 1.031), with tau = 10 ms, a membrane time constant (The
/// Virtual Brain's MontbrioPazoRoxin uses tau = 1, which needs dt well below 0.1 ms). Regions
/// exchange r.
public struct MontbrioPazoRoxin: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var tau = 10.0, delta = 1.0, eta = -5.0, j = 15.0, i = 0.0, g = 1.0
        public init() {}
    }

    public static let name = "mpr"

    public static let globalCouplingParameter = "G"
    public static let title = "Montbrio-Pazo-Roxin QIF mean field"
    public static let reference = "Montbrio, Pazo & Roxin (2015), Phys Rev X 5:021028"
    public static let variables = [
        StateVariable("r", unit: "1/ms", initial: 0...0.2, bounds: 0...Double.greatestFiniteMagnitude),
        StateVariable("v", unit: "1", initial: -2...0),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let defaultCoupling = CouplingKind.linear
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .white, sigma: 0)
    public static let defaultParameters = Parameters()
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("tau", \.tau, default: 10, unit: "ms", range: 1e-3...1e4, "membrane time constant"),
        .init("Delta", \.delta, default: 1, unit: "1", range: 0...100, "half width of the excitability distribution"),
        .init("eta", \.eta, default: -5, unit: "1", range: -100...100, "centre of the excitability distribution"),
        .init("J", \.j, default: 15, unit: "1", range: -1000...1000, "recurrent synaptic weight"),
        .init("I", \.i, default: 0, unit: "1", range: -100...100, "external current"),
        .init("G", \.g, default: 1, unit: "1", range: 0...1000, "global coupling"),
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let r = s[0], v = s[1]
        let piTauR = (Double.pi * p.tau) * r
        dx[0] = (p.delta / (Double.pi * p.tau) + 2 * r * v) / p.tau + input[0]
        dx[1] = (v * v + p.eta + (p.j * p.tau) * r - piTauR * piTauR + p.i + p.g * c) / p.tau + input[1]
    }

    public func jacobian(state s: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let (r, v) = (s[0], s[1])
        j[0] = 2 * v / p.tau; j[1] = 2 * r / p.tau
        j[2] = (p.j * p.tau - 2 * Double.pi * Double.pi * p.tau * p.tau * r) / p.tau; j[3] = 2 * v / p.tau
        jc[0] = 0; jc[1] = p.g / p.tau
    }
}
