import Foundation

extension SVG {
    /// A bifurcation diagram: each curve's points (x, y, stable) drawn solid where stable and
    /// dashed where unstable; the branch a point lies on colours it (low-activity, high-activity,
    /// unstable); bifurcation points as circles; an optional labelled vertical marker (G*).
    public static func bifurcationDiagram(title: String, xLabel: String, yLabel: String,
                                          curves: [[(x: Double, y: Double, stable: Bool)]],
                                          points: [(x: Double, y: Double, label: String)] = [],
                                          marker: (x: Double, label: String)? = nil, logY: Bool = false) -> String {
        let xs = curves.flatMap { $0.map(\.x) } + (marker.map { [$0.x] } ?? [])
        let ys = curves.flatMap { $0.map(\.y) }
        let xAxis = PlotAxis.linear(xs, title: xLabel)
        let yAxis = logY ? PlotAxis.logarithmic(ys, title: yLabel) : PlotAxis.linear(ys, title: yLabel, pad: 0.05)
        var legend = [LegendEntry("stable", "#1f77b4"), LegendEntry("unstable", "#d62728", .dashed)]
        if !points.isEmpty { legend.append(LegendEntry("fold / branch / Hopf", "#000", .point)) }
        let frame = PlotFrame(title: title, x: xAxis, y: yAxis, legend: legend)
        var s = frame.open()
        if let marker { s += frame.marker(at: marker.x, label: marker.label) }
        // Runs of equal stability become one polyline each, overlapping one point so they join.
        for curve in curves {
            var k = 0
            while k < curve.count {
                var end = k
                while end + 1 < curve.count && curve[end + 1].stable == curve[k].stable { end += 1 }
                let run = curve[k...min(end + 1, curve.count - 1)]
                let stable = curve[k].stable
                s += polylines(run.map(\.x), run.map(\.y), frame: frame, colour: stable ? "#1f77b4" : "#d62728", width: stable ? 2 : 1.5, dashed: !stable)
                k = end + 1
            }
        }
        for p in points where frame.inside(p.x, p.y) {
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"white\" stroke=\"#000\"><title>%@</title></circle>", frame.px(p.x), frame.py(p.y), escape(p.label))
        }
        return s + "</svg>"
    }
}
