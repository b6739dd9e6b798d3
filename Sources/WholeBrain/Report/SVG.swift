import Foundation

/// Figures for self-contained HTML reports: SVG with no scripts and no external files;
/// matrices as embedded PNG images. Every figure has a title, axis titles with units, round
/// ticks, and a legend or colourbar outside the data (`PlotFrame`, `PlotAxis`, `ColourScale`).
public enum SVG {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A number in prose or a table: four significant digits, scientific beyond 1e5 or below 1e-4.
    static func number(_ x: Double) -> String {
        if x == 0 { return "0" }
        if !x.isFinite { return "-" }
        let a = abs(x)
        if a >= 1e5 || a < 1e-4 { return String(format: "%.2e", x) }
        return String(format: "%.4g", x)
    }

    /// A whole HTML page around sections of figures and text.
    public static func page(title: String, sections: [(heading: String, body: String)]) -> String {
        var html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(escape(title))</title>"
        html += "<style>body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}svg{margin:6px 10px 6px 0;vertical-align:top}"
        html += "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}p{max-width:900px}</style></head>"
        html += "<body><h1>\(escape(title))</h1>"
        for (heading, body) in sections { html += "<h2>\(escape(heading))</h2><div>\(body)</div>" }
        return html + "</body></html>\n"
    }

    /// A simple table.
    public static func table(header: [String], rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    /// Polyline points, a run broken where a value is missing.
    static func polylines(_ xs: [Double], _ ys: [Double], frame: PlotFrame, colour: String, width: Double = 1.5, dashed: Bool = false) -> String {
        var runs: [[String]] = [[]]
        for (x, y) in zip(xs, ys) {
            if x.isFinite && y.isFinite && frame.x.fraction(x).isFinite && frame.y.fraction(y).isFinite {
                runs[runs.count - 1].append(String(format: "%.1f,%.1f", frame.px(x), frame.py(y)))
            } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        var s = ""
        for run in runs where !run.isEmpty {
            if run.count == 1 {
                let p = run[0].split(separator: ",")
                s += "<circle cx=\"\(p[0])\" cy=\"\(p[1])\" r=\"2.5\" fill=\"\(colour)\"/>"
            } else {
                s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(width)\"" + (dashed ? " stroke-dasharray=\"5 3\"" : "")
                    + " points=\"\(run.joined(separator: " "))\"/>"
            }
        }
        return s
    }
}
