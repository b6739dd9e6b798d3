import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain protocol`: fit on training subjects, choose on validation, score on test.
struct ProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol",
        abstract: "Train / validation / test over subjects: how well a fitted model predicts subjects it never saw.",
        discussion: """
        After Kong et al. (2021): the subjects are split (a seeded shuffle) into train, \
        validation and test. Each candidate model is fitted to the training subjects as a group \
        (their averaged connectome and mean FC; feedback inhibition at 3 Hz, starting at 0.9 G*, \
        the stability term keeping the low state's margin), scored on the validation subjects \
        with fresh noise, and the candidate with the lowest (1 - FC r) + FCD KS among those that \
        stay in the low-activity state is scored on the test subjects, beside the baseline (G \
        alone) and the data's own ceiling (the training subjects' mean FC and pooled FCD scored \
        against each test subject). FC of raw BOLD; FCD of 0.01-0.1 Hz BOLD, 60-TR windows every \
        10. Writes protocol.json, scores.csv (model, part, subject, seed, fc_r, fcd_ks) and \
        report.html.

        --quick checks the pipeline in about a minute (1 epoch of 20 s per fit, one scoring run \
        of 120 s); the scores then mean little.

        Example (the full run, 7-8 minutes on one core: drop --quick):
          wholebrain protocol --quick --out runs/protocol-quick
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Training subjects.") var train: Int = 4
    @Option(help: "Validation subjects.") var validation: Int = 1
    @Option(help: "Test subjects.") var test: Int = 2
    @Option(help: "Seed of the subjects' shuffle.") var splitSeed: UInt64 = 1
    @Option(help: ArgumentHelp("Candidate models, separated by ';': G (the baseline, always included) and G,sc-gains.", valueName: "list"))
    var candidates: String = "G;G,sc-gains"
    @Option(help: "Epochs of each fit.") var epochs: Int = 10
    @Option(help: "ADAM learning rate.") var lr: Double = 0.02
    @Option(help: "Simulated seconds per epoch (after the transient).") var duration: Double = 120
    @Option(help: "Weight of the stability term (0: off).") var stability: Double = 1
    @Option(help: "Noise seed of the fits.") var seed: UInt64 = 1
    @Option(help: "Runs with new noise per model for the validation and test scores.") var seeds: Int = 3
    @Option(help: ArgumentHelp("Seconds of each scoring run (default: as long as the scans).", valueName: "s")) var evalDuration: Double?
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "A quick check of the pipeline: --epochs 1 --duration 20 --seeds 1 --eval-duration 120.") var quick = false

    func run() throws {
        try reportingErrors("protocol") {
            try OutputFolder.checkDestination(out, force: force)
            guard seeds >= 1 else { throw WholeBrainError.badValue(source: "--seeds", value: "\(seeds)", expected: "at least one scoring run") }
            let dataset = try HCPDataset(root: data)
            let split = try HeldOutProtocol.Split(subjects: dataset.subjects, train: train, validation: validation, test: test, seed: splitSeed)
            var models: [HeldOutProtocol.Candidate] = [.baseline]
            for name in candidates.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where name != "G" {
                guard name == HeldOutProtocol.Candidate.connectionGains.name else {
                    throw WholeBrainError.badValue(source: "--candidates", value: name, expected: "G or G,sc-gains, separated by ';'")
                }
                models.append(.connectionGains)
            }
            var settings = HeldOutProtocol.Settings()
            settings.epochs = quick ? 1 : epochs; settings.learningRate = lr; settings.duration = quick ? 20 : duration
            settings.stability = stability
            settings.seed = seed; settings.evaluationSeeds = quick ? 1 : seeds; settings.evaluationDuration = quick ? 120 : evalDuration
            let began = Date()
            let outcome = try HeldOutProtocol.run(dataset: dataset, split: split, candidates: models, settings: settings) { line in
                if !quiet { printError(String(format: "%@ (%.0f s)", line, Date().timeIntervalSince(began))) }
            }
            let folder = try OutputFolder(path: out, force: force)
            var json = try ProtocolReport.json(outcome, settings: settings)
            json["command"] = CommandLine.arguments.joined(separator: " ")
            json["wall_time_s"] = Date().timeIntervalSince(began)
            json["versions"] = ["wholebrain": WholeBrainVersion.string]
            try folder.write("protocol.json", bytes: try SimulationOutputs.json(json))
            try folder.write("scores.csv", text: ProtocolReport.csv(outcome))
            if let gains = outcome.candidates[outcome.chosen].gains { try folder.write("sc_gains.npy", bytes: NumpyFile.encode(gains)) }
            try folder.write("report.html", text: ProtocolReport.html(outcome, settings: settings))
            try folder.commit()
            for line in ProtocolReport.lines(outcome) { print(line) }
            print("outputs in \(out)")
        }
    }
}
