import Foundation

/// Writes a finished simulation into an output folder: `bold.npy` (time x regions, float64),
/// `fc.npy`, optional `states.npy` (samples x 2 x regions: S_E then S_I, temporal averages)
/// and `summary.json`.
public enum SimulationOutputs {
    public static func write(run: SimulationRun, inputs: SimulationInputs, analysis: AnalysisOptions? = nil,
                             extra: [String: Any], to folder: OutputFolder) throws -> [String: Any] {
        let result = run.result
        let simulated = result.bold.transposed
        // The analysis (when asked for) already band-passes the simulated BOLD and computes its
        // FC; reuse that FC rather than filtering a second time.
        var metrics: BoldMetrics?
        var analysisError: Error?
        if let o = analysis {
            do { metrics = try BoldAnalysis.analyze(regionsByTime: simulated, source: "simulated BOLD", options: o) }
            catch { analysisError = error }
        }
        let band = analysis?.bandPass
        let fc: Matrix
        if let metrics { fc = metrics.fc }
        else if let band, let o = analysis {
            fc = FunctionalConnectivity.pearson(regionsByTime: BandPass.filter(regionsByTime: simulated, fs: o.fs, low: band.low, high: band.high))
        } else {
            fc = FunctionalConnectivity.pearson(regionsByTime: simulated)
        }
        // Empirical FCs on the same footing: band-passed when the simulation's FC is; each
        // subject once, in subject order (a fixed order of summation for the group mean).
        var inputs = inputs
        if let band, let o = analysis {
            func empiricalFC(_ x: Matrix) -> Matrix {
                FunctionalConnectivity.pearson(regionsByTime: BandPass.filter(regionsByTime: x, fs: 1 / (inputs.tr ?? o.tr),
                                                                              low: band.low, high: band.high))
            }
            let subjects = inputs.datasetBolds.keys.sorted()
            var datasetFCs: [String: Matrix] = [:]
            for s in subjects { datasetFCs[s] = empiricalFC(inputs.datasetBolds[s]!) }
            var filteredInputs = SimulationInputs(
                connectome: inputs.connectome, subject: inputs.subject,
                empiricalFC: inputs.empiricalBold.map(empiricalFC) ?? inputs.empiricalFC,
                groupFC: subjects.isEmpty ? inputs.groupFC : FunctionalConnectivity.mean(subjects.map { datasetFCs[$0]! }),
                subjectFCs: inputs.subjectFCs.isEmpty ? [:] : datasetFCs)
            filteredInputs.empiricalBold = inputs.empiricalBold
            filteredInputs.datasetBolds = inputs.datasetBolds
            filteredInputs.tr = inputs.tr
            inputs = filteredInputs
        }
        folder.describeRun(command: "simulate") { m in
            m.addRunCoordinates(regionLabels: run.regionLabels, tr: run.tr, samples: result.bold.rows)
        }
        try folder.write("bold.npy", matrix: result.bold, dims: ["time", "region"], units: SimulationOutputs.boldUnits,
                         description: "simulated BOLD (Balloon-Windkessel, driven by \(run.boldInput)), one row per TR")
        try folder.write("fc.npy", matrix: fc, dims: ["region", "region_to"], units: "Pearson r",
                         description: "functional connectivity: Pearson correlation of bold.npy's regions" + (band.map { String(format: ", band-passed %g-%g Hz", $0.low, $0.high) } ?? ""))
        if let states = result.states {
            let period = Double(result.bold.rows) * run.tr / Double(max(result.stateSampleCount, 1))
            folder.manifest?.coordinates["state_time"] = .grid(start: period, step: period, count: result.stateSampleCount, units: "s",
                                                               description: "end of each state-averaging period after the transient")
            folder.manifest?.coordinates["variable"] = .labels(run.variables, description: "the model's state variables")
            try folder.write("states.npy", values: states, shape: [result.stateSampleCount, run.variables.count, result.bold.columns],
                             dims: ["state_time", "variable", "region"], units: "the model's units per variable (`wholebrain models \(run.model)`)",
                             description: "state variables averaged over each period (--states)")
        }
        var summary = makeSummary(run: run, inputs: inputs, simulatedFC: fc, extra: extra)
        if let o = analysis {
            if let metrics {
                var a = BoldAnalysis.summary(metrics, options: o)
                try writeDynamics(metrics, options: o, to: folder)
                if let e = inputs.empiricalBold, e.rows == simulated.rows,
                   let empirical = try? BoldAnalysis.analyze(regionsByTime: e, source: "empirical BOLD", options: o) {
                    a["comparison"] = BoldAnalysis.compare(metrics, to: empirical)
                    try writeDynamics(empirical, options: o, to: folder, empirical: true)
                }
                summary["analysis"] = a
            } else {
                summary["analysis"] = ["error": "\(analysisError.map { "\($0)" } ?? "unknown")"]
            }
        }
        try folder.write("summary.json", bytes: try json(summary))
        folder.record("summary.json", .init(kind: .json, description: "the run's model, parameters, timing, seed, FC agreement with the data, mean rates and regime"))
        return summary
    }

    /// fcd.npy and psd.npy of the simulated BOLD, or fc_empirical.npy, fcd_empirical.npy and
    /// psd_empirical.npy of the subject's scan under the same analysis, for the report.
    static func writeDynamics(_ metrics: BoldMetrics, options o: AnalysisOptions, to folder: OutputFolder, empirical: Bool = false) throws {
        let suffix = empirical ? "_empirical" : "", whose = empirical ? "the subject's scan" : "the simulated BOLD"
        let band = o.bandPass.map { String(format: ", band-passed %g-%g Hz", $0.low, $0.high) } ?? ""
        let window = "fcd_window" + suffix
        folder.describeRun(command: "simulate") { m in
            let centre = Double(o.fcdWindow) / 2 * o.tr, step = Double(o.fcdStep) * o.tr
            m.coordinates[window] = .grid(start: centre, step: step, count: metrics.fcd.rows, units: "s",
                                          description: "centre of each FCD window of \(whose) (\(o.fcdWindow) TRs every \(o.fcdStep))")
            m.coordinates[window + "_to"] = m.coordinates[window]
            m.coordinates["frequency"] = .values(metrics.frequencies, units: "Hz", description: "Welch frequencies")
        }
        if empirical {
            try folder.write("fc_empirical.npy", matrix: metrics.fc, dims: ["region", "region_to"], units: "Pearson r",
                             description: "functional connectivity of the subject's scan" + band)
        }
        try folder.write("fcd\(suffix).npy", matrix: metrics.fcd, dims: [window, window + "_to"], units: "Pearson r",
                         description: "functional connectivity dynamics of \(whose): correlation between the FCs of sliding windows" + band)
        try folder.write("psd\(suffix).npy", matrix: metrics.psd, dims: ["region", "frequency"], units: "signal^2 / Hz",
                         description: "Welch power spectral density of each region of \(whose) (not band-passed)")
    }

    public static func json(_ object: Any) throws -> [UInt8] {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return Array(data) + [0x0a]
    }

    /// BOLD's units: the Balloon-Windkessel signal y is a fractional signal change (dimensionless).
    public static let boldUnits = "fractional BOLD signal change (dimensionless)"

    static func finite(_ x: Double) -> Any { x.isFinite ? x : NSNull() }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(xs.count, 1)) }

    public static func makeSummary(run: SimulationRun, inputs: SimulationInputs, simulatedFC: Matrix,
                                   extra: [String: Any]) -> [String: Any] {
        let result = run.result
        let n = result.bold.columns
        var fcCorrelation: [String: Any] = [:]
        if let e = inputs.empiricalFC { fcCorrelation[inputs.subject ?? "empirical"] = finite(FunctionalConnectivity.similarity(simulatedFC, e)) }
        if let g = inputs.groupFC { fcCorrelation["group"] = finite(FunctionalConnectivity.similarity(simulatedFC, g)) }
        if !inputs.subjectFCs.isEmpty {
            let rs = inputs.subjectFCs.keys.sorted().map { FunctionalConnectivity.similarity(simulatedFC, inputs.subjectFCs[$0]!) }
            for (k, r) in zip(inputs.subjectFCs.keys.sorted(), rs) { fcCorrelation[k] = finite(r) }
            fcCorrelation["mean_over_subjects"] = finite(rs.reduce(0, +) / Double(rs.count))
        }
        let nodeSteps = Double(result.steps) * Double(n)
        var means: [String: Any] = [:]
        for (k, name) in run.variables.enumerated() { means[name] = mean(result.meanVariables[k]) }
        for (k, name) in run.observables.enumerated() { means[name] = mean(result.meanObservables[k]) }
        var s: [String: Any] = [
            "model": run.model,
            "parameters": run.parameters,
            "coupling": run.coupling.rawValue,
            "integrator": run.integrator.rawValue,
            "noise": ["kind": run.noise.kind.rawValue, "sigma": run.noise.sigma, "tau_ms": run.noise.tau, "mean": run.noise.mean],
            "seed": run.seed,
            "dt_ms": run.dt,
            "duration_s": run.duration,
            "transient_s": run.transientSeconds,
            "tr_s": run.tr,
            "conduction_speed_m_per_s": run.conductionSpeed.isFinite ? run.conductionSpeed as Any : "inf",
            "bold_input": run.boldInput,
            "bold_step_ms": run.boldStepMs,
            "regions": n,
            "region_labels": run.regionLabels,
            "delay_steps": ["min": run.delaySteps.min, "max": run.delaySteps.max],
            "bold_samples": result.bold.rows,
            "steps": result.steps,
            "wall_time_s": result.wallSeconds,
            "ns_per_node_step": result.wallSeconds * 1e9 / max(nodeSteps, 1),
            "fc_correlation": fcCorrelation,
            "means": means,
            "versions": ["wholebrain": WholeBrainVersion.string, "fftw": FFTWInfo.version],
            "outputs": ["bold.npy": "time x regions, float64", "fc.npy": "regions x regions Pearson FC of bold.npy"]
                .merging(result.states == nil ? [:] : ["states.npy": "samples x variables (\(run.variables.joined(separator: ", "))) x regions, temporal averages"]) { a, _ in a },
        ]
        if let subject = inputs.subject { s["subject"] = subject }
        for (k, v) in extra { s[k] = v }
        return s
    }
}

extension NumpyFile {
    /// Encodes a flat C-ordered `<f8` array of any shape.
    public static func encode(values: [Double], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count)
        let m = Matrix(rows: 1, columns: values.count, values: values)
        var bytes = encode(m, oneDimensional: true)
        // Rewrite the header with the requested shape (same padding rules).
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let oldHeaderLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let len = UInt16(header.utf8.count)
        bytes.replaceSubrange(8..<(10 + oldHeaderLength), with: [UInt8(len & 0xff), UInt8(len >> 8)] + Array(header.utf8))
        return bytes
    }
}
