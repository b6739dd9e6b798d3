import Foundation
import WholeBrain

/// Everything `wholebrain fit` writes: params.json, history.csv, scores.csv, fc_sim.npy,
/// sc_gains.npy, summary.json and report.html.
struct FitOutputs {
    /// Every fitted subject's inputs and target (one for a single-subject fit).
    let subjects: [(inputs: SimulationInputs, target: GradientFit.Target, reference: Matrix)]
    let names: [String]
    let chosen: [RWWGradient.Parameter]
    let start: SimulationSpec<ReducedWongWang>
    let outcome: GradientFit.Outcome
    /// FC of each subject's fresh test run.
    let testFCs: [Matrix]
    /// The first subject's test run BOLD (time x regions) and the fit's band-pass, for the
    /// FCD and BOLD files and figures.
    let testBold: Matrix?
    let band: (low: Double, high: Double)?
    let testSeed: UInt64
    let began: Date
    let command: FitCommand
    /// Each subject's starting operating point, the regime of its fitted noise-free network
    /// and where its test run sat.
    let startPoints: [RWWOperatingPoint]
    let endRegimes: [(RWWOperatingPoint.Regime, [RWWOperatingPoint.StableState])]
    let testActivities: [RWWOperatingPoint.Activity]
    /// How firmly the data pin down each scalar fitted parameter (empty when not computed).
    let identifiability: [Identifiability.Figure]
    /// The loss terms used (name as in history.csv -> weight) and, under --loss auto, why.
    let lossWeights: [String: Double]
    let lossReasons: [String]
    /// The regional maps of map slopes (nil: none).
    let maps: RegionalMaps?

    /// Which parameters params.json's "fitted" holds, in words, and the epoch.
    var fittedFrom: (description: String, epoch: Int, keptStart: Bool) {
        if let k = outcome.fittedFromEpochStart, outcome.fittedByTrainingLoss {
            let loss = outcome.history[k].loss
            if k == 0 {
                return (String(format: "the initial values: no ADAM step lowered the training loss (%.4f)", loss), 0, true)
            }
            return (String(format: "the start of epoch %d of %d, the lowest training loss (%.4f); in the second half of the epochs the learning rate halved after every two in a row that did not lower it", k + 1, outcome.scores.count, loss),
                    k + 1, false)
        }
        if let k = outcome.fittedFromEpochStart {
            let held = outcome.scores[k].heldOutCorrelation ?? .nan
            if k == 0 {
                return (String(format: "the initial values: the held-out FC r was best (%.3f) before any ADAM step, so nothing the fit did improved it", held), 0, true)
            }
            let last = outcome.scores.count
            return (String(format: "the start of epoch %d of %d, which scored the best held-out FC r (%.3f); history.csv goes on past it", k + 1, last, held),
                    k + 1, false)
        }
        return ("after the last ADAM step of epoch \(outcome.scores.count): one step past the last row of history.csv, whose rows hold each step's values before its update",
                outcome.scores.count, false)
    }

    func windowSuffix(_ window: Int) -> String { command.window == nil ? "" : ", window \(window + 1)" }

    /// Lines for stderr: which epoch the values come from, and any saturated state.
    func notes() -> [String] {
        var lines: [String] = []
        let from = fittedFrom
        if from.keptStart {
            lines.append("warning: the fit kept its starting values: " + from.description + " (try more epochs, a smaller --lr or a longer --duration)")
        } else if outcome.fittedFromEpochStart != nil {
            lines.append("note: fitted values from " + from.description)
        } else if let best = outcome.history.indices.min(by: { outcome.history[$0].loss < outcome.history[$1].loss }),
                  best != outcome.history.count - 1 {
            // Without held-out data the values are the last step's; say when an earlier step had a lower training loss.
            let h = outcome.history[best], last = outcome.history[outcome.history.count - 1]
            lines.append(String(format: "note: the training loss was lowest at epoch %d%@ (%.4f, FC r %.3f), not at the last step (%.4f); the fitted values are the last step's (--held-out F keeps the epoch that scores best on data left out of the fit)",
                                h.epoch + 1, windowSuffix(h.window), h.loss, h.fcCorrelation, last.loss))
        }
        for figure in identifiability {
            switch figure.verdict {
            case .identified: lines.append("identifiability: " + figure.description)
            case .weak: lines.append("warning: \(figure.parameter) is only weakly identified by these data: " + figure.description
                                     + "; read the fitted value with that error")
            case .notIdentified: lines.append("warning: \(figure.parameter) is not identified by these data: " + figure.description
                                              + "; the fitted value is not a measurement (another noise seed or start would give another)")
            }
        }
        for (k, activity) in testActivities.enumerated() {
            let name = subjects[k].inputs.subject ?? "user data"
            if activity.state == "high" {
                lines.append(String(format: "warning: subject %@: the fitted parameters put the network in the high-activity (saturated) state (test run mean E rate %.1f Hz)", name, activity.meanRate))
            } else if endRegimes[k].0 == .high {
                lines.append("warning: subject \(name): at the fitted parameters only high-activity states are stable (noise-free network)")
            }
        }
        return lines
    }

    func write(to folder: OutputFolder) throws {
        let labels = subjects[0].inputs.connectome.labels
        folder.describeRun(command: "fit") { m in
            m.addRegions(labels, description: "brain regions (first subject's connectome)")
        }
        let history = outcome.history, scores = outcome.scores
        let testFC = testFCs[0]
        let testRs = zip(testFCs, subjects).map { FunctionalConnectivity.similarity($0, $1.reference) }
        let testHeldOuts = zip(testFCs, subjects).compactMap { fc, s in s.target.heldOutFC.map { FunctionalConnectivity.similarity(fc, $0) } }
        let testR = testRs.reduce(0, +) / Double(testRs.count)
        let testHeldOut = testHeldOuts.isEmpty ? nil : testHeldOuts.reduce(0, +) / Double(testHeldOuts.count)
        let subjectNames = subjects.map { $0.inputs.subject ?? "user data" }
        let initial = Dictionary(uniqueKeysWithValues: zip(names, chosen.map { GradientFit.value($0, in: start, maps: maps) }))
        let final = Dictionary(uniqueKeysWithValues: zip(names, chosen.map { GradientFit.value($0, in: outcome.spec, maps: maps) }))
        let from = fittedFrom
        var params: [String: Any] = ["initial": initial, "fitted": final,
                                     "fitted_from": ["description": from.description, "epoch": from.epoch,
                                                     "point": outcome.fittedFromEpochStart == nil ? "after the last step" : "start of epoch",
                                                     "kept_initial_values": from.keptStart],
                                     "history_values": "history.csv rows hold each step's parameters before that step's update"]
        if let priors = outcome.priors {
            params["priors"] = Dictionary(uniqueKeysWithValues: names.indices.map { k in
                (names[k], ["mean": priors.means[k], "precision": Foundation.exp(priors.logPrecisions[k]), "floor_sd": priors.floors[k]])
            })
        }
        if let gains = outcome.gains {
            let offDiagonal = (0..<gains.rows).flatMap { i in (0..<gains.columns).filter { $0 != i }.map { gains[i, $0] } }
            params["sc_gains"] = ["file": "sc_gains.npy", "min": offDiagonal.min() ?? 1, "max": offDiagonal.max() ?? 1,
                                  "mean": offDiagonal.reduce(0, +) / Double(max(offDiagonal.count, 1))]
            try folder.write("sc_gains.npy", matrix: gains, dims: ["region", "region_to"], units: "dimensionless (multiplies the connectome's weight)",
                             description: "fitted gain of every connection (first subject's connectome)")
        }
        if startPoints[0].ficRate != nil {
            // The J_i feedback inhibition gives at the fitted parameters (first subject), nA.
            let ji = outcome.spec.nodeParameters[0]
            try folder.write("fic_J_i.npy", values: ji, shape: [ji.count], dims: ["region"], units: "nA",
                             description: "inhibitory coupling J_i per region at the fitted parameters (feedback inhibition, first subject)")
            params["J_i_per_region"] = ["file": "fic_J_i.npy", "min": ji.min() ?? 0, "max": ji.max() ?? 0,
                                        "source": chosen.contains(where: \.isNodeJI)
                                            ? "fitted (node-J_i), started from feedback inhibition" : "feedback inhibition at the fitted parameters"]
        }
        if chosen.contains(where: \.isRegional) {
            // Regional heterogeneity: the fitted w_plus and I_0 of every region, and the maps.
            for (k, name) in [(1, "w_plus"), (2, "I_0")] {
                let values = outcome.spec.nodeParameters[k]
                try folder.write("\(name)_per_region.npy", values: values, shape: [values.count], dims: ["region"], units: k == 1 ? "dimensionless" : "nA",
                                 description: "fitted \(name) per region (the uniform value plus the map slopes times the maps)")
                params["\(name)_per_region"] = ["file": "\(name)_per_region.npy", "min": values.min() ?? 0, "max": values.max() ?? 0,
                                                 "simulate_with": "--per-region \(name)=\(name)_per_region.npy"]
            }
            if let maps {
                folder.manifest?.coordinates["map"] = .labels(maps.names, description: "regional maps (z-scored over regions)")
                try folder.write("maps.npy", matrix: Matrix(rows: maps.count, columns: maps.values[0].count, values: maps.values.flatMap { $0 }),
                                 dims: ["map", "region"], units: "z-score", description: "the regional maps the slopes multiply")
                params["maps"] = ["file": "maps.npy", "names": maps.names, "scaling": "z-scored over regions; row k is map k, w_plus_i = w_plus + sum_k w_plus_slope[k] map_k,i (I_0 likewise)"]
            }
        }
        if !identifiability.isEmpty {
            params["identifiability"] = try Dictionary(uniqueKeysWithValues: identifiability.map { figure in
                (figure.parameter, try JSONSerialization.jsonObject(with: JSONEncoder().encode(figure)))
            })
        }
        try folder.write("params.json", bytes: try SimulationOutputs.json(params))
        folder.record("params.json", .init(kind: .json, description: "initial and fitted values, where they come from, priors and each parameter's identifiability"))
        let termNames = Array(Set(history.flatMap { $0.terms.keys })).sorted()
        var csv = "epoch,window,loss," + termNames.joined(separator: ",") + (termNames.isEmpty ? "" : ",") + "fc_r,mean_gain,"
            + names.joined(separator: ",") + "," + names.map { "d_loss_d_\($0)" }.joined(separator: ",") + "\n"
        for s in history {
            csv += "\(s.epoch + 1),\(s.window + 1),\(s.loss)," + termNames.map { "\(s.terms[$0] ?? .nan)," }.joined()
                + "\(s.fcCorrelation),\(s.meanGain)," + s.values.map { "\($0)" }.joined(separator: ",") + ","
                + s.gradient.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        try folder.write("history.csv", text: csv)
        var historyColumns = ["epoch": "epoch (from 1)", "window": "window within the epoch (from 1; 1 for whole-run steps)",
                              "loss": "total loss of the step (dimensionless)", "fc_r": "FC r of the step's simulated BOLD against the target",
                              "mean_gain": "mean connection gain (1 without gains)"]
        for t in termNames { historyColumns[t] = "loss term \(t), weighted (dimensionless)" }
        for n in names { historyColumns[n] = "\(n) before the step's update"; historyColumns["d_loss_d_\(n)"] = "gradient of the loss with respect to \(n)" }
        folder.record("history.csv", .init(kind: .table, description: "every ADAM step: loss, its terms, FC r, parameter values and gradients", columns: historyColumns))
        if !outcome.shaping.isEmpty {
            try folder.write("shaping.csv", text: "step,loss,expected_fc_r\n" + outcome.shaping.map { "\($0.step + 1),\($0.loss),\($0.expectedFCCorrelation)\n" }.joined())
            folder.record("shaping.csv", .init(kind: .table, description: "the noise-free shaping steps before the first epoch (--shaping-steps)",
                                               columns: ["step": "shaping step (from 1)", "loss": "expected-FC term plus the weighted stability, prior and shrinkage terms",
                                                         "expected_fc_r": "r of the expected (linearised) FC with the target"]))
        }
        try folder.write("scores.csv", text: "epoch,train_fc_r,held_out_fc_r\n" + scores.map {
            "\($0.epoch + 1),\($0.trainCorrelation),\($0.heldOutCorrelation.map { "\($0)" } ?? "")\n"
        }.joined())
        folder.record("scores.csv", .init(kind: .table, description: "each epoch's FC r against the fitted part and the held-out part of the scan",
                                          columns: ["epoch": "epoch (from 1)", "train_fc_r": "FC r against the fitted part (Pearson r)",
                                                    "held_out_fc_r": "FC r against the held-out part (Pearson r; empty without --held-out)"]))
        try folder.write("fc_sim.npy", matrix: testFC, dims: ["region", "region_to"], units: "Pearson r",
                         description: "FC of the test run (fresh noise, seed \(testSeed), as long as the scan) at the fitted values")
        try folder.write("fc_empirical.npy", matrix: subjects[0].reference, dims: ["region", "region_to"], units: "Pearson r",
                         description: "FC of the whole scan the test run is scored against (first subject)")
        try writeDynamics(to: folder)
        let wall = Date().timeIntervalSince(began)
        var summary: [String: Any] = [
            "subject": subjectNames.joined(separator: ","), "fitted": final,
            "test_fc_r_by_subject": Dictionary(uniqueKeysWithValues: zip(subjectNames, testRs)), "initial": initial, "epochs_run": scores.count,
            "steps": history.count, "learning_rate": command.lr, "window_trs": command.window as Any? ?? NSNull(),
            "loss": command.loss, "loss_weights": lossWeights, "loss_choice": lossReasons, "train_fc_r": scores.last?.trainCorrelation ?? 0, "test_fc_r": testR, "test_seed": testSeed,
            "train_seed": command.seed, "duration_s": command.duration, "wall_time_s": wall, "stopped_early": outcome.stoppedEarly,
            "versions": ["wholebrain": WholeBrainVersion.string], "command": CommandLine.arguments.joined(separator: " "),
        ]
        summary["fitted_from"] = params["fitted_from"]
        summary["identifiability"] = params["identifiability"]
        summary["regimes"] = Dictionary(uniqueKeysWithValues: subjectNames.indices.map { k -> (String, Any) in
            (subjectNames[k], ["start": startPoints[k].summary(),
                               "fitted": ["regime": endRegimes[k].0.rawValue,
                                          "stable_states_mean_rate_E_hz": endRegimes[k].1.map(\.meanRate)],
                               "test_run": ["state": testActivities[k].state, "mean_rate_E_hz": testActivities[k].meanRate,
                                            "min_region_rate_E_hz": testActivities[k].minRate, "max_region_rate_E_hz": testActivities[k].maxRate]] as [String: Any])
        })
        summary["notes"] = notes()
        if let testHeldOut {
            summary["test_held_out_fc_r_by_subject"] = Dictionary(uniqueKeysWithValues: zip(subjectNames, testHeldOuts))
            summary["held_out_fraction"] = command.heldOut
            summary["best_held_out_fc_r"] = scores.compactMap(\.heldOutCorrelation).max()
            summary["test_held_out_fc_r"] = testHeldOut
        }
        try folder.write("summary.json", bytes: try SimulationOutputs.json(summary))
        folder.record("summary.json", .init(kind: .json, description: "fitted values, train and test FC r, regimes at the start, fitted and test run, notes"))
        try folder.writeReport(description: "the fit's report: loss and parameters over steps, FC and FCD beside the data's, test-run BOLD, identifiability")
    }

    /// bold_test.npy (the first subject's test run) and the FCD of that run and of the
    /// subject's scan (fcd_test.npy, fcd_empirical.npy: windows of 60 TRs every 10, fewer for
    /// a short scan, after the fit's band-pass) for the report's dynamics figures.
    func writeDynamics(to folder: OutputFolder) throws {
        guard let bold = testBold, let empirical = subjects[0].inputs.empiricalBold else { return }
        try FitOutputs.writeDynamics(to: folder, testBold: bold, empirical: empirical, tr: subjects[0].inputs.tr ?? command.tr, band: band, testSeed: testSeed)
    }

    /// The files of `writeDynamics` for any fit: `bold` (time x regions), `empirical` (regions x time).
    static func writeDynamics(to folder: OutputFolder, testBold bold: Matrix, empirical: Matrix, tr: Double,
                              band: (low: Double, high: Double)?, testSeed: UInt64) throws {
        func filtered(_ m: Matrix) -> Matrix { band.map { BandPass.filter(regionsByTime: m, fs: 1 / tr, low: $0.low, high: $0.high) } ?? m }
        let samples = min(bold.rows, empirical.columns)
        guard let options = try? AnalysisOptions(tr: tr).fitted(toSamples: samples, source: "fit").options else { return }
        let fcdTest = FunctionalConnectivityDynamics.fcd(regionsByTime: filtered(bold.transposed), window: options.fcdWindow, step: options.fcdStep)
        let fcdEmpirical = FunctionalConnectivityDynamics.fcd(regionsByTime: filtered(empirical), window: options.fcdWindow, step: options.fcdStep)
        folder.manifest?.coordinates["time"] = .grid(start: tr, step: tr, count: bold.rows, units: "s",
                                                     description: "test-run BOLD sample times after the discarded transient (sample k at (k + 1) TR)")
        let centre = Double(options.fcdWindow) / 2 * tr, step = Double(options.fcdStep) * tr
        for (name, m) in [("fcd_window", fcdTest), ("fcd_window_empirical", fcdEmpirical)] {
            let grid = RunManifest.Coordinate.grid(start: centre, step: step, count: m.rows, units: "s",
                                                   description: "centre of each FCD window (\(options.fcdWindow) TRs every \(options.fcdStep))")
            folder.manifest?.coordinates[name] = grid
            folder.manifest?.coordinates[name + "_to"] = grid
        }
        let passed = band.map { String(format: ", band-passed %g-%g Hz", $0.low, $0.high) } ?? ""
        try folder.write("bold_test.npy", matrix: bold, dims: ["time", "region"], units: "BOLD signal (fractional change, dimensionless)",
                         description: "BOLD of the test run (fresh noise, seed \(testSeed)) of the first subject at the fitted values")
        try folder.write("fcd_test.npy", matrix: fcdTest, dims: ["fcd_window", "fcd_window_to"], units: "Pearson r",
                         description: "FCD of the test run: correlation between the FCs of sliding windows" + passed)
        try folder.write("fcd_empirical.npy", matrix: fcdEmpirical, dims: ["fcd_window_empirical", "fcd_window_empirical_to"], units: "Pearson r",
                         description: "FCD of the first subject's scan, as fcd_test.npy" + passed)
    }
}
