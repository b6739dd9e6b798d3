import Foundation

/// report.html of a fit, a stability continuation or a single-node map, built from the files
/// the run wrote (so `wholebrain report DIR` rebuilds it, and the run itself writes it the
/// same way). Sweep folders have `SweepReport`.
public enum FolderReport {
    public enum Kind: String { case fit, continuation, map, simulation, analysis }

    /// What a folder holds, from the files in it (nil: none of these).
    public static func kind(of folder: String) -> Kind? {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder + "/history.csv") && fm.fileExists(atPath: folder + "/params.json") { return .fit }
        if fm.fileExists(atPath: folder + "/branch.json") && fm.fileExists(atPath: folder + "/bifurcations.json") { return .continuation }
        if fm.fileExists(atPath: folder + "/map_axes.json") { return .map }
        if fm.fileExists(atPath: folder + "/bold.npy") && fm.fileExists(atPath: folder + "/summary.json") { return .simulation }
        if fm.fileExists(atPath: folder + "/metrics.json") && fm.fileExists(atPath: folder + "/fc.npy") { return .analysis }
        return nil
    }

    public static func html(folder: String) throws -> String {
        switch kind(of: folder) {
        case .fit: return try fit(folder)
        case .continuation: return try continuation(folder)
        case .map: return try map(folder)
        case .simulation: return try simulation(folder)
        case .analysis: return try analysis(folder)
        case nil:
            throw WholeBrainError.badValue(source: "report", value: folder,
                                           expected: "a folder written by wholebrain simulate, analyze, sweep, fit or stability (bold.npy, metrics.json, job.toml, history.csv, branch.json or map_axes.json)")
        }
    }

    static func json(_ path: String) throws -> Any {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WholeBrainError.missingFile(path: path, what: "a file the run writes")
        }
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw WholeBrainError.badFile(path: path, problem: "is not JSON (\(error))")
        }
    }

    /// A CSV with a header row, as columns by name (empty cells are NaN).
    static func csv(_ path: String) throws -> (names: [String], columns: [String: [Double]]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard !lines.isEmpty else { throw WholeBrainError.badFile(path: path, problem: "is empty") }
        let names = lines.removeFirst()
        var columns: [String: [Double]] = [:]
        for (k, name) in names.enumerated() { columns[name] = lines.map { k < $0.count ? Double($0[k]) ?? .nan : .nan } }
        return (names, columns)
    }

    static func fit(_ folder: String) throws -> String {
        let params = try json(folder + "/params.json") as? [String: Any] ?? [:]
        let summary = try json(folder + "/summary.json") as? [String: Any] ?? [:]
        let initial = params["initial"] as? [String: Double] ?? [:], fitted = params["fitted"] as? [String: Double] ?? [:]
        let history = try csv(folder + "/history.csv"), scores = try csv(folder + "/scores.csv")
        // Parameters in the order of history.csv's columns (after fc_r, mean_gain).
        let names = history.names.filter { fitted[$0] != nil }
        let shown = Array(names.prefix(12))
        let steps = (history.columns["loss"] ?? []).indices.map { Double($0 + 1) }
        var sections: [(heading: String, body: String)] = []
        let number = { (key: String) in (summary[key] as? Double).map { String(format: "%.3f", $0) } ?? "-" }
        let fittedFrom: String = ((params["fitted_from"] as? [String: Any])?["description"] as? String).map { "<p>Fitted values: " + SVG.escape($0) + ".</p>" } ?? ""
        let provenance: String = fittedFrom + regimes(summary)
        // Each parameter's identifiability (params.json): the standard error over noise seeds and the verdict.
        let identifiability = params["identifiability"] as? [String: [String: Any]] ?? [:]
        func certainty(_ n: String) -> [String] {
            guard let f = identifiability[n] else { return identifiability.isEmpty ? [] : ["-", "-", "-"] }
            let se = (f["standard_error"] as? Double).map { String(format: "%.3g (%.0f%%)", $0, 100 * ((f["relative_error"] as? Double) ?? .nan)) } ?? "no curvature"
            let interval = (f["interval_95"] as? [Double]).map { String(format: "%.4g to %.4g", $0[0], $0[1]) } ?? "-"
            let partner = (f["caveat"] as? String).flatMap { caveat in
                (f["most_correlated_with"] as? String).map {
                    caveat.contains("combination") ? " (ridge with \($0))" : caveat.contains("trades off") ? " (trades off with \($0))" : ""
                }
            } ?? ""
            return [se, interval, (f["verdict"] as? String ?? "-") + partner]
        }
        let header = ["parameter", "initial", "fitted"] + (identifiability.isEmpty ? [] : ["standard error over noise seeds", "95% interval", "identifiability"])
        sections.append(("Result", SVG.table(header: header,
                                             rows: shown.map { n in [n, String(format: "%.4f", initial[n] ?? .nan), String(format: "%.4f", fitted[n] ?? .nan)] + certainty(n) })
            + (identifiability.isEmpty ? "" : "<p>Identifiability: the loss curvature at the fitted value (over +-10%) and the spread of its slope over noise seeds give the standard error a refit with another seed would show, and the 95% interval uses Student's t for the number of seeds; identified: the interval within 20% of the value, weak: the interval excludes zero, not identified: beyond, or a loss that does not curve upward. With several parameters the error is the larger of one at a time and jointly (every other parameter free); a ridge names the parameter it trades off with.</p>")
            + "<p>Test FC r \(number("test_fc_r")) (fresh run, new noise, seed \(summary["test_seed"] ?? "-"), whole scan)"
            + (summary["test_held_out_fc_r"] != nil ? ", against the held-out scan \(number("test_held_out_fc_r"))" : "")
            + "; last train FC r \(number("train_fc_r")); \(summary["epochs_run"] ?? "-") epochs, \(steps.count) steps, "
            + String(format: "%.0f s", summary["wall_time_s"] as? Double ?? .nan)
            + ((summary["stopped_early"] as? Bool) == true ? "; stopped early on the held-out score" : "") + ".</p>" + provenance))
        guard let lossIndex = history.names.firstIndex(of: "loss"), let fcIndex = history.names.firstIndex(of: "fc_r") else {
            throw WholeBrainError.badFile(path: folder + "/history.csv", problem: "has no loss or fc_r column")
        }
        let terms = Array(history.names[(lossIndex + 1)..<fcIndex])
        sections.append(("Optimisation", optimisation(history: history, scores: scores, terms: terms, shown: shown,
                                                       gains: params["sc_gains"] != nil, steps: steps,
                                                       model: summary["model"] as? String ?? ReducedWongWang.name)))
        sections.append(("Functional connectivity", try functionalConnectivity(folder, subject: summary["subject"] as? String ?? "")))
        let model = (summary["model"] as? String).map { " (\($0))" } ?? ""
        return SVG.page(title: "WholeBrain fit: \(summary["subject"] as? String ?? "")" + model, sections: sections)
    }

    /// The loss and its terms, FC r per epoch (train and held out), and each fitted value, by
    /// ADAM step (whole numbers on the axis).
    static func optimisation(history: (names: [String], columns: [String: [Double]]), scores: (names: [String], columns: [String: [Double]]),
                             terms: [String], shown: [String], gains: Bool, steps: [Double], model: String = ReducedWongWang.name) -> String {
        var plots = SVG.linePlot(title: "loss", xLabel: "ADAM step", yLabel: "loss (dimensionless)", series: [("loss", history.columns["loss"]!)], x: steps, integerX: true)
        plots += terms.map { t in
            SVG.linePlot(title: "loss term \(t)", xLabel: "ADAM step", yLabel: "\(t), weighted (dimensionless)", series: [(t, history.columns[t]!)], x: steps, integerX: true)
        }.joined()
        let epochs = scores.columns["epoch"] ?? []
        var fcSeries: [(name: String, values: [Double])] = [("train", scores.columns["train_fc_r"] ?? [])]
        if let held = scores.columns["held_out_fc_r"], held.contains(where: \.isFinite) { fcSeries.append(("held out", held)) }
        plots += SVG.linePlot(title: "FC fit per epoch", xLabel: "epoch", yLabel: "FC r (Pearson)", series: fcSeries, x: epochs, integerX: true)
        plots += shown.map { n in
            SVG.linePlot(title: "\(n) during the fit", xLabel: "ADAM step", yLabel: SweepReport.axisTitle(n, model: model),
                         series: [(n, history.columns[n]!)], x: steps, integerX: true)
        }.joined()
        if gains, let gain = history.columns["mean_gain"] {
            plots += SVG.linePlot(title: "mean connection gain", xLabel: "ADAM step", yLabel: "mean gain (dimensionless)", series: [("gain", gain)], x: steps, integerX: true)
        }
        return plots
    }

    /// Empirical and simulated FC on one colour scale, their scatter with r, the connection
    /// gains on a sequential scale, and, where the fit saved them, the test run's FCD beside
    /// the data's with their distributions and KS distance, and the test run's BOLD.
    static func functionalConnectivity(_ folder: String, subject: String) throws -> String {
        var body = ""
        if let simulated = try? NumpyFile.readMatrix(path: folder + "/fc_sim.npy") {
            body += fcComparison(simulated, name: "simulated FC (test run)", empirical: try? NumpyFile.readMatrix(path: folder + "/fc_empirical.npy"), subject: subject)
        }
        if let gains = try? NumpyFile.readMatrix(path: folder + "/sc_gains.npy") {
            body += SVG.matrix(title: "connection gains", gains, scale: .sequential([gains], title: "gain (dimensionless)", ignoreDiagonal: true))
        }
        body += dynamics(folder, simulatedName: "test run", empiricalName: "empirical, \(subject)", simulatedFile: "fcd_test.npy", boldFile: "bold_test.npy")
        return body
    }

    /// FCD matrices (the simulated and, when present, the empirical one on one scale), the
    /// distributions of their values with the KS distance, and BOLD as a carpet (regions by
    /// time, z-scored) with a few regions' traces; whatever of these the folder holds.
    static func dynamics(_ folder: String, simulatedName: String, empiricalName: String, simulatedFile: String, boldFile: String) -> String {
        var body = ""
        let simulated = try? NumpyFile.readMatrix(path: folder + "/" + simulatedFile)
        let empirical = try? NumpyFile.readMatrix(path: folder + "/fcd_empirical.npy")
        let present = [simulated, empirical].compactMap { $0 }
        if !present.isEmpty {
            let scale = ColourScale.sequential(present, title: "FC similarity (Pearson r)", ignoreDiagonal: true)
            let step = fcdStepSeconds(folder)
            func draw(_ m: Matrix, _ name: String) -> String {
                SVG.matrix(title: "FCD, \(name)", m, scale: scale, xTitle: step == nil ? "window" : "window start (s)", yTitle: "window",
                           xRange: step.map { 0...(Double(max(m.columns - 1, 1)) * $0) }, size: 200)
            }
            if let simulated { body += draw(simulated, simulatedName) }
            if let empirical { body += draw(empirical, empiricalName) }
            var series = [(name: String, values: [Double])]()
            if let simulated { series.append((simulatedName, FunctionalConnectivityDynamics.distribution(simulated))) }
            if let empirical { series.append((empiricalName, FunctionalConnectivityDynamics.distribution(empirical))) }
            let ks = series.count == 2 ? String(format: ": KS distance %.3f", FunctionalConnectivityDynamics.ksDistance(series[0].values, series[1].values)) : ""
            body += SVG.histograms(title: "FCD values" + ks, xLabel: "FC similarity between windows (Pearson r)", series: series, range: -0.2...1)
        }
        if !boldFile.isEmpty, let bold = try? NumpyFile.readMatrix(path: folder + "/" + boldFile), bold.rows > 1 {
            body += boldFigures(bold, tr: boldTR(folder), name: simulatedName)
        }
        return body
    }

    /// BOLD (time x regions) as a carpet of z-scored regions over time and four regions'
    /// traces (z-scored, stacked).
    static func boldFigures(_ bold: Matrix, tr: Double, name: String) -> String {
        let regions = bold.columns, samples = bold.rows
        var z = Matrix(rows: regions, columns: samples)
        for r in 0..<regions {
            let column = (0..<samples).map { bold[$0, r] }
            let mean = column.reduce(0, +) / Double(samples)
            let sd = max(1e-300, (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(samples - 1, 1))).squareRoot())
            for t in 0..<samples { z[r, t] = (column[t] - mean) / sd }
        }
        let duration = Double(samples) * tr
        // The carpet is 360 px wide: longer series are averaged in bins of whole samples, so
        // the embedded image stays small.
        let bin = max(1, Int((Double(samples) / 360).rounded(.up)))
        var carpet = Matrix(rows: regions, columns: (samples + bin - 1) / bin)
        for r in 0..<regions {
            for b in 0..<carpet.columns {
                let range = (b * bin)..<min(samples, (b + 1) * bin)
                carpet[r, b] = range.reduce(0) { $0 + z[r, $1] } / Double(range.count)
            }
        }
        var s = SVG.matrix(title: "BOLD, \(name) (each region z-scored" + (bin > 1 ? ", means of \(bin) TRs)" : ")"), carpet, scale: ColourScale(kind: .diverging, lo: -3, hi: 3, title: "BOLD (z-score)"),
                           xTitle: "time (s)", yTitle: "region", xRange: tr...duration, size: 180, aspect: 2)
        let shown = Array(Set([0, regions / 3, 2 * regions / 3, regions - 1])).sorted()
        let times = (0..<samples).map { Double($0 + 1) * tr }
        s += SVG.linePlot(title: "BOLD of four regions, \(name)", xLabel: "time (s)", yLabel: "BOLD (z-score, offset by 4 per region)",
                          series: shown.enumerated().map { k, r in ("region \(r)", (0..<samples).map { z[r, $0] + 4 * Double(k) }) }, x: times, width: 420)
        return s
    }

    /// A simulate folder: the regime, BOLD, FC beside the subject's with their scatter, FCD
    /// and its distribution beside the subject's, and the BOLD spectra.
    static func simulation(_ folder: String) throws -> String {
        let summary = try json(folder + "/summary.json") as? [String: Any] ?? [:]
        let subject = summary["subject"] as? String ?? ""
        var text = "<p>Model \(summary["model"] as? String ?? "-"), \(summary["regions"] ?? "-") regions, "
            + String(format: "%.0f s simulated after a %.0f s transient, seed %@", summary["duration_s"] as? Double ?? .nan,
                     summary["transient_s"] as? Double ?? .nan, "\(summary["seed"] ?? "-")") + (subject.isEmpty ? "" : ", subject \(SVG.escape(subject))") + ".</p>"
        if let regime = summary["regime"] as? [String: Any] {
            let run = regime["run"] as? [String: Any] ?? [:]
            text += String(format: "<p>Regime: %@; the run stayed in the %@ state, mean excitatory rate %.2f Hz (regions %.2f-%.2f Hz); G = %.4f = %.2f G*.</p>",
                           regime["regime"] as? String ?? "-", run["state"] as? String ?? "-", run["mean_rate_E_hz"] as? Double ?? .nan,
                           run["min_region_rate_E_hz"] as? Double ?? .nan, run["max_region_rate_E_hz"] as? Double ?? .nan,
                           regime["G"] as? Double ?? .nan, regime["G_over_G_star"] as? Double ?? .nan)
        }
        if let fc = summary["fc_correlation"] as? [String: Any], !fc.isEmpty {
            text += "<p>FC r against the data: " + fc.keys.sorted().map { "\(SVG.escape($0)) " + ((fc[$0] as? Double).map { String(format: "%.3f", $0) } ?? "n/a") }.joined(separator: ", ") + ".</p>"
        }
        if let expected = summary["linearised_fc"] as? [String: Any], let r = expected["fc_r_subject"] as? Double {
            text += String(format: "<p>An infinitely long run at these parameters (the network linearised at its low-activity fixed point, no band-pass) would show FC r %.3f with the subject", r)
                + ((expected["fc_r_group"] as? Double).map { String(format: " and %.3f with the group", $0) } ?? "")
                + ": the rest of the gap to this run's FC r is the run's finite length (fc_linearised.npy).</p>"
        }
        var sections: [(heading: String, body: String)] = [("Run", text)]
        sections.append(("Functional connectivity", fcComparison(try NumpyFile.readMatrix(path: folder + "/fc.npy"), name: "simulated FC",
                                                                 empirical: try? NumpyFile.readMatrix(path: folder + "/fc_empirical.npy"), subject: subject)))
        sections.append(("Dynamics: FCD and BOLD", dynamics(folder, simulatedName: "simulated", empiricalName: "empirical, \(subject)", simulatedFile: "fcd.npy", boldFile: "bold.npy")))
        if let spectra = spectra(folder, subject: subject) { sections.append(("BOLD power spectrum", spectra)) }
        return SVG.page(title: "WholeBrain simulation" + (subject.isEmpty ? "" : ": \(subject)"), sections: sections)
    }

    /// An analyze folder: FC, FCD with its distribution, and the spectrum.
    static func analysis(_ folder: String) throws -> String {
        let metrics = try json(folder + "/metrics.json") as? [String: Any] ?? [:]
        let input = metrics["input"] as? String ?? folder
        var sections: [(heading: String, body: String)] = [("Input", "<p>\(SVG.escape(input)): \(metrics["regions"] ?? "-") regions, \(metrics["samples"] ?? "-") samples.</p>")]
        sections.append(("Functional connectivity", fcComparison(try NumpyFile.readMatrix(path: folder + "/fc.npy"), name: "FC", empirical: nil, subject: "")))
        sections.append(("Dynamics: FCD", dynamics(folder, simulatedName: "input", empiricalName: "", simulatedFile: "fcd.npy", boldFile: "")))
        if let spectra = spectra(folder, subject: "") { sections.append(("BOLD power spectrum", spectra)) }
        return SVG.page(title: "WholeBrain analysis", sections: sections)
    }

    /// An FC matrix, and when the empirical one is given, that one first on the same colour
    /// scale and their scatter over region pairs with r (fit, simulate, analyze and the
    /// sweep's best run).
    static func fcComparison(_ simulated: Matrix, name: String, empirical: Matrix?, subject: String) -> String {
        let empirical = empirical.flatMap { $0.rows == simulated.rows ? $0 : nil }
        let scale = ColourScale.diverging([simulated] + (empirical.map { [$0] } ?? []), title: "FC (Pearson r)")
        guard let empirical else { return SVG.matrix(title: name, simulated, scale: scale) }
        let (e, m) = (FunctionalConnectivity.upperTriangle(empirical), FunctionalConnectivity.upperTriangle(simulated))
        return SVG.matrix(title: "empirical FC, \(subject)", empirical, scale: scale) + SVG.matrix(title: name, simulated, scale: scale)
            + SVG.scatter(title: String(format: "region pairs: r = %.3f", FunctionalConnectivity.correlation(e, m)),
                          x: e, y: m, xLabel: "empirical FC (Pearson r)", yLabel: "simulated FC (Pearson r)")
    }

    /// Region-mean power spectra (psd.npy, psd_empirical.npy), each normalised to unit total
    /// power so their shapes compare, with the spread over regions (+-1 sd) as a band.
    static func spectra(_ folder: String, subject: String) -> String? {
        guard let psd = try? NumpyFile.readMatrix(path: folder + "/psd.npy"),
              let freqs = manifestCoordinate(folder, "frequency")?["values"] as? [Double], freqs.count == psd.columns, freqs.count > 1 else { return nil }
        func summarise(_ p: Matrix) -> (mean: [Double], band: [(lower: Double, upper: Double)]) {
            let rows = (0..<p.rows).map { normalisedSpectrum(Array(p.row($0)), frequencies: freqs) }
            var mean = [Double](), band = [(lower: Double, upper: Double)]()
            for k in 0..<p.columns {
                let xs = rows.map { $0[k] }.filter(\.isFinite)
                let mu = xs.reduce(0, +) / Double(max(xs.count, 1))
                let sd = (xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(max(xs.count - 1, 1))).squareRoot()
                mean.append(mu > 0 ? mu : .nan)
                band.append((mu - sd > 0 ? mu - sd : mu * 0.1, mu + sd))
            }
            return (mean, band)
        }
        let simulated = summarise(psd)
        var series = [(name: subject.isEmpty ? "input" : "simulated", values: simulated.mean)]
        var bands: [[(lower: Double, upper: Double)]?] = [simulated.band]
        if let e = try? NumpyFile.readMatrix(path: folder + "/psd_empirical.npy"), e.columns == psd.columns {
            let empirical = summarise(e)
            series.append(("empirical, \(subject)", empirical.mean)); bands.append(empirical.band)
        }
        return SVG.linePlot(title: "BOLD power spectrum, mean over regions (band: +-1 sd)", xLabel: "frequency (Hz)", yLabel: "power / total power (1/Hz)",
                            series: series, x: freqs, bands: bands, logY: true, width: 420)
    }

    /// A power spectrum divided by its total power (sum times the frequency step, 1/Hz), so
    /// spectra in different units compare by shape; NaN throughout when it has no power.
    static func normalisedSpectrum(_ p: [Double], frequencies: [Double]) -> [Double] {
        let df = frequencies.count > 1 ? frequencies[1] - frequencies[0] : 1
        let total = p.reduce(0, +) * df
        return p.map { total > 0 ? $0 / total : .nan }
    }

    /// One of the folder's shared coordinates from its manifest.json (nil: not recorded).
    static func manifestCoordinate(_ folder: String, _ name: String) -> [String: Any]? {
        ((try? json(folder + "/manifest.json") as? [String: Any])?["coordinates"] as? [String: Any])?[name] as? [String: Any]
    }

    /// The repetition time from a folder's manifest (the BOLD time grid), 0.72 s if absent.
    static func boldTR(_ folder: String) -> Double { manifestCoordinate(folder, "time")?["step"] as? Double ?? 0.72 }

    /// Seconds between FCD windows, from the manifest (nil: not recorded).
    static func fcdStepSeconds(_ folder: String) -> Double? { manifestCoordinate(folder, "fcd_window")?["step"] as? Double }

    /// Where each fitted subject's network started, where the fitted parameters put it and
    /// where its test run sat (summary.json's "regimes"), plus the fit's warnings.
    static func regimes(_ summary: [String: Any]) -> String {
        let notes = (summary["notes"] as? [String] ?? []).map { "<p>\(SVG.escape($0))</p>" }.joined()
        if let network = summary["network_regimes"] as? [String: Any], !network.isEmpty {
            // Any model: the noise-free network at the fitted values (`NetworkRegime`).
            let rows = network.keys.sorted().map { subject -> [String] in
                let r = network[subject] as? [String: Any] ?? [:]
                let k = r["coupling"] as? Double, critical = r["critical_coupling"] as? Double
                return [subject, (r["stable_fixed_points"] as? Int).map { "\($0)" } ?? "-",
                        (r["leading_eigenvalue_per_ms"] as? Double).map { String(format: "%.3g", $0) } ?? "none stable",
                        critical.map { String(format: "%.4g (%@)", $0, r["critical_kind"] as? String ?? "") } ?? "-",
                        k.flatMap { k in critical.map { String(format: "%.3f", k / $0) } } ?? "-"]
            }
            return SVG.table(header: ["subject", "stable fixed points (fitted, noise-free)", "leading eigenvalue (1/ms)", "critical coupling K*", "fitted K / K*"], rows: rows) + notes
        }
        guard let regimes = summary["regimes"] as? [String: Any], !regimes.isEmpty else { return "" }
        let rows = regimes.keys.sorted().map { subject -> [String] in
            let r = regimes[subject] as? [String: Any] ?? [:]
            let start = r["start"] as? [String: Any] ?? [:], fitted = r["fitted"] as? [String: Any] ?? [:], run = r["test_run"] as? [String: Any] ?? [:]
            return [subject, start["regime"] as? String ?? "-", (start["G_over_G_star"] as? Double).map { String(format: "%.3f", $0) } ?? "-",
                    fitted["regime"] as? String ?? "-", run["state"] as? String ?? "-",
                    (run["mean_rate_E_hz"] as? Double).map { String(format: "%.2f", $0) } ?? "-"]
        }
        return SVG.table(header: ["subject", "start regime", "start G/G*", "fitted regime", "test run", "test run mean E rate (Hz)"], rows: rows) + notes
    }

    static func continuation(_ folder: String) throws -> String {
        let branch = try json(folder + "/branch.json") as? [[String: Any]] ?? []
        let b = try json(folder + "/bifurcations.json") as? [String: Any] ?? [:]
        let param = b["parameter"] as? String ?? "G"
        let name = param == "G" ? "G*" : "critical \(param)"
        let critical = b["critical_value"] as? Double
        let summary = critical.map { String(format: "%@ = %.5f: the low-activity state loses stability there (%@).", name, $0, b["kind"] as? String ?? "") }
            ?? "No \(name) in range: \(b["no_critical_reason"] as? String ?? "the low-activity state stays stable over the whole range")."
        let range = b["range"] as? [Double] ?? []
        let points = (b["fixed_points_at_start"] as? [Any])?.count ?? 0
        let marker = critical.map { ($0, name) }
        let model = b["model"] as? String ?? ReducedWongWang.name
        func axisUnit(_ p: String) -> String { SweepReport.axisTitle(p, model: model) }
        // rww: mean S_E and the E rate; another model: the mean of its coupled variable.
        let meanName = b["mean_variable"] as? String ?? "S_E", meanKey = "mean_" + (b["mean_variable"] as? String ?? "S_E")
        let meanUnit = b["mean_variable_unit"] as? String ?? "dimensionless"
        // One polyline per curve, split where stability changes.
        let curveIDs = Array(Set(branch.map { $0["curve"] as? Int ?? 0 })).sorted()
        func series(_ key: String) -> [[(x: Double, y: Double, stable: Bool)]] {
            curveIDs.map { id in branch.filter { ($0["curve"] as? Int ?? 0) == id }.map {
                ($0[param] as? Double ?? .nan, $0[key] as? Double ?? .nan, ($0["branch"] as? String ?? "unstable") != "unstable")
            } }
        }
        let marks = (b["bifurcations"] as? [[String: Any]] ?? []).compactMap { m -> (x: Double, y: Double, label: String)? in
            guard let x = m[param] as? Double, let y = m[meanKey] as? Double else { return nil }
            return (x, y, String(format: "%@ at %@ = %.4f", m["kind"] as? String ?? "", param, x))
        }
        let list = (b["bifurcations"] as? [[String: Any]] ?? []).map { m in
            String(format: "%@ at %@ = %.5f", m["kind"] as? String ?? "", param, m[param] as? Double ?? .nan)
                + ((m[meanKey] as? Double).map { String(format: " (mean %@ %.3f)", meanName, $0) } ?? "")
        }
        let crossing = (b["kind"] as? String) == "branch point"
            ? " At a branch point another branch of fixed points crosses the low-activity one and they exchange stability: past \(name) the stable low-activity state is that other branch, not the continued one (dashed)." : ""
        let body = "<p>\(summary)\(crossing) Subject \(b["subject"] ?? ""); \(b["inhibition"] as? String ?? ""); \(points) fixed point(s) at \(param) = \(range.first.map { SVG.number($0) } ?? "-").</p>"
            + (list.isEmpty ? "" : "<p>Stability changes: " + SVG.escape(list.joined(separator: "; ")) + ".</p>")
            + SVG.bifurcationDiagram(title: "fixed points of the noise-free network", xLabel: axisUnit(param), yLabel: "mean \(meanName) (\(meanUnit))",
                                     curves: series(meanKey), points: marks, marker: marker)
            + (model == ReducedWongWang.name ? SVG.bifurcationDiagram(title: "mean excitatory rate", xLabel: axisUnit(param), yLabel: "mean E rate (Hz)",
                                     curves: series("mean_rate_E_hz"), marker: marker, logY: true) : "")
            + SVG.bifurcationDiagram(title: "leading eigenvalue, real part", xLabel: axisUnit(param), yLabel: "Re λ_max (1/ms)",
                                     curves: series("leading_real"), marker: marker)
        return SVG.page(title: "WholeBrain stability: \(model == ReducedWongWang.name ? "" : model + ", ")\(b["subject"] ?? "")", sections: [("Bifurcation diagram in \(param)", body)])
    }

    static func map(_ folder: String) throws -> String {
        let axes = try json(folder + "/map_axes.json") as? [String: Any] ?? [:]
        guard let rowName = axes["rows"] as? String, let columnName = axes["columns"] as? String,
              let rowValues = axes[rowName] as? [Double], let columnValues = axes[columnName] as? [Double] else {
            throw WholeBrainError.badFile(path: folder + "/map_axes.json", problem: "lacks rows, columns or their values")
        }
        func grid(_ title: String, _ file: String, unit: String = "") -> String? {
            // A map with no value anywhere (no limit cycle found) is said in words, not drawn grey.
            (try? NumpyFile.readMatrix(path: folder + "/" + file)).flatMap { $0.values.contains(where: \.isFinite) ? $0 : nil }.map {
                SVG.gridMap(title: title, $0, rowName: rowName, rowValues: rowValues, columnName: columnName, columnValues: columnValues, unit: unit)
            }
        }
        var body = ""
        if let stable = try? NumpyFile.readMatrix(path: folder + "/map_stable_points.npy") {
            let bistable = stable.values.filter { $0 >= 2 }.count
            body += "<p>\(bistable) of \(stable.values.count) grid points are bistable (two stable fixed points).</p>"
                + (grid("stable fixed points", "map_stable_points.npy", unit: "count") ?? "") + (grid("S_E of the highest stable state", "map_high_S_E.npy", unit: "dimensionless") ?? "")
        }
        if let amplitude = try? NumpyFile.readMatrix(path: folder + "/map_cycle_amplitude.npy") {
            let oscillating = amplitude.values.filter(\.isFinite).count
            body += "<p>Limit cycles found by simulation (four starts per grid point, RK4, the last second examined): "
                + "\(oscillating) of \(amplitude.values.count) grid points oscillate.</p>"
                + (grid("limit cycle amplitude", "map_cycle_amplitude.npy", unit: "state units") ?? "") + (grid("limit cycle period", "map_cycle_period_ms.npy", unit: "ms") ?? "")
        }
        return SVG.page(title: "WholeBrain: single-node map (\(axes["model"] as? String ?? "rww"))", sections: [("\(columnName) x \(rowName)", body)])
    }
}
