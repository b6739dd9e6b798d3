import Foundation

/// report.html of a fit, a stability continuation or a single-node map, built from the files
/// the run wrote (so `wholebrain report DIR` rebuilds it, and the run itself writes it the
/// same way). Sweep folders have `SweepReport`.
public enum FolderReport {
    public enum Kind: String { case fit, continuation, map }

    /// What a folder holds, from the files in it (nil: none of these).
    public static func kind(of folder: String) -> Kind? {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder + "/history.csv") && fm.fileExists(atPath: folder + "/params.json") { return .fit }
        if fm.fileExists(atPath: folder + "/branch.json") && fm.fileExists(atPath: folder + "/bifurcations.json") { return .continuation }
        if fm.fileExists(atPath: folder + "/map_axes.json") { return .map }
        return nil
    }

    public static func html(folder: String) throws -> String {
        switch kind(of: folder) {
        case .fit: return try fit(folder)
        case .continuation: return try continuation(folder)
        case .map: return try map(folder)
        case nil:
            throw WholeBrainError.badValue(source: "report", value: folder,
                                           expected: "a folder written by wholebrain sweep, fit or stability (job.toml, history.csv, branch.json or map_axes.json)")
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
        var plots = SVG.linePlot(title: "loss", xLabel: "step", series: [("loss", history.columns["loss"]!)], x: steps)
        plots += terms.map { t in SVG.linePlot(title: "term: \(t)", xLabel: "step", series: [(t, history.columns[t]!)], x: steps) }.joined()
        let epochs = scores.columns["epoch"] ?? []
        var fcSeries: [(name: String, values: [Double])] = [("train", scores.columns["train_fc_r"] ?? [])]
        if let held = scores.columns["held_out_fc_r"], held.contains(where: \.isFinite) { fcSeries.append(("held out", held)) }
        plots += SVG.linePlot(title: "FC correlation per epoch", xLabel: "epoch", series: fcSeries, x: epochs)
        plots += shown.map { n in SVG.linePlot(title: n, xLabel: "step", series: [(n, history.columns[n]!)], x: steps) }.joined()
        if params["sc_gains"] != nil, let gain = history.columns["mean_gain"] {
            plots += SVG.linePlot(title: "mean connection gain", xLabel: "step", series: [("gain", gain)], x: steps)
        }
        sections.append(("Optimisation", plots))
        var fcs = ""
        if let empirical = try? NumpyFile.readMatrix(path: folder + "/fc_empirical.npy") {
            fcs += SVG.heatmap(title: "empirical FC, \(summary["subject"] as? String ?? "")", empirical)
        }
        if let simulated = try? NumpyFile.readMatrix(path: folder + "/fc_sim.npy") { fcs += SVG.heatmap(title: "simulated FC (new noise)", simulated) }
        if let gains = try? NumpyFile.readMatrix(path: folder + "/sc_gains.npy") { fcs += SVG.heatmap(title: "connection gains", gains) }
        sections.append(("Functional connectivity", fcs))
        return SVG.page(title: "WholeBrain fit: \(summary["subject"] as? String ?? "")", sections: sections)
    }

    /// Where each fitted subject's network started, where the fitted parameters put it and
    /// where its test run sat (summary.json's "regimes"), plus the fit's warnings.
    static func regimes(_ summary: [String: Any]) -> String {
        guard let regimes = summary["regimes"] as? [String: Any], !regimes.isEmpty else { return "" }
        let rows = regimes.keys.sorted().map { subject -> [String] in
            let r = regimes[subject] as? [String: Any] ?? [:]
            let start = r["start"] as? [String: Any] ?? [:], fitted = r["fitted"] as? [String: Any] ?? [:], run = r["test_run"] as? [String: Any] ?? [:]
            return [subject, start["regime"] as? String ?? "-", (start["G_over_G_star"] as? Double).map { String(format: "%.3f", $0) } ?? "-",
                    fitted["regime"] as? String ?? "-", run["state"] as? String ?? "-",
                    (run["mean_rate_E_hz"] as? Double).map { String(format: "%.2f", $0) } ?? "-"]
        }
        let notes = (summary["notes"] as? [String] ?? []).map { "<p>\(SVG.escape($0))</p>" }.joined()
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
        // One polyline per curve, split where stability changes.
        let curveIDs = Array(Set(branch.map { $0["curve"] as? Int ?? 0 })).sorted()
        func series(_ key: String) -> [[(x: Double, y: Double, stable: Bool)]] {
            curveIDs.map { id in branch.filter { ($0["curve"] as? Int ?? 0) == id }.map {
                ($0[param] as? Double ?? .nan, $0[key] as? Double ?? .nan, ($0["branch"] as? String ?? "unstable") != "unstable")
            } }
        }
        let marks = (b["bifurcations"] as? [[String: Any]] ?? []).compactMap { m -> (x: Double, y: Double, label: String)? in
            guard let x = m[param] as? Double, let y = m["mean_S_E"] as? Double else { return nil }
            return (x, y, String(format: "%@ at %@ = %.4f", m["kind"] as? String ?? "", param, x))
        }
        let list = (b["bifurcations"] as? [[String: Any]] ?? []).map { m in
            String(format: "%@ at %@ = %.5f (mean S_E %.3f)", m["kind"] as? String ?? "", param, m[param] as? Double ?? .nan, m["mean_S_E"] as? Double ?? .nan)
        }
        let crossing = (b["kind"] as? String) == "branch point"
            ? " At a branch point another branch of fixed points crosses the low-activity one and they exchange stability: past \(name) the stable low-activity state is that other branch, not the continued one (dashed)." : ""
        let body = "<p>\(summary)\(crossing) Subject \(b["subject"] ?? ""); \(b["inhibition"] as? String ?? ""); \(points) fixed point(s) at \(param) = \(range.first.map { SVG.number($0) } ?? "-").</p>"
            + (list.isEmpty ? "" : "<p>Stability changes: " + SVG.escape(list.joined(separator: "; ")) + ".</p>")
            + SVG.bifurcationDiagram(title: "fixed points of the noise-free network", xLabel: param, yLabel: "mean S_E (1)",
                                     curves: series("mean_S_E"), points: marks, marker: marker)
            + SVG.bifurcationDiagram(title: "mean excitatory rate", xLabel: param, yLabel: "mean E rate (Hz)",
                                     curves: series("mean_rate_E_hz"), marker: marker, logY: true)
            + SVG.bifurcationDiagram(title: "leading eigenvalue, real part", xLabel: param, yLabel: "Re lambda_max (1/ms)",
                                     curves: series("leading_real"), marker: marker)
        return SVG.page(title: "WholeBrain stability: \(b["subject"] ?? "")", sections: [("Bifurcation diagram in \(param)", body)])
    }

    static func map(_ folder: String) throws -> String {
        let axes = try json(folder + "/map_axes.json") as? [String: Any] ?? [:]
        guard let rowName = axes["rows"] as? String, let columnName = axes["columns"] as? String,
              let rowValues = axes[rowName] as? [Double], let columnValues = axes[columnName] as? [Double] else {
            throw WholeBrainError.badFile(path: folder + "/map_axes.json", problem: "lacks rows, columns or their values")
        }
        func grid(_ title: String, _ file: String) -> String? {
            (try? NumpyFile.readMatrix(path: folder + "/" + file)).map {
                SVG.gridMap(title: title, $0, rowName: rowName, rowValues: rowValues, columnName: columnName, columnValues: columnValues)
            }
        }
        var body = ""
        if let stable = try? NumpyFile.readMatrix(path: folder + "/map_stable_points.npy") {
            let bistable = stable.values.filter { $0 >= 2 }.count
            body += "<p>\(bistable) of \(stable.values.count) grid points are bistable (two stable fixed points).</p>"
                + (grid("stable fixed points", "map_stable_points.npy") ?? "") + (grid("S_E of the highest stable state", "map_high_S_E.npy") ?? "")
        }
        if let amplitude = try? NumpyFile.readMatrix(path: folder + "/map_cycle_amplitude.npy") {
            let oscillating = amplitude.values.filter(\.isFinite).count
            body += "<p>Limit cycles found by simulation (four starts per grid point, RK4, the last second examined): "
                + "\(oscillating) of \(amplitude.values.count) grid points oscillate.</p>"
                + (grid("limit cycle amplitude", "map_cycle_amplitude.npy") ?? "") + (grid("limit cycle period (ms)", "map_cycle_period_ms.npy") ?? "")
        }
        return SVG.page(title: "WholeBrain: single-node map (\(axes["model"] as? String ?? "rww"))", sections: [("\(columnName) x \(rowName)", body)])
    }
}
