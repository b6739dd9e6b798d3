import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain fit`: gradient-based fit of reduced Wong-Wang parameters to empirical FC.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit reduced Wong-Wang parameters to empirical FC with exact gradients and ADAM.",
        discussion: """
        Each epoch simulates --duration seconds with a fixed noise realisation (--seed), computes \
        the FC-fit surprise -log(0.5 + 0.5 r) (Griffiths et al. 2022) and its exact gradient by the \
        discrete adjoint of the whole run, and takes one ADAM step. Parameters move through smooth \
        bounds: G in (0, 10), w_plus and J_i in (0, 3), J_NMDA and I_0 in (0, 1), sigma > 0.
        Writes params.json (initial and fitted values), history.csv (loss, FC r and parameters per \
        step), fc_sim.npy (FC of a fresh run with the fitted parameters and another seed) and \
        summary.json (train and test FC r, wall time).
        After every epoch the optimiser state is saved beside --out; --resume continues a killed fit.
        report.html shows the loss, FC r and parameter trajectories and both FCs side by side.
        Not yet: the windowed scheme, entropy and prior terms, SC gains.

        Example:
          wholebrain fit --data data/hcp --subject 101309 --duration 60 --epochs 20 --fit G --out runs/fit1
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Subject whose FC is fitted.") var subject: String?
    @Option(help: ArgumentHelp("Your own weights (any reader format, or a TVB zip) instead of --data.", valueName: "file")) var connectome: String?
    @Option(help: ArgumentHelp("Fibre lengths in mm for --connectome.", valueName: "file")) var lengths: String?
    @Option(help: ArgumentHelp("Empirical BOLD for --connectome (regions x time or time x regions; a bold.npy from simulate works).", valueName: "file")) var bold: String?
    @Option(help: ArgumentHelp("Parameters to fit: G, w_plus, J_i, J_NMDA, I_0, sigma.", valueName: "list")) var fit: String = "G"
    @Option(help: "Optimisation steps.") var epochs: Int = 20
    @Option(help: "ADAM learning rate.") var lr: Double = 0.05
    @Option(help: "Simulated seconds per epoch (after the transient).") var duration: Double = 60
    @Option(help: "Transient in s.") var transient: Double = 5
    @Option(help: "Repetition time in s.") var tr: Double = 0.72
    @Option(name: .customLong("G"), help: "Initial G.") var globalCoupling: Double = 1.0
    @Option(help: "Initial noise amplitude.") var sigma: Double = 0.01
    @Option(help: "Conduction speed in m/s.") var speed: Double = 20
    @Option(help: "Seed of the noise realisation used while fitting.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Checkpoint every this many steps (memory); default: keep the whole run.", valueName: "steps")) var checkpoint: Int?
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No per-epoch lines.") var quiet = false
    @Flag(help: "Continue an interrupted fit from its checkpoint (saved beside --out after every epoch).") var resume = false

    /// The per-epoch checkpoint, a hidden file beside the output folder.
    var statePath: String {
        let url = URL(fileURLWithPath: out).standardizedFileURL
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).fit-state.json").path
    }

    static let transforms: [String: (RWWGradient.Parameter, ParameterTransform)] = [
        "G": (.g, .bounded(0, 10)), "w_plus": (.wPlus, .bounded(0, 3)), "J_i": (.jI, .bounded(0, 3)),
        "J_NMDA": (.jNMDA, .bounded(0, 1)), "I_0": (.i0, .bounded(0, 1)), "sigma": (.sigma, .positive),
    ]

    func run() throws {
        try reportingErrors("fit", fitRun)
    }

    func fitRun() throws {
        try OutputFolder.checkDestination(out, force: force)
        let names = fit.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let chosen = try names.map { name -> (RWWGradient.Parameter, ParameterTransform) in
            guard let t = FitCommand.transforms[name] else {
                throw WholeBrainError.badValue(source: "--fit", value: name, expected: "some of \(FitCommand.transforms.keys.sorted().joined(separator: ", "))")
            }
            return t
        }
        guard epochs >= 1 else { throw WholeBrainError.badValue(source: "--epochs", value: "\(epochs)", expected: "at least 1") }
        let source: ConnectomeSource
        if let connectome {
            guard bold != nil else {
                throw WholeBrainError.badValue(source: "--bold", value: "(missing)", expected: "the empirical BOLD to fit, with --connectome")
            }
            source = .files(weights: connectome, weightsVariable: nil, lengths: lengths, lengthsVariable: nil, empiricalBold: bold, boldVariable: nil)
        } else {
            let dataset = try HCPDataset(root: data)
            source = .dataset(root: data, subject: subject ?? dataset.subjects[0])
        }
        let inputs = try SimulationInputs.load(source, preparation: ConnectomePreparation())
        guard let empirical = inputs.empiricalFC else {
            throw WholeBrainError.badValue(source: "--subject", value: subject ?? "group", expected: "a single subject (or --bold) to fit")
        }
        var p = ReducedWongWang.Parameters()
        p.g = globalCoupling
        let start = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: inputs.connectome,
                                       noise: NoiseSpec(sigma: sigma), duration: duration, transient: transient, tr: tr,
                                       conductionSpeed: speed, seed: seed)
        let began = Date()
        var resumed: GradientFit.State?
        if resume {
            guard let data = FileManager.default.contents(atPath: statePath) else {
                throw WholeBrainError.missingFile(path: statePath, what: "the checkpoint of an interrupted fit (drop --resume to start afresh)")
            }
            do { resumed = try JSONDecoder().decode(GradientFit.State.self, from: data) } catch {
                throw WholeBrainError.badFile(path: statePath, problem: "is not a fit checkpoint (\(error))")
            }
            if !quiet { print("resuming after epoch \(resumed!.history.count)") }
        }
        let folder = try OutputFolder(path: out, force: force)
        let checkpointPath = statePath
        let (fitted, history) = try GradientFit.fit(
            spec: start, empiricalFC: empirical,
            options: GradientFit.Options(parameters: chosen.map { ($0.0, $0.1) }, epochs: epochs, learningRate: lr, checkpointEvery: checkpoint),
            resume: resumed,
            onEpoch: { state in
                // Written to a temporary file and renamed, so a kill never leaves half a checkpoint.
                let data = try JSONEncoder().encode(state)
                let temporary = checkpointPath + ".tmp"
                guard FileManager.default.createFile(atPath: temporary, contents: data),
                      rename(temporary, checkpointPath) == 0 else {
                    throw WholeBrainError.writeFailed(path: checkpointPath, problem: "could not save the fit checkpoint")
                }
            },
            progress: { step in
                if !quiet {
                    let values = zip(names, step.values).map { String(format: "%@ %.4f", $0, $1) }.joined(separator: ", ")
                    print(String(format: "epoch %3d  loss %.4f  FC r %.3f  ", step.epoch + 1, step.loss, step.fcCorrelation) + values)
                }
            })
        // Test: a fresh run with the fitted parameters and another noise realisation.
        let testSpec = try SimulationSpec(model: fitted.model, nodeParameters: ["J_i": fitted.nodeParameters[0]],
                                          connectome: fitted.connectome, noise: fitted.noise, duration: duration,
                                          transient: transient, tr: tr, conductionSpeed: speed, seed: seed &+ 1000)
        let test = try NetworkSimulator(spec: testSpec).run()
        let testFC = FunctionalConnectivity.pearson(timeByRegions: test.bold)
        let testR = FunctionalConnectivity.similarity(testFC, empirical)
        let initial = Dictionary(uniqueKeysWithValues: chosen.map { ($0.0.description, GradientFit.value($0.0, in: start)) })
        let final = Dictionary(uniqueKeysWithValues: chosen.map { ($0.0.description, GradientFit.value($0.0, in: fitted)) })
        try folder.write("params.json", bytes: try SimulationOutputs.json(["initial": initial, "fitted": final]))
        var csv = "epoch,loss,fc_r," + names.joined(separator: ",") + "," + names.map { "d_loss_d_\($0)" }.joined(separator: ",") + "\n"
        for s in history {
            csv += "\(s.epoch + 1),\(s.loss),\(s.fcCorrelation)," + s.values.map { "\($0)" }.joined(separator: ",") + ","
                + s.gradient.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        try folder.write("history.csv", text: csv)
        try folder.write("fc_sim.npy", bytes: NumpyFile.encode(testFC))
        let summary: [String: Any] = [
            "subject": inputs.subject ?? "user data", "fitted": final, "initial": initial, "epochs": epochs, "learning_rate": lr,
            "train_fc_r": history.last?.fcCorrelation ?? 0, "test_fc_r": testR, "test_seed": seed &+ 1000, "train_seed": seed,
            "duration_s": duration, "wall_time_s": Date().timeIntervalSince(began), "versions": ["wholebrain": WholeBrainVersion.string],
            "command": CommandLine.arguments.joined(separator: " "),
        ]
        try folder.write("summary.json", bytes: try SimulationOutputs.json(summary))
        let steps = history.map { Double($0.epoch + 1) }
        var sections: [(heading: String, body: String)] = []
        sections.append(("Result", SVG.table(header: ["parameter", "initial", "fitted"],
                                             rows: names.map { n in [n, String(format: "%.4f", initial[n] ?? .nan), String(format: "%.4f", final[n] ?? .nan)] })
                         + String(format: "<p>train FC r %.3f, test FC r %.3f (new noise, seed %llu); %d epochs, %.0f s</p>",
                                  history.last?.fcCorrelation ?? 0, testR, seed &+ 1000, history.count, Date().timeIntervalSince(began))))
        sections.append(("Optimisation",
                         SVG.linePlot(title: "loss (FC surprise)", xLabel: "epoch", series: [("loss", history.map(\.loss))], x: steps)
                         + SVG.linePlot(title: "FC correlation", xLabel: "epoch", series: [("train FC r", history.map(\.fcCorrelation))], x: steps)
                         + names.enumerated().map { k, n in
                             SVG.linePlot(title: n, xLabel: "epoch", series: [(n, history.map { $0.values[k] })], x: steps)
                         }.joined()))
        sections.append(("Functional connectivity",
                         SVG.heatmap(title: "empirical FC", empirical) + SVG.heatmap(title: "simulated FC (new noise)", testFC)))
        try folder.write("report.html", text: SVG.page(title: "WholeBrain fit: \(inputs.subject ?? "user data")", sections: sections))
        try folder.commit()
        try? FileManager.default.removeItem(atPath: statePath)
        print(String(format: "train FC r %.3f, test FC r %.3f (new noise); outputs in %@", history.last?.fcCorrelation ?? 0, testR, out))
    }
}
