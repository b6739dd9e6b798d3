import Foundation

/// The frame of one SVG figure: title, plot area, both axes with ticks, light grid lines and
/// titles, and an optional legend to the right of the plot area (never over the data). The
/// margins are sized from the longest tick label, so nothing is clipped.
struct PlotFrame {
    let x: PlotAxis, y: PlotAxis
    let title: String
    let width: Double, height: Double
    let left: Double, top: Double, plotWidth: Double, plotHeight: Double
    let legend: [LegendEntry]

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    init(title: String, x: PlotAxis, y: PlotAxis, plotWidth: Double = 320, plotHeight: Double = 190,
         legend: [LegendEntry] = [], extraRight: Double = 0) {
        self.x = x; self.y = y; self.title = title; self.legend = legend
        let yLabelWidth = y.labels.map { PlotAxis.textWidth($0) }.max() ?? 20
        left = 22 + yLabelWidth + 8
        top = 30
        self.plotWidth = plotWidth; self.plotHeight = plotHeight
        let legendWidth = legend.isEmpty ? 0 : 36 + (legend.map { PlotAxis.textWidth($0.name) }.max() ?? 0)
        let lastLabel = (x.labels.last.map { PlotAxis.textWidth($0) } ?? 0) / 2
        width = (left + plotWidth + max(14, lastLabel + 4) + legendWidth + extraRight).rounded(.up)
        height = top + plotHeight + 44
    }

    func px(_ v: Double) -> Double { left + x.fraction(v) * plotWidth }
    func py(_ v: Double) -> Double { top + (1 - y.fraction(v)) * plotHeight }
    func inside(_ xv: Double, _ yv: Double) -> Bool {
        let fx = x.fraction(xv), fy = y.fraction(yv)
        return fx.isFinite && fy.isFinite && fx >= -1e-9 && fx <= 1 + 1e-9 && fy >= -1e-9 && fy <= 1 + 1e-9
    }

    /// The opening tag, title, grid, axes and legend; the caller adds the data and `</svg>`.
    /// The axes' ranges hold every data point, so nothing needs clipping.
    func open() -> String {
        var s = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"figure\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">", width, height)
        s += PlotFrame.title(title, centre: left + plotWidth / 2, width: width)
        for (t, label) in zip(x.ticks, x.labels) {
            let xv = px(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", xv, top, xv, top + plotHeight)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>", xv, top + plotHeight, xv, top + plotHeight + 4)
            s += String(format: "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", xv, top + plotHeight + 15, label)
        }
        for (t, label) in zip(y.ticks, y.labels) {
            let yv = py(t)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, yv, left + plotWidth, yv)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>", left - 4, yv, left, yv)
            s += String(format: "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 6, yv + 4, label)
        }
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#666\"/>", left, top, plotWidth, plotHeight)
        s += String(format: "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\">%@</text>",
                    left + plotWidth / 2, top + plotHeight + 33, PlotFrame.fontSize(x.title, fitting: plotWidth), SVG.escape(x.title))
        let cy = top + plotHeight / 2
        s += String(format: "<text class=\"axis-title\" x=\"13\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\" transform=\"rotate(-90 13 %.1f)\">%@</text>",
                    cy, PlotFrame.fontSize(y.title, fitting: plotHeight + 30), cy, SVG.escape(y.title))
        let lx = left + plotWidth + max(14, (x.labels.last.map { PlotAxis.textWidth($0) } ?? 0) / 2 + 4)
        for (k, entry) in legend.enumerated() {
            let ly = top + 8 + 16 * Double(k)
            switch entry.style {
            case .point:
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"white\" stroke=\"%@\"/>", lx + 11, ly, entry.colour)
            case .line, .dashed:
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"%@/>", lx, ly, lx + 22, ly, entry.colour,
                            entry.style == .dashed ? " stroke-dasharray=\"5 3\"" : "")
            }
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>", lx + 27, ly + 4, SVG.escape(entry.name))
        }
        return s
    }

    /// A figure's title at the top: centred over `centre` where it fits, moved inside the
    /// figure where it would not, and set smaller when it is wider than the figure.
    static func title(_ text: String, centre: Double, width: Double) -> String {
        let size = min(13, max(8, 13 * (width - 8) / max(PlotAxis.textWidth(text, fontSize: 13), 1)))
        let half = PlotAxis.textWidth(text, fontSize: size) / 2
        let x = min(max(centre, half + 4), width - half - 4)
        return String(format: "<text x=\"%.1f\" y=\"17\" text-anchor=\"middle\" font-size=\"%.1f\">%@</text>", x, size, SVG.escape(text))
    }

    /// The font size (at most 11) at which a title fits a length in pixels.
    static func fontSize(_ title: String, fitting length: Double) -> Double {
        min(11, max(7, 11 * length / max(PlotAxis.textWidth(title), 1)))
    }

    /// A vertical dashed marker with its label at the top of the plot area.
    func marker(at v: Double, label: String) -> String {
        guard x.fraction(v) >= 0, x.fraction(v) <= 1 else { return "" }
        let mx = px(v)
        return String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>", mx, top, mx, top + plotHeight)
            + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" fill=\"#444\">%@</text>", mx + 3, top + 12, SVG.escape(label))
    }
}

/// One legend line: a name and how its data are drawn.
struct LegendEntry {
    enum Style { case line, dashed, point }
    let name: String
    let colour: String
    let style: Style
    init(_ name: String, _ colour: String, _ style: Style = .line) { self.name = name; self.colour = colour; self.style = style }
}
