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
        signal^2/Hz), freqs.npy (Hz), fc.npy, fcd.npy and metrics.json; with --compare SUBJECT also \
        the distances to that subject's empirical BOLD analysed the same way (FC correlation, FCD \
        Kolmogorov-Smirnov distance, metastability and synchrony differences, spectrum distance).

        Example:
          wholebrain analyze runs/sim1/bold.npy --tr 0.72 --bandpass 0.01,0.1 --compare 101309 --out runs/sim1-analysis
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
        try folder.write("psd.npy", bytes: NumpyFile.encode(metrics.psd))
        try folder.write("freqs.npy", bytes: NumpyFile.encode(Matrix(rows: 1, columns: metrics.frequencies.count, values: metrics.frequencies), oneDimensional: true))
        try folder.write("fc.npy", bytes: NumpyFile.encode(metrics.fc))
        try folder.write("fcd.npy", bytes: NumpyFile.encode(metrics.fcd))
        try folder.write("metrics.json", bytes: try SimulationOutputs.json(json))
        try folder.commit()
        print(String(format: "%d regions x %d samples: synchrony %.3f, metastability %.3f, mean peak %.4f Hz",
                     bold.rows, bold.columns, metrics.synchrony, metrics.metastability,
                     (json["peak_frequency_hz"] as? [String: Any])?["mean"] as? Double ?? 0))
        if let c = json["comparison"] as? [String: Any] {
            print(String(format: "vs %@: FC r %.3f, FCD KS %.3f", compare ?? "", c["fc_correlation"] as? Double ?? .nan,
                         c["fcd_ks_distance"] as? Double ?? .nan))
        }
        print("outputs in \(out)")
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
