import Foundation

/// Fits the global coupling and the noise amplitude of any model `ModelAdjoint` covers to one
/// or several subjects' data by ADAM on exact gradients: `wholebrain fit --model NAME`. (The
/// reduced Wong-Wang fits, with their local parameters, gains, feedback inhibition and
/// windows, remain `GradientFit`'s.)
///
/// The loss is the BOLD terms of `FitObjective` (FC surprise, FC level and mean level, FCD,
/// BOLD variance and level, time series, spectrum) with the weights `--loss` names, averaged
/// over subjects; their dL/dBOLD goes back through the whole run with `ModelAdjoint`. Each
/// parameter moves as its logarithm (`ParameterTransform.logarithmic`: it stays positive and
/// ADAM's steps are relative changes, whatever the model's scale). With `fixedNoise` (the
/// default, as Griffiths et al. 2022 hold the noise realisation fixed) every epoch runs each
/// subject's spec with its own seed, the loss is a deterministic function of the parameters,
/// and the fitted values are those of the epoch with the lowest loss; in the second half of
/// the epochs the learning rate halves after every two epochs in a row that do not lower it
/// (as `GradientFit`'s `settle`). Without it, epoch e runs with seed + e and the result is the
/// mean over the last `averaged` epochs.
///
/// Under MPI the subjects are spread over the ranks (subject k on rank k mod P); every rank
/// gathers every subject's loss and gradient and sums them in subject order, so the result
/// is the same bits for any number of ranks. After every epoch `onEpoch` gets the state a
/// resumed fit continues from exactly.
public enum ModelFit {
    /// What the fit moves: the model's global coupling (`NeuralMassModel.globalCouplingParameter`)
    /// and the noise amplitude sigma.
    public enum Parameter: String, Codable, Sendable, CaseIterable {
        case coupling, sigma

        /// The name a user gives (`--fit`): the model's name of its coupling, or sigma.
        public func name<Model: NeuralMassModel>(for _: Model.Type) -> String {
            self == .coupling ? Model.globalCouplingParameter : "sigma"
        }
    }

    /// The `--loss` names of the terms a model-generic fit computes (all on BOLD).
    public static let termNames = ["surprise", "fc-level", "fc-mean", "fcd", "bold-variance", "bold-mean", "timeseries", "spectrum"]

    public struct Options: Sendable {
        public var parameters: [Parameter] = [.coupling]
        /// Loss weights by `--loss` name (`termNames`).
        public var weights: [String: Double] = ["fc-mean": LossSelection.fcMeanWeight]
        /// Band-pass (Hz) of the simulated BOLD before the terms (the targets filtered alike).
        public var bandPass: (low: Double, high: Double)?
        public var fcdSettings = FCDTerm.Settings()
        public var epochs = 30
        /// ADAM's step on the logarithm of each parameter.
        public var learningRate = 0.05
        public var clipNorm: Double?
        /// Every epoch with each subject's own seed (false: seed + epoch).
        public var fixedNoise = true
        /// Without `fixedNoise`: the result is the mean over this many last epochs.
        public var averaged = 10

        public init() {}

        /// The objective against one subject's target.
        public func objective(_ target: GradientFit.Target) -> FitObjective {
            var o = FitObjective(empiricalFC: target.fc, empiricalBold: target.bold, surprise: weights["surprise"] ?? 0)
            o.fcLevel = weights["fc-level"] ?? 0
            o.fcMean = weights["fc-mean"] ?? 0
            o.fcd = weights["fcd"] ?? 0
            o.fcdTarget = target.fcdValues ?? []
            o.fcdSettings = fcdSettings
            o.boldVariance = weights["bold-variance"] ?? 0
            o.varianceTarget = target.logVariances ?? []
            o.boldMean = weights["bold-mean"] ?? 0
            o.levelTarget = target.levels ?? ([], [])
            o.timeSeries = weights["timeseries"] ?? 0
            o.spectrum = weights["spectrum"] ?? 0
            o.bandPass = bandPass
            return o
        }

        /// The switched-on terms' history.csv names, in a fixed order.
        var activeTerms: [String] {
            ModelFit.termNames.filter { (weights[$0] ?? 0) != 0 }.map { $0.replacingOccurrences(of: "-", with: "_") }
        }
    }

    /// One epoch: the values it ran with, their loss and its gradient (means over subjects).
    public struct Epoch: Sendable, Codable, Equatable {
        public let epoch: Int
        public let loss: Double
        /// Unweighted terms by history.csv name.
        public let terms: [String: Double]
        public let fcCorrelation: Double
        /// In `Options.parameters` order.
        public let values: [Double], gradient: [Double]
    }

    /// Everything a resumed fit needs to continue exactly.
    public struct State: Codable, Equatable, Sendable {
        /// The fitted parameters' names, to refuse resuming a different fit.
        public var parameters: [String]
        /// log of each parameter after the last completed epoch.
        public var free: [Double]
        public var adam: Adam
        public var history: [Epoch]
    }

    public struct Outcome: Sendable {
        /// The fitted values, in `Options.parameters` order.
        public let values: [Double]
        /// With fixed noise, the epoch (0-based) whose values these are (the lowest loss);
        /// nil: the mean over the last `Options.averaged` epochs.
        public let fittedEpoch: Int?
        public let history: [Epoch]
    }

    /// The value of a parameter in a spec.
    public static func value<Model: NeuralMassModel>(_ parameter: Parameter, in spec: SimulationSpec<Model>) throws -> Double {
        switch parameter {
        case .coupling: return spec.model.parameters[keyPath: try couplingSpec(Model.self).keyPath]
        case .sigma: return spec.noise.sigma
        }
    }

    /// `spec` with the parameters at `values` (and optionally another seed or duration).
    public static func apply<Model: NeuralMassModel>(_ values: [Double], of parameters: [Parameter], to spec: SimulationSpec<Model>,
                                                     seed: UInt64? = nil, duration: Double? = nil) throws -> SimulationSpec<Model> {
        var model = spec.model.parameters, noise = spec.noise
        let coupling = try couplingSpec(Model.self)
        for (parameter, v) in zip(parameters, values) {
            switch parameter {
            case .coupling:
                guard coupling.range.contains(v) else {
                    throw WholeBrainError.badValue(source: coupling.name, value: "\(v)",
                                                   expected: "a value in [\(coupling.range.lowerBound), \(coupling.range.upperBound)]: the fit left the model's range")
                }
                model[keyPath: coupling.keyPath] = v
            case .sigma: noise.sigma = v
            }
        }
        return try spec.with(model: Model(parameters: model), noise: noise, duration: duration, seed: seed)
    }

    static func couplingSpec<Model: NeuralMassModel>(_: Model.Type) throws -> ParameterSpec<Model.Parameters> {
        guard let spec = Model.parameterSpecs.first(where: { $0.name == Model.globalCouplingParameter }) else {
            throw WholeBrainError.badValue(source: "model \(Model.name)", value: Model.globalCouplingParameter, expected: "a parameter of the model")
        }
        return spec
    }

    /// The loss of `spec`'s run against `target` and dL/d(each parameter).
    public static func lossAndGradient<Model: NeuralMassModel>(spec: SimulationSpec<Model>, objective: FitObjective, parameters: [Parameter])
        throws -> (evaluation: FitObjective.Evaluation, gradient: [Double]) {
        var evaluation: FitObjective.Evaluation?
        let result = try ModelAdjoint.gradient(spec: spec) { bold in
            let e = try objective.evaluate(bold: bold, tr: spec.tr, firstSample: 0)
            evaluation = e
            return e.cotangent.transposed
        }
        return (evaluation!, parameters.map { $0 == .coupling ? result.coupling : result.sigma })
    }

    /// Fits `options.parameters`, shared by every subject (each its own connectome, seed and
    /// target), from the values in the first subject's spec.
    public static func fit<Model: NeuralMassModel>(subjects: [(spec: SimulationSpec<Model>, target: GradientFit.Target)], options: Options,
                                                   communicator: Communicator = SerialCommunicator(), resume: State? = nil,
                                                   onEpoch: (State) throws -> Void = { _ in },
                                                   progress: (Epoch) -> Void = { _ in }) throws -> Outcome {
        guard let first = subjects.first else {
            throw WholeBrainError.badValue(source: "fit subjects", value: "none", expected: "at least one subject")
        }
        for (k, subject) in subjects.enumerated() {
            let n = subject.spec.connectome.regionCount
            guard subject.target.fc.rows == n, subject.target.fc.columns == n else {
                throw WholeBrainError.badValue(source: "target FC of subject \(k + 1)", value: "\(subject.target.fc.rows) x \(subject.target.fc.columns)",
                                               expected: "\(n) x \(n), one row per region")
            }
        }
        guard options.epochs >= 1, options.averaged >= 1, !options.parameters.isEmpty else {
            throw WholeBrainError.badValue(source: "fit options", value: "\(options.epochs) epochs, \(options.parameters.count) parameters",
                                           expected: "at least one epoch and one parameter")
        }
        let names = options.parameters.map { $0.name(for: Model.self) }
        let start = try options.parameters.map { try value($0, in: first.spec) }
        for (name, v) in zip(names, start) where !(v > 0) {
            throw WholeBrainError.badValue(source: name, value: "\(v)", expected: "a positive start (the fit moves log \(name))")
        }
        let transform = ParameterTransform.logarithmic
        var state = State(parameters: names, free: start.map(transform.inverse),
                          adam: Adam(parameters: start.count, learningRate: options.learningRate, clipNorm: options.clipNorm), history: [])
        if let resume {
            guard resume.parameters == names, resume.free.count == names.count else {
                throw WholeBrainError.badValue(source: "checkpoint", value: resume.parameters.joined(separator: ","),
                                               expected: "a checkpoint of a fit of \(names.joined(separator: ","))")
            }
            state = resume
        }
        let objectives = subjects.map { options.objective($0.target) }
        let terms = options.activeTerms
        let ranks = communicator.size
        let perRank = (0..<ranks).map { r in subjects.indices.filter { $0 % ranks == r } }
        let each = 2 + terms.count + names.count
        while state.history.count < options.epochs {
            let epoch = state.history.count
            let values = state.free.map(transform.value)
            var packed: [Double] = [], failure: Error?
            for k in perRank[communicator.rank] {
                do {
                    let s = try apply(values, of: options.parameters, to: subjects[k].spec,
                                      seed: options.fixedNoise ? nil : subjects[k].spec.seed &+ UInt64(epoch))
                    let (e, gradient) = try lossAndGradient(spec: s, objective: objectives[k], parameters: options.parameters)
                    packed += [e.loss, e.fcCorrelation] + terms.map { e.terms[$0] ?? 0 } + gradient
                } catch { failure = error; break }
            }
            try communicator.agree(failure)
            let all = communicator.allGather(packed, counts: perRank.map { $0.count * each })
            var bySubject = [[Double]](repeating: [], count: subjects.count), offset = 0
            for r in 0..<ranks { for k in perRank[r] { bySubject[k] = Array(all[offset..<(offset + each)]); offset += each } }
            var mean = [Double](repeating: 0, count: each)
            for k in subjects.indices { for q in 0..<each { mean[q] += bySubject[k][q] } }
            mean = mean.map { $0 / Double(subjects.count) }
            let gradient = Array(mean[(2 + terms.count)...])
            let record = Epoch(epoch: epoch, loss: mean[0], terms: Dictionary(uniqueKeysWithValues: zip(terms, mean[2..<(2 + terms.count)])),
                               fcCorrelation: mean[1], values: values, gradient: gradient)
            progress(record)
            if options.fixedNoise {
                // Every `GradientFit.settlePatience` epochs in a row without a lower loss, in the
                // second half: a smaller step.
                let losses = state.history.map(\.loss) + [record.loss]
                let since = losses.count - 1 - losses.indices.min { losses[$0] < losses[$1] }!
                if since > 0 && since % GradientFit.settlePatience == 0 && 2 * (epoch + 1) > options.epochs {
                    state.adam.learningRate *= 0.5
                }
            }
            state.adam.step(&state.free, gradient: zip(gradient, state.free).map { $0 * transform.derivative($1) })
            state.history.append(record)
            try onEpoch(state)
        }
        if options.fixedNoise {
            let best = state.history.indices.min { state.history[$0].loss < state.history[$1].loss }!
            return Outcome(values: state.history[best].values, fittedEpoch: best, history: state.history)
        }
        let last = state.history.suffix(options.averaged)
        let mean = names.indices.map { q in last.map { $0.values[q] }.reduce(0, +) / Double(last.count) }
        return Outcome(values: mean, fittedEpoch: nil, history: state.history)
    }
}
