import ArgumentParser
import WholeBrain

extension WelchOptions.Detrend: ExpressibleByArgument {}

/// Options of the BOLD analysis, shared by `simulate` and `analyze`.
struct AnalysisArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Zero-phase band-pass before FC and FCD, in Hz, e.g. 0.01,0.1.", valueName: "low,high"))
    var bandpass: String?

    @Option(help: "Welch segment length in samples (TRs); default 256, or the whole series when shorter (said on stderr).")
    var segment: Int?

    @Option(help: "Welch segment overlap in samples (default: half a segment).")
    var overlap: Int?

    @Option(help: "Detrending of each Welch segment.")
    var detrend: WelchOptions.Detrend = .constant

    @Option(help: "FCD window in samples (TRs); default 60, or a quarter of the series when that is shorter (said on stderr).")
    var fcdWindow: Int?

    @Option(help: "FCD step in samples (TRs).")
    var fcdStep: Int = 10

    @Option(help: ArgumentHelp("Narrow band for phases (synchrony, metastability), in Hz.", valueName: "low,high"))
    var phaseBand: String = "0.04,0.07"

    static func band(_ text: String, option: String) throws -> (low: Double, high: Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 0, high > low else {
            throw WholeBrainError.badValue(source: option, value: text, expected: "two frequencies in Hz, low,high with 0 <= low < high")
        }
        return (low, high)
    }

    /// The options for a series of `samples` samples, by `AnalysisOptions.fitted`'s rule (the
    /// notes go to stderr).
    func options(tr: Double, samples: Int, source: String) throws -> AnalysisOptions {
        let (o, notes) = try options(tr: tr).fitted(toSamples: samples, segmentGiven: segment != nil, fcdWindowGiven: fcdWindow != nil, source: source)
        for note in notes { printError("note: " + note) }
        return o
    }

    func options(tr: Double) throws -> AnalysisOptions {
        var o = AnalysisOptions(tr: tr)
        o.welch = WelchOptions(segmentLength: segment ?? 256, overlap: overlap, detrend: detrend)
        o.bandPass = try bandpass.map { try AnalysisArguments.band($0, option: "--bandpass") }
        o.phaseBand = try AnalysisArguments.band(phaseBand, option: "--phase-band")
        o.fcdWindow = fcdWindow ?? 60
        o.fcdStep = fcdStep
        return o
    }
}
