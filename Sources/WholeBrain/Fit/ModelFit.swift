import Foundation

/// Fits the global coupling of any model `ModelAdjoint` covers to an empirical FC by ADAM on
/// exact gradients: the first model-generic fit (the reduced Wong-Wang fits, with their local
/// parameters, gains, FCD and feedback inhibition, remain `GradientFit`'s).
///
/// The coupling p is fitted as log p (it stays positive; dL/dlog p = p dL/dp). Each epoch runs
/// the spec with a new noise seed (seed + epoch), so the fit follows the expected loss rather
/// than one noise realisation; with `fixedNoise` every epoch keeps the spec's seed (Griffiths
/// et al. 2022 hold the noise fixed), and the loss is then a smooth function of p. The loss on the run's BOLD y (regions x samples):
///   L = w_level (mean_{i<j} FC_ij(y) - mean_{i<j} E_ij)^2 + w_surprise (-log(0.5 + 0.5 r(FC(y), E)))
/// (`FCObjective.meanLevel`, `FCObjective.surprise`): the global FC level rises with coupling and
/// pins it down; the surprise rewards the pattern, and alone pulls the coupling up where weak
/// coupling leaves FC mostly noise (RECOVERY.md). The result is the mean of the coupling over
/// the last `averaged` epochs (ADAM's steps jitter with the noise of each epoch's run).
public enum ModelFit {
    public struct Options: Sendable {
        public var epochs = 30
        /// ADAM's step on log p.
        public var learningRate = 0.05
        public var levelWeight = 25.0, surpriseWeight = 0.0
        public var averaged = 10
        /// Every epoch with the spec's own noise seed (false: seed + epoch).
        public var fixedNoise = false

        public init() {}
    }

    public struct Epoch: Sendable {
        public let coupling: Double, loss: Double, fcCorrelation: Double, gradient: Double
    }

    public struct Outcome: Sendable {
        /// The fitted global coupling (mean over the last `averaged` epochs).
        public let coupling: Double
        public let history: [Epoch]
    }

    /// Fits `Model.globalCouplingParameter` of `spec` (its value there is the start) to the
    /// empirical FC `target` (regions x regions).
    public static func fitCoupling<Model: NeuralMassModel>(spec: SimulationSpec<Model>, target: Matrix, options: Options = Options(),
                                                           progress: (Epoch) -> Void = { _ in }) throws -> Outcome {
        guard target.rows == spec.connectome.regionCount, target.columns == target.rows else {
            throw WholeBrainError.badValue(source: "target FC", value: "\(target.rows) x \(target.columns)",
                                           expected: "\(spec.connectome.regionCount) x \(spec.connectome.regionCount), one row per region")
        }
        guard options.epochs >= 1, options.averaged >= 1 else {
            throw WholeBrainError.badValue(source: "epochs", value: "\(options.epochs)", expected: "at least one epoch, and averaging over at least one")
        }
        let name = Model.globalCouplingParameter
        guard let parameter = Model.parameterSpecs.first(where: { $0.name == name }) else {
            throw WholeBrainError.badValue(source: "model \(Model.name)", value: name, expected: "a parameter of the model")
        }
        let start = spec.model.parameters[keyPath: parameter.keyPath]
        guard start > 0 else {
            throw WholeBrainError.badValue(source: name, value: "\(start)", expected: "a positive start (the fit moves log \(name))")
        }
        var theta = [Foundation.log(start)]
        var adam = Adam(parameters: 1, learningRate: options.learningRate)
        var history: [Epoch] = []
        let perNode = Dictionary(uniqueKeysWithValues: zip(Model.nodeParameterNames, spec.nodeParameters))
        for epoch in 0..<options.epochs {
            let p = Foundation.exp(theta[0])
            guard parameter.range.contains(p) else {
                throw WholeBrainError.badValue(source: name, value: "\(p) at epoch \(epoch + 1)",
                                               expected: "a value in [\(parameter.range.lowerBound), \(parameter.range.upperBound)]: the fit left the model's range")
            }
            var values = spec.model.parameters
            values[keyPath: parameter.keyPath] = p
            let run = try SimulationSpec(model: Model(parameters: values), nodeParameters: perNode, connectome: spec.connectome,
                                         coupling: spec.coupling, integrator: spec.integrator, noise: spec.noise, dt: spec.dt,
                                         duration: spec.duration, transient: spec.transient, tr: spec.tr, boldStep: spec.boldStep,
                                         conductionSpeed: spec.conductionSpeed, seed: options.fixedNoise ? spec.seed : spec.seed &+ UInt64(epoch), boldInput: spec.boldInput,
                                         balloon: spec.balloon, initialState: spec.initialState)
            var loss = 0.0, r = 0.0
            let result = try ModelAdjoint.gradient(spec: run) { bold in
                let y = bold.transposed
                var cotangent = Matrix(rows: y.rows, columns: y.columns)
                for (weight, term) in [(options.levelWeight, FCObjective.meanLevel), (options.surpriseWeight, FCObjective.surprise)] where weight != 0 {
                    let value = term(y, target)
                    loss += weight * value.loss
                    r = value.correlation
                    for q in cotangent.values.indices { cotangent.values[q] += weight * value.gradient.values[q] }
                }
                return cotangent.transposed
            }
            let gradient = p * result.coupling
            let step = Epoch(coupling: p, loss: loss, fcCorrelation: r, gradient: result.coupling)
            history.append(step)
            progress(step)
            adam.step(&theta, gradient: [gradient])
        }
        let last = history.suffix(options.averaged)
        return Outcome(coupling: last.map(\.coupling).reduce(0, +) / Double(last.count), history: history)
    }
}
