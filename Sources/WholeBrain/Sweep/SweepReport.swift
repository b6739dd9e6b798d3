import Foundation

/// The HTML report of a sweep folder: per metric a line over the axis (one axis) or a map
/// over the grid (two axes; further axes are averaged), means over seeds, and the best
/// points by FC correlation, with the best run's FC and BOLD power spectrum beside the
/// empirical ones.
public enum SweepReport {
    /// Region-mean BOLD power spectra of the best run and of the empirical data, as the sweep
    /// saved them, each normalised to unit total power so their shapes compare (simulated
    /// BOLD and scanner units differ by many decades); empty when they are missing.
    static func spectra(folder: String, best: Int) -> String {
        guard let run = try? NumpyFile.readMatrix(path: folder + String(format: "/points/point-%05d_psd.npy", best)), run.rows == 2 else { return "" }
        let freqs = Array(run.row(0))
        func normalised(_ p: [Double]) -> [Double] { FolderReport.normalisedSpectrum(p, frequencies: freqs) }
        var series = [(name: "best run", values: normalised(Array(run.row(1))))]
        if let e = try? NumpyFile.readMatrix(path: folder + "/empirical_psd.npy"), e.rows == 2, e.columns == run.columns {
            series.append((name: "empirical", values: normalised(Array(e.row(1)))))
        }
        return SVG.linePlot(title: "BOLD power spectrum, mean over regions", xLabel: "frequency (Hz)", yLabel: "power / total power (1/Hz)",
                            series: series, x: freqs, logY: true)
    }

    /// For an rww sweep over G: the bifurcation diagram of the noise-free network over the
    /// swept range (`RWWContinuation`: low, unstable and high branches, stable solid, unstable
    /// dashed; J_i retuned at every G with feedback inhibition), G* marked where the
    /// low-activity state loses stability inside the range.
    static func bifurcationDiagram(spec: SweepSpec, inputs: SimulationInputs?) -> String? {
        guard spec.model == ReducedWongWang.name, let axis = spec.axes.first(where: { $0.parameter == "G" }),
              let lo = axis.values.min(), let hi = axis.values.max(), hi > lo,
              let inputs,
              let p = try? ReducedWongWang.parameters(set: nil, assignments: spec.fixed),
              let diagram = try? RWWContinuation(parameters: p, weights: inputs.connectome.weights,
                                                 inhibition: spec.fic.map { .feedback(rate: $0) } ?? .fixed(nil)).diagram(over: max(0, lo)...hi, steps: 60),
              !diagram.curves.isEmpty else { return nil }
        let marker = diagram.critical.map { ($0.value, "G*") }
        let text = diagram.critical.map {
            String(format: "<p>The low-activity state loses stability at G* = %.4f (%@). Solid: stable fixed points; dashed: unstable.</p>", $0.value, $0.kind)
        } ?? "<p>No G* in the swept range: \(SVG.escape(diagram.reason ?? "")). Solid: stable fixed points; dashed: unstable.</p>"
        let curves = diagram.curves.map { $0.points.map { (x: $0.value, y: $0.meanSE, stable: $0.isStable) } }
        let rates = diagram.curves.map { $0.points.map { (x: $0.value, y: $0.meanRate, stable: $0.isStable) } }
        let folds = diagram.curves.flatMap { $0.bifurcations.map { (x: $0.value, y: $0.meanSE, label: $0.kind) } }
        return text
            + SVG.bifurcationDiagram(title: "fixed points of the noise-free network" + (spec.fic.map { ", FIC \(SVG.number($0)) Hz" } ?? ""),
                                     xLabel: axisTitle("G", model: spec.model), yLabel: "mean S_E (dimensionless)", curves: curves, points: folds, marker: marker)
            + SVG.bifurcationDiagram(title: "mean excitatory rate at the fixed points", xLabel: axisTitle("G", model: spec.model), yLabel: "mean E rate (Hz)",
                                     curves: rates, marker: marker, logY: true)
    }

    /// The best run by FC r among those in the low-activity regime (mean E rate 1-10 Hz, when
    /// rate_E was measured; otherwise among all, and the notes say the regime was not checked),
    /// with a note when it sits on the edge of an axis with three or more values (the best may
    /// lie beyond the grid) or when no run is in the regime.
    public static func bestRun(_ rows: [(values: [Double], metrics: [String: Double])], axes: [SweepSpec.Axis])
        -> (best: Int?, eligible: [Int], regimeChecked: Bool, notes: [String]) {
        let scored = rows.indices.filter { rows[$0].metrics["fc_r"]?.isFinite == true }
        let regimeChecked = scored.contains { rows[$0].metrics["rate_E"] != nil }
        var notes: [String] = []
        var eligible = scored
        if regimeChecked {
            eligible = scored.filter { rows[$0].metrics["rate_E"].map { (1...10).contains($0) } ?? false }
            if eligible.isEmpty {
                notes.append("No run stayed in the low-activity regime (mean E rate 1-10 Hz); this is the best by FC r among all runs.")
                eligible = scored
            } else {
                notes.append("Chosen by FC r among the \(eligible.count) of \(scored.count) runs in the low-activity regime (mean E rate 1-10 Hz).")
            }
        } else {
            notes.append("The regime was not checked (add rate_E to the metrics): chosen by FC r alone.")
        }
        let best = eligible.max { rows[$0].metrics["fc_r"]! < rows[$1].metrics["fc_r"]! }
        if let best {
            for (axis, value) in zip(axes, rows[best].values) where axis.values.count >= 3 && (value == axis.values.first || value == axis.values.last) {
                notes.append(String(format: "Warning: %@ = %.4g is on the edge of the grid; the best may lie beyond it (extend the axis).", axis.parameter, value))
            }
        }
        return (best, eligible, regimeChecked, notes)
    }

    /// Figure titles and axis titles (with units) of each metric.
    static let titles: [String: String] = [
        "fc_r": "FC fit to the subject", "fc_r_group": "FC fit to the group mean", "fcd_ks": "FCD distance to the subject",
        "metastability": "metastability", "synchrony": "synchrony", "rate_E": "mean excitatory rate",
        "peak_frequency": "BOLD peak frequency", "slow4_power": "BOLD power, slow-4 (0.027-0.073 Hz)", "slow5_power": "BOLD power, slow-5 (0.01-0.027 Hz)",
    ]
    static let axisTitles: [String: String] = [
        "fc_r": "FC r (Pearson)", "fc_r_group": "FC r (Pearson)", "fcd_ks": "KS distance (0-1)",
        "metastability": "sd of Kuramoto order (1)", "synchrony": "mean Kuramoto order (0-1)", "rate_E": "mean E rate (Hz)",
        "peak_frequency": "peak frequency (Hz)", "slow4_power": "power (signal²)", "slow5_power": "power (signal²)",
        "leading_eigenvalue_low": "Re λ_max (1/ms)", "leading_eigenvalue_high": "Re λ_max (1/ms)",
    ]

    /// A swept parameter with its unit, from the model's parameter table.
    static func axisTitle(_ parameter: String, model: String) -> String {
        let unit = ModelCatalog.all.first { $0.name == model }.flatMap { m in m.parameterUnits[m.parameterAliases[parameter] ?? parameter] } ?? ""
        return "\(parameter) (" + (unit.isEmpty || unit == "1" ? "dimensionless" : unit) + ")"
    }

    public static func html(folder: String, spec: SweepSpec) throws -> String {
        let path = folder + "/results.jsonl"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WholeBrainError.missingFile(path: path, what: "the results of a sweep (wholebrain sweep JOB --out \(folder))")
        }
        var rows: [(values: [Double], metrics: [String: Double])] = []
        var points: [Int] = [], seeds: [Int] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let values = o["values"] as? [String: Double], let metrics = o["metrics"] as? [String: Any] else { continue }
            // Each value snapped to its axis's own value (JSON may round the last digit).
            let snapped = spec.axes.map { axis -> Double in
                guard let v = values[axis.parameter] else { return .nan }
                return axis.values.min { abs($0 - v) < abs($1 - v) }.flatMap { abs($0 - v) <= 1e-9 * max(abs(v), 1) ? $0 : nil } ?? v
            }
            rows.append((snapped, metrics.compactMapValues { $0 as? Double }))
            points.append(o["point"] as? Int ?? -1)
            seeds.append(o["seed"] as? Int ?? -1)
        }
        var sections: [(heading: String, body: String)] = []
        let total = spec.points.count
        sections.append(("Sweep", "<p>\(rows.count) of \(total) runs done; model \(spec.model), subject \(spec.subject), "
            + "\(Int(spec.duration)) s per run, seeds \(spec.seeds.map(String.init).joined(separator: ", ")); axes "
            + spec.axes.map { "\($0.parameter) (\($0.values.count) values)" }.joined(separator: " x ") + "."
            + (spec.critical.map { String(format: " The G axis is centred on the critical coupling G* = %.4f (stability analysis).", $0) } ?? "")
            + "</p>"))
        func values(_ metric: String, where match: ([Double]) -> Bool) -> [Double] {
            rows.filter { match($0.values) }.compactMap { $0.metrics[metric] }.filter(\.isFinite)
        }
        func mean(_ metric: String, where match: ([Double]) -> Bool) -> Double {
            let xs = values(metric, where: match)
            return xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
        }
        // Mean +- sd over seeds at each value (nil where a value has fewer than two seeds).
        func band(_ metric: String, _ axis: SweepSpec.Axis) -> [(lower: Double, upper: Double)]? {
            guard spec.seeds.count > 1 else { return nil }
            return axis.values.map { v in
                let xs = values(metric) { $0[0] == v }
                guard xs.count > 1 else { return (.nan, .nan) }
                let m = xs.reduce(0, +) / Double(xs.count)
                let sd = (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
                return (m - sd, m + sd)
            }
        }
        var figures = ""
        // G*, where the G axis is centred on it (marked on every figure).
        let critical = spec.critical
        func marks(_ axis: SweepSpec.Axis) -> Double? { axis.parameter == "G" ? critical : nil }
        for metric in spec.metrics {
            if spec.axes.count == 1 {
                let axis = spec.axes[0]
                // Both branches' eigenvalues in one figure, each series labelled with its branch.
                if metric == "leading_eigenvalue_high" && spec.metrics.contains("leading_eigenvalue_low") { continue }
                let shown = metric == "leading_eigenvalue_low" ? SweepSpec.eigenvalueMetrics.filter(spec.metrics.contains) : [metric]
                let names = shown.map { $0 == "leading_eigenvalue_low" ? "low-activity state" : $0 == "leading_eigenvalue_high" ? "high-activity state" : $0 }
                figures += SVG.linePlot(title: metric.hasPrefix("leading_eigenvalue") ? "leading eigenvalue of each stable state" : SweepReport.titles[metric] ?? metric,
                                        xLabel: axisTitle(axis.parameter, model: spec.model), yLabel: SweepReport.axisTitles[metric] ?? metric,
                                        series: zip(names, shown).map { name, m in (name, axis.values.map { v in mean(m) { $0[0] == v } }) },
                                        x: axis.values, bands: shown.map { band($0, axis) }, marker: marks(axis).map { ($0, "G*") })
            } else {
                let a = spec.axes[0], b = spec.axes[1]
                var m = Matrix(rows: a.values.count, columns: b.values.count)
                for (r, va) in a.values.enumerated() {
                    for (c, vb) in b.values.enumerated() { m[r, c] = mean(metric) { $0[0] == va && $0[1] == vb } }
                }
                figures += SVG.gridMap(title: SweepReport.titles[metric] ?? metric, m, rowName: axisTitle(a.parameter, model: spec.model), rowValues: a.values,
                                       columnName: axisTitle(b.parameter, model: spec.model), columnValues: b.values,
                                       rowMarker: marks(a), columnMarker: marks(b),
                                       scale: .sequential([m], title: SweepReport.axisTitles[metric] ?? metric))
            }
        }
        sections.append(("Metrics (means over seeds" + (spec.seeds.count > 1 ? ", bands +-1 sd" : "") + ")" + (critical != nil ? "; dashed: G*" : ""), figures))
        // The subject's data, once, for the stability diagram and the empirical FC.
        let inputs = try? SimulationInputs.load(.dataset(root: spec.data, subject: spec.subject), preparation: ConnectomePreparation())
        if let diagram = bifurcationDiagram(spec: spec, inputs: inputs) { sections.append(("Bifurcation diagram (noise-free network)", diagram)) }
        let choice = bestRun(rows, axes: spec.axes)
        let ranked = choice.eligible.sorted { rows[$0].metrics["fc_r"]! > rows[$1].metrics["fc_r"]! }.prefix(5).map { rows[$0] }
        // The best run's FC beside the empirical one.
        if let best = choice.best,
           let simulated = try? NumpyFile.readMatrix(path: folder + String(format: "/points/point-%05d_fc.npy", points[best])),
           let empirical = inputs?.empiricalFC {
            let text = "<p>" + zip(spec.axes, rows[best].values).map { String(format: "%@ = %.4g", $0.parameter, $1) }.joined(separator: ", ")
                + String(format: ": FC r %.3f", rows[best].metrics["fc_r"]!)
                + (rows[best].metrics["rate_E"].map { String(format: ", mean E rate %.2f Hz", $0) } ?? "") + ". " + choice.notes.joined(separator: " ") + "</p>"
            let figures = FolderReport.fcComparison(simulated, name: "simulated FC, best run", empirical: empirical, subject: spec.subject)
                + spectra(folder: folder, best: points[best])
            sections.append(("Best run", text + figures))
        }
        if !ranked.isEmpty {
            sections.append(("Best runs by FC correlation" + (choice.regimeChecked ? " in the low-activity regime (mean E rate 1-10 Hz)" : ""), SVG.table(
                header: spec.axes.map(\.parameter) + ["fc_r", "fcd_ks", "metastability", "rate_E (Hz)"],
                rows: ranked.map { r in
                    r.values.map { String(format: "%.4g", $0) } + ["fc_r", "fcd_ks", "metastability", "rate_E"].map { r.metrics[$0].map { String(format: "%.3f", $0) } ?? "-" }
                })))
        }
        let order = rows.indices.sorted { points[$0] < points[$1] }
        sections.append(("Every run", SVG.table(
            header: ["point", "seed"] + spec.axes.map(\.parameter) + spec.metrics,
            rows: order.map { k in
                ["\(points[k])", "\(seeds[k])"] + rows[k].values.map { String(format: "%.4g", $0) }
                    + spec.metrics.map { rows[k].metrics[$0].map { String(format: "%.4g", $0) } ?? "-" }
            })))
        return SVG.page(title: "WholeBrain sweep: \(spec.subject)", sections: sections)
    }
}
