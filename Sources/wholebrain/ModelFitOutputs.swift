import Foundation
import WholeBrain

/// What `wholebrain fit --model NAME` writes for models other than rww, in the files and
/// columns of the rww fit (`FitOutputs`), so that `wholebrain report`, the Python reader and
/// `collect` read both: params.json, history.csv, scores.csv, fc_sim.npy, fc_empirical.npy,
/// bold_test.npy, fcd_test.npy, fcd_empirical.npy, summary.json, manifest.json, report.html.
struct ModelFitOutputs {
    let model: String
    let subjects: [FitCommand.SubjectData]
    let names: [String]
    let start: [Double]
    let outcome: ModelFit.Outcome
    let testFCs: [Matrix]
    let testBold: Matrix?
    let band: (low: Double, high: Double)?
    let testSeed: UInt64, trainSeed: UInt64
    let began: Date
    let identifiability: [Identifiability.Figure]
    /// The noise-free network of each subject at the fitted values.
    let regimes: [NetworkRegime]
    let lossWeights: [String: Double]
    let lossReasons: [String]
    let command: FitCommand

    var subjectNames: [String] { subjects.map { $0.inputs.subject ?? "user data" } }
    var testRs: [Double] { zip(testFCs, subjects).map { FunctionalConnectivity.similarity($0, $1.reference) } }
    var testR: Double { testRs.reduce(0, +) / Double(testRs.count) }

    /// Where the fitted values come from, in words.
    var fittedFrom: (description: String, epoch: Int, keptStart: Bool) {
        guard let k = outcome.fittedEpoch else {
            return ("the mean over the last epochs (a new noise seed each epoch)", outcome.history.count, false)
        }
        let loss = outcome.history[k].loss
        if k == 0 { return (String(format: "the initial values: no ADAM step lowered the training loss (%.4g)", loss), 0, true) }
        return (String(format: "the start of epoch %d of %d, the lowest training loss (%.4g); in the second half of the epochs the learning rate halved after every two in a row that did not lower it",
                       k + 1, outcome.history.count, loss), k + 1, false)
    }

    /// Lines for stderr: which epoch, identifiability warnings, and the fitted regime.
    func notes() -> [String] {
        var lines: [String] = []
        let from = fittedFrom
        lines.append((from.keptStart ? "warning: the fit kept its starting values: " : "note: fitted values from ") + from.description)
        for figure in identifiability {
            switch figure.verdict {
            case .identified: lines.append("identifiability: " + figure.description)
            case .weak: lines.append("warning: \(figure.parameter) is only weakly identified by these data: " + figure.description + "; read the fitted value with that error")
            case .notIdentified: lines.append("warning: \(figure.parameter) is not identified by these data: " + figure.description
                                              + "; the fitted value is not a measurement (another noise seed or start would give another)")
            }
        }
        for (name, regime) in zip(subjectNames, regimes) { lines.append("fitted regime, \(name): " + regime.description) }
        return lines
    }

    func write(to folder: OutputFolder) throws {
        folder.describeRun(command: "fit") { m in
            m.addRegions(subjects[0].inputs.connectome.labels, description: "brain regions (first subject's connectome)")
        }
        let initial = Dictionary(uniqueKeysWithValues: zip(names, start))
        let fitted = Dictionary(uniqueKeysWithValues: zip(names, outcome.values))
        let from = fittedFrom
        var params: [String: Any] = ["model": model, "initial": initial, "fitted": fitted,
                                     "fitted_from": ["description": from.description, "epoch": from.epoch,
                                                     "point": outcome.fittedEpoch == nil ? "mean over the last epochs" : "start of epoch",
                                                     "kept_initial_values": from.keptStart],
                                     "history_values": "history.csv rows hold each epoch's parameters before that epoch's update"]
        if !identifiability.isEmpty {
            params["identifiability"] = try Dictionary(uniqueKeysWithValues: identifiability.map { figure in
                (figure.parameter, try JSONSerialization.jsonObject(with: JSONEncoder().encode(figure)))
            })
        }
        try folder.write("params.json", bytes: try SimulationOutputs.json(params))
        folder.record("params.json", .init(kind: .json, description: "model, initial and fitted values, where they come from and each parameter's identifiability"))
        let terms = Array(Set(outcome.history.flatMap { $0.terms.keys })).sorted()
        var csv = "epoch,window,loss," + terms.map { $0 + "," }.joined() + "fc_r,mean_gain," + names.joined(separator: ",") + ","
            + names.map { "d_loss_d_\($0)" }.joined(separator: ",") + "\n"
        for e in outcome.history {
            csv += "\(e.epoch + 1),1,\(e.loss)," + terms.map { "\(e.terms[$0] ?? .nan)," }.joined() + "\(e.fcCorrelation),1,"
                + e.values.map { "\($0)" }.joined(separator: ",") + "," + e.gradient.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        try folder.write("history.csv", text: csv)
        var columns = ["epoch": "epoch (from 1)", "window": "1 (whole-run steps)", "loss": "total loss of the epoch (dimensionless)",
                       "fc_r": "FC r of the epoch's simulated BOLD against the target (mean over subjects)", "mean_gain": "1 (no connection gains)"]
        for t in terms { columns[t] = "loss term \(t), unweighted (dimensionless)" }
        for n in names { columns[n] = "\(n) during the epoch"; columns["d_loss_d_\(n)"] = "gradient of the loss with respect to \(n)" }
        folder.record("history.csv", .init(kind: .table, description: "every epoch (one ADAM step each): loss, its terms, FC r, values and gradients", columns: columns))
        try folder.write("scores.csv", text: "epoch,train_fc_r,held_out_fc_r\n" + outcome.history.map { "\($0.epoch + 1),\($0.fcCorrelation),\n" }.joined())
        folder.record("scores.csv", .init(kind: .table, description: "each epoch's FC r against the fitted scan",
                                          columns: ["epoch": "epoch (from 1)", "train_fc_r": "FC r against the scan (Pearson r)", "held_out_fc_r": "empty (no held-out part)"]))
        try folder.write("fc_sim.npy", matrix: testFCs[0], dims: ["region", "region_to"], units: "Pearson r",
                         description: "FC of the test run (fresh noise, seed \(testSeed), as long as the scan) at the fitted values")
        try folder.write("fc_empirical.npy", matrix: subjects[0].reference, dims: ["region", "region_to"], units: "Pearson r",
                         description: "FC of the whole scan the test run is scored against (first subject)")
        if let bold = testBold, let empirical = subjects[0].inputs.empiricalBold {
            try FitOutputs.writeDynamics(to: folder, testBold: bold, empirical: empirical, tr: subjects[0].inputs.tr ?? command.tr, band: band, testSeed: testSeed)
        }
        let names = subjectNames
        var summary: [String: Any] = [
            "model": model, "subject": names.joined(separator: ","), "fitted": fitted, "initial": initial,
            "test_fc_r": testR, "test_fc_r_by_subject": Dictionary(uniqueKeysWithValues: zip(names, testRs)),
            "train_fc_r": outcome.history.last?.fcCorrelation ?? 0, "epochs_run": outcome.history.count, "steps": outcome.history.count,
            "learning_rate": command.lr, "loss": command.loss, "loss_weights": lossWeights, "loss_choice": lossReasons,
            "test_seed": testSeed, "train_seed": trainSeed, "duration_s": command.duration, "dt_ms": command.dt,
            "integrator": (command.integrator ?? .euler).rawValue, "wall_time_s": Date().timeIntervalSince(began), "stopped_early": false,
            "versions": ["wholebrain": WholeBrainVersion.string], "command": CommandLine.arguments.joined(separator: " "),
        ]
        summary["fitted_from"] = params["fitted_from"]
        summary["identifiability"] = params["identifiability"]
        summary["network_regimes"] = try Dictionary(uniqueKeysWithValues: zip(names, regimes).map { name, regime in
            (name, try JSONSerialization.jsonObject(with: JSONEncoder().encode(regime)))
        })
        summary["notes"] = notes()
        try folder.write("summary.json", bytes: try SimulationOutputs.json(summary))
        folder.record("summary.json", .init(kind: .json, description: "model, fitted values, train and test FC r, the fitted network's regime, notes"))
        try folder.writeReport(description: "the fit's report: loss and parameters over epochs, FC and FCD beside the data's, test-run BOLD, identifiability, regime")
    }
}
