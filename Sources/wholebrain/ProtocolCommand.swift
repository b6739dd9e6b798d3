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
        at 0.9 G*, the stability term keeping the low state's margin; FC level and FCD from \
        simulated runs; for candidates that shape the FC pattern, connection gains or regional \
        w_plus and I_0 linear in --maps, first --shaping-steps noise-free steps on the expected \
        FC, the stationary FC of the network linearised at its low state, then that term in \
        every epoch), scored on the validation subjects \
        with fresh noise (a shaped candidate twice: after its epochs, and as "(shaped)", right \
        after the shaping at 0.9 G* of the shaped network), and the one with the lowest \
        (1 - FC r) + FCD KS among those that stay in the low-activity state (mean E rate 1-10 \
        Hz, no region's mean above 6 Hz, twice the feedback-inhibition rate) is scored on the test subjects, beside the baseline (G \
        alone) and the data's own ceiling (the training subjects' mean FC and pooled FCD scored \
        against each test subject). FC of raw BOLD; FCD of 0.01-0.1 Hz BOLD, 60-TR windows every \
        10. Writes protocol.json, scores.csv (model, part, subject, seed, fc_r, fcd_ks) and \
        report.html.

        Stages for a cluster: --fit-only NAME fits and validates one candidate into --out \
        (candidate.json, sc_gains.npy; candidate-shaped.json, sc_gains-shaped.npy); --from FOLDER reads every such candidate from the \
        subfolders of FOLDER and runs the rest, to the same bits as one process. `wholebrain \
        slurm protocol JOB.toml` submits them as an array and a test stage.

        --folds K cross-validates: the shuffled subjects are cut into K test blocks, each fold \
        validates on the --validation subjects after its block and trains on the rest (--train \
        and --test are not used), so every subject is tested once; the pooled test scores go \
        beside the leave-one-out ceiling over every subject. Each fold's outputs go into \
        OUT/fold-k; --fit-only then takes --fold k, and --from reads FOLDER/fold-k.

        --quick checks the pipeline in about a minute (1 epoch of 20 s per fit, one scoring run \
        of 120 s); the scores then mean little.

        Examples (the full runs with the three default candidates, drop --quick: about 20 \
        minutes on one core for one split, K times that cross-validated):
          wholebrain protocol --quick --out runs/protocol-quick
          wholebrain protocol --quick --folds 2 --candidates G --out runs/cv-quick
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Training subjects.") var train: Int = 4
    @Option(help: "Validation subjects.") var validation: Int = 1
    @Option(help: "Test subjects.") var test: Int = 2
    @Option(help: "Seed of the subjects' shuffle.") var splitSeed: UInt64 = 1
    @Option(help: "Cross-validate over K folds, every subject tested once (1: one split by --train, --validation, --test).") var folds: Int = 1
    @Option(help: "With --folds and --fit-only: the fold (1 to K) to fit.") var fold: Int?
    @Option(help: ArgumentHelp("Candidate models, separated by ';': G (the baseline, always included), G,sc-gains (a gain per connection) and G,w_plus-map,I_0-map (regional heterogeneity: w_plus and I_0 linear in --maps).", valueName: "list"))
    var candidates: String = HeldOutProtocol.Candidate.defaultList
    @Option(help: ArgumentHelp("Regional maps of the regional candidate, comma-separated: fc-gradient (the principal gradient of the training subjects' mean FC) or files with one value per region; each is z-scored.", valueName: "list"))
    var maps: String = RegionalMaps.fcGradientName
    @Option(help: "Epochs of each fit.") var epochs: Int = 10
    @Option(help: "ADAM learning rate.") var lr: Double = 0.05
    @Option(help: "Simulated seconds per epoch (after the transient).") var duration: Double = 120
    @Option(help: "TRs per ADAM step: each epoch's run is cut into windows, one step each (default: one step per epoch, on the whole run).")
    var window: Int?
    @Option(help: "Weight of the stability term (0: off).") var stability: Double = 1
    @Option(help: ArgumentHelp("For the candidates that shape the FC pattern: noise-free ADAM steps on the expected FC (the linearised network's stationary FC) before the first epoch.", valueName: "n"))
    var shapingSteps: Int = HeldOutProtocol.Settings().shapingSteps
    @Option(help: ArgumentHelp("The term that fits the FC pattern in the epochs: expected-fc (noise-free) or surprise (each run's FC).", valueName: "term"))
    var patternTerm: String = HeldOutProtocol.Settings().expectedFC ? "expected-fc" : "surprise"
    @Option(help: ArgumentHelp("Simulated epochs after the shaping for the candidates that shape the FC pattern (default: --epochs; 0: the shaped model at 0.9 G* of its own network).", valueName: "n"))
    var shapedEpochs: Int?
    @Option(help: ArgumentHelp("Weight of the connection gains' shrinkage toward 1: the mean of (ln gain)^2.", valueName: "w"))
    var gainShrinkage: Double = HeldOutProtocol.Settings().gainShrinkage
    @Option(help: "Noise seed of the fits.") var seed: UInt64 = 1
    @Option(help: "Runs with new noise per model for the validation and test scores.") var seeds: Int = 3
    @Option(help: ArgumentHelp("Seconds of each scoring run (default: as long as the scans).", valueName: "s")) var evalDuration: Double?
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "A quick check of the pipeline: --epochs 1 --duration 20 --seeds 1 --eval-duration 120, at most 20 shaping steps.") var quick = false
    @Option(help: ArgumentHelp("Fit and validate only this candidate (one task of a Slurm array): --out gets candidate.json (and sc_gains.npy).", valueName: "name"))
    var fitOnly: String?
    @Option(help: ArgumentHelp("Fit nothing: read every fitted candidate from the subfolders of this folder (--fit-only outputs), choose on validation and score on test.", valueName: "folder"))
    var from: String?

    func run() throws {
        try reportingErrors("protocol") {
            try OutputFolder.checkDestination(out, force: force)
            guard seeds >= 1 else { throw WholeBrainError.badValue(source: "--seeds", value: "\(seeds)", expected: "at least one scoring run") }
            let dataset = try HCPDataset(root: data)
            let splits = folds > 1 ? try HeldOutProtocol.Split.folds(subjects: dataset.subjects, count: folds, validation: validation, seed: splitSeed)
                : [try HeldOutProtocol.Split(subjects: dataset.subjects, train: train, validation: validation, test: test, seed: splitSeed)]
            if let fold, folds < 2 || fitOnly == nil || !(1...folds).contains(fold) {
                throw WholeBrainError.badValue(source: "--fold", value: "\(fold)", expected: "a fold from 1 to --folds (\(folds)), with --fit-only and --folds 2 or more")
            }
            if fitOnly != nil && folds > 1 && fold == nil {
                throw WholeBrainError.badValue(source: "--fit-only", value: fitOnly!, expected: "--fold k too: which of the \(folds) folds to fit")
            }
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
            guard ["expected-fc", "surprise"].contains(patternTerm) else {
                throw WholeBrainError.badValue(source: "--pattern-term", value: patternTerm, expected: "expected-fc or surprise")
            }
            guard shapingSteps >= 0 else { throw WholeBrainError.badValue(source: "--shaping-steps", value: "\(shapingSteps)", expected: "0 or more") }
            settings.shapingSteps = quick ? min(shapingSteps, 20) : shapingSteps; settings.expectedFC = patternTerm == "expected-fc"
            settings.gainShrinkage = gainShrinkage
            if let shapedEpochs {
                guard shapedEpochs >= 0 else { throw WholeBrainError.badValue(source: "--shaped-epochs", value: "\(shapedEpochs)", expected: "0 or more") }
                settings.shapedEpochs = quick ? min(shapedEpochs, 1) : shapedEpochs
            }
            if let window {
                guard window >= 2, Double(window) * settings.tr <= settings.duration + 1e-9 else {
                    throw WholeBrainError.badValue(source: "--window", value: "\(window)",
                                                   expected: "at least 2 TRs and no more than --duration holds (\(Int(settings.duration / settings.tr)) TRs of \(settings.tr) s)")
                }
                settings.window = window
            }
            settings.seed = seed; settings.evaluationSeeds = quick ? 1 : seeds; settings.evaluationDuration = quick ? 120 : evalDuration
            let began = Date()
            let log: (String) -> Void = { line in
                if !quiet { printError(String(format: "%@ (%.0f s)", line, Date().timeIntervalSince(began))) }
            }
            guard fitOnly == nil || from == nil else {
                throw WholeBrainError.badValue(source: "--fit-only", value: fitOnly!, expected: "either --fit-only (one candidate) or --from (the last stage), not both")
            }
            func prepare(_ split: HeldOutProtocol.Split) throws -> (HeldOutProtocol.Context, [HeldOutProtocol.Candidate]) {
                let context = try HeldOutProtocol.prepare(dataset: dataset, split: split, settings: settings, log: log)
                return (context, [.baseline] + names.map {
                    $0 == HeldOutProtocol.Candidate.regionalName ? .regional(maps: context.maps.count) : .connectionGains
                })
            }
            if let fitOnly {
                let (context, models) = try prepare(splits[(fold ?? 1) - 1])
                guard let candidate = models.first(where: { $0.name == fitOnly }) else {
                    throw WholeBrainError.badValue(source: "--fit-only", value: fitOnly, expected: "one of --candidates: \(models.map(\.name).joined(separator: "; "))")
                }
                let results = try HeldOutProtocol.fit(candidate, context: context, log: log)
                let folder = try OutputFolder(path: out, force: force)
                folder.describeRun(command: "protocol --fit-only")
                try HeldOutProtocol.write(results, into: folder)
                try folder.commit()
                print("candidate \(fitOnly) fitted and validated; outputs in \(out)")
                return
            }
            var outcomes: [HeldOutProtocol.Outcome] = []
            for (k, split) in splits.enumerated() {
                if splits.count > 1 { log("protocol: fold \(k + 1) of \(splits.count)") }
                let (context, models) = try prepare(split)
                let results = try from.map { try HeldOutProtocol.readCandidates(splits.count > 1 ? "\($0)/fold-\(k + 1)" : $0, models: models) }
                    ?? models.flatMap { try HeldOutProtocol.fit($0, context: context, log: log) }
                outcomes.append(try HeldOutProtocol.conclude(results, candidates: models, context: context, log: log))
                if splits.count > 1 { for line in ProtocolReport.lines(outcomes[k]) { log("protocol: fold \(k + 1): " + line) } }
            }
            let folder = try OutputFolder(path: out, force: force)
            let scoreColumns = ["model": "candidate model (G: the baseline; data ceiling: the training subjects' pooled data)",
                                "part": "validation or test", "subject": "the scored subject", "seed": "index of the scoring run's noise seed",
                                "fc_r": "FC r of the run against the subject (Pearson r)", "fcd_ks": "KS distance between the run's and the subject's FCD distributions (0-1)"]
            folder.describeRun(command: "protocol") { $0.addRegions(dataset.regionLabels) }
            func describe(_ prefix: String, fold: Bool) {
                folder.record(prefix + "protocol.json", .init(kind: .json, description: "the split, every candidate's fit and validation scores, the choice, test, baseline and ceiling"))
                folder.record(prefix + "scores.csv", .init(kind: .table, description: "every score of every run", columns: fold ? scoreColumns.merging(["fold": "cross-validation fold (from 1)"]) { a, _ in a } : scoreColumns))
                folder.record(prefix + "report.html", .init(kind: .report, description: "test scores beside the baseline and the data's ceiling"))
            }
            let provenance: [String: Any] = ["command": CommandLine.arguments.joined(separator: " "), "wall_time_s": Date().timeIntervalSince(began),
                                             "versions": ["wholebrain": WholeBrainVersion.string]]
            func write(_ outcome: HeldOutProtocol.Outcome, into prefix: String) throws {
                let json = try ProtocolReport.json(outcome, settings: settings).merging(provenance) { a, _ in a }
                try folder.write(prefix + "protocol.json", bytes: try SimulationOutputs.json(json))
                try folder.write(prefix + "scores.csv", text: ProtocolReport.csv(outcome))
                if let gains = outcome.candidates[outcome.chosen].gains {
                    try folder.write(prefix + "sc_gains.npy", matrix: gains, dims: ["region", "region_to"], units: "dimensionless (multiplies the training group's connectome)",
                                     description: "the chosen model's connection gains")
                }
                try folder.write(prefix + "report.html", text: ProtocolReport.html(outcome, settings: settings))
                describe(prefix, fold: false)
            }
            if outcomes.count == 1 {
                try write(outcomes[0], into: "")
                try folder.commit()
                for line in ProtocolReport.lines(outcomes[0]) { print(line) }
            } else {
                for (k, outcome) in outcomes.enumerated() { try write(outcome, into: "fold-\(k + 1)/") }
                let cv = HeldOutProtocol.CrossValidated(folds: outcomes)
                let json = try CrossValidationReport.json(cv, settings: settings).merging(provenance) { a, _ in a }
                try folder.write("protocol.json", bytes: try SimulationOutputs.json(json))
                try folder.write("scores.csv", text: CrossValidationReport.csv(cv))
                try folder.write("report.html", text: CrossValidationReport.html(cv, settings: settings))
                describe("", fold: true)
                try folder.commit()
                for line in CrossValidationReport.lines(cv) { print(line) }
            }
            print("outputs in \(out)")
        }
    }
}
