import Foundation

/// Fits reduced Wong-Wang parameters to an empirical FC by gradient descent on the
/// FC-surprise loss with exact whole-run gradients (`RWWGradient`) and ADAM, each parameter
/// moved in an unconstrained coordinate through its `ParameterTransform` (the method of
/// Griffiths et al. 2022 with exact gradients; the noise realisation is fixed by the seed).
public enum GradientFit {
    public struct Options: Sendable {
        public var parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)]
        public var epochs: Int
        public var learningRate: Double
        public var clipNorm: Double?
        public var checkpointEvery: Int?

        public init(parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)], epochs: Int = 20,
                    learningRate: Double = 0.05, clipNorm: Double? = nil, checkpointEvery: Int? = nil) {
            self.parameters = parameters
            self.epochs = epochs
            self.learningRate = learningRate
            self.clipNorm = clipNorm
            self.checkpointEvery = checkpointEvery
        }
    }

    /// One optimisation step's record.
    public struct Step: Sendable, Codable, Equatable {
        public let epoch: Int
        public let loss: Double
        public let fcCorrelation: Double
        /// Parameter values before the step, in `Options.parameters` order.
        public let values: [Double]
        public let gradient: [Double]
    }

    /// The value of a parameter in a spec.
    public static func value(_ q: RWWGradient.Parameter, in spec: SimulationSpec<ReducedWongWang>) -> Double {
        let p = spec.model.parameters
        switch q {
        case .g: return p.g
        case .wPlus: return p.wPlus
        case .jI: return p.jI
        case .jNMDA: return p.jNMDA
        case .i0: return p.i0
        case .sigma: return spec.noise.sigma
        case let .nodeJI(i): return spec.nodeParameters[0][i]
        }
    }

    /// The spec with parameter values replaced (everything else unchanged).
    public static func spec(_ spec: SimulationSpec<ReducedWongWang>, with values: [(RWWGradient.Parameter, Double)]) throws
        -> SimulationSpec<ReducedWongWang> {
        var p = spec.model.parameters
        var noise = spec.noise
        var nodeJI = spec.nodeParameters[0]
        for (q, v) in values {
            switch q {
            case .g: p.g = v
            case .wPlus: p.wPlus = v
            case .jI: p.jI = v; nodeJI = nodeJI.map { _ in v }
            case .jNMDA: p.jNMDA = v
            case .i0: p.i0 = v
            case .sigma: noise.sigma = v
            case let .nodeJI(i): nodeJI[i] = v
            }
        }
        return try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: ["J_i": nodeJI],
                                  connectome: spec.connectome, coupling: spec.coupling, integrator: spec.integrator,
                                  noise: noise, dt: spec.dt, duration: spec.duration, transient: spec.transient, tr: spec.tr,
                                  conductionSpeed: spec.conductionSpeed, seed: spec.seed, boldInput: spec.boldInput,
                                  balloon: spec.balloon, statePeriod: spec.statePeriod, initialState: spec.initialState,
                                  recordBold: spec.recordBold)
    }

    /// Everything needed to continue an interrupted fit exactly where it stopped.
    public struct State: Codable, Equatable, Sendable {
        /// Names of the fitted parameters, to refuse resuming a different fit.
        public var parameters: [String]
        /// The unconstrained coordinates after the last completed step.
        public var free: [Double]
        public var adam: Adam
        public var history: [Step]
    }

    /// Runs the optimisation (continuing `resume` if given); `onEpoch` receives the state after
    /// every step, e.g. to save a checkpoint. Returns the fitted spec and the whole history.
    public static func fit(spec initial: SimulationSpec<ReducedWongWang>, empiricalFC: Matrix, options: Options,
                           resume: State? = nil, onEpoch: ((State) throws -> Void)? = nil,
                           progress: ((Step) -> Void)? = nil) throws -> (spec: SimulationSpec<ReducedWongWang>, history: [Step]) {
        let parameters = options.parameters
        let names = parameters.map { $0.parameter.description }
        var u = parameters.map { $0.transform.inverse(value($0.parameter, in: initial)) }
        var adam = Adam(parameters: u.count, learningRate: options.learningRate, clipNorm: options.clipNorm)
        var history: [Step] = []
        if let resume {
            guard resume.parameters == names, resume.free.count == u.count else {
                throw WholeBrainError.badValue(source: "--resume", value: resume.parameters.joined(separator: ","),
                                               expected: "a checkpoint of the same fit (\(names.joined(separator: ",")))")
            }
            u = resume.free; adam = resume.adam; history = resume.history
        }
        var current = initial
        for epoch in history.count..<max(options.epochs, history.count) {
            let values = zip(parameters, u).map { $0.transform.value($1) }
            current = try spec(initial, with: zip(parameters.map(\.parameter), values).map { ($0, $1) })
            let result = try RWWGradient.lossAndGradient(spec: current, empiricalFC: empiricalFC, parameters: parameters.map(\.parameter),
                                                         checkpointEvery: options.checkpointEvery)
            let gradient = parameters.map { result.gradient[$0.parameter]! }
            let step = Step(epoch: epoch, loss: result.loss, fcCorrelation: result.fcCorrelation, values: values, gradient: gradient)
            history.append(step)
            progress?(step)
            // Chain rule through the transforms, then one ADAM step in the free coordinates.
            let gu = zip(zip(parameters, u), gradient).map { $0.0.transform.derivative($0.1) * $1 }
            adam.step(&u, gradient: gu)
            try onEpoch?(State(parameters: names, free: u, adam: adam, history: history))
        }
        let values = zip(parameters, u).map { $0.transform.value($1) }
        return (try spec(initial, with: zip(parameters.map(\.parameter), values).map { ($0, $1) }), history)
    }
}
