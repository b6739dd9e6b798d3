import Foundation

/// A train / validation / test protocol over subjects, after Kong et al. (2021, pMFM): the
/// model is fitted to the training subjects as a group (their averaged connectome and mean FC),
/// each candidate model is scored on the validation subjects and the best one in the
/// low-activity regime is chosen, and only that one is scored on the test subjects, which no
/// step before has seen.
///
/// Scores are FC r and FCD KS (`DataCeiling.Features`: FC of raw BOLD, FCD of 0.01-0.1 Hz
/// BOLD in 60-TR windows every 10) of runs with fresh noise seeds against each subject, as a
/// mean and spread over seeds and subjects, printed beside the data's own ceiling (the
/// training subjects' pooled data scored against the same subjects) and beside the baseline
/// (the homogeneous model, G alone). A candidate is chosen by Kong's cost, (1 - FC r) + FCD KS
/// on validation, among those whose validation runs stay in the low-activity state (mean
/// excitatory rate 1-10 Hz, no region's mean above `Settings.regionRateLimit`); none
/// qualifying is said, and the lowest cost is taken.
public enum HeldOutProtocol {
    public struct Split: Codable, Sendable, Equatable {
        public var train: [String], validation: [String], test: [String]

        public init(train: [String], validation: [String], test: [String]) {
            self.train = train; self.validation = validation; self.test = test
        }

        /// A seeded shuffle (Fisher-Yates on SplitMix64), then the first `train`, the next
        /// `validation` and the next `test` subjects.
        public init(subjects: [String], train: Int, validation: Int, test: Int, seed: UInt64) throws {
            guard train >= 1, validation >= 1, test >= 1, train + validation + test <= subjects.count else {
                throw WholeBrainError.badValue(source: "split", value: "\(train) train, \(validation) validation, \(test) test",
                                               expected: "at least one subject in each part and at most \(subjects.count) in all")
            }
            let order = Split.shuffled(subjects, seed: seed)
            self.train = Array(order[0..<train])
            self.validation = Array(order[train..<(train + validation)])
            self.test = Array(order[(train + validation)..<(train + validation + test)])
        }

        /// The subjects in a seeded order: sorted, then a Fisher-Yates shuffle on SplitMix64.
        static func shuffled(_ subjects: [String], seed: UInt64) -> [String] {
            var order = subjects.sorted()
            var state = seed
            func next() -> UInt64 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) }
            return order
        }
    }

    /// A model to fit: which parameters move (from 0.9 G* of the training group's FIC network).
    public struct Candidate: Sendable {
        public let name: String
        public let parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)]
        public let connectionGains: Bool

        public init(name: String, parameters: [(parameter: RWWGradient.Parameter, transform: ParameterTransform)], connectionGains: Bool) {
            self.name = name; self.parameters = parameters; self.connectionGains = connectionGains
        }

        /// The baseline: the homogeneous model, G alone.
        public static let baseline = Candidate(name: "G", parameters: [(.g, .positive)], connectionGains: false)
        /// G and a gain on every connection.
        public static let connectionGains = Candidate(name: "G,sc-gains", parameters: [(.g, .positive)], connectionGains: true)
        /// Regional heterogeneity (Kong et al. 2021; Demirtas et al. 2019): G and the slopes of
        /// w_+ and I_0 along each regional map (`Context.maps`: the training group's FC gradient
        /// unless `Settings.mapSources` says otherwise).
        public static func regional(maps: Int) -> Candidate {
            Candidate(name: regionalName,
                      parameters: [(.g, .positive)] + (0..<maps).map { (.wPlusSlope($0), RegionalMaps.slopeTransform(uniform: "w_plus")) }
                          + (0..<maps).map { (.i0Slope($0), RegionalMaps.slopeTransform(uniform: "I_0")) },
                      connectionGains: false)
        }
        public static let regionalName = "G,w_plus-map,I_0-map"
        /// The candidates `wholebrain protocol` and a protocol job fit unless told otherwise.
        public static let defaultList = "G;G,sc-gains;G,w_plus-map,I_0-map"

        /// Whether the candidate shapes the FC pattern (gains or regional parameters), so that
        /// the fit includes the FC surprise (`LossSelection`).
        public var shapesPattern: Bool { connectionGains || parameters.contains { $0.parameter.isRegional } }
    }

    public struct Settings: Sendable {
        /// Epochs, learning rate and seconds simulated per epoch of each fit.
        public var epochs = 10, learningRate = 0.05, duration = 120.0
        /// TRs per ADAM step (`GradientFit.Options.window`; nil: one whole-run step per epoch).
        /// Windows give many steps per simulated second, each on a noisier FC.
        public var window: Int?
        public var transient = SimulationDefaults.transient, tr = 0.72, speed = 20.0
        /// Weight of the stability term: it keeps the low state's leading eigenvalue where it
        /// started (0.9 G*), so the fit cannot climb over the edge of the low-activity regime.
        public var stability = 1.0
        /// Feedback inhibition's target rate (Hz) and the starting fraction of G*.
        public var ficRate = 3.0, criticalFraction = 0.9
        /// The highest mean E rate a region may show over a run in the low-activity state: twice
        /// the rate feedback inhibition holds every region's low state at. Measured on the 4
        /// folds: 3.1-3.2 Hz in runs that stay low; 7.6 Hz in the one run whose network mean
        /// rose to 4.9 Hz as regions went up for part of it (a mean rule of 1-10 Hz misses it).
        public var regionRateLimit: Double { 2 * ficRate }
        /// The fit's noise seed; evaluation runs use `evaluationSeeds` seeds after seed + 1000.
        public var seed: UInt64 = 1, evaluationSeeds = 3
        /// Seconds of each evaluation run (nil: as long as the scans).
        public var evaluationDuration: Double?
        /// The regional candidate's maps (`RegionalMaps.load`): fc-gradient is the training
        /// group's mean FC's principal gradient (no validation or test data in it).
        public var mapSources = [RegionalMaps.fcGradientName]
        /// For candidates that shape the FC pattern: noise-free steps on the expected FC before
        /// the first epoch (`GradientFit.Options.shapingSteps`; 300 take about 2.5 minutes at
        /// 80 regions), and the expected-FC term in place of the surprise in the epochs. Each
        /// simulated epoch gives one ADAM step on an FC as noisy as the pattern to learn
        /// (README, held-out subjects); the expected FC gives exact steps without noise.
        public var shapingSteps = 300, expectedFC = true
        /// Simulated epochs after the shaping for the candidates that shape the FC pattern
        /// (nil: `epochs`, as for the others; 0: the shaped gains at the re-anchored G).
        public var shapedEpochs: Int?
        /// Weight of the connection gains' shrinkage toward 1 (`ConnectionGains.shrinkage`):
        /// without it, 300 steps took single gains to 17 and others to 0.01.
        public var gainShrinkage = 0.2
        public var features = DataCeiling.Options()

        public init() {}
    }

    /// Scores of one model against a set of subjects over several noise seeds.
    public struct Scores: Codable, Sendable {
        /// [subject][seed] scores.
        public let bySubject: [String: [DataCeiling.Score]]
        /// Mean excitatory rate (Hz) of each seed's run.
        public let meanRateE: [Double]
        /// The highest region's mean excitatory rate (Hz) in each seed's run (nil: a file from
        /// before it was recorded). A network whose mean is in range can still have regions that
        /// left the low state (one shaped run: mean 4.9 Hz over 80 regions).
        public let maxRegionRateE: [Double]?

        public init(bySubject: [String: [DataCeiling.Score]], meanRateE: [Double], maxRegionRateE: [Double]? = nil) {
            self.bySubject = bySubject; self.meanRateE = meanRateE; self.maxRegionRateE = maxRegionRateE
        }

        public var all: [DataCeiling.Score] { bySubject.keys.sorted().flatMap { bySubject[$0]! } }
        public var fcR: (mean: Double, sd: Double) { Self.meanAndSD(all.map(\.fcR)) }
        public var fcdKS: (mean: Double, sd: Double) { Self.meanAndSD(all.map(\.fcdKS)) }
        /// Kong's cost, (1 - FC r) + FCD KS, of the means.
        public var cost: Double { 1 - fcR.mean + fcdKS.mean }
        /// Every run in the low-activity state: mean E rate 1-10 Hz, and no region's mean E rate
        /// above `regionLimit` (`Settings.regionRateLimit`).
        public func lowActivity(regionLimit: Double) -> Bool { regimeProblem(regionLimit: regionLimit).isEmpty }
        /// Why the runs are not in the low-activity state ("": they are).
        public func regimeProblem(regionLimit: Double) -> String {
            if let bad = meanRateE.first(where: { !(1...10).contains($0) }) { return String(format: "a run's mean E rate %.2f Hz is outside 1-10 Hz", bad) }
            if let bad = maxRegionRateE?.first(where: { $0 > regionLimit }) {
                return String(format: "a run's highest regional mean E rate is %.1f Hz, above %.1f Hz: regions left the low state for part of the run", bad, regionLimit)
            }
            return ""
        }

        static func meanAndSD(_ x: [Double]) -> (mean: Double, sd: Double) {
            let m = x.reduce(0, +) / Double(max(x.count, 1))
            return (m, x.count > 1 ? (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot() : 0)
        }

        enum CodingKeys: String, CodingKey {
            case bySubject = "by_subject", meanRateE = "mean_rate_E_hz", maxRegionRateE = "max_region_rate_E_hz"
        }
    }

    /// A fitted candidate: what one Slurm array task of the protocol writes (candidate.json,
    /// and sc_gains.npy for the gains) and the last stage reads back. The fitted spec is
    /// rebuilt from the values and gains (`Context.spec`), to the same bits.
    public struct CandidateResult: Codable, Sendable {
        /// The point of a fit a result holds: after its simulated epochs, or, for a candidate that
        /// shapes the FC pattern, right after the noise-free shaping at the re-anchored G (0.9 G*
        /// of the shaped network). The epochs fit FC level and FCD on noisy runs and can move the
        /// network away from where the shaping left it, so validation chooses between the two as
        /// between candidates.
        public enum Stage: String, Codable, Sendable { case fitted, shaped }

        public let candidate: String
        /// nil: `.fitted` (and every file from before stages were recorded).
        public var stage: Stage?
        /// The candidate's name, with " (shaped)" for the stage after the shaping.
        public var label: String { Self.label(candidate, stage: stage) }
        static func label(_ candidate: String, stage: Stage?) -> String { stage == .shaped ? candidate + " (shaped)" : candidate }
        /// Fitted values of the candidate's parameters, and the start.
        public let fitted: [String: Double], initial: [String: Double]
        /// Per-connection gains (nil: none fitted); stored beside candidate.json as sc_gains.npy.
        public var gains: Matrix?
        public let trainFCR: Double
        /// r of the fitted network's expected FC (`LinearisedFC`, noise-free) with the training
        /// group's mean FC (nil: no stable low state, or a file from before it was recorded).
        public var expectedFCR: Double?
        public let validation: Scores
        public let identifiability: [Identifiability.Figure]
        public let wallSeconds: Double

        public init(candidate: String, fitted: [String: Double], initial: [String: Double], gains: Matrix?, trainFCR: Double,
                    validation: Scores, identifiability: [Identifiability.Figure], wallSeconds: Double) {
            self.candidate = candidate; self.fitted = fitted; self.initial = initial; self.gains = gains; self.trainFCR = trainFCR
            self.validation = validation; self.identifiability = identifiability; self.wallSeconds = wallSeconds
        }

        enum CodingKeys: String, CodingKey {
            case candidate, stage, fitted, initial, validation, identifiability
            case trainFCR = "train_fc_r", wallSeconds = "wall_time_s", expectedFCR = "expected_fc_r"
        }
    }

    /// Everything the stages share, rebuilt the same way by every stage (and every array task)
    /// from the data, the split and the settings.
    public struct Context {
        public let split: Split
        public let features: [String: DataCeiling.Features]
        public let scanSeconds: Double
        public let ceiling: DataCeiling, leaveOneOut: DataCeiling
        public let point: RWWOperatingPoint
        /// The training group's network at the start (0.9 G*, FIC) and its fit target.
        public let start: SimulationSpec<ReducedWongWang>
        public let trainTarget: GradientFit.Target
        /// The regional maps (z-scored), from the training group only.
        public let maps: RegionalMaps
        public let settings: Settings

        /// The fitted model of a candidate: the start with its fitted values and gains, FIC retuned.
        public func spec(of result: CandidateResult, candidates: [Candidate]) throws -> SimulationSpec<ReducedWongWang> {
            guard let candidate = candidates.first(where: { $0.name == result.candidate }) else {
                throw WholeBrainError.badValue(source: "candidate", value: result.candidate, expected: candidates.map(\.name).joined(separator: " or "))
            }
            return try spec(of: candidate, fitted: result.fitted, gains: result.gains)
        }

        /// The start with `fitted` values of `candidate`'s parameters and connection `gains`, FIC retuned.
        public func spec(of candidate: Candidate, fitted: [String: Double], gains: Matrix?) throws -> SimulationSpec<ReducedWongWang> {
            let values = try candidate.parameters.map { q -> (RWWGradient.Parameter, Double) in
                guard let v = fitted[q.parameter.description] else {
                    throw WholeBrainError.badValue(source: "candidate \(candidate.name)", value: "(no \(q.parameter.description))", expected: "its fitted value")
                }
                return (q.parameter, v)
            }
            var weights: Matrix?
            if let gains {
                var w = start.connectome.weights
                for q in w.values.indices { w.values[q] = gains.values[q] * start.connectome.weights.values[q] }
                weights = w
            }
            return try GradientFit.retuned(try GradientFit.spec(start, with: values, weights: weights, maps: maps), rate: settings.ficRate)
        }

        /// Runs of a fitted model with fresh noise (the evaluation seeds), scored against `subjects`.
        public func evaluate(_ spec: SimulationSpec<ReducedWongWang>, against subjects: [String]) throws -> Scores {
            var bySubject = [String: [DataCeiling.Score]](uniqueKeysWithValues: subjects.map { ($0, []) })
            var rates: [Double] = [], highest: [Double] = []
            for k in 0..<settings.evaluationSeeds {
                let seed = settings.seed &+ 1000 &+ UInt64(k)
                let run = try NetworkSimulator(spec: try GradientFit.spec(spec, with: [], seed: seed,
                                                                          duration: settings.evaluationDuration ?? scanSeconds)).run()
                let simulated = DataCeiling.Features(regionsByTime: run.bold.transposed, tr: settings.tr, options: settings.features)
                for s in subjects { bySubject[s]!.append(simulated.score(against: features[s]!)) }
                rates.append(run.meanObservables[0].reduce(0, +) / Double(run.meanObservables[0].count))
                highest.append(run.meanObservables[0].max() ?? 0)
            }
            return Scores(bySubject: bySubject, meanRateE: rates, maxRegionRateE: highest)
        }
    }

    public struct Outcome: Sendable {
        public let split: Split
        public let startG: Double, gStar: Double?
        public let candidates: [CandidateResult]
        /// Index into `candidates` of the chosen one, and whether it was chosen within the low-activity regime.
        public let chosen: Int
        public let chosenInLowRegime: Bool
        public let test: Scores
        /// The baseline (G alone) on the test subjects (the chosen one's scores when it is the baseline).
        public let baselineTest: Scores
        /// The training subjects' pooled data against each test subject: the data's ceiling.
        public let ceiling: DataCeiling
        /// Leave-one-out over every subject, for reference.
        public let leaveOneOut: DataCeiling

        public init(split: Split, startG: Double, gStar: Double?, candidates: [CandidateResult], chosen: Int, chosenInLowRegime: Bool,
                    test: Scores, baselineTest: Scores, ceiling: DataCeiling, leaveOneOut: DataCeiling) {
            self.split = split; self.startG = startG; self.gStar = gStar; self.candidates = candidates; self.chosen = chosen
            self.chosenInLowRegime = chosenInLowRegime; self.test = test; self.baselineTest = baselineTest; self.ceiling = ceiling
            self.leaveOneOut = leaveOneOut
        }
    }

    /// Runs the protocol on `dataset`; `log` receives progress lines. The same as `prepare`,
    /// `fit` for every candidate and `conclude`, which a Slurm array runs as separate tasks.
    public static func run(dataset: HCPDataset, split: Split, candidates: [Candidate], settings: Settings,
                           log: (String) -> Void = { _ in }) throws -> Outcome {
        guard !candidates.isEmpty else {
            throw WholeBrainError.badValue(source: "candidates", value: "none", expected: "at least one model to fit")
        }
        let context = try prepare(dataset: dataset, split: split, settings: settings, log: log)
        let results = try candidates.flatMap { try fit($0, context: context, log: log) }
        return try conclude(results, candidates: candidates, context: context, log: log)
    }

    /// The data's features and ceiling, the training group's network and target.
    public static func prepare(dataset: HCPDataset, split: Split, settings: Settings, log: (String) -> Void = { _ in }) throws -> Context {
        let everyone = split.train + split.validation + split.test
        var features: [String: DataCeiling.Features] = [:]
        var scanSeconds = 0.0
        // The training group's FCD target, from stretches as long as a fit's runs, band-passed
        // one by one as they are.
        let stretch = settings.window ?? Int((settings.duration / settings.tr + 1e-9).rounded(.down))
        var trainFCD: [Double] = []
        for s in dataset.subjects {
            let bold = try dataset.boldTimeCourses(subject: s)
            features[s] = DataCeiling.Features(regionsByTime: bold, tr: settings.tr, options: settings.features)
            if everyone.contains(s) { scanSeconds = max(scanSeconds, Double(bold.columns) * settings.tr) }
            if split.train.contains(s) {
                trainFCD += FCDTerm.targetValues(regionsByTime: bold, tr: settings.tr, settings: FCDTerm.Settings(settings.features), segment: stretch)
            }
        }
        let ceiling = DataCeiling(features: features, targets: split.test, predictors: split.train)
        let leaveOneOut = DataCeiling(features: features, targets: dataset.subjects)
        log("protocol: train \(split.train.joined(separator: ",")), validation \(split.validation.joined(separator: ",")), test \(split.test.joined(separator: ","))")
        log("protocol: the data's ceiling (training subjects' pooled data vs each test subject): " + ceiling.description)
        // The training group: averaged connectome, mean FC; feedback inhibition, start at 0.9 G*.
        let connectome = try dataset.groupConnectome(preparation: ConnectomePreparation(), subjects: split.train)
        let trainFC = FunctionalConnectivity.mean(split.train.map { features[$0]!.fc })!
        let trainTarget = GradientFit.Target(fc: trainFC, fcdValues: trainFCD.sorted())
        let point = try RWWOperatingPoint.resolve(parameters: ReducedWongWang.Parameters(), weights: connectome.weights,
                                                  ficRate: settings.ficRate, g: nil, fraction: settings.criticalFraction)
        log("protocol: training group's network: " + (point.describe().first { $0.hasPrefix("G =") } ?? "G = \(point.parameters.g)"))
        let start = try SimulationSpec(model: ReducedWongWang(parameters: point.parameters), nodeParameters: point.nodeJI.map { ["J_i": $0] } ?? [:],
                                       connectome: connectome, duration: settings.duration, transient: settings.transient, tr: settings.tr,
                                       conductionSpeed: settings.speed, seed: settings.seed)
        let maps = try RegionalMaps.load(settings.mapSources, regions: connectome.regionCount, fc: trainFC)
        return Context(split: split, features: features, scanSeconds: scanSeconds, ceiling: ceiling, leaveOneOut: leaveOneOut, point: point,
                       start: start, trainTarget: trainTarget, maps: maps, settings: settings)
    }

    /// Fits one candidate to the training group and scores it on the validation subjects: one
    /// result, and for a candidate shaped before simulated epochs a second one for the stage
    /// right after the shaping (`CandidateResult.Stage`).
    public static func fit(_ candidate: Candidate, context: Context, log: (String) -> Void = { _ in }) throws -> [CandidateResult] {
        let settings = context.settings, start = context.start
        let began = Date()
        var options = GradientFit.Options(parameters: candidate.parameters, connectionGains: candidate.connectionGains,
                                          window: settings.window,
                                          epochs: candidate.shapesPattern && settings.shapingSteps > 0 ? settings.shapedEpochs ?? settings.epochs : settings.epochs,
                                          learningRate: settings.learningRate, checkpointEvery: 3000)
        options.feedbackInhibition = settings.ficRate
        options.maps = context.maps
        // The terms `--loss auto` picks for scanner BOLD: FC level, the FC pattern when the
        // candidate shapes it, and FCD against the training subjects' pooled FCD values.
        var terms = LossSelection.automatic(stretchSamples: settings.window ?? start.sampleCount, targetSamples: Int(context.scanSeconds / settings.tr),
                                            modelUnits: nil, shapesPattern: candidate.shapesPattern, fcd: FCDTerm.Settings(settings.features),
                                            expectedFC: settings.expectedFC).weights
        options.shapingSteps = candidate.shapesPattern ? settings.shapingSteps : 0
        options.gainShrinkage = settings.gainShrinkage
        options.reanchorFraction = settings.shapingSteps > 0 ? settings.criticalFraction : nil
        terms["stability"] = settings.stability
        options.setWeights(terms)
        options.fcdSettings = FCDTerm.Settings(settings.features)
        if let lambda = context.point.lowStateLeadingEigenvalue { options.stabilityTarget = lambda }
        log("protocol: fitting \(candidate.name) to the training group (\(settings.epochs) epochs of \(Int(settings.duration)) s)")
        let outcome = try withoutActuallyEscaping(log) { log in
          try GradientFit.fit(spec: start, target: context.trainTarget, options: options, progress: { step in
            guard step.epoch < 0, step.window % 25 == 0 || step.window == options.shapingSteps - 1 else { return }
            log(String(format: "protocol: %@: shaping step %d of %d, expected FC r %.3f with the training group's", candidate.name,
                       step.window + 1, options.shapingSteps, step.fcCorrelation))
          })
        }
        if let (g, critical) = outcome.reanchored {
            log(String(format: "protocol: %@: after shaping, G* of the shaped network %.4f: G set to %.4f (%.2f G*), the stability target with it",
                       candidate.name, critical, g, settings.criticalFraction))
        }
        if candidate.shapesPattern, let fitted = outcome.specs.first,
           let critical = try? FeedbackInhibition.criticalCoupling(parameters: fitted.model.parameters, weights: fitted.connectome.weights,
                                                                   rate: settings.ficRate, wPlus: fitted.nodeParameters[1], i0: fitted.nodeParameters[2]) {
            log(String(format: "protocol: %@: fitted network at G = %.4f, G* = %.4f (G/G* = %.3f)", candidate.name,
                       fitted.model.parameters.g, critical.value, fitted.model.parameters.g / critical.value))
        }
        var results = [try score(candidate, stage: .fitted, spec: outcome.spec, gains: outcome.gains,
                                 trainFCR: try outcome.scores.last?.trainCorrelation ?? trainCorrelation(outcome.spec, context: context),
                                 options: options, began: began, context: context, log: log)]
        // The shaped stage, unless the fit kept it (no epochs, or none lowered the loss).
        if let shaped = outcome.shaped, !outcome.history.isEmpty, outcome.fittedFromEpochStart != 0 {
            results.append(try score(candidate, stage: .shaped, spec: shaped.spec, gains: shaped.gains,
                                     trainFCR: try trainCorrelation(shaped.spec, context: context),
                                     options: options, began: began, context: context, log: log))
        }
        return results
    }

    /// The result of one stage of a candidate's fit: its values, identifiability, expected FC
    /// and validation scores.
    static func score(_ candidate: Candidate, stage: CandidateResult.Stage, spec: SimulationSpec<ReducedWongWang>, gains: Matrix?,
                      trainFCR: Double, options: GradientFit.Options, began: Date, context: Context,
                      log: (String) -> Void) throws -> CandidateResult {
        let settings = context.settings
        let names = candidate.parameters.map { $0.parameter.description }
        let fitted = Dictionary(uniqueKeysWithValues: zip(names, candidate.parameters.map { GradientFit.value($0.parameter, in: spec, maps: context.maps) }))
        let initial = Dictionary(uniqueKeysWithValues: zip(names, candidate.parameters.map { GradientFit.value($0.parameter, in: context.start, maps: context.maps) }))
        let identifiability = try Identifiability.assess(fitted: [(spec, context.trainTarget)], options: options,
                                                         extraSeeds: [settings.seed &+ 2001, settings.seed &+ 2002, settings.seed &+ 2003])
        let label = CandidateResult.label(candidate.name, stage: stage)
        let expected = try? ExpectedFCTerm.evaluate(spec: spec, target: context.trainTarget.fc, parameters: [])
        if let expected {
            log(String(format: "protocol: %@: expected FC r %.3f with the training group's mean FC (the linearised network, noise-free)",
                       label, expected.correlation))
        }
        log("protocol: \(label): scoring on validation (\(settings.evaluationSeeds) runs with new noise)")
        // Validation runs use the spec rebuilt from the values and gains, as a later stage does.
        let validation = try context.evaluate(try context.spec(of: candidate, fitted: fitted, gains: gains), against: context.split.validation)
        var result = CandidateResult(candidate: candidate.name, fitted: fitted, initial: initial, gains: gains, trainFCR: trainFCR,
                                     validation: validation, identifiability: identifiability, wallSeconds: Date().timeIntervalSince(began))
        result.stage = stage == .fitted ? nil : stage
        result.expectedFCR = expected?.correlation
        log(String(format: "protocol: %@: validation FC r %.3f +- %.3f, FCD KS %.3f +- %.3f, E rate %.2f Hz%@", result.label,
                   validation.fcR.mean, validation.fcR.sd, validation.fcdKS.mean, validation.fcdKS.sd,
                   validation.meanRateE.reduce(0, +) / Double(validation.meanRateE.count),
                   validation.lowActivity(regionLimit: settings.regionRateLimit) ? ""
                       : " (not in the low-activity state: \(validation.regimeProblem(regionLimit: settings.regionRateLimit)))"))
        return result
    }

    /// FC r against the training group's mean FC of one run of `spec` as long as a fit's
    /// epoch, for a fit without simulated epochs.
    static func trainCorrelation(_ spec: SimulationSpec<ReducedWongWang>, context: Context) throws -> Double {
        let run = try NetworkSimulator(spec: spec).run()
        return FunctionalConnectivity.similarity(FunctionalConnectivity.pearson(regionsByTime: run.bold.transposed), context.trainTarget.fc)
    }

    /// Chooses among fitted candidates on validation and scores the choice and the baseline on the test subjects.
    public static func conclude(_ results: [CandidateResult], candidates: [Candidate], context: Context,
                                log: (String) -> Void = { _ in }) throws -> Outcome {
        guard !results.isEmpty else {
            throw WholeBrainError.badValue(source: "candidates", value: "none fitted", expected: "at least one fitted model")
        }
        let eligible = results.indices.filter { results[$0].validation.lowActivity(regionLimit: context.settings.regionRateLimit) }
        let pool = eligible.isEmpty ? Array(results.indices) : eligible
        let chosen = pool.min { results[$0].validation.cost < results[$1].validation.cost }!
        log("protocol: chosen on validation: \(results[chosen].label)" + (eligible.isEmpty ? " (no candidate stayed in the low-activity state)" : ""))
        let test = try context.evaluate(try context.spec(of: results[chosen], candidates: candidates), against: context.split.test)
        let baselineIndex = results.firstIndex { $0.candidate == Candidate.baseline.name && $0.stage != .shaped }
        let baselineTest: Scores
        if let baselineIndex, baselineIndex != chosen {
            baselineTest = try context.evaluate(try context.spec(of: results[baselineIndex], candidates: candidates), against: context.split.test)
        } else if baselineIndex == chosen {
            baselineTest = test
        } else {
            throw WholeBrainError.badValue(source: "candidates", value: results.map(\.candidate).joined(separator: "; "),
                                           expected: "the baseline G among them")
        }
        return Outcome(split: context.split, startG: context.point.parameters.g, gStar: context.point.criticalCoupling, candidates: results,
                       chosen: chosen, chosenInLowRegime: !eligible.isEmpty, test: test, baselineTest: baselineTest, ceiling: context.ceiling,
                       leaveOneOut: context.leaveOneOut)
    }
}
