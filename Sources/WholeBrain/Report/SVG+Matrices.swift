import Foundation

extension SVG {
    /// A matrix as an image (one PNG pixel per cell, drawn without smoothing) with a colourbar:
    /// an FC, an FCD or connection gains. Rows run top to bottom. Axes default to cell
    /// indices; `xRange` gives the x axis a physical extent instead (e.g. time in s for a
    /// carpet plot of BOLD), and `yTitle` names the rows.
    public static func matrix(title: String, _ m: Matrix, scale: ColourScale, xTitle: String = "region", yTitle: String = "region",
                              xRange: ClosedRange<Double>? = nil, size: Double = 220, aspect: Double = 1) -> String {
        var xAxis = PlotAxis.cells(m.columns, title: xTitle)
        if let xRange { xAxis = PlotAxis.linear([xRange.lowerBound, xRange.upperBound], title: xTitle) }
        let yAxis = PlotAxis.cells(m.rows, title: yTitle, reversed: true)
        let bar = ColourbarLayout(scale: scale)
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, plotWidth: size * aspect, plotHeight: size, extraRight: bar.width)
        var s = frame.open()
        s += image(m, scale: scale, in: frame)
        s += bar.draw(x: frame.width - bar.width + 6, top: frame.top, height: frame.plotHeight)
        return s + "</svg>"
    }

    /// A metric over a two-parameter grid: rows are values of the first axis (top to bottom),
    /// columns of the second, in a sequential scale with its colourbar; each cell's value is
    /// written in it when the grid is small (at most 12 x 12); grey where missing; optional
    /// dashed markers at a row value and a column value (e.g. G*), between the cells they fall
    /// between.
    public static func gridMap(title: String, _ m: Matrix, rowName: String, rowValues: [Double],
                               columnName: String, columnValues: [Double], rowMarker: Double? = nil, columnMarker: Double? = nil,
                               scale: ColourScale? = nil, unit: String = "") -> String {
        func cellAxis(_ values: [Double], _ name: String, reversed: Bool) -> PlotAxis {
            var a = PlotAxis.cells(values.count, title: name, reversed: reversed)
            let step = max(1, Int((Double(values.count) / 6).rounded(.up)))
            a.ticks = stride(from: 0, to: values.count, by: step).map(Double.init)
            a.labels = a.ticks.map { SVG.number(values[Int($0)]) }
            return a
        }
        let scale = scale ?? ColourScale.sequential([m], title: unit.isEmpty ? title : "\(title) (\(unit))")
        let bar = ColourbarLayout(scale: scale)
        let small = m.rows <= 12 && m.columns <= 12
        let cellSize = small ? 30.0 : 200.0 / Double(max(m.rows, m.columns, 1))
        let frame = PlotFrame(title: title, x: cellAxis(columnValues, columnName, reversed: false), y: cellAxis(rowValues, rowName, reversed: true),
                              plotWidth: max(160, cellSize * Double(m.columns)), plotHeight: max(120, cellSize * Double(m.rows)), extraRight: bar.width)
        var s = frame.open()
        let cw = frame.plotWidth / Double(max(m.columns, 1)), ch = frame.plotHeight / Double(max(m.rows, 1))
        if small {
            for r in 0..<m.rows {
                for c in 0..<m.columns {
                    let v = m[r, c], x = frame.left + Double(c) * cw, y = frame.top + Double(r) * ch
                    s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>", x, y, cw, ch, scale.css(v))
                    if v.isFinite {
                        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\" fill=\"%@\">%@</text>",
                                    x + cw / 2, y + ch / 2 + 3, scale.textColour(v), compact(v))
                    }
                }
            }
        } else {
            s += image(m, scale: scale, in: frame)
        }
        /// Position (in cells) of a value among ascending cell values, interpolated.
        func position(_ v: Double, _ values: [Double]) -> Double? {
            guard let first = values.first, let last = values.last, values.count > 1, v >= first, v <= last else { return nil }
            let k = min(values.count - 2, values.lastIndex { $0 <= v } ?? 0)
            return Double(k) + 0.5 + (v - values[k]) / (values[k + 1] - values[k])
        }
        if let v = rowMarker, let r = position(v, rowValues) {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"white\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>", frame.left, frame.top + r * ch, frame.left + frame.plotWidth, frame.top + r * ch)
        }
        if let v = columnMarker, let c = position(v, columnValues) {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"white\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>", frame.left + c * cw, frame.top, frame.left + c * cw, frame.top + frame.plotHeight)
        }
        s += bar.draw(x: frame.width - bar.width + 6, top: frame.top, height: frame.plotHeight)
        return s + "</svg>"
    }

    /// The matrix as a PNG filling the plot area, one pixel per cell, not smoothed.
    static func image(_ m: Matrix, scale: ColourScale, in frame: PlotFrame) -> String {
        String(format: "<image x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"%@\"/>",
               frame.left, frame.top, frame.plotWidth, frame.plotHeight, PNGImage.dataURI(m, scale: scale))
    }

    /// Three significant digits, short enough for a grid cell.
    static func compact(_ v: Double) -> String {
        let a = abs(v)
        if v == v.rounded() && a < 1e4 { return String(format: "%.0f", v) }
        if a != 0 && (a >= 1e4 || a < 1e-2) { return String(format: "%.1e", v) }
        return String(format: a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v)
    }
}

/// A vertical colourbar beside a matrix figure: the scale as an image, round ticks, and the
/// quantity with its unit as a rotated title.
struct ColourbarLayout {
    let scale: ColourScale
    let axis: PlotAxis
    let width: Double

    init(scale: ColourScale) {
        self.scale = scale
        axis = PlotAxis.linear([scale.lo, scale.hi], title: scale.title, count: 4, integer: scale.integer)
        width = 14 + 6 + (axis.labels.map { PlotAxis.textWidth($0) }.max() ?? 20) + 22
    }

    func draw(x: Double, top: Double, height: Double) -> String {
        var column = Matrix(rows: 64, columns: 1)
        for r in 0..<64 { column[r, 0] = scale.hi - (scale.hi - scale.lo) * (Double(r) + 0.5) / 64 }
        var s = String(format: "<image x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" preserveAspectRatio=\"none\" href=\"%@\"/>", x, top, height, PNGImage.dataURI(column, scale: scale))
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"none\" stroke=\"#666\"/>", x, top, height)
        for (t, label) in zip(axis.ticks, axis.labels) where t >= scale.lo - 1e-12 && t <= scale.hi + 1e-12 {
            let y = top + (scale.hi - t) / (scale.hi - scale.lo) * height
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>", x + 14, y, x + 17, y)
            s += String(format: "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%@</text>", x + 19, y + 4, label)
        }
        let tx = x + width - 10, cy = top + height / 2
        s += String(format: "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\" transform=\"rotate(-90 %.1f %.1f)\">%@</text>",
                    tx, cy, PlotFrame.fontSize(axis.title, fitting: height + 30), tx, cy, SVG.escape(axis.title))
        return s
    }
}
