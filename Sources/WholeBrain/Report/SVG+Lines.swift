import Foundation

extension SVG {
    /// Lines of one or more series against x (default: 1, 2, ... as for steps), each with an
    /// optional band (e.g. mean +- sd over seeds), a legend to the right when there are
    /// several, and an optional labelled vertical marker (e.g. G*). `integerX` keeps x ticks
    /// on whole numbers (steps, epochs).
    public static func linePlot(title: String, xLabel: String, yLabel: String, series: [(name: String, values: [Double])],
                                x: [Double]? = nil, bands: [[(lower: Double, upper: Double)]?] = [], marker: (x: Double, label: String)? = nil,
                                integerX: Bool = false, logY: Bool = false, width: Double = 320) -> String {
        let count = series.map(\.values.count).max() ?? 1
        let xs = x ?? (0..<count).map { Double($0 + 1) }
        var yValues = series.flatMap(\.values)
        for band in bands { if let band { yValues += band.flatMap { [$0.lower, $0.upper] } } }
        let xAxis = PlotAxis.linear(xs + (marker.map { [$0.x] } ?? []), title: xLabel, integer: integerX)
        let yAxis = logY ? PlotAxis.logarithmic(yValues, title: yLabel) : PlotAxis.linear(yValues, title: yLabel, pad: 0.04)
        let legend = series.count > 1 ? series.enumerated().map { LegendEntry($1.name, PlotFrame.palette[$0 % PlotFrame.palette.count]) } : []
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, plotWidth: width, legend: legend)
        var s = frame.open()
        for (k, band) in bands.enumerated() {
            guard let band, k < series.count else { continue }
            let colour = PlotFrame.palette[k % PlotFrame.palette.count]
            let pts = zip(xs, band).filter { $0.1.lower.isFinite && $0.1.upper.isFinite }
            guard pts.count > 1 else { continue }
            let upper = pts.map { String(format: "%.1f,%.1f", frame.px($0.0), frame.py($0.1.upper)) }
            let lower = pts.reversed().map { String(format: "%.1f,%.1f", frame.px($0.0), frame.py($0.1.lower)) }
            s += "<polygon fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>"
        }
        if let marker { s += frame.marker(at: marker.x, label: marker.label) }
        for (k, serie) in series.enumerated() {
            s += polylines(xs, serie.values, frame: frame, colour: PlotFrame.palette[k % PlotFrame.palette.count])
        }
        return s + "</svg>"
    }

    /// A scatter of y against x (e.g. simulated against empirical FC, one point per region
    /// pair) with the identity line and a note (e.g. "r = 0.66") in the title.
    public static func scatter(title: String, x: [Double], y: [Double], xLabel: String, yLabel: String, identity: Bool = true, size: Double = 240) -> String {
        let both = x + y
        let xAxis = PlotAxis.linear(identity ? both : x, title: xLabel, pad: 0.03), yAxis = PlotAxis.linear(identity ? both : y, title: yLabel, pad: 0.03)
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, plotWidth: size, plotHeight: size)
        var s = frame.open()
        if identity {
            let lo = max(xAxis.lo, yAxis.lo), hi = min(xAxis.hi, yAxis.hi)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>", frame.px(lo), frame.py(lo), frame.px(hi), frame.py(hi))
        }
        var path = ""
        for (a, b) in zip(x, y) where a.isFinite && b.isFinite { path += String(format: "M%.1f %.1fh2v2h-2z", frame.px(a) - 1, frame.py(b) - 1) }
        return s + "<path fill=\"#1f77b4\" fill-opacity=\"0.35\" d=\"\(path)\"/></svg>"
    }

    /// Overlaid histograms as densities (area 1 each) on shared bins, e.g. the FCD values of
    /// a simulation and of the data, with the comparison (KS distance) in the title.
    public static func histograms(title: String, xLabel: String, series: [(name: String, values: [Double])],
                                  yLabel: String = "probability density", range: ClosedRange<Double>? = nil, bins: Int = 40) -> String {
        let all = series.flatMap(\.values).filter(\.isFinite)
        let lo = range?.lowerBound ?? (all.min() ?? 0), hi = max(range?.upperBound ?? (all.max() ?? 1), lo + 1e-9)
        let width = (hi - lo) / Double(bins)
        let densities = series.map { serie -> [Double] in
            var counts = [Double](repeating: 0, count: bins)
            let finite = serie.values.filter(\.isFinite)
            for v in finite where v >= lo && v <= hi { counts[min(bins - 1, Int((v - lo) / width))] += 1 }
            return counts.map { finite.isEmpty ? 0 : $0 / (Double(finite.count) * width) }
        }
        let edges = (0...bins).map { lo + width * Double($0) }
        let xAxis = PlotAxis.linear([lo, hi], title: xLabel)
        let yAxis = PlotAxis.linear(densities.flatMap { $0 } + [0], title: yLabel, pad: 0.03)
        let legend = series.enumerated().map { LegendEntry($1.name, PlotFrame.palette[$0 % PlotFrame.palette.count]) }
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, legend: series.count > 1 ? legend : [])
        var s = frame.open()
        for (k, d) in densities.enumerated() {
            // A step outline: up and across each bin.
            var pts: [String] = [String(format: "%.1f,%.1f", frame.px(lo), frame.py(0))]
            for b in 0..<bins {
                pts.append(String(format: "%.1f,%.1f", frame.px(edges[b]), frame.py(d[b])))
                pts.append(String(format: "%.1f,%.1f", frame.px(edges[b + 1]), frame.py(d[b])))
            }
            pts.append(String(format: "%.1f,%.1f", frame.px(hi), frame.py(0)))
            let colour = PlotFrame.palette[k % PlotFrame.palette.count]
            s += "<polyline fill=\"\(colour)\" fill-opacity=\"0.12\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(pts.joined(separator: " "))\"/>"
        }
        return s + "</svg>"
    }

    /// Means with +-1 sd whiskers, one labelled row each, on a shared horizontal axis (e.g.
    /// a model, the baseline and the data's ceiling). A row with sd 0 is drawn as a dot.
    public static func intervals(title: String, xLabel: String, rows: [(label: String, mean: Double, sd: Double)],
                                 range: ClosedRange<Double>, width: Int = 460) -> String {
        let rowHeight = 24.0, top = 30.0
        let left = 16 + (rows.map { PlotAxis.textWidth($0.label) }.max() ?? 60)
        let axis = PlotAxis.linear([range.lowerBound, range.upperBound], title: xLabel)
        let width = max(width, Int((left + 260).rounded(.up)))
        let w = Double(width) - left - 20
        let height = top + rowHeight * Double(rows.count) + 44
        func px(_ v: Double) -> Double { left + (min(max(v, axis.lo), axis.hi) - axis.lo) / (axis.hi - axis.lo) * w }
        var s = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"figure\" width=\"%d\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">", width, height)
        s += PlotFrame.title(title, centre: left + w / 2, width: Double(width))
        let axisY = top + rowHeight * Double(rows.count)
        s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>", left, axisY, left + w, axisY)
        for (t, label) in zip(axis.ticks, axis.labels) {
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", px(t), top, px(t), axisY)
            s += String(format: "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", px(t), axisY + 15, label)
        }
        s += String(format: "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", left + w / 2, axisY + 33, escape(axis.title))
        for (k, row) in rows.enumerated() {
            let y = top + rowHeight * (Double(k) + 0.5), colour = PlotFrame.palette[k % PlotFrame.palette.count]
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

    /// Values by group as dots (one per member, e.g. fitted G per subject) with each group's
    /// mean as a bar: the distribution itself, not a line over an arbitrary order.
    public static func strip(title: String, yLabel: String, groups: [(name: String, values: [Double])]) -> String {
        let xAxis: PlotAxis = {
            var a = PlotAxis.cells(groups.count, title: "")
            a.ticks = groups.indices.map(Double.init)
            a.labels = groups.map(\.name)
            return a
        }()
        let yAxis = PlotAxis.linear(groups.flatMap(\.values), title: yLabel, pad: 0.06)
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, plotWidth: max(140, 70 * Double(groups.count)))
        var s = frame.open()
        for (k, g) in groups.enumerated() {
            let finite = g.values.filter(\.isFinite)
            let colour = PlotFrame.palette[k % PlotFrame.palette.count]
            for (j, v) in finite.enumerated() {
                // Spread the dots sideways so equal values stay visible.
                let jitter = finite.count > 1 ? (Double(j) / Double(finite.count - 1) - 0.5) * 0.3 : 0
                s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%@\" fill-opacity=\"0.7\"/>", frame.px(Double(k) + jitter), frame.py(v), colour)
            }
            if !finite.isEmpty {
                let mean = finite.reduce(0, +) / Double(finite.count)
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"2\"/>", frame.px(Double(k) - 0.25), frame.py(mean), frame.px(Double(k) + 0.25), frame.py(mean))
            }
        }
        return s + "</svg>"
    }
}
