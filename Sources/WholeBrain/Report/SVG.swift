import Foundation

/// Small SVG figures for self-contained HTML reports (no scripts, no external files).
public enum SVG {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A tick label with enough digits to tell ticks `step` apart.
    static func number(_ x: Double, step: Double = 0) -> String {
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e5 || a < 1e-4 { return String(format: "%.2e", x) }
        if x == x.rounded() && step >= 1 { return String(format: "%.0f", x) }
        let digits = step > 0 ? max(0, min(8, Int((-Foundation.log10(step)).rounded(.up)) + 1)) : 3
        return String(format: "%.\(digits)f", x)
    }

    /// A line plot of one or more series against their index (or given x values), with an
    /// optional labelled vertical marker (e.g. G*).
    public static func linePlot(title: String, xLabel: String, series: [(name: String, values: [Double])],
                                x: [Double]? = nil, marker: (x: Double, label: String)? = nil,
                                width: Int = 420, height: Int = 260) -> String {
        let left = 56.0, right = 12.0, top = 28.0, bottom = 40.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let all = series.flatMap(\.values).filter(\.isFinite)
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi == lo { lo -= 0.5; hi += 0.5 }
        let count = series.map(\.values.count).max() ?? 1
        let xs = x ?? (0..<count).map(Double.init)
        let x0 = xs.first ?? 0, x1 = max(xs.last ?? 1, x0 + 1e-12)
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * w }
        func py(_ v: Double) -> Double { top + (1 - (v - lo) / (hi - lo)) * h }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(width / 2)\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>"
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            s += "<text x=\"\(left - 4)\" y=\"\(py(v) + 4)\" text-anchor=\"end\">\(number(v, step: (hi - lo) / 4))</text>"
            let xv = x0 + (x1 - x0) * Double(k) / 4
            s += "<text x=\"\(px(xv))\" y=\"\(top + h + 14)\" text-anchor=\"middle\">\(number(xv, step: (x1 - x0) / 4))</text>"
        }
        s += "<text x=\"\(left + w / 2)\" y=\"\(Double(height) - 6)\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        if let marker, marker.x >= x0, marker.x <= x1 {
            let mx = px(marker.x)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>", mx, top, mx, top + h)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", mx - 3, top + h - 4, escape(marker.label))
        }
        for (k, serie) in series.enumerated() {
            let colour = colours[k % colours.count]
            // A missing value breaks the line (a state that does not exist there is not joined across).
            var runs: [[String]] = [[]]
            for (i, v) in serie.values.enumerated() {
                if v.isFinite { runs[runs.count - 1].append(String(format: "%.1f,%.1f", px(xs[i]), py(v))) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            for run in runs where !run.isEmpty {
                s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(run.joined(separator: " "))\"/>"
                if run.count == 1 { s += "<circle cx=\"\(run[0].split(separator: ",")[0])\" cy=\"\(run[0].split(separator: ",")[1])\" r=\"2\" fill=\"\(colour)\"/>" }
            }
            s += "<text x=\"\(left + 6)\" y=\"\(top + 14 + 13 * Double(k))\" fill=\"\(colour)\">\(escape(serie.name))</text>"
        }
        return s + "</svg>"
    }

    /// A bifurcation diagram: each curve's points (x, y, stable) drawn solid where stable and
    /// dashed where unstable, in one colour per branch kind; bifurcation points as circles; an
    /// optional labelled vertical marker (G*). Axes carry their labels (with units).
    public static func bifurcationDiagram(title: String, xLabel: String, yLabel: String,
                                          curves: [[(x: Double, y: Double, stable: Bool)]],
                                          points: [(x: Double, y: Double, label: String)] = [],
                                          marker: (x: Double, label: String)? = nil, logY: Bool = false,
                                          width: Int = 480, height: Int = 300) -> String {
        let left = 64.0, right = 12.0, top = 28.0, bottom = 40.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let transform = { (y: Double) in logY ? (y > 0 ? Foundation.log10(y) : .nan) : y }
        let ys = curves.flatMap { $0.map { transform($0.y) } }.filter(\.isFinite)
        let xs = curves.flatMap { $0.map(\.x) }.filter(\.isFinite) + (marker.map { [$0.x] } ?? [])
        var lo = ys.min() ?? 0, hi = ys.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let pad = 0.05 * (hi - lo)
        lo -= pad; hi += pad
        let x0 = xs.min() ?? 0, x1 = max(xs.max() ?? 1, x0 + 1e-12)
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * w }
        func py(_ v: Double) -> Double { top + (1 - (transform(v) - lo) / (hi - lo)) * h }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(width / 2)\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>"
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            let label = logY ? number(Foundation.pow(10, v), step: Foundation.pow(10, v) / 10) : number(v, step: (hi - lo) / 4)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 4, top + (1 - Double(k) / 4) * h + 4, label)
            let xv = x0 + (x1 - x0) * Double(k) / 4
            s += "<text x=\"\(px(xv))\" y=\"\(top + h + 14)\" text-anchor=\"middle\">\(number(xv, step: (x1 - x0) / 4))</text>"
        }
        s += "<text x=\"\(left + w / 2)\" y=\"\(Double(height) - 6)\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text x=\"12\" y=\"\(Int(top + h / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(Int(top + h / 2)))\">\(escape(yLabel + (logY ? " (log scale)" : "")))</text>"
        if let marker, marker.x >= x0, marker.x <= x1 {
            let mx = px(marker.x)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"2 2\"/>", mx, top, mx, top + h)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">%@</text>", mx + 3, top + 12, escape(marker.label))
        }
        // Runs of equal stability become one polyline each.
        for curve in curves {
            var k = 0
            while k < curve.count {
                var end = k
                while end + 1 < curve.count && curve[end + 1].stable == curve[k].stable { end += 1 }
                // Overlap one point so the runs join.
                let run = curve[k...min(end + 1, curve.count - 1)].filter { transform($0.y).isFinite }
                let pts = run.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
                let stable = curve[k].stable
                s += "<polyline fill=\"none\" stroke=\"\(stable ? "#1f77b4" : "#d62728")\" stroke-width=\"\(stable ? 2 : 1.5)\""
                    + (stable ? "" : " stroke-dasharray=\"5 3\"") + " points=\"\(pts)\"/>"
                k = end + 1
            }
        }
        for p in points where transform(p.y).isFinite {
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"white\" stroke=\"#000\"><title>%@</title></circle>", px(p.x), py(p.y), escape(p.label))
        }
        s += "<line x1=\"\(left + 8)\" y1=\"\(top + 10)\" x2=\"\(left + 30)\" y2=\"\(top + 10)\" stroke=\"#1f77b4\" stroke-width=\"2\"/>"
        s += "<text x=\"\(left + 34)\" y=\"\(top + 14)\">stable</text>"
        s += "<line x1=\"\(left + 8)\" y1=\"\(top + 24)\" x2=\"\(left + 30)\" y2=\"\(top + 24)\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
        s += "<text x=\"\(left + 34)\" y=\"\(top + 28)\">unstable</text>"
        if !points.isEmpty { s += "<circle cx=\"\(left + 19)\" cy=\"\(top + 38)\" r=\"3.5\" fill=\"white\" stroke=\"#000\"/><text x=\"\(left + 34)\" y=\"\(top + 42)\">fold / branch / Hopf</text>" }
        return s + "</svg>"
    }

    /// A matrix as a heat map, blue-white-red over [-limit, limit]; the default limit is the
    /// largest off-diagonal magnitude (the diagonal of an FC is 1 and says nothing).
    public static func heatmap(title: String, _ m: Matrix, limit: Double? = nil, size: Int = 260) -> String {
        var offDiagonal = 0.0
        for r in 0..<m.rows { for c in 0..<m.columns where r != c && m[r, c].isFinite { offDiagonal = max(offDiagonal, abs(m[r, c])) } }
        let limit = limit ?? (offDiagonal > 0 ? offDiagonal : 1)
        let cell = Double(size) / Double(max(m.rows, m.columns, 1))
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(size + 38)\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(size / 2)\" y=\"15\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        s += "<text x=\"\(size / 2)\" y=\"\(size + 35)\" text-anchor=\"middle\">blue -\(number(limit)), white 0, red +\(number(limit))</text>"
        for r in 0..<m.rows {
            for c in 0..<m.columns {
                let v = max(-1, min(1, m[r, c] / limit))
                let (red, green, blue): (Double, Double, Double) = v >= 0 ? (1, 1 - v, 1 - v) : (1 + v, 1 + v, 1)
                s += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"rgb(%d,%d,%d)\"/>",
                            Double(c) * cell, 22 + Double(r) * cell, cell + 0.3, cell + 0.3,
                            Int(255 * red), Int(255 * green), Int(255 * blue))
            }
        }
        return s + "</svg>"
    }

    /// A metric over a two-parameter grid: rows are values of the first axis (top to bottom),
    /// columns of the second; a sequential scale from dark blue (minimum) to yellow (maximum),
    /// grey where the value is missing; axis values at the edges; optional dashed markers at a
    /// row value and a column value (e.g. G*), placed between the cells they fall between.
    public static func gridMap(title: String, _ m: Matrix, rowName: String, rowValues: [Double],
                               columnName: String, columnValues: [Double], rowMarker: Double? = nil, columnMarker: Double? = nil,
                               width: Int = 360, height: Int = 300) -> String {
        let left = 64.0, top = 28.0, bottom = 52.0, right = 12.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let finite = m.values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let cw = w / Double(max(m.columns, 1)), ch = h / Double(max(m.rows, 1))
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"10\">"
        s += "<text x=\"\(width / 2)\" y=\"15\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        for r in 0..<m.rows {
            for c in 0..<m.columns {
                let v = m[r, c]
                let fill: String
                if v.isFinite {
                    let t = hi > lo ? (v - lo) / (hi - lo) : 0.5
                    fill = String(format: "rgb(%d,%d,%d)", Int(255 * t), Int(40 + 180 * t), Int(140 * (1 - t)))
                } else { fill = "#bbb" }
                s += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"><title>%@</title></rect>",
                            left + Double(c) * cw, top + Double(r) * ch, cw + 0.3, ch + 0.3, fill, number(v))
            }
        }
        let rowStep = max(1, m.rows / 6), columnStep = max(1, m.columns / 6)
        for r in stride(from: 0, to: m.rows, by: rowStep) where r < rowValues.count {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 4, top + (Double(r) + 0.5) * ch + 3, number(rowValues[r]))
        }
        for c in stride(from: 0, to: m.columns, by: columnStep) where c < columnValues.count {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left + (Double(c) + 0.5) * cw, top + h + 14, number(columnValues[c]))
        }
        s += "<text x=\"\(Int(left + w / 2))\" y=\"\(Int(top + h + 30))\" text-anchor=\"middle\">\(escape(columnName))</text>"
        s += "<text x=\"12\" y=\"\(Int(top + h / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(Int(top + h / 2)))\">\(escape(rowName))</text>"
        s += "<text x=\"\(Int(left + w / 2))\" y=\"\(height - 6)\" text-anchor=\"middle\">dark \(number(lo)) ... yellow \(number(hi))</text>"
        /// Position (in cells) of a value among ascending cell values, interpolated.
        func position(_ v: Double, _ values: [Double]) -> Double? {
            guard let first = values.first, let last = values.last, values.count > 1, v >= first, v <= last else { return nil }
            let k = min(values.count - 2, values.lastIndex { $0 <= v } ?? 0)
            return Double(k) + 0.5 + (v - values[k]) / (values[k + 1] - values[k])
        }
        if let v = rowMarker, let r = position(v, rowValues) {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"white\" stroke-dasharray=\"4 3\"/>", left, top + r * ch, left + w, top + r * ch)
        }
        if let v = columnMarker, let c = position(v, columnValues) {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"white\" stroke-dasharray=\"4 3\"/>", left + c * cw, top, left + c * cw, top + h)
        }
        return s + "</svg>"
    }

    /// A whole HTML page around sections of figures and text.
    public static func page(title: String, sections: [(heading: String, body: String)]) -> String {
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(escape(title))</title>"
        html += "<style>body{font-family:sans-serif;margin:24px;max-width:1100px}svg{margin:6px}table{border-collapse:collapse}"
        html += "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body><h1>\(escape(title))</h1>"
        for (heading, body) in sections { html += "<h2>\(escape(heading))</h2><div>\(body)</div>" }
        return html + "</body></html>\n"
    }

    /// Means with +-1 sd whiskers, one labelled row each, on a shared horizontal axis (e.g.
    /// a model, the baseline and the data's ceiling). A row with sd 0 is drawn as a dot.
    public static func intervals(title: String, xLabel: String, rows: [(label: String, mean: Double, sd: Double)],
                                 range: ClosedRange<Double>, width: Int = 460) -> String {
        let left = 150.0, right = 16.0, top = 28.0, rowHeight = 24.0, bottom = 38.0
        let height = top + rowHeight * Double(rows.count) + bottom
        let w = Double(width) - left - right
        func px(_ v: Double) -> Double { left + (min(max(v, range.lowerBound), range.upperBound) - range.lowerBound) / (range.upperBound - range.lowerBound) * w }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(width / 2)\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>"
        let axisY = top + rowHeight * Double(rows.count)
        s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", left, axisY, left + w, axisY)
        let step = (range.upperBound - range.lowerBound) / 5
        for k in 0...5 {
            let v = range.lowerBound + step * Double(k)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", px(v), top, px(v), axisY)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(v), axisY + 14, number(v, step: step))
        }
        s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left + w / 2, height - 6, escape(xLabel))
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
        for (k, row) in rows.enumerated() {
            let y = top + rowHeight * (Double(k) + 0.5), colour = colours[k % colours.count]
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 6, y + 4, escape(row.label))
            guard row.mean.isFinite else { continue }
            if row.sd > 0 {
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>",
                            px(row.mean - row.sd), y, px(row.mean + row.sd), y, colour)
            }
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/>", px(row.mean), y, colour)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">%@</text>", px(row.mean) + 6, y - 6, String(format: "%.3f", row.mean))
        }
        return s + "</svg>"
    }

    /// A simple table.
    public static func table(header: [String], rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }
}
