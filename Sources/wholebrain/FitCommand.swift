import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain fit`: gradient-based fit of reduced Wong-Wang parameters (or another model's
/// coupling and sigma, `FitCommand+Model.swift`) to empirical data.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit reduced Wong-Wang parameters (or another model's coupling and sigma) to empirical FC with exact gradients and ADAM.",
        discussion: """
        The method of Griffiths et al. (2022) with exact gradients: the discrete adjoint of the \
        whole simulation (RWW E/I with delays and a fixed noise realisation, Balloon-Windkessel \
        BOLD) and ADAM on smoothly bounded parameters: G in (0, 10), w_plus and J_i in (0, 3), \
        J_NMDA and I_0 in (0, 1), sigma > 0, connection gains > 0 (symmetric, start at 1).

        The start is the default operating point of `simulate`: feedback inhibition control \
        (J_i per region for 3 Hz at the fixed point, retuned whenever G, w_plus, J_NMDA, I_0 or \
        the gains move, the gradient going through them) and G = 0.9 G*; stderr says the \
        starting regime. --no-fic keeps a uniform J_i (fit it with --fit J_i) and starts at G = 1. \
        params.json says which epoch the fitted values come from; a fit that keeps its start \
        point or ends in the saturated high-activity state says so on stderr and in the report.

        Loss terms (--loss NAME[=WEIGHT],...; default auto):
          auto            fc-mean; surprise when the fit shapes the FC pattern (sc-gains,
                          node-J_i); fcd when each epoch holds at least 5 FCD windows
                          (--duration 72 or more at TR 0.72); bold-variance when the target
                          BOLD is in the model's units (--bold-units), and bold-mean too when
                          nothing holds the activity level (--no-fic). stderr and summary.json
                          say which and why. Add terms after it: auto,stability
          surprise=1      -log(0.5 + 0.5 r), r = correlation of simulated and empirical FC
          fc-mean=25      (mean FC - mean empirical FC)^2 over region pairs: the level of the
                          correlations, which r ignores (r alone pulls G up at weak coupling)
          fcd=1           squared 2-Wasserstein distance between simulated and empirical FCD
                          value distributions (0.01-0.1 Hz, 60-TR windows every 10)
          bold-variance=0.1  mean over regions of (log var BOLD - log var target)^2; only for
                          targets in model units
          bold-mean=0.1   mean over regions of ((mean BOLD - mean target) / SD target)^2: the
                          activity level; model units, no --bandpass
          fc-level=1      mean squared difference of simulated and empirical FC, pair by pair
          entropy=0.01    mean of s log s + (1-s) log(1-s) over S_E and (half) S_I samples
          prior=0.1       Gaussian priors with learnable means and precisions (hyperprior-bounded)
          timeseries=1    1 - mean regional correlation with the empirical BOLD (same noise only)
          spectrum=1      squared distance of normalised BOLD periodograms
          regime=1        mean of ((S_E - S_E*) / S_E*)^2 over BOLD samples and regions, S_E* the
                          FIC state's (0.161 at 3 Hz): keeps the run in the low-activity state
                          (near G* the FC term alone rewards excursions into the high state)
          stability=1     ((lambda - lambda*) / lambda*)^2, lambda the leading eigenvalue of the
                          low-activity state (1/ms), lambda* = --stability-target (default: its
                          value at the start): keeps the network as far below the point where
                          that state loses stability as it started

        Several subjects (--subject A,B,C or all) make one group-level fit: shared parameters, \
        the loss averaged over subjects. Under mpirun or srun the subjects are spread over the \
        ranks and the results are the same bits as the serial fit.

        Schemes: whole-run gradients (default; one ADAM step per epoch), or --window W: each \
        epoch cuts the run into windows of W TRs, one ADAM step per window, state carried \
        across windows (the paper used 20). --held-out F keeps the last fraction F of the scan \
        out of the fit; each epoch is scored against it, the fit stops after --patience epochs \
        without improvement and returns the best epoch's parameters.

        Whole-run fits without --held-out return the epoch with the lowest training loss and \
        in the second half of the epochs halve the learning rate after every two epochs in a row that do not lower it.

        Writes params.json (initial and fitted values, priors), history.csv (loss, terms, FC r, \
        parameters and gradient per step), scores.csv (per-epoch train and held-out FC r), \
        fc_sim.npy (FC of a fresh run with the fitted parameters and another seed), bold_test.npy \
        (that run's BOLD), fcd_test.npy and fcd_empirical.npy (its FCD and the scan's), \
        sc_gains.npy (with sc-gains), summary.json (train, held-out and test FC r, wall time) and \
        report.html, and manifest.json (each file's dimensions, units and columns). After every epoch \
        the optimiser state is saved beside --out; --resume \
        continues a killed fit.

        Other models (--model wc, hopf, fhn, mpr, jr or ww): their global coupling (--fit G) \
        and sigma, by one exact adjoint for every model (ModelAdjoint: the engine's own steps \
        undone with the model's analytic Jacobian), with the BOLD loss terms (surprise, \
        fc-level, fc-mean, fcd, bold-variance, bold-mean, timeseries, spectrum; auto as above), \
        several subjects, MPI, --resume, the test run and identifiability; white noise (give \
        --sigma where the model's default is 0). Without --G the start is --critical-fraction of \
        K*, where the state followed from zero coupling loses stability (else the model's \
        value); stderr and summary.json say where the noise-free network sits at the start and \
        at the fitted values. The same files as an rww fit; history.csv has one row per epoch. \
        The example: the Hopf model in the slow regime of Deco et al. (2017) (`wholebrain \
        models hopf`), about 2 s per epoch on one core here.

        Examples:
          wholebrain fit --data data/hcp --subject 101309 --duration 30 --epochs 6 \\
              --fit G,sc-gains --out runs/fit1
          wholebrain fit --subject 101309 --fit G,sigma --window 20 --duration 30 \\
              --epochs 3 --loss surprise,entropy,prior --held-out 0.2 \\
              --identifiability-seeds 4 --out runs/fit2
          wholebrain fit --connectome w.npy --lengths l.npy --bold runs/sim1/bold.npy \\
              --tr 0.72 --epochs 5 --duration 30 --out runs/back
          wholebrain fit --model hopf --parameter-set deco2017 --subject 101309 \\
              --sigma 0.0006 --dt 10 --integrator heun --duration 200 --epochs 4 \\
              --lr 0.15 --identifiability-seeds 2 --out runs/fit-hopf
        """)

    @Option(help: ArgumentHelp("Neural mass model (`wholebrain models`): rww (the default; every --fit name below) or any model whose network input is one linear sum (wc, hopf, fhn, mpr, jr, ww): its global coupling (--fit G) and sigma, with the BOLD loss terms.", valueName: "name"))
    var model: String = ModelCatalog.defaultModel.name
    @Option(help: ArgumentHelp("With --model: a named parameter set of the model, applied before --set.", valueName: "name")) var parameterSet: String?
    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: ArgumentHelp("Subject whose data are fitted; a comma-separated list (or \"all\") for one group-level fit with shared parameters.", valueName: "id")) var subject: String?
    @Option(help: ArgumentHelp("Your own weights (any reader format, or a TVB zip) instead of --data.", valueName: "file")) var connectome: String?
    @Option(help: ArgumentHelp("Fibre lengths in mm for --connectome.", valueName: "file")) var lengths: String?
    @Option(help: ArgumentHelp("Empirical BOLD for --connectome (regions x time or time x regions; a bold.npy from simulate works).", valueName: "file")) var bold: String?
    @Option(help: ArgumentHelp("What to fit: G, w_plus (wplus), J_i (Ji), J_NMDA, I_0, sigma, node-J_i (one J_i per node), w_plus-map and I_0-map (regional heterogeneity: the slope of w_plus or I_0 along each --maps map), node-w_plus and node-I_0 (one value per region), sc-gains.", valueName: "list")) var fit: String = "G"
    @Option(help: ArgumentHelp("Regional maps for w_plus-map / I_0-map, comma-separated: fc-gradient (the principal gradient of the fitted subjects' mean FC) or files with one value per region (or maps x regions); each is z-scored.", valueName: "list")) var maps: String = RegionalMaps.fcGradientName
    @Option(help: ArgumentHelp("Loss terms with optional weights: auto, surprise, expected-fc (the FC pattern of the network linearised at its low state, noise-free), fc-level, fc-mean, fcd, bold-variance, bold-mean, entropy, prior, timeseries, spectrum, regime, stability.", valueName: "list")) var loss: String = "auto"
    @Option(help: ArgumentHelp("With sc-gains or regional parameters: noise-free ADAM steps on the expected FC before the first epoch, moving only those; then, without --G, G moves to --critical-fraction of the shaped network's own G*.", valueName: "n")) var shapingSteps: Int = 0
    @Option(help: ArgumentHelp("Weight of the connection gains' shrinkage toward 1 (the mean of (ln gain)^2).", valueName: "w")) var gainShrinkage: Double = 0
    @Option(help: ArgumentHelp("Units of the target BOLD for --loss auto: model (fractional signal change, as simulate writes: the bold-variance term applies), scanner (arbitrary scale), or auto (model when a summary.json of simulate, or a JSON with bold_units = model, sits beside --bold).", valueName: "units")) var boldUnits: String = "auto"
    @Option(help: ArgumentHelp("TRs per window (one ADAM step per window); default: whole-run gradients.", valueName: "TRs")) var window: Int?
    @Option(help: ArgumentHelp("Target leading eigenvalue (1/ms, negative) of the low-activity state for the stability term (default: its value at the start, so the fit keeps the margin below G* it starts with).", valueName: "lambda")) var stabilityTarget: Double?
    @Option(help: "Epochs (passes over the run).") var epochs: Int = 20
    @Option(help: "ADAM learning rate.") var lr: Double = 0.05
    @Option(help: ArgumentHelp("Clip the gradient to this norm.", valueName: "norm")) var clip: Double?
    @Option(help: ArgumentHelp("Fraction of the scan held out for early stopping (0: none).", valueName: "fraction")) var heldOut: Double = 0
    @Option(help: ArgumentHelp("Band-pass simulated and empirical BOLD before FC and the loss (Hz), e.g. 0.01,0.1; the gradient goes through the filter.", valueName: "lo,hi")) var bandpass: String?
    @Option(help: "Epochs without a better held-out score before stopping.") var patience: Int = 5
    @Option(help: ArgumentHelp("Narrowest prior width relative to each starting value.", valueName: "fraction")) var priorFloor: Double = 0.1
    @Option(help: "Simulated seconds per epoch (after the transient).") var duration: Double = 60
    @Option(help: ArgumentHelp("Seconds simulated for the test FC with fresh noise; default: as long as the empirical scan.", valueName: "s")) var testDuration: Double?
    @Option(help: "Transient in s (the haemodynamics settle from rest in about 15 s).") var transient: Double = SimulationDefaults.transient
    @Option(help: "Repetition time in s.") var tr: Double = 0.72
    @Option(name: .customLong("G"), help: "Initial G (default: --critical-fraction x G* of the first subject's FIC network, the smallest over subjects).") var globalCoupling: Double?
    @Option(help: ArgumentHelp("Without --G: start at this fraction of G*, where the low-activity (FIC) state loses stability (with --model: of K*, where the state followed from zero coupling does).", valueName: "F")) var criticalFraction: Double = RWWOperatingPoint.defaultCriticalFraction
    @Option(help: "Initial noise amplitude (default: the model's, 0.001).") var sigma: Double?
    @Option(help: ArgumentHelp("Feedback inhibition control: per-node J_i giving this excitatory rate (Hz) at the fixed point, retuned whenever the fitted parameters move (on by default at 3 Hz; with --fit node-J_i it sets their start only).", valueName: "Hz")) var fic: Double?
    @Option(name: .customLong("set"), help: ArgumentHelp("Start a model parameter here, e.g. --set w_plus=1.5 (repeatable; `wholebrain models rww` lists them).", valueName: "name=value"))
    var assignments: [String] = []
    @Flag(help: "Uniform J_i (the model's 1 nA, --set J_i=..., or fitted with --fit J_i) instead of feedback inhibition control; without --G the start is then G = 1.") var noFic = false
    @Option(help: "Conduction speed in m/s.") var speed: Double = 20
    @Option(help: "Integration step in ms.") var dt: Double = 0.1
    @Option(help: ArgumentHelp("Integrator for --model other than rww: euler or heun (default euler; rww fits use euler).", valueName: "kind")) var integrator: IntegratorKind?
    @Option(help: "Seed of the noise realisation used while fitting.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Noise seeds for the identifiability figures after the fit: the loss curvature and the spread of the fitted value over this many noise realisations (the fit's, and new ones each against a fresh scan simulated at the fitted values); 0: none. Default: 4 for one fitted parameter, 10 for more (a joint covariance needs more seeds than parameters).", valueName: "K")) var identifiabilitySeeds: Int?
    @Option(help: ArgumentHelp("Checkpoint every this many steps (memory); default: keep the whole run.", valueName: "steps")) var checkpoint: Int?
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No per-step lines.") var quiet = false
    @Flag(help: "Continue an interrupted fit from its checkpoint (saved beside --out after every epoch).") var resume = false
    @Flag(help: "Under MPI (debug): check after every step that all ranks hold the same parameters, by hash.") var checkSync = false
    @Option(help: ArgumentHelp("Under MPI: ranks per subject; the ranks form groups of B and each subject's network is split into B node blocks (default 1: subjects spread over the ranks).", valueName: "B")) var nodeBlocks: Int = 1

    /// With --resume, the checkpoint at `statePath` (nil without --resume).
    func resumedState<State: Decodable>(_: State.Type, kind: String) throws -> State? {
        guard resume else { return nil }
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw WholeBrainError.missingFile(path: statePath, what: "the checkpoint of an interrupted fit (drop --resume to start afresh)")
        }
        do { return try JSONDecoder().decode(State.self, from: data) } catch {
            throw WholeBrainError.badFile(path: statePath, problem: "is not \(kind) (\(error))")
        }
    }

    /// Saves a checkpoint: written to a temporary file and renamed, so a kill never leaves half of one.
    static func save<State: Encodable>(_ state: State, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: try JSONEncoder().encode(state)), rename(temporary, path) == 0 else {
            throw WholeBrainError.writeFailed(path: path, problem: "could not save the fit checkpoint")
        }
    }

    /// The per-epoch checkpoint, a hidden file beside the output folder.
    var statePath: String {
        let url = URL(fileURLWithPath: out).standardizedFileURL
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).fit-state.json").path
    }

    static let transforms: [String: (RWWGradient.Parameter, ParameterTransform)] = [
        "G": (.g, .bounded(0, 10)), "w_plus": (.wPlus, .bounded(0, 3)), "J_i": (.jI, .bounded(0, 3)),
        "J_NMDA": (.jNMDA, .bounded(0, 1)), "I_0": (.i0, .bounded(0, 1)), "sigma": (.sigma, .positive),
    ]
    static let aliases = ["wplus": "w_plus", "Ji": "J_i", "JNMDA": "J_NMDA", "I0": "I_0", "g": "G", "node-Ji": "node-J_i",
                          "wplus-map": "w_plus-map", "I0-map": "I_0-map", "node-wplus": "node-w_plus", "node-I0": "node-I_0"]
    /// Regional parameters: per-node values and map slopes (w_plus within (0, 3), I_0 within (0, 1), as uniform).
    static let regional = ["node-J_i", "node-w_plus", "node-I_0", "w_plus-map", "I_0-map"]
    static let lossDefaults: [String: Double] = ["surprise": 1, "fc-level": 1, "fc-mean": LossSelection.fcMeanWeight, "fcd": LossSelection.fcdWeight,
                                                 "bold-variance": LossSelection.boldVarianceWeight, "bold-mean": LossSelection.boldMeanWeight, "entropy": 0.01, "prior": 0.1, "timeseries": 1, "spectrum": 1, "stability": 1,
                                                 "regime": 1, "expected-fc": 1]

    func run() throws {
        try reportingErrors("fit") {
            let type = try ModelCatalog.named(model)
            if type.name == ReducedWongWang.name {
                if let integrator, integrator != .euler {
                    throw WholeBrainError.badValue(source: "--integrator", value: integrator.rawValue, expected: "euler for rww fits (its adjoint is Euler's)")
                }
                if let parameterSet { throw WholeBrainError.badValue(source: "--parameter-set", value: parameterSet, expected: "--set for rww fits") }
                try fitRun()
            } else {
                try fitModelRun(type)
            }
        }
    }

    /// The fitted parameters and whether gains are fitted, from --fit (`maps`: how many
    /// regional maps the map slopes have).
    func fittedParameters(regions: Int, maps: Int = 0) throws -> (parameters: [(RWWGradient.Parameter, ParameterTransform)], gains: Bool) {
        var chosen: [(RWWGradient.Parameter, ParameterTransform)] = [], gains = false
        let known = (FitCommand.transforms.keys.sorted() + FitCommand.regional + ["sc-gains"]).joined(separator: ", ")
        for (name0, name) in fitNames {
            switch name {
            case "sc-gains": gains = true; continue
            case "node-J_i": chosen += (0..<regions).map { (.nodeJI($0), .bounded(0, 3)) }; continue
            case "node-w_plus": chosen += (0..<regions).map { (.nodeWPlus($0), .bounded(0, 3)) }; continue
            case "node-I_0": chosen += (0..<regions).map { (.nodeI0($0), .bounded(0, 1)) }; continue
            case "w_plus-map": chosen += (0..<maps).map { (.wPlusSlope($0), RegionalMaps.slopeTransform(uniform: "w_plus")) }; continue
            case "I_0-map": chosen += (0..<maps).map { (.i0Slope($0), RegionalMaps.slopeTransform(uniform: "I_0")) }; continue
            default: break
            }
            guard let t = FitCommand.transforms[name] else {
                throw WholeBrainError.badValue(source: "--fit", value: name0, expected: "some of \(known)")
            }
            chosen.append(t)
        }
        if chosen.contains(where: { $0.0 == .jI }) && chosen.contains(where: { $0.0.isNodeJI }) {
            throw WholeBrainError.badValue(source: "--fit", value: fit, expected: "J_i or node-J_i, not both")
        }
        let names = fitNames.map(\.name)
        for (uniform, node) in [("w_plus", "node-w_plus"), ("I_0", "node-I_0")] {
            if names.contains(uniform) && names.contains(node) {
                throw WholeBrainError.badValue(source: "--fit", value: fit, expected: "\(uniform) or \(node), not both (the per-region values include the uniform one)")
            }
        }
        return (chosen, gains)
    }

    /// The --fit names as given and with aliases resolved.
    var fitNames: [(given: String, name: String)] {
        fit.split(separator: ",").map { raw in
            let given = raw.trimmingCharacters(in: .whitespaces)
            return (given, FitCommand.aliases[given] ?? given)
        }
    }

    /// Whether --fit asks for map slopes.
    var fitsMapSlopes: Bool { fitNames.contains { ["w_plus-map", "I_0-map"].contains($0.name) } }

    /// Loss weights from --loss; `auto` (`LossSelection.automatic`) is chosen for `subjects`
    /// (for fitted parameters that shape the FC pattern or not) and explained in `reasons`.
    func lossWeights(subjects: [Subject] = [], shapesPattern: Bool = false, levelFree: Bool = false) throws -> (weights: [String: Double], reasons: [String]) {
        try parseLoss(allowed: FitCommand.lossDefaults.keys.sorted(), refusal: "(NAME or NAME=WEIGHT)") {
            guard let first = subjects.first else { return nil }
            let stretch = window ?? first.spec.sampleCount
            let targetSamples = subjects.map { $0.target.bold?.columns ?? 0 }.min() ?? 0
            return LossSelection.automatic(stretchSamples: stretch, targetSamples: targetSamples, modelUnits: try modelUnits(),
                                           shapesPattern: shapesPattern, levelFree: levelFree, filtered: bandpass != nil)
        }
    }

    /// --loss as weights by name: each entry NAME (its default weight) or NAME=WEIGHT among
    /// `allowed` (`refusal` completes the error for another name), and `auto` merged from
    /// `automatic` (nil: nothing to choose for yet) with its reasons.
    func parseLoss(allowed: [String], refusal: String, automatic: () throws -> LossSelection.Choice?) throws -> (weights: [String: Double], reasons: [String]) {
        var weights: [String: Double] = [:], reasons: [String] = []
        for raw in loss.split(separator: ",") {
            let parts = raw.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts == ["auto"] {
                guard let choice = try automatic() else { continue }
                weights.merge(choice.weights) { old, _ in old }
                reasons = choice.reasons
                continue
            }
            guard allowed.contains(parts[0]), let standard = FitCommand.lossDefaults[parts[0]] else {
                throw WholeBrainError.badValue(source: "--loss", value: parts[0], expected: "auto or some of \(allowed.joined(separator: ", ")) \(refusal)")
            }
            guard let weight = parts.count == 2 ? Double(parts[1]) : standard, weight.isFinite, weight >= 0 else {
                throw WholeBrainError.badValue(source: "--loss", value: String(raw), expected: "NAME=WEIGHT with a weight >= 0")
            }
            weights[parts[0]] = weight
        }
        return (weights, reasons)
    }

    /// What --bold-units says, or (auto) what the files beside --bold say; nil: not the model's units.
    func modelUnits() throws -> String? {
        switch boldUnits {
        case "model": return "--bold-units model"
        case "scanner": return nil
        case "auto": return bold.flatMap { LossSelection.modelUnits(boldFile: $0) }
        default: throw WholeBrainError.badValue(source: "--bold-units", value: boldUnits, expected: "auto, model or scanner")
        }
    }

    func fitRun() throws {
        try OutputFolder.checkDestination(out, force: force)
        guard epochs >= 1 else { throw WholeBrainError.badValue(source: "--epochs", value: "\(epochs)", expected: "at least 1") }
        guard heldOut >= 0, heldOut < 0.9 else {
            throw WholeBrainError.badValue(source: "--held-out", value: "\(heldOut)", expected: "a fraction in [0, 0.9)")
        }
        _ = try lossWeights()
        _ = try modelUnits()
        let world = Cluster.world
        let lead = world.rank == 0
        // Every rank reads every subject (small); a failure on any rank stops all.
        let prepared = try world.collectively { () -> [Subject] in
            guard nodeBlocks >= 1, world.size % nodeBlocks == 0 else {
                throw WholeBrainError.badValue(source: "--node-blocks", value: "\(nodeBlocks)",
                                               expected: "a divisor of the number of ranks (\(world.size)): the ranks form groups of that many")
            }
            return try prepareSubjects()
        }
        let regions = prepared[0].inputs.connectome.regionCount
        // Regional maps (for map slopes); the FC gradient from the fitted subjects' mean FC.
        let regionalMaps = fitsMapSlopes ? try RegionalMaps.load(maps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                                                  regions: regions, fc: FunctionalConnectivity.mean(prepared.map(\.target.fc))) : nil
        let (chosen, gains) = try fittedParameters(regions: regions, maps: regionalMaps?.count ?? 0)
        // Feedback inhibition follows G, w_plus, J_NMDA, I_0 and the gains as they move, unless
        // the fit moves the J_i themselves (node-J_i: FIC gives their start only); without it
        // nothing holds the activity level.
        let feedbackInhibition = chosen.contains { $0.0.isNodeJI } ? nil : prepared[0].start.ficRate
        let (weights, reasons) = try lossWeights(subjects: prepared, shapesPattern: gains || chosen.contains { $0.0.isNodeJI || $0.0.isRegional },
                                                 levelFree: feedbackInhibition == nil)
        if lead && !quiet && !reasons.isEmpty {
            for line in reasons { printError("fit: --loss auto: " + line) }
        }
        var options = GradientFit.Options(
            parameters: chosen.map { ($0.0, $0.1) }, connectionGains: gains, priorFloor: priorFloor, window: window, epochs: epochs,
            learningRate: lr, clipNorm: clip, checkpointEvery: checkpoint, patience: heldOut > 0 ? patience : nil)
        options.setWeights(weights)
        options.maps = regionalMaps
        guard shapingSteps >= 0 else { throw WholeBrainError.badValue(source: "--shaping-steps", value: "\(shapingSteps)", expected: "0 or more") }
        guard gainShrinkage >= 0, gainShrinkage.isFinite else {
            throw WholeBrainError.badValue(source: "--gain-shrinkage", value: "\(gainShrinkage)", expected: "a weight >= 0")
        }
        options.shapingSteps = shapingSteps
        options.gainShrinkage = gainShrinkage
        // Started at a fraction of G* (no --G), the shaped network goes back to that fraction of its own G*.
        options.reanchorFraction = shapingSteps > 0 && globalCoupling == nil && !noFic ? criticalFraction : nil
        if lead && !quiet, let regionalMaps {
            printError("fit: regional maps (z-scored): " + regionalMaps.names.joined(separator: ", "))
        }
        options.checkSynchrony = checkSync
        options.nodeBlocks = nodeBlocks
        if lead && world.size > 1 && !quiet {
            let groups = world.size / nodeBlocks
            print("fit: \(world.size) ranks as \(groups) group\(groups == 1 ? "" : "s") of \(nodeBlocks) rank\(nodeBlocks == 1 ? "" : "s") (--node-blocks \(nodeBlocks)): subject k goes to group k mod \(groups)"
                  + (nodeBlocks > 1 ? ", and each subject's network is split into \(nodeBlocks) node blocks" : ""))
        }
        // The stability term's target: given, or the first subject's starting low state's eigenvalue.
        if let stabilityTarget {
            options.stabilityTarget = stabilityTarget
        } else if let lambda = prepared[0].start.lowStateLeadingEigenvalue {
            options.stabilityTarget = lambda
        }
        options.bandPass = try band()
        options.feedbackInhibition = feedbackInhibition
        if lead {
            let first = prepared[0].start
            if !quiet { for line in first.describe() { printError("fit start: " + line) } }
            if first.regime == .high { printError("warning: the fit starts in the high-activity (saturated) state: no low-activity state is stable at the starting parameters") }
        }
        let began = Date()
        let resumed = try resumedState(GradientFit.State.self, kind: "a fit checkpoint")
        if let resumed, !quiet { print("resuming after epoch \(resumed.scores.count)") }
        let folder = try world.collectively { lead ? try OutputFolder(path: out, force: force) : nil }
        let checkpointPath = statePath
        let names = chosen.map { $0.0.description }
        let shown = names.count > 6 ? Array(names.prefix(6)) : names
        let outcome = try GradientFit.fit(
            subjects: prepared.map { ($0.spec, $0.target) }, options: options, communicator: world, resume: resumed,
            onEpoch: { state in
                guard lead else { return }
                try FitCommand.save(state, to: checkpointPath)
                if !quiet, let score = state.scores.last, let h = score.heldOutCorrelation {
                    print(String(format: "epoch %3d  train FC r %.3f  held-out FC r %.3f", score.epoch + 1, score.trainCorrelation, h))
                }
                if !quiet {
                    // One line per epoch on stderr (a Slurm log gets it as it happens): elapsed and ETA.
                    let done = state.scores.count, elapsed = Date().timeIntervalSince(began)
                    let thisRun = max(done - (resumed?.scores.count ?? 0), 1)
                    let eta = elapsed / Double(thisRun) * Double(max(epochs - done, 0))
                    printError(String(format: "fit: epoch %d of %d done, %.0f s elapsed, at most %.0f s to go (then the test run)", done, epochs, elapsed, eta))
                }
            },
            progress: { step in
                if lead && !quiet && step.epoch < 0 {
                    // A shaping step: every 10th and the last.
                    if step.window % 10 == 0 || step.window == shapingSteps - 1 {
                        print(String(format: "shaping %4d  loss %.4f  expected FC r %.3f  mean gain %.3f", step.window + 1, step.loss,
                                     step.fcCorrelation, step.meanGain))
                    }
                } else if lead && !quiet {
                    let values = zip(shown, step.values).map { String(format: "%@ %.4f", $0, $1) }.joined(separator: ", ")
                    let where_ = window == nil ? "" : String(format: " window %3d", step.window + 1)
                    print(String(format: "epoch %3d%@  loss %.4f  FC r %.3f  ", step.epoch + 1, where_, step.loss, step.fcCorrelation) + values)
                }
            })
        if lead && !quiet, let (g, critical) = outcome.reanchored {
            printError(String(format: "fit: after shaping, G* of the shaped network %.4f: G set to %.4f (%.2f G*) before the first epoch",
                              critical, g, criticalFraction))
        }
        let band = try self.band()
        func filtered(_ m: Matrix) -> Matrix { band.map { BandPass.filter(regionsByTime: m, fs: 1 / tr, low: $0.low, high: $0.high) } ?? m }
        // Test: a fresh run per subject with the fitted parameters and another noise
        // realisation, as long as the subject's scan (runs spread over the ranks).
        let testStarted = Date()
        if lead && !quiet {
            printError("fit: test run, a fresh simulation as long as each subject's scan with new noise (seed \(seed &+ 1000))")
        }
        // The first subject's test BOLD (time x regions) for the report's FCD and BOLD figures;
        // subject 0 runs on the lead rank.
        var firstTestBold: Matrix?
        let tests = try world.collectively { () throws -> [Double] in
            var packed: [Double] = []
            for k in prepared.indices where k % world.size == world.rank {
                let p = prepared[k]
                let scanSeconds = Double(p.inputs.empiricalBold!.columns) * (p.inputs.tr ?? tr)
                let testSpec = try GradientFit.spec(outcome.specs[k], with: [], seed: seed &+ 1000, duration: testDuration ?? scanSeconds)
                let testRun = try NetworkSimulator(spec: testSpec).run()
                if k == 0 { firstTestBold = testRun.bold }
                packed += FunctionalConnectivity.pearson(regionsByTime: filtered(testRun.bold.transposed)).values
                // Each region's mean excitatory rate in the test run: where the fitted network sits.
                packed += testRun.meanObservables[0]
            }
            return packed
        }
        let n = prepared[0].inputs.connectome.regionCount
        let each = n * n + n
        let all = world.allGather(tests, counts: (0..<world.size).map { r in prepared.indices.filter { $0 % world.size == r }.count * each })
        var testFCs = [Matrix](repeating: Matrix(rows: n, columns: n), count: prepared.count)
        var testRates = [[Double]](repeating: [], count: prepared.count)
        var offset = 0
        for r in 0..<world.size {
            for k in prepared.indices where k % world.size == r {
                testFCs[k] = Matrix(rows: n, columns: n, values: Array(all[offset..<(offset + n * n)]))
                testRates[k] = Array(all[(offset + n * n)..<(offset + each)]); offset += each
            }
        }
        if lead && !quiet { printError(String(format: "fit: test run done in %.1f s", Date().timeIntervalSince(testStarted))) }
        // How firmly the data pin down each fitted parameter (curvature and noise-seed spread).
        let identifiabilitySeeds = self.identifiabilitySeeds ?? Identifiability.defaultSeeds(parameters: options.parameters.map(\.parameter))
        guard identifiabilitySeeds == 0 || identifiabilitySeeds >= 2 else {
            throw WholeBrainError.badValue(source: "--identifiability-seeds", value: "\(identifiabilitySeeds)", expected: "0 (none) or at least 2 noise seeds")
        }
        let identifiability = try world.collectively { () throws -> [Identifiability.Figure] in
            guard lead, identifiabilitySeeds >= 2 else { return [] }
            if !quiet { printError("fit: identifiability: loss curvature and the spread over \(identifiabilitySeeds) noise seeds at the fitted values") }
            return try Identifiability.assess(fitted: zip(outcome.specs, prepared).map { ($0, $1.target) }, options: options,
                                              extraSeeds: (1..<identifiabilitySeeds).map { seed &+ 2000 &+ UInt64($0) }, scans: prepared.map(\.scan))
        }
        // Where the fitted parameters put each subject's noise-free network, and its test run.
        let ends = try outcome.specs.map { s in
            try RWWOperatingPoint.classify(spec: s)
        }
        let activities = testRates.map { RWWOperatingPoint.Activity(regionRates: $0) }
        guard let folder else { return }
        let outputs = FitOutputs(subjects: prepared.map { ($0.inputs, $0.target, $0.reference) }, names: names, chosen: chosen.map(\.0), start: prepared[0].spec,
                                 outcome: outcome, testFCs: testFCs, testBold: firstTestBold, band: band, testSeed: seed &+ 1000, began: began, command: self,
                                 startPoints: prepared.map(\.start), endRegimes: ends, testActivities: activities,
                                 identifiability: identifiability,
                                 lossWeights: Dictionary(uniqueKeysWithValues: options.terms.filter { $0.weight != 0 }.map { ($0.name, $0.weight) }),
                                 lossReasons: reasons, maps: regionalMaps)
        try outputs.write(to: folder)
        try folder.commit()
        try? FileManager.default.removeItem(atPath: statePath)
        for line in outputs.notes() { printError(line) }
        let testR = zip(testFCs, prepared).reduce(0) { $0 + FunctionalConnectivity.similarity($1.0, $1.1.reference) } / Double(prepared.count)
        print(String(format: "train FC r %.3f, test FC r %.3f (new noise, whole scan%@); outputs in %@",
                     outcome.scores.last?.trainCorrelation ?? 0, testR, prepared.count > 1 ? ", mean over subjects" : "", out))
    }

    /// One fitted subject: its inputs, starting spec and the data the fit compares with.
    struct Subject {
        let inputs: SimulationInputs
        let spec: SimulationSpec<ReducedWongWang>
        let target: GradientFit.Target
        /// How the target was made from the scan's fitted part, for the identifiability's fresh scans.
        let scan: Identifiability.Scan
        /// FC of the whole scan (band-passed with --bandpass), which the test run is scored against.
        let reference: Matrix
        /// Where the fit starts: inhibition, G, G* and the regime.
        let start: RWWOperatingPoint
    }

    /// The starting G and inhibition: feedback inhibition at 3 Hz and G = 0.9 G* by default
    /// (G* of each subject's FIC network; the smallest, so every subject starts below its own).
    func startingPoints(_ loaded: [SimulationInputs]) throws -> [RWWOperatingPoint] {
        let ficRate = try feedbackInhibitionRate(fic: fic, noFic: noFic, assignments: [])
        if ficRate != nil, fitNames.contains(where: { $0.name == "J_i" }) {
            throw WholeBrainError.badValue(source: "--fit", value: fit,
                                           expected: "node-J_i instead of J_i: feedback inhibition (on by default) gives every region its own J_i; add --no-fic to fit one uniform J_i")
        }
        guard criticalFraction > 0, criticalFraction < 1.5 else {
            throw WholeBrainError.badValue(source: "--critical-fraction", value: "\(criticalFraction)", expected: "a fraction of G* in (0, 1.5), e.g. 0.9")
        }
        if let sigma, !(sigma > 0) { throw WholeBrainError.badValue(source: "--sigma", value: "\(sigma)", expected: "a noise amplitude > 0") }
        let fixedG = globalCoupling ?? (ficRate == nil ? 1.0 : nil)
        var points = try loaded.map { inputs in
            try RWWOperatingPoint.resolve(parameters: try startParameters(), weights: inputs.connectome.weights, ficRate: ficRate, g: fixedG,
                                          fraction: criticalFraction, gSource: globalCoupling != nil ? "--G" : "the fit's start without FIC")
        }
        let g = fixedG ?? points.map(\.parameters.g).min()!
        if fixedG == nil && loaded.count > 1 {
            // Every subject at the shared G, with its own G* (already known) and J_i.
            points = try zip(loaded, points).map { inputs, point in
                var p = point.parameters
                p.g = g
                return try RWWOperatingPoint.at(parameters: p, weights: inputs.connectome.weights, ficRate: ficRate,
                                                critical: point.criticalCoupling.map { ($0, point.criticalKind ?? "") },
                                                gChoice: "from the smallest \(criticalFraction) G* over subjects")
            }
        }
        return points
    }

    /// The model's parameters with --set applied (G comes from --G or the operating point).
    func startParameters() throws -> ReducedWongWang.Parameters {
        let assignments = try parseAssignments(self.assignments)
        if let g = assignments.first(where: { $0.name == "G" }) {
            throw WholeBrainError.badValue(source: "--set", value: "G=\(g.value)", expected: "--G for the starting coupling")
        }
        if noFic == false, assignments.contains(where: { $0.name == "J_i" }) {
            throw WholeBrainError.badValue(source: "--set", value: "J_i", expected: "--no-fic with J_i (feedback inhibition sets J_i per region)")
        }
        return try ReducedWongWang.parameters(set: nil, assignments: assignments)
    }

    /// The band from --bandpass.
    func band() throws -> (low: Double, high: Double)? {
        guard let bandpass else { return nil }
        let parts = bandpass.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo >= 0, hi > lo, hi < 0.5 / tr else {
            throw WholeBrainError.badValue(source: "--bandpass", value: bandpass, expected: "LO,HI in Hz with 0 <= LO < HI < \(0.5 / tr) (Nyquist)")
        }
        return (lo, hi)
    }

    /// Reads every subject and splits its scan into fitted and held-out parts, with the
    /// reduced Wong-Wang starting point of each.
    func prepareSubjects() throws -> [Subject] {
        let data = try loadSubjectData()
        return try zip(data, try startingPoints(data.map(\.inputs))).map { subject, startPoint in
            // The operating point's G and feedback-inhibition J_i for this subject.
            let spec = try SimulationSpec(model: ReducedWongWang(parameters: startPoint.parameters),
                                          nodeParameters: startPoint.nodeJI.map { ["J_i": $0] } ?? [:],
                                          connectome: subject.inputs.connectome, noise: sigma.map { NoiseSpec(sigma: $0) }, dt: dt, duration: duration,
                                          transient: transient, tr: tr, conductionSpeed: speed, seed: seed)
            return Subject(inputs: subject.inputs, spec: spec, target: subject.target, scan: subject.scan, reference: subject.reference, start: startPoint)
        }
    }

    /// A subject's data, whatever the model: inputs, the target of the fitted part, how a
    /// target is made from a scan, and the whole scan's FC.
    struct SubjectData {
        let inputs: SimulationInputs
        let target: GradientFit.Target
        let scan: Identifiability.Scan
        let reference: Matrix
    }

    /// Reads every subject (--data/--subject or --connectome/--bold) and makes its targets.
    func loadSubjectData() throws -> [SubjectData] {
        let band = try band()
        func filtered(_ m: Matrix, tr: Double) -> Matrix {
            band.map { BandPass.filter(regionsByTime: m, fs: 1 / tr, low: $0.low, high: $0.high) } ?? m
        }
        var sources: [ConnectomeSource] = []
        if let connectome {
            guard bold != nil else {
                throw WholeBrainError.badValue(source: "--bold", value: "(missing)", expected: "the empirical BOLD to fit, with --connectome")
            }
            sources = [.files(weights: connectome, weightsVariable: nil, lengths: lengths, lengthsVariable: nil, empiricalBold: bold, boldVariable: nil)]
        } else {
            let dataset = try HCPDataset(root: data)
            let names = subject == "all" ? dataset.subjects : (subject ?? dataset.subjects[0]).split(separator: ",").map(String.init)
            sources = names.map { .dataset(root: data, subject: $0) }
        }
        let loaded = try sources.map { try SimulationInputs.load($0, preparation: ConnectomePreparation()) }
        return try loaded.map { inputs in
            guard let rawBold = inputs.empiricalBold, inputs.empiricalFC != nil else {
                throw WholeBrainError.badValue(source: "--subject", value: subject ?? "group", expected: "single subjects (or --bold) to fit")
            }
            // The fitted part of the scan and the held-out rest (each band-passed on its own).
            let empiricalBold = rawBold
            let total = empiricalBold.columns, kept = heldOut > 0 ? Int((Double(total) * (1 - heldOut)).rounded()) : total
            guard kept >= 5, total - kept >= (heldOut > 0 ? 5 : 0) else {
                throw WholeBrainError.badValue(source: "--held-out", value: "\(heldOut)",
                                               expected: "a split leaving at least 5 samples on each side of \(total)")
            }
            let regions = empiricalBold.rows
            let scanTR = inputs.tr ?? tr
            let rawTrain = Matrix(rows: regions, columns: kept, values: (0..<regions).flatMap { i in (0..<kept).map { empiricalBold[i, $0] } })
            let heldOutFC: Matrix? = heldOut > 0 ? FunctionalConnectivity.pearson(regionsByTime: filtered(Matrix(
                rows: regions, columns: total - kept, values: (0..<regions).flatMap { i in (kept..<total).map { empiricalBold[i, $0] } }), tr: scanTR)) : nil
            // Target statistics that depend on the length of a stretch come from stretches as
            // long as the simulated ones (an epoch, or a window).
            let stretch = window ?? Int((duration / tr + 1e-9).rounded(.down))
            /// The target of a fitted part (regions x samples), unfiltered.
            func target(_ raw: Matrix, heldOutFC: Matrix?) -> GradientFit.Target {
                let bold = filtered(raw, tr: scanTR)
                return GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: bold), bold: bold, heldOutFC: heldOutFC,
                                          fcdValues: FCDTerm.targetValues(regionsByTime: raw, tr: scanTR, settings: FCDTerm.Settings(), segment: stretch),
                                          logVariances: BoldFitTerms.logVariances(regionsByTime: raw, segment: stretch) { filtered($0, tr: scanTR) },
                                          levels: BoldFitTerms.levels(regionsByTime: raw))
            }
            return SubjectData(inputs: inputs, target: target(rawTrain, heldOutFC: heldOutFC),
                               scan: Identifiability.Scan(samples: kept) { target($0, heldOutFC: nil) },
                               reference: FunctionalConnectivity.pearson(regionsByTime: filtered(rawBold, tr: scanTR)))
        }
    }
}
