import Foundation

/// One axis of a figure: the data range it shows, its ticks at round numbers (1, 2, 2.5 or 5
/// times a power of ten, or whole decades on a log axis), their labels and the axis title
/// with its unit. Labels share one number of decimals; values beyond 1e4 or below 1e-3 are
/// shown as multiples of a power of ten that the title names, so no label is long enough to
/// be clipped.
public struct PlotAxis {
    public var lo: Double, hi: Double
    public var ticks: [Double]
    public var labels: [String]
    public var title: String
    public var log: Bool
    /// Drawn from the top down (matrix rows: row 0 at the top).
    var reversed = false

    /// A linear axis over the data range (padded by `pad` of the span on each side), with
    /// about `count` ticks; `integer` keeps ticks on whole numbers (epochs, steps, indices).
    public static func linear(_ values: [Double], title: String, count: Int = 5, integer: Bool = false, pad: Double = 0,
                       include: [Double] = []) -> PlotAxis {
        let finite = (values + include).filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo <= 1e-12 * max(abs(hi), abs(lo)) || hi == lo {
            let d = lo == 0 ? 0.5 : abs(lo) * 0.05
            lo -= d; hi += d
        }
        let span = hi - lo
        lo -= pad * span; hi += pad * span
        var step = niceStep(span / Double(max(count, 2)))
        if integer { step = max(1, step.rounded(.up)) }
        let first = (lo / step).rounded(.up) * step
        var ticks: [Double] = []
        var t = first
        while t <= hi + 1e-9 * step && ticks.count < 50 { ticks.append(abs(t) < 1e-12 * step ? 0 : t); t = first + step * Double(ticks.count) }
        var axis = PlotAxis(lo: lo, hi: hi, ticks: ticks, labels: [], title: title, log: false)
        axis.label(step: step)
        return axis
    }

    /// An axis over cells 0..<count (matrix rows or columns, or grid values), each cell one
    /// unit wide: ticks at round indices or at the given cell values.
    static func cells(_ count: Int, title: String, reversed: Bool = false) -> PlotAxis {
        var axis = linear([0, Double(max(count - 1, 1))], title: title, count: 5, integer: true)
        axis.lo = -0.5; axis.hi = Double(count) - 0.5
        axis.reversed = reversed
        return axis
    }

    /// A log10 axis over the positive values: ticks at decades when the range spans two or
    /// more, else at 1, 2 and 5 times each power of ten.
    public static func logarithmic(_ values: [Double], title: String) -> PlotAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        var lo = Foundation.log10(positive.min() ?? 1), hi = Foundation.log10(positive.max() ?? 10)
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = 0.04 * (hi - lo)
        lo -= pad; hi += pad
        var ticks: [Double] = []
        let mantissas: [Double] = hi - lo >= 2 ? [1] : [1, 2, 5]
        for e in Int(lo.rounded(.down))...Int(hi.rounded(.up)) {
            for m in mantissas {
                let v = m * Foundation.pow(10, Double(e))
                if Foundation.log10(v) >= lo - 1e-9 && Foundation.log10(v) <= hi + 1e-9 { ticks.append(v) }
            }
        }
        if hi - lo >= 8, ticks.count > 6 { ticks = ticks.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
        let labels = ticks.map { v -> String in
            let e = Foundation.log10(v)
            if abs(e - e.rounded()) < 1e-9, abs(e) >= 4 { return "10" + superscript(Int(e.rounded())) }
            return plain(v, decimals: max(0, Int((-e).rounded(.up))))
        }
        return PlotAxis(lo: lo, hi: hi, ticks: ticks, labels: labels, title: title, log: true)
    }

    /// Fraction along the axis (0 at lo, 1 at hi) of a data value.
    func fraction(_ v: Double) -> Double {
        let x = log ? (v > 0 ? Foundation.log10(v) : -.infinity) : v
        let f = (x - lo) / (hi - lo)
        return reversed ? 1 - f : f
    }

    /// 1, 2, 2.5 or 5 times a power of ten, the smallest not below `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// Labels with the fewest decimals that tell ticks `step` apart; a common power of ten
    /// goes into the title when the numbers would be long.
    private mutating func label(step: Double) {
        let largest = ticks.map(abs).max() ?? 0
        var scale = 0
        if largest >= 1e4 || (largest > 0 && largest < 1e-3) { scale = Int(Foundation.log10(largest).rounded(.down)) }
        let factor = Foundation.pow(10, Double(-scale))
        let scaledStep = step * factor
        var decimals = 0
        while decimals < 8 && abs(scaledStep * Foundation.pow(10, Double(decimals)) - (scaledStep * Foundation.pow(10, Double(decimals))).rounded()) > 1e-6 { decimals += 1 }
        labels = ticks.map { PlotAxis.plain($0 * factor, decimals: decimals) }
        if scale != 0 { title += " (×10" + PlotAxis.superscript(scale) + ")" }
    }

    static func plain(_ v: Double, decimals: Int) -> String {
        let s = String(format: "%.\(decimals)f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s.replacingOccurrences(of: "-", with: "−")
    }

    static func superscript(_ n: Int) -> String {
        let digits: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        return String(String(n).map { digits[$0] ?? $0 })
    }

    /// Width in pixels of a text at a font size: 0.62 em per character, a little above DejaVu Sans' average, so estimates err wide.
    static func textWidth(_ s: String, fontSize: Double = 11) -> Double { Double(s.count) * fontSize * 0.62 }
}
