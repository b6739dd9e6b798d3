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
        (their averaged connectome, mean FC and pooled FCD; feedback inhibition at 3 Hz, starting \
        at 0.9 G*, the stability term keeping the low state's margin; the terms --loss auto \
        picks: FC level and FCD, and the FC surprise for candidates that shape the FC pattern: \
        connection gains, or regional w_plus and I_0 linear in --maps), scored on the validation subjects \
        with fresh noise, and the candidate with the lowest (1 - FC r) + FCD KS among those that \
        stay in the low-activity state is scored on the test subjects, beside the baseline (G \
        alone) and the data's own ceiling (the training subjects' mean FC and pooled FCD scored \
        against each test subject). FC of raw BOLD; FCD of 0.01-0.1 Hz BOLD, 60-TR windows every \
        10. Writes protocol.json, scores.csv (model, part, subject, seed, fc_r, fcd_ks) and \
        report.html.

        Stages for a cluster: --fit-only NAME fits and validates one candidate into --out \
        (candidate.json, sc_gains.npy); --from FOLDER reads every such candidate from the \
        subfolders of FOLDER and runs the rest, to the same bits as one process. `wholebrain \
        slurm protocol JOB.toml` submits them as an array and a test stage.

        --quick checks the pipeline in about a minute (1 epoch of 20 s per fit, one scoring run \
        of 120 s); the scores then mean little.

        Example (the full run with the three default candidates, about 20 minutes on one core: drop --quick):
          wholebrain protocol --quick --out runs/protocol-quick
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Training subjects.") var train: Int = 4
    @Option(help: "Validation subjects.") var validation: Int = 1
    @Option(help: "Test subjects.") var test: Int = 2
    @Option(help: "Seed of the subjects' shuffle.") var splitSeed: UInt64 = 1
    @Option(help: ArgumentHelp("Candidate models, separated by ';': G (the baseline, always included), G,sc-gains (a gain per connection) and G,w_plus-map,I_0-map (regional heterogeneity: w_plus and I_0 linear in --maps).", valueName: "list"))
    var candidates: String = HeldOutProtocol.Candidate.defaultList
    @Option(help: ArgumentHelp("Regional maps of the regional candidate, comma-separated: fc-gradient (the principal gradient of the training subjects' mean FC) or files with one value per region; each is z-scored.", valueName: "list"))
    var maps: String = RegionalMaps.fcGradientName
    @Option(help: "Epochs of each fit.") var epochs: Int = 10
    @Option(help: "ADAM learning rate.") var lr: Double = 0.05
    @Option(help: "Simulated seconds per epoch (after the transient).") var duration: Double = 120
    @Option(help: "Weight of the stability term (0: off).") var stability: Double = 1
    @Option(help: "Noise seed of the fits.") var seed: UInt64 = 1
    @Option(help: "Runs with new noise per model for the validation and test scores.") var seeds: Int = 3
    @Option(help: ArgumentHelp("Seconds of each scoring run (default: as long as the scans).", valueName: "s")) var evalDuration: Double?
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "A quick check of the pipeline: --epochs 1 --duration 20 --seeds 1 --eval-duration 120.") var quick = false
    @Option(help: ArgumentHelp("Fit and validate only this candidate (one task of a Slurm array): --out gets candidate.json (and sc_gains.npy).", valueName: "name"))
    var fitOnly: String?
    @Option(help: ArgumentHelp("Fit nothing: read every fitted candidate from the subfolders of this folder (--fit-only outputs), choose on validation and score on test.", valueName: "folder"))
    var from: String?

    func run() throws {
        try reportingErrors("protocol") {
            try OutputFolder.checkDestination(out, force: force)
            guard seeds >= 1 else { throw WholeBrainError.badValue(source: "--seeds", value: "\(seeds)", expected: "at least one scoring run") }
            let dataset = try HCPDataset(root: data)
            let split = try HeldOutProtocol.Split(subjects: dataset.subjects, train: train, validation: validation, test: test, seed: splitSeed)
            var settings = HeldOutProtocol.Settings()
            settings.mapSources = maps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            // Names checked before any data are read; the regional candidate takes as many slopes
            // as the context's maps hold (loaded once, by prepare).
            let names = candidates.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "G" }
            let known = [HeldOutProtocol.Candidate.connectionGains.name, HeldOutProtocol.Candidate.regionalName]
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw WholeBrainError.badValue(source: "--candidates", value: unknown,
                                               expected: "G, G,sc-gains or \(HeldOutProtocol.Candidate.regionalName), separated by ';'")
            }
            settings.epochs = quick ? 1 : epochs; settings.learningRate = lr; settings.duration = quick ? 20 : duration
            settings.stability = stability
            settings.seed = seed; settings.evaluationSeeds = quick ? 1 : seeds; settings.evaluationDuration = quick ? 120 : evalDuration
            let began = Date()
            let log: (String) -> Void = { line in
                if !quiet { printError(String(format: "%@ (%.0f s)", line, Date().timeIntervalSince(began))) }
            }
            guard fitOnly == nil || from == nil else {
                throw WholeBrainError.badValue(source: "--fit-only", value: fitOnly!, expected: "either --fit-only (one candidate) or --from (the last stage), not both")
            }
            let context = try HeldOutProtocol.prepare(dataset: dataset, split: split, settings: settings, log: log)
            let models: [HeldOutProtocol.Candidate] = [.baseline] + names.map {
                $0 == HeldOutProtocol.Candidate.regionalName ? .regional(maps: context.maps.count) : .connectionGains
            }
            if let fitOnly {
                guard let candidate = models.first(where: { $0.name == fitOnly }) else {
                    throw WholeBrainError.badValue(source: "--fit-only", value: fitOnly, expected: "one of --candidates: \(models.map(\.name).joined(separator: "; "))")
                }
                let result = try HeldOutProtocol.fit(candidate, context: context, log: log)
                let folder = try OutputFolder(path: out, force: force)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try folder.write("candidate.json", bytes: [UInt8](try encoder.encode(result)))
                if let gains = result.gains { try folder.write("sc_gains.npy", bytes: NumpyFile.encode(gains)) }
                try folder.commit()
                print("candidate \(fitOnly) fitted and validated; outputs in \(out)")
                return
            }
            let results = try from.map { try readCandidates($0, models: models) }
                ?? models.map { try HeldOutProtocol.fit($0, context: context, log: log) }
            let outcome = try HeldOutProtocol.conclude(results, candidates: models, context: context, log: log)
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

    /// The fitted candidates in the subfolders of `folder` (each a --fit-only output), in the
    /// order of --candidates; a missing one is an error naming it.
    func readCandidates(_ folder: String, models: [HeldOutProtocol.Candidate]) throws -> [HeldOutProtocol.CandidateResult] {
        let subfolders = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var found: [String: HeldOutProtocol.CandidateResult] = [:]
        for name in subfolders {
            let path = folder + "/" + name + "/candidate.json"
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            var result: HeldOutProtocol.CandidateResult
            do { result = try JSONDecoder().decode(HeldOutProtocol.CandidateResult.self, from: data) } catch {
                throw WholeBrainError.badFile(path: path, problem: "is not a fitted candidate (\(error))")
            }
            let gains = folder + "/" + name + "/sc_gains.npy"
            if FileManager.default.fileExists(atPath: gains) { result.gains = try NumpyFile.readMatrix(path: gains) }
            found[result.candidate] = result
        }
        return try models.map { model in
            guard let result = found[model.name] else {
                throw WholeBrainError.missingFile(path: folder + "/*/candidate.json",
                                                  what: "candidate \(model.name) fitted with --fit-only (found: \(found.keys.sorted().joined(separator: "; ")))")
            }
            return result
        }
    }
}
