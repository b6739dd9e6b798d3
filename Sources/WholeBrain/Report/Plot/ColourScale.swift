import Foundation

/// How values map to colours in a matrix or grid figure, with the range its colourbar shows.
/// Diverging (blue-white-red, symmetric about zero) for signed quantities such as
/// correlations; sequential (viridis) for quantities on one side of zero (rates, gains,
/// distances). Compared matrices share one scale: build it from all of them.
public struct ColourScale {
    public enum Kind { case diverging, sequential }
    public let kind: Kind
    public let lo: Double, hi: Double
    /// Colourbar title with the unit, e.g. "FC (Pearson r)".
    public let title: String
    /// Whole-number ticks on the colourbar (counts).
    var integer = false

    /// Blue-white-red over [-limit, limit]; the limit is the largest off-diagonal magnitude of
    /// all the matrices (a correlation's diagonal is 1 and says nothing), rounded up to 0.1
    /// when the values are at most 1.
    public static func diverging(_ matrices: [Matrix], title: String, ignoreDiagonal: Bool = true) -> ColourScale {
        var largest = 0.0
        for m in matrices {
            for r in 0..<m.rows { for c in 0..<m.columns where !(ignoreDiagonal && r == c) && m[r, c].isFinite { largest = max(largest, abs(m[r, c])) } }
        }
        if largest == 0 { largest = 1 }
        if largest <= 1 { largest = min(1, (largest * 10).rounded(.up) / 10) }
        return ColourScale(kind: .diverging, lo: -largest, hi: largest, title: title)
    }

    /// Viridis from the smallest to the largest value of all the matrices (off the diagonal
    /// when asked), or over a given range.
    public static func sequential(_ matrices: [Matrix], title: String, ignoreDiagonal: Bool = false, range: ClosedRange<Double>? = nil) -> ColourScale {
        if let range { return ColourScale(kind: .sequential, lo: range.lowerBound, hi: range.upperBound, title: title) }
        var lo = Double.infinity, hi = -Double.infinity
        for m in matrices {
            for r in 0..<m.rows { for c in 0..<m.columns where !(ignoreDiagonal && r == c) && m[r, c].isFinite { lo = min(lo, m[r, c]); hi = max(hi, m[r, c]) } }
        }
        if !lo.isFinite { lo = 0; hi = 1 }
        if hi - lo <= 1e-12 * max(abs(hi), 1) { let d = lo == 0 ? 0.5 : abs(lo) * 0.05; lo -= d; hi += d }
        let whole = matrices.allSatisfy { $0.values.allSatisfy { !$0.isFinite || $0 == $0.rounded() } }
        return ColourScale(kind: .sequential, lo: lo, hi: hi, title: title, integer: whole)
    }

    /// The colour of a value as 8-bit RGB; grey for a missing value; values beyond the range
    /// take its end colour.
    public func rgb(_ v: Double) -> (UInt8, UInt8, UInt8) {
        guard v.isFinite else { return (190, 190, 190) }
        let t = max(0, min(1, (v - lo) / (hi - lo)))
        return ColourScale.interpolate(kind == .diverging ? ColourScale.redBlue : ColourScale.viridis, t)
    }

    func css(_ v: Double) -> String { let (r, g, b) = rgb(v); return "rgb(\(r),\(g),\(b))" }

    /// Black or white, whichever reads on the colour of `v`.
    func textColour(_ v: Double) -> String {
        let (r, g, b) = rgb(v)
        return 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b) > 140 ? "#000" : "#fff"
    }

    // Anchor colours: ColorBrewer RdBu (reversed, 7 classes) and matplotlib's viridis at 0, 1/4, 1/2, 3/4, 1.
    static let redBlue: [(Double, Double, Double)] = [(33, 102, 172), (103, 169, 207), (209, 229, 240), (247, 247, 247), (253, 219, 199), (239, 138, 98), (178, 24, 43)]
    static let viridis: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    static func interpolate(_ anchors: [(Double, Double, Double)], _ t: Double) -> (UInt8, UInt8, UInt8) {
        let x = t * Double(anchors.count - 1)
        let k = min(anchors.count - 2, Int(x.rounded(.down)))
        let f = x - Double(k)
        let a = anchors[k], b = anchors[k + 1]
        func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8(max(0, min(255, (p + (q - p) * f).rounded()))) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}
