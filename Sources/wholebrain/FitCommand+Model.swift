import Foundation
import WholeBrain

/// `wholebrain fit --model NAME` for every model but rww: the global coupling and sigma fitted
/// by `ModelFit` (exact gradients through `ModelAdjoint`), with the BOLD loss terms, several
/// subjects, MPI subject split, resume, a test run, identifiability and the regime.
extension FitCommand {
    /// Options that only the reduced Wong-Wang fit has, with what they were given as.
    func rwwOnlyOptions() -> [String] {
        var given: [String] = []
        if window != nil { given.append("--window") }
        if heldOut != 0 { given.append("--held-out") }
        if shapingSteps != 0 { given.append("--shaping-steps") }
        if gainShrinkage != 0 { given.append("--gain-shrinkage") }
        if fic != nil { given.append("--fic") }
        if noFic { given.append("--no-fic") }
        if stabilityTarget != nil { given.append("--stability-target") }
        if nodeBlocks != 1 { given.append("--node-blocks") }
        if checkpoint != nil { given.append("--checkpoint") }
        if maps != RegionalMaps.fcGradientName { given.append("--maps") }
        return given
    }

    /// The fitted parameters from --fit: G (or the model's name for its coupling) and sigma.
    func modelParameters<Model: NeuralMassModel>(_: Model.Type) throws -> [ModelFit.Parameter] {
        try fit.split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            switch name {
            case "G", "g", Model.globalCouplingParameter: return .coupling
            case "sigma": return .sigma
            default:
                throw WholeBrainError.badValue(source: "--fit", value: name,
                                               expected: "G (\(Model.name)'s \(Model.globalCouplingParameter)) and/or sigma: what --model \(Model.name) fits (the other names are rww's)")
            }
        }
    }

    /// The loss weights for a model-generic fit: --loss names among `ModelFit.termNames`, auto
    /// chosen as for rww with global parameters only.
    func modelLossWeights<Model: NeuralMassModel>(_: Model.Type, subjects: [SubjectData]) throws -> (weights: [String: Double], reasons: [String]) {
        try parseLoss(allowed: ModelFit.termNames, refusal: "with --model \(Model.name) (the others are terms of rww's own state or fixed point)") {
            let targetSamples = subjects.map { $0.target.bold?.columns ?? 0 }.min() ?? 0
            return LossSelection.automatic(stretchSamples: Int((duration / tr + 1e-9).rounded(.down)), targetSamples: targetSamples,
                                           modelUnits: try modelUnits(), shapesPattern: false, filtered: bandpass != nil)
        }
    }

    func fitModelRun<Model: NeuralMassModel>(_: Model.Type) throws {
        try OutputFolder.checkDestination(out, force: force)
        let refused = rwwOnlyOptions()
        guard refused.isEmpty else {
            throw WholeBrainError.badValue(source: refused[0], value: "with --model \(Model.name)",
                                           expected: "no \(refused.joined(separator: ", ")): \(refused.count == 1 ? "it is" : "they are") options of the rww fit")
        }
        guard epochs >= 1 else { throw WholeBrainError.badValue(source: "--epochs", value: "\(epochs)", expected: "at least 1") }
        let parameters = try modelParameters(Model.self)
        let world = Cluster.world
        let lead = world.rank == 0
        let subjects = try world.collectively { try loadSubjectData() }
        let (weights, reasons) = try modelLossWeights(Model.self, subjects: subjects)
        guard !weights.isEmpty else { throw WholeBrainError.badValue(source: "--loss", value: loss, expected: "at least one loss term") }
        // Each subject's starting spec: the model's defaults with --parameter-set, --set, --G and --sigma.
        var assignments = try parseAssignments(self.assignments)
        if let globalCoupling { assignments.append((Model.globalCouplingParameter, globalCoupling)) }
        var specs = try subjects.map { subject -> SimulationSpec<Model> in
            var request = SimulationRequest(connectome: subject.inputs.connectome, duration: duration)
            request.parameterSet = parameterSet
            request.assignments = assignments
            request.integrator = integrator ?? .euler
            request.noiseKind = .white
            request.sigma = sigma
            request.dt = dt
            request.transient = transient
            request.tr = tr
            request.conductionSpeed = speed
            request.seed = seed
            return try Model.makeSpec(request)
        }
        guard specs[0].noise.sigma > 0 else {
            throw WholeBrainError.badValue(source: "--sigma", value: "(\(Model.name)'s default, \(specs[0].noise.sigma))",
                                           expected: "a noise amplitude > 0: a fit compares the fluctuations the noise drives with the data's (e.g. --sigma 0.05)")
        }
        // Without --G, the start is --critical-fraction of K*, where the state followed from zero
        // coupling loses stability (the smallest over subjects), as for rww; else the model's default.
        guard criticalFraction > 0, criticalFraction < 1.5 else {
            throw WholeBrainError.badValue(source: "--critical-fraction", value: "\(criticalFraction)", expected: "a fraction of K* in (0, 1.5), e.g. 0.9")
        }
        var startChoice = "--G"
        if globalCoupling == nil {
            let found = try specs.map { try NetworkRegime.findCriticalCoupling($0, from: try ModelFit.value(.coupling, in: $0)) }
            if let smallest = found.compactMap({ $0.0?.value }).min(), found.allSatisfy({ $0.0 != nil }) {
                let k = criticalFraction * smallest
                specs = try specs.map { try ModelFit.apply([k], of: [.coupling], to: $0) }
                startChoice = String(format: "%.2f of %@* = %.4g (the smallest over subjects)", criticalFraction, Model.globalCouplingParameter, smallest)
            } else {
                startChoice = "the model's default (no critical coupling to start below: " + (found.compactMap(\.1).first ?? "none found") + ")"
            }
        }
        var options = ModelFit.Options()
        options.parameters = parameters
        options.weights = weights
        options.bandPass = try band()
        options.epochs = epochs
        options.learningRate = lr
        options.clipNorm = clip
        let names = parameters.map { $0.name(for: Model.self) }
        let start = try parameters.map { try ModelFit.value($0, in: specs[0]) }
        if lead && !quiet {
            for line in reasons { printError("fit: --loss auto: " + line) }
            let regime = try NetworkRegime.of(specs[0])
            printError("fit start (\(Model.name)): " + zip(names, start).map { String(format: "%@ %.4g", $0, $1) }.joined(separator: ", ")
                       + "; \(Model.globalCouplingParameter) from " + startChoice)
            printError("fit start: noise-free network of the first subject: " + regime.description)
        }
        let resumed = try resumedState(ModelFit.State.self, kind: "a checkpoint of a --model \(Model.name) fit")
        if let resumed, !quiet && lead { print("resuming after epoch \(resumed.history.count)") }
        let folder = try world.collectively { lead ? try OutputFolder(path: out, force: force) : nil }
        let began = Date()
        let checkpointPath = statePath
        let outcome = try ModelFit.fit(
            subjects: zip(specs, subjects).map { ($0, $1.target) }, options: options, communicator: world, resume: resumed,
            onEpoch: { state in
                guard lead else { return }
                try FitCommand.save(state, to: checkpointPath)
                if !quiet {
                    let done = state.history.count, elapsed = Date().timeIntervalSince(began)
                    let eta = elapsed / Double(max(done - (resumed?.history.count ?? 0), 1)) * Double(max(epochs - done, 0))
                    printError(String(format: "fit: epoch %d of %d done, %.0f s elapsed, at most %.0f s to go (then the test run)", done, epochs, elapsed, eta))
                }
            },
            progress: { epoch in
                guard lead && !quiet else { return }
                let values = zip(names, epoch.values).map { String(format: "%@ %.4f", $0, $1) }.joined(separator: ", ")
                print(String(format: "epoch %3d  loss %.4f  FC r %.3f  ", epoch.epoch + 1, epoch.loss, epoch.fcCorrelation) + values)
            })
        let fitted = try specs.map { try ModelFit.apply(outcome.values, of: parameters, to: $0) }
        // Test: a fresh run per subject at the fitted values with new noise, as long as its scan
        // (spread over the ranks, gathered in subject order).
        let testSeed = seed &+ 1000
        if lead && !quiet { printError("fit: test run, a fresh simulation as long as each subject's scan with new noise (seed \(testSeed))") }
        let band = try self.band()
        let n = subjects[0].inputs.connectome.regionCount
        var firstTestBold: Matrix?
        let packed = try world.collectively { () throws -> [Double] in
            var packed: [Double] = []
            for k in subjects.indices where k % world.size == world.rank {
                let scanSeconds = Double(subjects[k].inputs.empiricalBold!.columns) * (subjects[k].inputs.tr ?? tr)
                let run = try NetworkSimulator(spec: try fitted[k].with(duration: testDuration ?? scanSeconds, seed: testSeed)).run()
                if k == 0 { firstTestBold = run.bold }
                let bold = band.map { BandPass.filter(regionsByTime: run.bold.transposed, fs: 1 / tr, low: $0.low, high: $0.high) } ?? run.bold.transposed
                packed += FunctionalConnectivity.pearson(regionsByTime: bold).values
            }
            return packed
        }
        let all = world.allGather(packed, counts: (0..<world.size).map { r in subjects.indices.filter { $0 % world.size == r }.count * n * n })
        var testFCs = [Matrix](repeating: Matrix(rows: n, columns: n), count: subjects.count), offset = 0
        for r in 0..<world.size {
            for k in subjects.indices where k % world.size == r {
                testFCs[k] = Matrix(rows: n, columns: n, values: Array(all[offset..<(offset + n * n)])); offset += n * n
            }
        }
        let seeds = identifiabilitySeeds ?? (parameters.count == 1 ? 4 : 10)
        guard seeds == 0 || seeds >= 2 else {
            throw WholeBrainError.badValue(source: "--identifiability-seeds", value: "\(seeds)", expected: "0 (none) or at least 2 noise seeds")
        }
        let identifiability = try world.collectively { () throws -> [Identifiability.Figure] in
            guard lead, seeds >= 2 else { return [] }
            if !quiet { printError("fit: identifiability: loss curvature and the spread over \(seeds) noise seeds at the fitted values") }
            return try assessModel(fitted: fitted, subjects: subjects, parameters: parameters, values: outcome.values, options: options, seeds: seeds)
        }
        let regimes = try world.collectively { lead ? try fitted.map { try NetworkRegime.of($0) } : [] }
        guard let folder else { return }
        let outputs = ModelFitOutputs(model: Model.name, subjects: subjects, names: names, start: start, outcome: outcome, testFCs: testFCs,
                                      testBold: firstTestBold, band: band, testSeed: testSeed, trainSeed: seed, began: began,
                                      identifiability: identifiability, regimes: regimes, lossWeights: weights, lossReasons: reasons,
                                      command: self)
        try outputs.write(to: folder)
        try folder.commit()
        try? FileManager.default.removeItem(atPath: statePath)
        for line in outputs.notes() { printError(line) }
        print(String(format: "train FC r %.3f, test FC r %.3f (new noise, whole scan%@); outputs in %@",
                     outcome.history[outcome.fittedEpoch ?? outcome.history.count - 1].fcCorrelation, outputs.testR,
                     subjects.count > 1 ? ", mean over subjects" : "", out))
    }

    /// Identifiability figures (`Identifiability.assess`) at the fitted values: the data loss of
    /// forward runs under the fit's seed and `seeds` - 1 new ones, each new one against a scan
    /// simulated at the fitted values (a parametric bootstrap, as for rww).
    func assessModel<Model: NeuralMassModel>(fitted: [SimulationSpec<Model>], subjects: [SubjectData], parameters: [ModelFit.Parameter],
                                             values: [Double], options: ModelFit.Options, seeds: Int) throws -> [Identifiability.Figure] {
        let extra: [UInt64?] = [nil] + (1..<seeds).map { seed &+ 2000 &+ UInt64($0) }
        let targets: [[GradientFit.Target]] = try extra.map { s in
            guard let s else { return subjects.map(\.target) }
            return try zip(fitted, subjects).map { spec, subject in
                let scan = try NetworkSimulator(spec: try spec.with(duration: Double(subject.scan.samples) * spec.tr, seed: s &+ 7919)).run()
                return try subject.scan.target(scan.bold.transposed)
            }
        }
        let steps = values.map { 0.1 * max(abs($0), 1e-3) }
        let patternTerms = (options.weights["surprise"] ?? 0) != 0 || (options.weights["fc-level"] ?? 0) != 0
        return try Identifiability.assess(names: parameters.map { $0.name(for: Model.self) }, values: values, steps: steps, seeds: seeds,
                                          patternTerms: patternTerms) { moved, k in
            var point = values
            for m in moved { point[m.index] = m.value }
            var sum = 0.0, fcs: [Matrix] = []
            for (spec, target) in zip(fitted, targets[k]) {
                let s = try ModelFit.apply(point, of: parameters, to: spec, seed: extra[k])
                let bold = try NetworkSimulator(spec: s).run().bold
                let e = try options.objective(target).evaluate(bold: bold, tr: s.tr, firstSample: 0)
                sum += e.loss
                if moved.isEmpty {
                    let y = options.bandPass.map { BandPass.filter(regionsByTime: bold.transposed, fs: 1 / s.tr, low: $0.low, high: $0.high) } ?? bold.transposed
                    fcs.append(FunctionalConnectivity.pearson(regionsByTime: y))
                }
            }
            return (sum / Double(fitted.count), moved.isEmpty ? fcs : nil)
        }
    }
}
