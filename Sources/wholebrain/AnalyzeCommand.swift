import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain analyze`: spectra, FC, FCD and phase synchrony of a BOLD file or a subject.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse BOLD: power spectra, band powers, ALFF/fALFF, FC, FCD, synchrony and metastability.",
        discussion: """
        The input is a BOLD file (a bold.npy from simulate, time x regions; any matrix format the \
        readers take) or a subject of --data. Writes into --out: psd.npy (regions x frequencies, \
        signal^2/Hz), freqs.npy (Hz), fc.npy, fcd.npy, metrics.json, report.html (FC, FCD and its \
        distribution, spectrum) and manifest.json (dimensions, units, labels); with --compare SUBJECT also \
        the distances to that subject's empirical BOLD analysed the same way (FC correlation, FCD \
        Kolmogorov-Smirnov distance, metastability and synchrony differences, spectrum distance).

        Example:
          wholebrain analyze runs/sim1/bold.npy --tr 0.72 --bandpass 0.01,0.1 \\
              --compare 101309 --out runs/sim1-analysis
        """)

    @Argument(help: "A BOLD file or a subject id of --data.")
    var input: String

    @Option(help: "Repetition time in s (the bundled HCP data: 0.72).")
    var tr: Double = HCPDataset.repetitionTime

    @Option(help: "Dataset folder for subjects.")
    var data: String = "data/hcp"

    @Option(help: "Compare with this subject's empirical BOLD.")
    var compare: String?

    @Flag(help: "The file is regions x time (default: time x regions, as bold.npy).")
    var regionsByTime = false

    @Option(help: "Variable (.mat) or member (.npz) holding the BOLD.")
    var variable: String?

    @OptionGroup var analysis: AnalysisArguments

    @Option(help: "Output folder.")
    var out: String

    @Flag(help: "Replace an existing non-empty --out.")
    var force = false

    @Flag(help: "Print nothing on success (notes and errors still go to stderr).")
    var quiet = false

    func run() throws { try reportingErrors("analyze", analyze) }

    func analyze() throws {
        try OutputFolder.checkDestination(out, force: force)
        let (bold, source) = try load(input)
        let options = try analysis.options(tr: tr, samples: bold.columns, source: source)
        let metrics = try BoldAnalysis.analyze(regionsByTime: bold, source: source, options: options)
        var json = BoldAnalysis.summary(metrics, options: options)
        json["input"] = input
        json["regions"] = bold.rows
        json["samples"] = bold.columns
        if let compare {
            let (reference, referenceSource) = try load(compare, subjectOnly: true)
            guard reference.rows == bold.rows else {
                throw WholeBrainError.badValue(source: "--compare \(compare)", value: "\(reference.rows) regions",
                                               expected: "the \(bold.rows) regions of \(input)")
            }
            let empirical = try BoldAnalysis.analyze(regionsByTime: reference, source: referenceSource, options: options)
            json["comparison"] = BoldAnalysis.compare(metrics, to: empirical).merging(["subject": compare]) { a, _ in a }
        }
        let folder = try OutputFolder(path: out, force: force)
        let labels = try regionLabels(of: input, count: bold.rows)
        folder.describeRun(command: "analyze") { m in
            m.addRegions(labels, description: "brain regions of the input, in its order")
            m.coordinates["frequency"] = .values(metrics.frequencies, units: "Hz", description: "Welch frequencies")
            let centre = Double(options.fcdWindow) / 2 * options.tr, step = Double(options.fcdStep) * options.tr
            m.coordinates["fcd_window"] = .grid(start: centre, step: step, count: metrics.fcd.rows, units: "s",
                                                description: "centre of each FCD window, from the first sample (\(options.fcdWindow) TRs every \(options.fcdStep))")
            m.coordinates["fcd_window_to"] = m.coordinates["fcd_window"]
        }
        let band = options.bandPass.map { String(format: ", band-passed %g-%g Hz", $0.low, $0.high) } ?? ""
        try folder.write("psd.npy", matrix: metrics.psd, dims: ["region", "frequency"], units: "signal^2 / Hz",
                         description: "Welch power spectral density of each region's BOLD, as given (not band-passed)")
        try folder.write("freqs.npy", matrix: Matrix(rows: 1, columns: metrics.frequencies.count, values: metrics.frequencies), oneDimensional: true,
                         dims: ["frequency"], units: "Hz", description: "the frequencies of psd.npy's columns")
        try folder.write("fc.npy", matrix: metrics.fc, dims: ["region", "region_to"], units: "Pearson r",
                         description: "functional connectivity" + band)
        try folder.write("fcd.npy", matrix: metrics.fcd, dims: ["fcd_window", "fcd_window_to"], units: "Pearson r",
                         description: "functional connectivity dynamics: correlation between the FCs of sliding windows" + band)
        try folder.write("metrics.json", bytes: try SimulationOutputs.json(json))
        folder.record("metrics.json", .init(kind: .json, description: "band powers, peak frequencies, ALFF/fALFF, synchrony, metastability, and the comparison with --compare"))
        try folder.writeReport(description: "FC, FCD with its distribution, and the power spectrum")
        try folder.commit()
        guard !quiet else { return }
        print(String(format: "%d regions x %d samples: synchrony %.3f, metastability %.3f, mean peak %.4f Hz",
                     bold.rows, bold.columns, metrics.synchrony, metrics.metastability,
                     (json["peak_frequency_hz"] as? [String: Any])?["mean"] as? Double ?? 0))
        if let c = json["comparison"] as? [String: Any] {
            print(String(format: "vs %@: FC r %.3f, FCD KS %.3f", compare ?? "", c["fc_correlation"] as? Double ?? .nan,
                         c["fcd_ks_distance"] as? Double ?? .nan))
        }
        print("outputs in \(out)")
    }

    /// Region labels of the input: a subject's from the dataset; a file's from the manifest.json
    /// beside it (a run folder's bold.npy); otherwise region0, region1, ...
    func regionLabels(of name: String, count: Int) throws -> [String] {
        if FileManager.default.fileExists(atPath: name) {
            let manifestPath = ((name as NSString).deletingLastPathComponent as NSString).appendingPathComponent("manifest.json")
            if let data = FileManager.default.contents(atPath: manifestPath),
               let manifest = try? JSONDecoder().decode(RunManifest.self, from: data),
               let labels = manifest.coordinates["region"]?.labels, labels.count == count {
                return labels
            }
            return (0..<count).map { "region\($0)" }
        }
        let labels = try HCPDataset(root: data).regionLabels
        return labels.count == count ? labels : (0..<count).map { "region\($0)" }
    }

    /// A file (time x regions unless --regions-by-time) or a subject (regions x time).
    func load(_ name: String, subjectOnly: Bool = false) throws -> (Matrix, String) {
        if !subjectOnly && FileManager.default.fileExists(atPath: name) {
            let m = try MatrixFile.load(path: name, variable: variable)
            return (regionsByTime ? m : m.transposed, name)
        }
        let dataset = try HCPDataset(root: data)
        return (try dataset.boldTimeCourses(subject: name), "subject \(name)")
    }
}
