import ArgumentParser
import WholeBrain

extension WelchOptions.Detrend: ExpressibleByArgument {}

/// Options of the BOLD analysis, shared by `simulate` and `analyze`.
struct AnalysisArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Zero-phase band-pass before FC and FCD, in Hz, e.g. 0.01,0.1.", valueName: "low,high"))
    var bandpass: String?

    @Option(help: "Welch segment length in samples (TRs).")
    var segment: Int = 256

    @Option(help: "Welch segment overlap in samples (default: half a segment).")
    var overlap: Int?

    @Option(help: "Detrending of each Welch segment.")
    var detrend: WelchOptions.Detrend = .constant

    @Option(help: "FCD window in samples (TRs).")
    var fcdWindow: Int = 60

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

    func options(tr: Double) throws -> AnalysisOptions {
        var o = AnalysisOptions(tr: tr)
        o.welch = WelchOptions(segmentLength: segment, overlap: overlap, detrend: detrend)
        o.bandPass = try bandpass.map { try AnalysisArguments.band($0, option: "--bandpass") }
        o.phaseBand = try AnalysisArguments.band(phaseBand, option: "--phase-band")
        o.fcdWindow = fcdWindow
        o.fcdStep = fcdStep
        return o
    }
}
