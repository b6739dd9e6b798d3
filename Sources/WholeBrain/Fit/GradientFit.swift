import Foundation

/// Fits reduced Wong-Wang parameters to empirical resting-state data by gradient descent with
/// exact gradients (`RWWGradient`) and ADAM: the method of Griffiths et al. (2022) without
/// truncation inside a window and without a shared neural/haemodynamic time step.
///
/// Each parameter moves in an unconstrained coordinate through its `ParameterTransform`;
/// connection gains through `ConnectionGains`; learnable priors through `ParameterPriors`.
/// The loss is  surprise w_s + entropy w_e + time-series w_t + spectrum w_p (from the
/// simulation, `RWWGradient.Objective`) + prior w_pr (on the parameters) + stability w_st
/// (the low-activity state's leading eigenvalue near a target, `StabilityMargin`). Two schemes:
/// - whole run (`window` nil): each epoch simulates the whole duration with the same noise
///   realisation (fixed by the seed) and takes one ADAM step on its exact gradient;
/// - windows of W TRs (the paper's scheme): each epoch runs the transient, then cuts the run
///   into windows of W samples; each window's loss (its FC against the empirical FC) gives one
///   ADAM step, and the state at its end, computed with the parameters before the step, starts
///   the next window. Samples after the last whole window are not used.
/// With held-out data (FC of a part of the scan not fitted), every epoch also scores the
/// simulated FC against it; the fit stops when that score has not improved for `patience`
/// epochs and returns the parameters of the best epoch.
public enum GradientFit {
    /// Epochs in a row without a lower training loss after which `Options.settle` halves the rate.
    public static let settlePatience = 2

    public struct Options: Sendable {
        public var parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)]
        /// Fit symmetric positive gains on every connection.
        public var connectionGains: Bool
        /// The maps that `RWWGradient.Parameter.wPlusSlope` / `.i0Slope` index (nil: none).
        public var maps: RegionalMaps?
        /// Weights of the loss terms; `prior` weights the learnable priors (0: none).
        public var surprise: Double, entropy: Double, timeSeries: Double, spectrum: Double, prior: Double
        /// Narrowest prior width relative to each parameter's starting value (`ParameterPriors`).
        public var priorFloor: Double
        /// Weight of the stability-boundary term (0: off) and its target leading eigenvalue
        /// lambda* (1/ms, negative). Default -0.004 /ms: the low state's leading eigenvalue at
        /// G = 0.59 for subject 101309 with J_i = 2, 10% below G* = 0.652, where the sweep
        /// around G* found the smallest FCD distance and the largest metastability.
        public var stability: Double = 0, stabilityTarget: Double = -0.004
        /// Feedback inhibition control during the fit (target E rate, Hz): every subject's J_i
        /// are retuned (`FeedbackInhibition.localInhibition`) whenever G, w_plus, J_NMDA, I_0
        /// or the connection gains move, as Deco et al. (2014) retuned them for every G, and the
        /// gradient follows them (`FeedbackInhibition.sensitivities`). Nil: J_i stay as given.
        public var feedbackInhibition: Double?
        /// Weight of the regime term (`RWWGradient.Objective.regime`), 0: off.
        public var regime = 0.0
        /// Weight of the FC level term (`FCObjective.meanSquaredError`), 0: off.
        public var fcLevel = 0.0
        /// Weights of the FC mean level (`FCObjective.meanLevel`), BOLD variance
        /// (`BoldFitTerms.varianceDistance`; the target's BOLD must be in model units) and FCD
        /// (`FCDTerm`, against `Target.fcdValues`) terms, 0: off.
        public var fcMean = 0.0, boldVariance = 0.0, fcd = 0.0
        /// Weight of the BOLD level term (`BoldFitTerms.levelDistance`, against `Target.levels`;
        /// BOLD in model units, unfiltered), 0: off.
        public var boldMean = 0.0
        public var fcdSettings = FCDTerm.Settings()
        /// Weight of the expected-FC term (`ExpectedFCTerm`: the FC pattern of the network
        /// linearised at its low state, noise-free), 0: off.
        public var expectedFC = 0.0
        /// Noise-free ADAM steps on the expected-FC term (plus the stability and prior terms)
        /// before the first epoch, moving only what shapes the FC pattern (connection gains,
        /// per-region values, map slopes; G and the other global parameters wait for the
        /// simulated epochs): many exact steps where each simulated epoch gives one noisy one.
        /// Skipped when resuming. 0: none.
        public var shapingSteps = 0
        /// Weight of the connection gains' shrinkage toward 1 (`ConnectionGains.shrinkage`), 0: off.
        public var gainShrinkage = 0.0
        /// After the shaping steps, with feedback inhibition and G fitted: G moves to this
        /// fraction of the shaped network's own G* (the smallest over subjects), and the
        /// stability term's target to the leading eigenvalue there: shaped gains can move G*,
        /// and the model should sit as close to its own edge as the one it started from.
        /// Nil: G and the target stay.
        public var reanchorFraction: Double?
        /// Ranks per subject: the communicator's P ranks form P / B groups of B; a group's ranks
        /// split each of its subjects' networks into B node blocks (`RWWGradient` over the group).
        public var nodeBlocks = 1
        /// Whole-run gradients without held-out data: return the parameters with the lowest
        /// training loss (with a fixed noise realisation the loss is a deterministic function
        /// of the parameters) and, in the second half of the epochs, halve the learning rate
        /// whenever `settlePatience` epochs in a row do not lower it, so ADAM settles on the
        /// minimum instead of circling it a step wide.
        public var settle = true
        /// TRs per window (nil: whole-run gradients).
        public var window: Int?
        public var epochs: Int
        public var learningRate: Double
        public var clipNorm: Double?
        public var checkpointEvery: Int?
        /// Epochs without a better held-out score before stopping (nil: run every epoch).
        public var patience: Int?
        /// Debug: after every step, check that all ranks hold the same parameters (by hash).
        public var checkSynchrony = false
        /// Band-pass (Hz) of the simulated BOLD before the loss and the scores; the targets'
        /// FC and BOLD must be band-passed the same way by the caller.
        public var bandPass: (low: Double, high: Double)?

        /// Every term's name (as in history.csv) and weight, the switched-off ones included.
        public var terms: [(name: String, weight: Double)] {
            [("surprise", surprise), ("fc_level", fcLevel), ("fc_mean", fcMean), ("bold_variance", boldVariance), ("bold_mean", boldMean), ("fcd", fcd),
             ("entropy", entropy), ("timeseries", timeSeries), ("spectrum", spectrum), ("regime", regime), ("stability", stability),
             ("expected_fc", expectedFC)]
        }

        /// Sets every term's weight from `--loss` names (surprise, fc-level, fc-mean, fcd,
        /// bold-variance, bold-mean, entropy, prior, timeseries, spectrum, regime, stability, expected-fc);
        /// a term not named is off.
        public mutating func setWeights(_ w: [String: Double]) {
            surprise = w["surprise"] ?? 0; fcLevel = w["fc-level"] ?? 0; fcMean = w["fc-mean"] ?? 0; fcd = w["fcd"] ?? 0
            boldVariance = w["bold-variance"] ?? 0; boldMean = w["bold-mean"] ?? 0; entropy = w["entropy"] ?? 0; prior = w["prior"] ?? 0
            timeSeries = w["timeseries"] ?? 0; spectrum = w["spectrum"] ?? 0; regime = w["regime"] ?? 0; stability = w["stability"] ?? 0
            expectedFC = w["expected-fc"] ?? 0
        }

        /// The terms computed from a subject's simulation, with these weights, against `target`;
        /// the regime term's target is S_E of the FIC state at `parameters` (every node at the
        /// FIC rate, 3 Hz without FIC).
        public func objective(target: Target, parameters: ReducedWongWang.Parameters) -> RWWGradient.Objective {
            var o = RWWGradient.Objective(empiricalFC: target.fc, empiricalBold: target.bold, surprise: surprise,
                                          entropy: entropy, timeSeries: timeSeries, spectrum: spectrum)
            o.bandPass = bandPass
            o.regime = regime
            o.fcLevel = fcLevel
            o.fcMean = fcMean
            o.boldVariance = boldVariance
            o.boldMean = boldMean
            o.levelTarget = target.levels ?? ([], [])
            o.fcd = fcd
            o.fcdTarget = target.fcdValues ?? []
            o.varianceTarget = target.logVariances ?? []
            o.fcdSettings = fcdSettings
            o.regimeTarget = (try? FeedbackInhibition.targetState(parameters: parameters,
                                                                   rate: feedbackInhibition ?? RWWOperatingPoint.defaultFICRate).sE) ?? 0.161
            return o
        }

        public init(parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)], connectionGains: Bool = false,
                    surprise: Double = 1, entropy: Double = 0, timeSeries: Double = 0, spectrum: Double = 0, prior: Double = 0,
                    priorFloor: Double = 0.1, window: Int? = nil, epochs: Int = 20, learningRate: Double = 0.05,
                    clipNorm: Double? = nil, checkpointEvery: Int? = nil, patience: Int? = nil) {
            self.parameters = parameters
            self.connectionGains = connectionGains
            self.surprise = surprise; self.entropy = entropy; self.timeSeries = timeSeries; self.spectrum = spectrum
            self.prior = prior
            self.priorFloor = priorFloor
            self.window = window
            self.epochs = epochs
            self.learningRate = learningRate
            self.clipNorm = clipNorm
            self.checkpointEvery = checkpointEvery
            self.patience = patience
        }
    }

    /// The data a fit compares with.
    public struct Target: Sendable {
        /// FC of the fitted part of the scan.
        public var fc: Matrix
        /// BOLD of the fitted part, regions x samples (needed by the time-series and spectral terms).
        public var bold: Matrix?
        /// FC of a held-out part of the scan, for early stopping.
        public var heldOutFC: Matrix?
        /// Sorted FCD values of the fitted part (`FCDTerm.targetValues`), for the FCD term, and
        /// its log variance per region (`BoldFitTerms.logVariances`), for the variance term; both
        /// from stretches as long as the simulated ones.
        public var fcdValues: [Double]?, logVariances: [Double]?
        /// Mean and standard deviation of each region's unfiltered BOLD (`BoldFitTerms.levels`),
        /// for the level term.
        public var levels: (mean: [Double], sd: [Double])?

        public init(fc: Matrix, bold: Matrix? = nil, heldOutFC: Matrix? = nil, fcdValues: [Double]? = nil, logVariances: [Double]? = nil,
                    levels: (mean: [Double], sd: [Double])? = nil) {
            self.fc = fc; self.bold = bold; self.heldOutFC = heldOutFC; self.fcdValues = fcdValues; self.logVariances = logVariances
            self.levels = levels
        }
    }

    /// One optimisation step's record.
    public struct Step: Sendable, Codable, Equatable {
        public let epoch: Int
        /// Window index within the epoch (0 for whole-run steps).
        public let window: Int
        public let loss: Double
        /// Unweighted terms, including "prior" when priors are on.
        public let terms: [String: Double]
        public let fcCorrelation: Double
        /// Parameter values before the step, in `Options.parameters` order.
        public let values: [Double]
        public let gradient: [Double]
        /// Mean connection gain before the step (1 without gains).
        public let meanGain: Double
    }

    /// The held-out score of one epoch.
    public struct EpochScore: Sendable, Codable, Equatable {
        public let epoch: Int
        /// FC r of the epoch's simulated BOLD against the fitted part.
        public let trainCorrelation: Double
        /// Against the held-out part (nil without held-out data).
        public let heldOutCorrelation: Double?
    }

    /// Everything needed to continue an interrupted fit exactly where it stopped.
    public struct State: Codable, Equatable, Sendable {
        /// Names of the fitted parameters (and "sc-gains", "priors"), to refuse resuming a different fit.
        public var parameters: [String]
        /// The unconstrained coordinates after the last completed epoch.
        public var free: [Double]
        public var gains: [Double]
        public var priors: ParameterPriors?
        public var adam: Adam
        public var history: [Step]
        public var scores: [EpochScore]
        /// Free coordinates of the best epoch so far (by held-out score).
        public var best: [Double]
        public var bestGains: [Double]
        /// The stability term's target after re-anchoring (`Options.reanchorFraction`), so a
        /// resumed fit keeps it; nil: the options' target.
        public var stabilityTarget: Double? = nil
    }

    /// One noise-free step of the shaping before the first epoch (`Options.shapingSteps`), as
    /// means over subjects: the loss (expected-FC term plus the weighted stability and prior
    /// terms) and r of the expected FC with the target.
    public struct ShapingStep: Sendable, Codable, Equatable {
        public let step: Int
        public let loss: Double, expectedFCCorrelation: Double

        enum CodingKeys: String, CodingKey { case step, loss, expectedFCCorrelation = "expected_fc_r" }
    }

    public struct Outcome {
        /// The noise-free shaping steps before the first epoch (none when resumed).
        public var shaping: [ShapingStep] = []
        /// After the shaping, G set to `Options.reanchorFraction` of the shaped network's G*
        /// (nil: not re-anchored).
        public var reanchored: (g: Double, critical: Double)?
        /// The first subject's spec and the gains right after the shaping (and re-anchoring),
        /// before the first simulated epoch (nil: no shaping).
        public var shaped: (spec: SimulationSpec<ReducedWongWang>, gains: Matrix?)?
        /// The fitted spec of the first subject (the best epoch's with held-out data, else the last).
        public let spec: SimulationSpec<ReducedWongWang>
        /// The fitted spec of every subject (shared parameters, each subject's connectome).
        public let specs: [SimulationSpec<ReducedWongWang>]
        public let history: [Step]
        public let scores: [EpochScore]
        /// The fitted gain matrix (nil without gains).
        public let gains: Matrix?
        public let priors: ParameterPriors?
        /// True when the held-out score stopped the fit before the last epoch.
        public let stoppedEarly: Bool
        /// With held-out data, the (0-based) epoch whose starting parameters `spec` holds: the
        /// one scored best on the held-out part (0: the initial values, nothing the fit did
        /// improved the held-out score). With `Options.settle` and no held-out data, the epoch
        /// with the lowest training loss. Otherwise nil: `spec` holds the values
        /// after the last ADAM step, one step past the last row of `history` (whose rows hold
        /// each step's values before its update).
        public let fittedFromEpochStart: Int?
        /// True when `fittedFromEpochStart` is the epoch of the lowest training loss (`Options.settle`).
        public let fittedByTrainingLoss: Bool
    }

    /// The value of a parameter in a spec (a map slope: the least-squares slope of the per-node
    /// values' offsets from the uniform value along `maps`).
    public static func value(_ q: RWWGradient.Parameter, in spec: SimulationSpec<ReducedWongWang>, maps: RegionalMaps? = nil) -> Double {
        let p = spec.model.parameters
        switch q {
        case .g: return p.g
        case .wPlus: return p.wPlus
        case .jI: return p.jI
        case .jNMDA: return p.jNMDA
        case .i0: return p.i0
        case .sigma: return spec.noise.sigma
        case let .nodeJI(i): return spec.nodeParameters[0][i]
        case let .nodeWPlus(i): return spec.nodeParameters[1][i]
        case let .nodeI0(i): return spec.nodeParameters[2][i]
        case let .wPlusSlope(k): return maps?.slopes(offsets: spec.nodeParameters[1].map { $0 - p.wPlus })[k] ?? 0
        case let .i0Slope(k): return maps?.slopes(offsets: spec.nodeParameters[2].map { $0 - p.i0 })[k] ?? 0
        }
    }

    /// The spec with parameter values (and optionally the connectome weights, seed and duration)
    /// replaced. Per-node w_+ and I_0 keep their offsets from the uniform value when that moves
    /// (uniform values stay uniform, the same bits), then take any per-node values given; a map
    /// slope given (`maps`: needed for slopes) replaces that slope (`value` reads it back).
    public static func spec(_ spec: SimulationSpec<ReducedWongWang>, with values: [(RWWGradient.Parameter, Double)],
                            weights: Matrix? = nil, seed: UInt64? = nil, duration: Double? = nil,
                            maps: RegionalMaps? = nil) throws -> SimulationSpec<ReducedWongWang> {
        var p = spec.model.parameters
        var noise = spec.noise
        var nodeJI = spec.nodeParameters[0]
        let old = p
        var nodeValues: [(RWWGradient.Parameter, Double)] = []
        var wSlopes: [Int: Double] = [:], iSlopes: [Int: Double] = [:]
        for (q, v) in values {
            switch q {
            case .g: p.g = v
            case .wPlus: p.wPlus = v
            case .jI: p.jI = v; nodeJI = nodeJI.map { _ in v }
            case .jNMDA: p.jNMDA = v
            case .i0: p.i0 = v
            case .sigma: noise.sigma = v
            case let .nodeJI(i): nodeJI[i] = v
            case .nodeWPlus, .nodeI0: nodeValues.append((q, v))
            case let .wPlusSlope(k), let .i0Slope(k):
                guard let maps, k < maps.count else {
                    throw WholeBrainError.badValue(source: "fitted parameters", value: q.description, expected: "a regional map \(k + 1) to scale")
                }
                if case .wPlusSlope = q { wSlopes[k] = v } else { iSlopes[k] = v }
            }
        }
        var nodeWPlus = spec.nodeParameters[1].map { p.wPlus + ($0 - old.wPlus) }
        var nodeI0 = spec.nodeParameters[2].map { p.i0 + ($0 - old.i0) }
        for (q, v) in nodeValues {
            if case let .nodeWPlus(i) = q { nodeWPlus[i] = v }
            if case let .nodeI0(i) = q { nodeI0[i] = v }
        }
        /// Sets the given slopes (the others stay as the values' least-squares slopes say).
        func setSlopes(_ given: [Int: Double], of values: inout [Double], uniform: Double) {
            guard let maps, !given.isEmpty else { return }
            let current = maps.slopes(offsets: values.map { $0 - uniform })
            var slopes = current
            for (k, v) in given { slopes[k] = v }
            let change = zip(maps.offsets(slopes: slopes), maps.offsets(slopes: current)).map { $0 - $1 }
            values = zip(values, change).map { $0 + $1 }
        }
        setSlopes(wSlopes, of: &nodeWPlus, uniform: p.wPlus)
        setSlopes(iSlopes, of: &nodeI0, uniform: p.i0)
        let connectome = try weights.map {
            try Connectome(weights: $0, lengths: spec.connectome.lengths, labels: spec.connectome.labels)
        } ?? spec.connectome
        return try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: ["J_i": nodeJI, "w_plus": nodeWPlus, "I_0": nodeI0],
                                  connectome: connectome, coupling: spec.coupling, integrator: spec.integrator,
                                  noise: noise, dt: spec.dt, duration: duration ?? spec.duration, transient: spec.transient, tr: spec.tr,
                                  boldStep: spec.boldStep, conductionSpeed: spec.conductionSpeed, seed: seed ?? spec.seed, boldInput: spec.boldInput,
                                  balloon: spec.balloon, statePeriod: spec.statePeriod, initialState: spec.initialState,
                                  recordBold: spec.recordBold)
    }

    /// The spec with every node's J_i retuned by feedback inhibition for `rate` (Hz) at its
    /// parameters and weights; unchanged when `rate` is nil.
    public static func retuned(_ s: SimulationSpec<ReducedWongWang>, rate: Double?) throws -> SimulationSpec<ReducedWongWang> {
        guard let rate else { return s }
        let ji = try FeedbackInhibition.localInhibition(parameters: s.model.parameters, weights: s.connectome.weights, targetRate: rate,
                                                        wPlus: s.nodeParameters[1], i0: s.nodeParameters[2])
        return try spec(s, with: ji.enumerated().map { (.nodeJI($0), $1) })
    }

    /// The chain rule through feedback inhibition retuned at every evaluation: with J_i =
    /// J_i(G, w_+, J_NMDA, I_0, C) (`FeedbackInhibition.sensitivities`), dL/dtheta gains
    /// sum_i dL/dJ_i dJ_i/dtheta and dL/dC_ij gains dL/dJ_i dJ_i/dC_ij. `byParameter` holds
    /// the adjoint's partial derivatives, including every node's J_i; `gradient` is in the
    /// order of `parameters`.
    public static func foldRetunedInhibition(into gradient: inout [Double], parameters: [RWWGradient.Parameter], weightGradient: inout Matrix?,
                                             byParameter: [RWWGradient.Parameter: Double], spec s: SimulationSpec<ReducedWongWang>, rate: Double,
                                             maps: RegionalMaps? = nil) throws {
        let sens = try FeedbackInhibition.sensitivities(parameters: s.model.parameters, weights: s.connectome.weights, rate: rate,
                                                        wPlus: s.nodeParameters[1], i0: s.nodeParameters[2])
        let dJ = (0..<s.connectome.regionCount).map { byParameter[.nodeJI($0)] ?? 0 }
        func dot(_ a: [Double], _ b: [Double]? = nil) -> Double {
            var total = 0.0
            for i in dJ.indices { total += a[i] * dJ[i] * (b?[i] ?? 1) }
            return total
        }
        for q in parameters.indices {
            switch parameters[q] {
            case .g: gradient[q] += dot(sens.dG)
            case .wPlus: gradient[q] += dot(sens.dWPlus)
            case .jNMDA: gradient[q] += dot(sens.dJNMDA)
            case .i0: gradient[q] += dot(sens.dI0)
            case let .nodeWPlus(i): gradient[q] += sens.dWPlus[i] * dJ[i]
            case let .nodeI0(i): gradient[q] += sens.dI0[i] * dJ[i]
            case let .wPlusSlope(k): gradient[q] += dot(sens.dWPlus, maps?.values[k])
            case let .i0Slope(k): gradient[q] += dot(sens.dI0, maps?.values[k])
            default: break
            }
        }
        if var w = weightGradient {
            for i in 0..<w.rows { for j in 0..<w.columns where s.connectome.weights[i, j] != 0 { w[i, j] += dJ[i] * sens.dWeight[i] } }
            weightGradient = w
        }
    }

    /// Compatibility: fit the FC alone.
    public static func fit(spec initial: SimulationSpec<ReducedWongWang>, empiricalFC: Matrix, options: Options,
                           resume: State? = nil, onEpoch: ((State) throws -> Void)? = nil,
                           progress: ((Step) -> Void)? = nil) throws -> Outcome {
        try fit(spec: initial, target: Target(fc: empiricalFC), options: options, resume: resume, onEpoch: onEpoch, progress: progress)
    }

    /// Runs the optimisation of one subject (continuing `resume` if given); `onEpoch` receives
    /// the state after every epoch, e.g. to save a checkpoint; `progress` every step.
    public static func fit(spec initial: SimulationSpec<ReducedWongWang>, target: Target, options: Options,
                           resume: State? = nil, onEpoch: ((State) throws -> Void)? = nil,
                           progress: ((Step) -> Void)? = nil) throws -> Outcome {
        try fit(subjects: [(initial, target)], options: options, resume: resume, onEpoch: onEpoch, progress: progress)
    }

    /// A group-level fit: parameters shared by several subjects (each with its own connectome
    /// and data), the loss and its gradient averaged over subjects. Subjects are spread over
    /// the ranks of `communicator` (subject s on rank s mod P); every step the ranks exchange
    /// their subjects' losses and gradients and add them up in subject order, so every rank
    /// takes the same ADAM step and the result is the same bits for any number of ranks.
    /// Connection gains are shared too, so the subjects' connectomes must have the same
    /// connected pairs. Parameter starting values are those of the first subject's spec.
    public static func fit(subjects: [(spec: SimulationSpec<ReducedWongWang>, target: Target)], options: Options,
                           communicator: Communicator = SerialCommunicator(), resume: State? = nil,
                           onEpoch: ((State) throws -> Void)? = nil, progress: ((Step) -> Void)? = nil) throws -> Outcome {
        guard let initial = subjects.first?.spec else {
            throw WholeBrainError.badValue(source: "subjects", value: "none", expected: "at least one subject to fit")
        }
        let parameters = options.parameters
        let names = parameters.map { $0.parameter.description } + (options.connectionGains ? ["sc-gains"] : [])
            + (options.prior != 0 ? ["priors"] : [])
        let gainMap = options.connectionGains ? ConnectionGains(connectome: initial.connectome.weights) : nil
        if let gainMap {
            for (k, subject) in subjects.enumerated()
            where ConnectionGains(connectome: subject.spec.connectome.weights).pairs.map({ [$0.i, $0.j] }) != gainMap.pairs.map({ [$0.i, $0.j] }) {
                throw WholeBrainError.badValue(source: "sc-gains", value: "subject \(k + 1)",
                                               expected: "connectomes with the same connected pairs for shared connection gains")
            }
        }
        let maps = options.maps
        if let q = parameters.first(where: { $0.parameter.isMapSlope }), maps == nil {
            throw WholeBrainError.badValue(source: "fitted parameters", value: q.parameter.description, expected: "regional maps for map slopes")
        }
        let initialValues = parameters.map { value($0.parameter, in: initial, maps: maps) }
        var u = zip(parameters, initialValues).map { $0.transform.inverse($1) }
        var gains = gainMap?.unitFree ?? []
        var priors = options.prior != 0 ? ParameterPriors(values: initialValues, relativeFloor: options.priorFloor) : nil
        let count = u.count + gains.count + (priors.map { 2 * $0.means.count } ?? 0)
        var adam = Adam(parameters: count, learningRate: options.learningRate, clipNorm: options.clipNorm)
        var history: [Step] = [], scores: [EpochScore] = []
        var best = u, bestGains = gains
        if let resume {
            guard resume.parameters == names, resume.free.count == u.count, resume.gains.count == gains.count else {
                throw WholeBrainError.badValue(source: "--resume", value: resume.parameters.joined(separator: ","),
                                               expected: "a checkpoint of the same fit (\(names.joined(separator: ",")))")
            }
            u = resume.free; gains = resume.gains; priors = resume.priors; adam = resume.adam
            history = resume.history; scores = resume.scores; best = resume.best; bestGains = resume.bestGains
        }
        // Per subject: the last low state (to notice a jump to another branch) and the last
        // eigenvalue gradient. Newton always starts from the same point, so the term does not
        // depend on the history (resume and any number of ranks give the same bits).
        var lowStates = [[Double]?](repeating: nil, count: subjects.count)
        var lastMargins = [StabilityMargin.Evaluation?](repeating: nil, count: subjects.count)
        if let w = options.window {
            guard w >= 3, w <= initial.sampleCount else {
                throw WholeBrainError.badValue(source: "--window", value: "\(w)",
                                               expected: "3 to \(initial.sampleCount) TRs (the samples in one run)")
            }
        }
        let subjectGains = subjects.map { subject in gainMap.map { _ in ConnectionGains(connectome: subject.spec.connectome.weights) } }
        if let band = options.bandPass {
            // Every stretch the loss sees must keep some frequency of the band.
            let samples = options.window ?? initial.sampleCount
            let m = samples + 2 * BandPass.padding(samples), fs = 1 / initial.tr
            guard (1...(m / 2)).contains(where: { k in (band.low...band.high).contains(Double(k) * fs / Double(m)) }) else {
                throw WholeBrainError.badValue(source: "--bandpass", value: "\(band.low),\(band.high)",
                                               expected: "a band that \(samples) samples at TR \(initial.tr) s can resolve (a longer --window or --duration)")
            }
        }
        if options.feedbackInhibition != nil, parameters.contains(where: { $0.parameter.isNodeJI || $0.parameter == .jI }) {
            throw WholeBrainError.badValue(source: "fitted parameters", value: "J_i", expected: "no J_i while feedback inhibition retunes them (fit without FIC to fit J_i)")
        }
        func current(_ u: [Double], _ gains: [Double], subject k: Int) throws -> SimulationSpec<ReducedWongWang> {
            let values = zip(parameters, u).map { $0.transform.value($1) }
            return try retuned(try spec(subjects[k].spec, with: zip(parameters.map(\.parameter), values).map { ($0, $1) },
                                        weights: subjectGains[k]?.weights(gains), maps: maps), rate: options.feedbackInhibition)
        }
        let n = initial.connectome.regionCount
        /// What the adjoint is asked for: map slopes go through every node's own w_+ or I_0.
        var adjointParameters: [RWWGradient.Parameter] = []
        for q in parameters.map(\.parameter) {
            let expanded: [RWWGradient.Parameter]
            switch q {
            case .wPlusSlope: expanded = (0..<n).map { .nodeWPlus($0) }
            case .i0Slope: expanded = (0..<n).map { .nodeI0($0) }
            default: expanded = [q]
            }
            for e in expanded where !adjointParameters.contains(e) { adjointParameters.append(e) }
        }
        /// dL/dq from the adjoint's partial derivatives (a map slope: sum_i m_k,i dL/dtheta_i).
        func derivative(_ q: RWWGradient.Parameter, _ byParameter: [RWWGradient.Parameter: Double]) -> Double {
            switch q {
            case let .wPlusSlope(k): return (0..<n).reduce(0) { $0 + maps!.values[k][$1] * byParameter[.nodeWPlus($1)]! }
            case let .i0Slope(k): return (0..<n).reduce(0) { $0 + maps!.values[k][$1] * byParameter[.nodeI0($1)]! }
            default: return byParameter[q]!
            }
        }
        /// With live FIC: the gradient asked of the adjoint also covers every node's J_i, which
        /// `foldFeedback` then carries into the fitted parameters and connection weights.
        let requested = adjointParameters + (options.feedbackInhibition != nil ? (0..<n).map { .nodeJI($0) } : [])
        func foldFeedback(_ gradient: inout [Double], _ weightGradient: inout Matrix?, byParameter: [RWWGradient.Parameter: Double],
                          spec s: SimulationSpec<ReducedWongWang>) throws {
            guard let rate = options.feedbackInhibition else { return }
            try GradientFit.foldRetunedInhibition(into: &gradient, parameters: parameters.map(\.parameter), weightGradient: &weightGradient,
                                                  byParameter: byParameter, spec: s, rate: rate, maps: maps)
        }
        let objectives = subjects.map { options.objective(target: $0.target, parameters: $0.spec.model.parameters) }
        let termNames = options.terms.filter { $0.weight != 0 }.map(\.name)
        guard options.stability == 0 || options.stabilityTarget < 0 else {
            throw WholeBrainError.badValue(source: "stability target", value: "\(options.stabilityTarget)",
                                           expected: "a negative leading eigenvalue (1/ms) for a stable low state, e.g. -0.004")
        }

        var stabilityTarget = resume?.stabilityTarget ?? options.stabilityTarget
        let ranks = communicator.size, blocks = options.nodeBlocks
        guard blocks >= 1, ranks % blocks == 0 else {
            throw WholeBrainError.badValue(source: "--node-blocks", value: "\(blocks)",
                                           expected: "a divisor of the number of ranks (\(ranks)): the ranks form groups of that many")
        }
        // Subject s goes to group s mod S; the group's first rank reports its subjects' numbers.
        let groupCount = ranks / blocks, groupIndex = communicator.rank / blocks
        let group = blocks == 1 ? SerialCommunicator() : communicator.split(color: groupIndex, key: communicator.rank)
        let leads = group.rank == 0
        let mine = subjects.indices.filter { $0 % groupCount == groupIndex }
        let perRank = (0..<ranks).map { r in r % blocks == 0 ? subjects.indices.filter { $0 % groupCount == r / blocks } : [] }
        let hasHeldOut = subjects.allSatisfy { $0.target.heldOutFC != nil }
        let settling = options.settle && options.window == nil && !hasHeldOut
        /// Per-subject numbers from every rank, in subject order.
        func exchange(_ packed: [Double], each: Int) -> [[Double]] {
            let all = communicator.allGather(leads ? packed : [], counts: perRank.map { $0.count * each })
            var bySubject = [[Double]](repeating: [], count: subjects.count)
            var offset = 0
            for r in 0..<ranks { for k in perRank[r] { bySubject[k] = Array(all[offset..<(offset + each)]); offset += each } }
            return bySubject
        }
        /// The stability term of subject k at its current spec: L_stab, dL/dlambda and the
        /// eigenvalue's gradient (beyond the fold: L at the boundary, the last gradient found).
        func stabilityTerm(spec: SimulationSpec<ReducedWongWang>, subject k: Int) throws
            -> (value: Double, derivative: Double, evaluation: StabilityMargin.Evaluation) {
            let found = try StabilityMargin.evaluate(spec: spec, parameters: requested,
                                                     weightGradient: gainMap != nil)
            // A state far from the last one is another branch: the low state has ended.
            let jumped = found.map { e in lowStates[k].map { last in
                zip(e.state.prefix(n), last.prefix(n)).map { abs($0 - $1) }.max() ?? 0 > 0.1
            } ?? false } ?? true
            if let found, !jumped, found.eigenvalue.real < 0 {
                lowStates[k] = found.state
                lastMargins[k] = found
                let term = StabilityMargin.term(eigenvalue: found.eigenvalue.real, target: stabilityTarget)
                return (term.value, term.derivative, found)
            }
            guard let last = lastMargins[k] else {
                throw WholeBrainError.badValue(source: "stability term", value: "subject \(k + 1) at the starting parameters",
                                               expected: "a stable low-activity state to keep near the boundary (lower G or raise J_i)")
            }
            let term = StabilityMargin.term(eigenvalue: 0, target: stabilityTarget)
            return (term.value, term.derivative, last)
        }
        /// The expected-FC term of subject k at its current spec.
        func expectedFCTerm(spec: SimulationSpec<ReducedWongWang>, subject k: Int) throws -> ExpectedFCTerm.Evaluation {
            guard let e = try ExpectedFCTerm.evaluate(spec: spec, target: subjects[k].target.fc, parameters: requested,
                                                      weightGradient: gainMap != nil) else {
                throw WholeBrainError.badValue(source: "expected-fc term", value: "subject \(k + 1) (no stable low-activity state)",
                                               expected: "a stable low state whose stationary FC to compare (lower G, or add the stability term)")
            }
            return e
        }
        /// Adds scale times a term's partial derivatives (stability, expected FC) to the adjoint's.
        func add(_ gradient: [RWWGradient.Parameter: Double], _ termWeights: Matrix?, scale: Double,
                 to byParameter: inout [RWWGradient.Parameter: Double], _ weightGradient: inout Matrix?) {
            for q in requested { byParameter[q, default: 0] += scale * (gradient[q] ?? 0) }
            if var w = weightGradient, let dw = termWeights {
                for q in w.values.indices { w.values[q] += scale * dw.values[q] }
                weightGradient = w
            }
        }
        /// Every subject's packed numbers from every rank (after agreeing on any failure), as
        /// means over subjects added in subject order.
        func subjectMeans(_ packed: [Double], each: Int, failure: Error?) throws -> [Double] {
            try communicator.agree(failure)
            let bySubject = exchange(packed, each: each)
            var mean = [Double](repeating: 0, count: each)
            for k in subjects.indices { for q in 0..<each { mean[q] += bySubject[k][q] } }
            return mean.map { $0 / Double(subjects.count) }
        }
        var shaping: [ShapingStep] = []
        var reanchored: (g: Double, critical: Double)?
        var shaped: (spec: SimulationSpec<ReducedWongWang>, gains: Matrix?)?
        if resume == nil && options.shapingSteps > 0 {
            // Noise-free steps on the expected FC: only what shapes the pattern moves.
            let moving = parameters.indices.filter { parameters[$0].parameter.isRegional }
            guard !moving.isEmpty || gainMap != nil else {
                throw WholeBrainError.badValue(source: "shaping steps", value: "\(options.shapingSteps) with \(names.joined(separator: ","))",
                                               expected: "connection gains or regional parameters (per-region values, map slopes) to shape the FC pattern")
            }
            var shapingAdam = Adam(parameters: u.count + gains.count, learningRate: options.learningRate, clipNorm: options.clipNorm)
            let each = 2 + parameters.count + (gainMap?.pairs.count ?? 0)
            for index in 0..<options.shapingSteps {
                var packed: [Double] = []
                var failure: Error?
                for k in mine {
                    do {
                        let subjectSpec = try current(u, gains, subject: k)
                        let e = try expectedFCTerm(spec: subjectSpec, subject: k)
                        var loss = e.value, byParameter: [RWWGradient.Parameter: Double] = [:]
                        var weightGradient: Matrix? = gainMap.map { _ in Matrix(rows: n, columns: n) }
                        add(e.gradient, e.weightGradient, scale: 1, to: &byParameter, &weightGradient)
                        if options.stability != 0 {
                            let margin = try stabilityTerm(spec: subjectSpec, subject: k)
                            loss += options.stability * margin.value
                            let scale = options.stability * margin.derivative
                            add(margin.evaluation.gradient, margin.evaluation.weightGradient, scale: scale, to: &byParameter, &weightGradient)
                        }
                        var gradient = parameters.map { derivative($0.parameter, byParameter) }
                        try foldFeedback(&gradient, &weightGradient, byParameter: byParameter, spec: subjectSpec)
                        packed += [loss, e.correlation] + gradient + (subjectGains[k]?.gainGradient(weightGradient: weightGradient!) ?? [])
                    } catch {
                        failure = failure ?? error
                        packed += [Double](repeating: .nan, count: each)
                    }
                }
                let mean = try subjectMeans(packed, each: each, failure: failure)
                let values = zip(parameters, u).map { $0.transform.value($1) }
                var gradient = Array(mean[2..<(2 + parameters.count)])
                var loss = mean[0]
                if let priors, options.prior != 0 {
                    let term = priors.evaluate(values)
                    loss += options.prior * term.value
                    for k in gradient.indices { gradient[k] += options.prior * term.parameters[k] }
                }
                var all = [Double](repeating: 0, count: u.count)
                for q in moving { all[q] = parameters[q].transform.derivative(u[q]) * gradient[q] }
                if let map = gainMap {
                    all += map.freeGradient(gains, gainGradient: Array(mean[(2 + parameters.count)..<each]))
                    if options.gainShrinkage != 0 {
                        let shrink = map.shrinkage(gains)
                        loss += options.gainShrinkage * shrink.value
                        for q in gains.indices { all[u.count + q] += options.gainShrinkage * shrink.freeGradient[q] }
                    }
                }
                shaping.append(ShapingStep(step: index, loss: loss, expectedFCCorrelation: mean[1]))
                progress?(Step(epoch: -1, window: index, loss: loss, terms: ["expected_fc": 1 - mean[1]], fcCorrelation: mean[1],
                               values: values, gradient: gradient, meanGain: gains.isEmpty ? 1
                                   : gains.map { ConnectionGains.transform.value($0) }.reduce(0, +) / Double(gains.count)))
                var free = u + gains
                shapingAdam.step(&free, gradient: all)
                u = Array(free[0..<u.count])
                gains = Array(free[u.count...])
            }
            if let fraction = options.reanchorFraction, let rate = options.feedbackInhibition,
               let gIndex = parameters.firstIndex(where: { $0.parameter == .g }) {
                // Every rank computes the same numbers for every subject (no exchange needed).
                var critical: [Double] = []
                for k in subjects.indices {
                    let s = try current(u, gains, subject: k)
                    guard let c = try FeedbackInhibition.criticalCoupling(parameters: s.model.parameters, weights: s.connectome.weights, rate: rate,
                                                                          wPlus: s.nodeParameters[1], i0: s.nodeParameters[2]) else { continue }
                    critical.append(c.value)
                }
                if let smallest = critical.min() {
                    u[gIndex] = parameters[gIndex].transform.inverse(fraction * smallest)
                    let anchored = try current(u, gains, subject: 0)
                    if options.stability != 0, let low = try StabilityMargin.evaluate(spec: anchored, parameters: []), low.eigenvalue.real < 0 {
                        stabilityTarget = low.eigenvalue.real
                    }
                    reanchored = (fraction * smallest, smallest)
                }
            }
            best = u; bestGains = gains
            shaped = (try current(u, gains, subject: 0), gainMap.map { $0.gains(gains) })
        }
        var stoppedEarly = false
        let workspace = GradientWorkspace()
        for epoch in scores.count..<max(options.epochs, scores.count) {
            var epochBold = [[Matrix]](repeating: [], count: subjects.count)
            let epochStart = (u, gains)
            var states = [RWWGradient.State?](repeating: nil, count: subjects.count)
            // One ADAM step from the current parameters, `steps` steps from each subject's state.
            func step(window: Int, steps: Int?) throws {
                let values = zip(parameters, u).map { $0.transform.value($1) }
                let each = 2 + termNames.count + parameters.count + (gainMap?.pairs.count ?? 0)
                var packed: [Double] = []
                var failure: Error?
                for k in mine {
                    do {
                        let subjectSpec = try current(u, gains, subject: k)
                        let result = try RWWGradient.lossAndGradient(
                            spec: subjectSpec, objective: objectives[k], parameters: requested,
                            weightGradient: gainMap != nil, checkpointEvery: options.checkpointEvery, from: states[k], steps: steps,
                            communicator: group, workspace: workspace)
                        states[k] = result.end
                        epochBold[k].append(result.bold)
                        var loss = result.loss, terms = result.terms
                        var byParameter = result.gradient
                        var weightGradient = result.weightGradient
                        if options.stability != 0 {
                            let margin = try stabilityTerm(spec: subjectSpec, subject: k)
                            loss += options.stability * margin.value
                            terms["stability"] = margin.value
                            let scale = options.stability * margin.derivative
                            add(margin.evaluation.gradient, margin.evaluation.weightGradient, scale: scale, to: &byParameter, &weightGradient)
                        }
                        if options.expectedFC != 0 {
                            let e = try expectedFCTerm(spec: subjectSpec, subject: k)
                            loss += options.expectedFC * e.value
                            terms["expected_fc"] = e.value
                            add(e.gradient, e.weightGradient, scale: options.expectedFC, to: &byParameter, &weightGradient)
                        }
                        var gradient = parameters.map { derivative($0.parameter, byParameter) }
                        try foldFeedback(&gradient, &weightGradient, byParameter: byParameter, spec: subjectSpec)
                        packed += [loss, result.fcCorrelation] + termNames.map { terms[$0]! } + gradient
                            + (subjectGains[k]?.gainGradient(weightGradient: weightGradient!) ?? [])
                    } catch {
                        failure = failure ?? error
                        packed += [Double](repeating: .nan, count: each)
                    }
                }
                let mean = try subjectMeans(packed, each: each, failure: failure)
                var loss = mean[0]
                var terms = Dictionary(uniqueKeysWithValues: termNames.enumerated().map { ($1, mean[2 + $0]) })
                var gradient = Array(mean[(2 + termNames.count)..<(2 + termNames.count + parameters.count)])
                var priorMeans: [Double] = [], priorLogPrecisions: [Double] = []
                if let priors {
                    let term = priors.evaluate(values)
                    loss += options.prior * term.value
                    terms["prior"] = term.value
                    for k in gradient.indices { gradient[k] += options.prior * term.parameters[k] }
                    // Means move in their parameter's free coordinate, like the parameter itself.
                    priorMeans = parameters.indices.map { k in
                        options.prior * term.means[k] * parameters[k].transform.derivative(parameters[k].transform.inverse(priors.means[k]))
                    }
                    priorLogPrecisions = term.logPrecisions.map { options.prior * $0 }
                }
                if let map = gainMap, options.gainShrinkage != 0 {
                    let value = map.shrinkage(gains).value
                    loss += options.gainShrinkage * value
                    terms["sc_gain_shrinkage"] = value
                }
                let meanGain = gainMap.map { map in map.pairs.isEmpty ? 1 : gains.map { ConnectionGains.transform.value($0) }.reduce(0, +) / Double(gains.count) } ?? 1
                let record = Step(epoch: epoch, window: window, loss: loss, terms: terms, fcCorrelation: mean[1],
                                  values: values, gradient: gradient, meanGain: meanGain)
                history.append(record)
                progress?(record)
                // Chain rule through the transforms, then one ADAM step on every free coordinate.
                var all = zip(zip(parameters, u), gradient).map { $0.0.transform.derivative($0.1) * $1 }
                if let map = gainMap {
                    let start = 2 + termNames.count + parameters.count
                    all += map.freeGradient(gains, gainGradient: Array(mean[start..<(start + map.pairs.count)]))
                    if options.gainShrinkage != 0 {
                        let shrink = map.shrinkage(gains)
                        for q in gains.indices { all[u.count + q] += options.gainShrinkage * shrink.freeGradient[q] }
                    }
                }
                all += priorMeans + priorLogPrecisions
                let priorFree = priors.map { p in parameters.indices.map { parameters[$0].transform.inverse(p.means[$0]) } + p.logPrecisions }
                var free = u + gains + (priorFree ?? [])
                adam.step(&free, gradient: all)
                if options.checkSynchrony && ranks > 1 {
                    // FNV-1a over the bits of every free coordinate, compared across ranks.
                    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                    for x in free { hash = (hash ^ x.bitPattern) &* 0x100_0000_01b3 }
                    let hashes = communicator.allGather([Double(bitPattern: hash)], counts: [Int](repeating: 1, count: ranks))
                    guard Set(hashes.map(\.bitPattern)).count == 1 else {
                        throw WholeBrainError.badValue(source: "--check-sync", value: "epoch \(epoch + 1), window \(window + 1)",
                                                       expected: "identical parameters on every rank (hashes differ: a bug)")
                    }
                }
                u = Array(free[0..<u.count])
                gains = Array(free[u.count..<(u.count + gains.count)])
                if var p = priors {
                    let k = p.means.count, offset = u.count + gains.count
                    p.means = (0..<k).map { parameters[$0].transform.value(free[offset + $0]) }
                    p.logPrecisions = Array(free[(offset + k)..<(offset + 2 * k)])
                    priors = p
                }
            }
            if let w = options.window {
                for k in mine { states[k] = RWWGradient.advance(spec: try current(u, gains, subject: k), steps: initial.transientSteps) }
                for window in 0..<(initial.sampleCount / w) { try step(window: window, steps: w * initial.stepsPerTR) }
            } else {
                try step(window: 0, steps: nil)
                if settling {
                    // The loss just recorded is that of the epoch's starting parameters; in the
                    // second half of the epochs the rate halves after every second epoch in a
                    // row without a new lowest loss (the first half explores at the full rate).
                    let bestIndex = history.indices.min { history[$0].loss < history[$1].loss }!
                    let since = history.count - 1 - bestIndex
                    if since == 0 {
                        (best, bestGains) = epochStart
                    } else if since % Self.settlePatience == 0 && 2 * (epoch + 1) > options.epochs {
                        adam.learningRate *= 0.5
                    }
                }
            }
            // Score each subject's simulated BOLD of the epoch (all its windows) against both parts of its scan.
            var packed: [Double] = []
            for k in mine {
                var bold = Matrix(rows: epochBold[k].reduce(0) { $0 + $1.rows }, columns: n)
                var row = 0
                for b in epochBold[k] { for r in 0..<b.rows { for c in 0..<b.columns { bold[row, c] = b[r, c] }; row += 1 } }
                let filtered = options.bandPass.map {
                    BandPass.filter(regionsByTime: bold.transposed, fs: 1 / initial.tr, low: $0.low, high: $0.high)
                } ?? bold.transposed
                let fc = FunctionalConnectivity.pearson(regionsByTime: filtered)
                packed += [FunctionalConnectivity.similarity(fc, subjects[k].target.fc),
                           subjects[k].target.heldOutFC.map { FunctionalConnectivity.similarity(fc, $0) } ?? .nan]
            }
            let perSubject = exchange(packed, each: 2)
            let train = perSubject.reduce(0) { $0 + $1[0] } / Double(subjects.count)
            let heldOut: Double? = hasHeldOut ? perSubject.reduce(0) { $0 + $1[1] } / Double(subjects.count) : nil
            // The parameters scored are those the epoch started with.
            if let heldOut, scores.allSatisfy({ heldOut > ($0.heldOutCorrelation ?? -.infinity) }) {
                (best, bestGains) = epochStart
            }
            scores.append(EpochScore(epoch: epoch, trainCorrelation: train, heldOutCorrelation: heldOut))
            if !hasHeldOut && !settling { best = u; bestGains = gains }
            try onEpoch?(State(parameters: names, free: u, gains: gains, priors: priors, adam: adam, history: history,
                               scores: scores, best: best, bestGains: bestGains,
                               stabilityTarget: stabilityTarget == options.stabilityTarget ? nil : stabilityTarget))
            if let patience = options.patience, hasHeldOut,
               let bestEpoch = scores.indices.first(where: { k in scores.allSatisfy { $0.heldOutCorrelation! <= scores[k].heldOutCorrelation! } }),
               scores.count - 1 - bestEpoch >= patience {
                stoppedEarly = epoch + 1 < options.epochs
                break
            }
        }
        if !hasHeldOut && !settling { best = u; bestGains = gains }
        let lowestLoss = settling ? history.indices.min { history[$0].loss < history[$1].loss } : nil
        return Outcome(shaping: shaping, reanchored: reanchored, shaped: shaped, spec: try current(best, bestGains, subject: 0), specs: try subjects.indices.map { try current(best, bestGains, subject: $0) },
                       history: history, scores: scores, gains: gainMap.map { $0.gains(bestGains) }, priors: priors,
                       stoppedEarly: stoppedEarly,
                       fittedFromEpochStart: hasHeldOut ? scores.indices.first { k in scores.allSatisfy { $0.heldOutCorrelation! <= scores[k].heldOutCorrelation! } }
                           : lowestLoss.map { history[$0].epoch },
                       fittedByTrainingLoss: settling)
    }
}
