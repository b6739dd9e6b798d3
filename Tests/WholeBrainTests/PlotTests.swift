import Foundation
import XCTest
import WholeBrain

/// Figures' axes and images: round ticks, whole-number steps and epochs, decades on log
/// axes, short labels for tiny or huge values, and matrices as real PNG images.
final class PlotTests: XCTestCase {
    /// A step is 1, 2, 2.5 or 5 times a power of ten, and every tick a multiple of it.
    func assertRound(_ axis: PlotAxis, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(axis.ticks.count, 2, "\(axis.ticks)", file: file, line: line)
        let step = axis.ticks[1] - axis.ticks[0]
        let mantissa = step / pow(10, log10(step).rounded(.down))
        XCTAssert([1, 2, 2.5, 5, 10].contains { abs($0 - mantissa) < 1e-9 }, "step \(step)", file: file, line: line)
        for t in axis.ticks {
            XCTAssertEqual(t / step, (t / step).rounded(), accuracy: 1e-6, "tick \(t) of \(axis.ticks)", file: file, line: line)
            XCTAssert(t >= axis.lo - 1e-12 && t <= axis.hi + 1e-12, "tick \(t) inside \(axis.lo)...\(axis.hi)", file: file, line: line)
        }
        XCTAssertEqual(Set(axis.labels.map { $0.contains(".") ? $0.split(separator: ".").last!.count : 0 }).count, 1,
                       "one number of decimals: \(axis.labels)", file: file, line: line)
    }

    func testLinearTicksAreRoundNumbers() {
        // The loss of a short fit (the old axis showed 0.291, 0.307, 0.322, 0.337, 0.352).
        let loss = PlotAxis.linear([0.2914, 0.3520, 0.3100], title: "loss")
        assertRound(loss)
        XCTAssertEqual(loss.labels, ["0.30", "0.32", "0.34"])
        assertRound(PlotAxis.linear([-0.0055, 0], title: "Re λ (1/ms)"))
        assertRound(PlotAxis.linear([0.29, 0.87], title: "G"))
        assertRound(PlotAxis.linear([1200, 98_000], title: "samples"))
    }

    func testEpochAxesStepByWholeNumbers() {
        // Epochs 1-6 used to be labelled 1, 2.2, 3.5, 4.8, 6.
        let epochs = PlotAxis.linear([1, 6], title: "epoch", integer: true)
        XCTAssertEqual(epochs.labels, ["1", "2", "3", "4", "5", "6"])
        let two = PlotAxis.linear([1, 2], title: "epoch", integer: true)
        XCTAssertEqual(two.ticks, [1, 2])
        let many = PlotAxis.linear([1, 300], title: "step", integer: true)
        assertRound(many)
        XCTAssert(many.ticks.allSatisfy { $0 == $0.rounded() })
    }

    func testTinyAndHugeValuesMoveTheirPowerOfTenIntoTheTitle() {
        // A gradient of order 1e-5 was labelled -8.70e-06 and clipped.
        let tiny = PlotAxis.linear([-8.7e-6, 2.1e-5], title: "d loss / d G")
        assertRound(tiny)
        XCTAssert(tiny.title.hasSuffix("(×10⁻⁵)"), tiny.title)
        XCTAssert(tiny.labels.allSatisfy { $0.count <= 5 }, "\(tiny.labels)")
        let huge = PlotAxis.linear([0, 3.2e6], title: "steps")
        XCTAssert(huge.title.hasSuffix("(×10⁶)"), huge.title)
        XCTAssert(huge.labels.allSatisfy { $0.count <= 4 }, "\(huge.labels)")
    }

    func testLogAxesTickDecades() {
        let spectrum = PlotAxis.logarithmic([3e-6, 0.02, 15], title: "power")
        XCTAssert(spectrum.log)
        for t in spectrum.ticks { XCTAssertEqual(log10(t), log10(t).rounded(), accuracy: 1e-9, "\(spectrum.ticks)") }
        XCTAssert(spectrum.labels.contains("1") && spectrum.labels.contains("10"), "\(spectrum.labels)")
        // Under two decades: 1, 2 and 5 times each power of ten.
        let rates = PlotAxis.logarithmic([1.5, 32], title: "rate (Hz)")
        XCTAssertEqual(rates.ticks, [2, 5, 10, 20])
    }

    /// A matrix figure embeds its cells as a PNG of the matrix's size, with a colourbar.
    func testMatrixIsAnEmbeddedPNGOfOnePixelPerCell() throws {
        var m = Matrix(rows: 3, columns: 5)
        for r in 0..<3 { for c in 0..<5 { m[r, c] = Double(r - c) / 4 } }
        let svg = SVG.matrix(title: "test", m, scale: .diverging([m], title: "FC (Pearson r)"))
        let start = try XCTUnwrap(svg.range(of: "data:image/png;base64,"))
        let encoded = svg[start.upperBound...].prefix { $0 != "\"" }
        let png = try XCTUnwrap(Data(base64Encoded: String(encoded)))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let bytes = Array(png)
        func be32(_ k: Int) -> Int { Int(bytes[k]) << 24 | Int(bytes[k + 1]) << 16 | Int(bytes[k + 2]) << 8 | Int(bytes[k + 3]) }
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(be32(16), 5, "width: columns")
        XCTAssertEqual(be32(20), 3, "height: rows")
        XCTAssert(svg.contains("FC (Pearson r)") && svg.contains("class=\"axis-title\""), "colourbar titled with the unit")
        // Blue below zero, red above, white at zero (a diverging scale centred on 0).
        let scale = ColourScale.diverging([m], title: "r")
        XCTAssertEqual(scale.lo, -scale.hi)
        let (r0, g0, b0) = scale.rgb(0), (rn, _, bn) = scale.rgb(scale.lo), (rp, _, bp) = scale.rgb(scale.hi)
        XCTAssert(r0 > 240 && g0 > 240 && b0 > 240)
        XCTAssert(bn > rn && rp > bp)
    }
}
