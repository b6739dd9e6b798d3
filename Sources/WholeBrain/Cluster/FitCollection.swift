import Foundation

/// The state and results of a fit job's subjects in its output folder: `OUT/SUBJECT/` (a
/// finished fit: summary.json), `OUT/SUBJECT.failed` (the error a task left),
/// `OUT/.SUBJECT.fit-state.json` (a started or time-limited fit) or nothing (missing).
public struct FitCollection {
    public enum Status: String, Sendable { case done, failed, started, missing }

    public struct Row: Sendable {
        public let subject: String
        public let status: Status
        public let fitted: [String: Double]
        public let numbers: [String: Double]
        public let error: String?
    }

    public let rows: [Row]
    static let numberKeys = ["train_fc_r", "test_fc_r", "best_held_out_fc_r", "test_held_out_fc_r", "epochs_run", "wall_time_s"]

    public init(out: String, subjects: [String]) {
        let fm = FileManager.default
        rows = subjects.map { s in
            if let data = fm.contents(atPath: "\(out)/\(s)/summary.json"),
               let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                let fitted = (o["fitted"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Double }
                let numbers = FitCollection.numberKeys.reduce(into: [String: Double]()) { d, k in
                    if let v = o[k] as? Double { d[k] = v } else if let v = o[k] as? Int { d[k] = Double(v) }
                }
                return Row(subject: s, status: .done, fitted: fitted, numbers: numbers, error: nil)
            }
            if let data = fm.contents(atPath: "\(out)/\(s).failed") {
                return Row(subject: s, status: .failed, fitted: [:], numbers: [:],
                           error: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if fm.fileExists(atPath: "\(out)/.\(s).fit-state.json") {
                return Row(subject: s, status: .started, fitted: [:], numbers: [:], error: nil)
            }
            return Row(subject: s, status: .missing, fitted: [:], numbers: [:], error: nil)
        }
    }

    /// Subjects to (re)submit: started ones (resumed from their checkpoint) and missing ones,
    /// plus failed ones when asked (a failure usually needs its cause fixed first).
    public func toRun(includingFailed: Bool) -> [String] {
        rows.filter { $0.status == .started || $0.status == .missing || (includingFailed && $0.status == .failed) }.map(\.subject)
    }

    /// One CSV row per subject.
    public var csv: String {
        let parameters = Array(Set(rows.flatMap { $0.fitted.keys })).sorted()
        var text = (["subject", "status"] + parameters + FitCollection.numberKeys + ["error"]).joined(separator: ",") + "\n"
        for r in rows {
            let error = r.error.map { "\"" + $0.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ") + "\"" } ?? ""
            text += ([r.subject, r.status.rawValue] + parameters.map { r.fitted[$0].map { "\($0)" } ?? "" }
                + FitCollection.numberKeys.map { r.numbers[$0].map { "\($0)" } ?? "" } + [error]).joined(separator: ",") + "\n"
        }
        return text
    }

    public var json: [String: Any] {
        let done = rows.filter { $0.status == .done }
        func mean(_ key: String) -> Any {
            let xs = done.compactMap { $0.numbers[key] }
            return xs.isEmpty ? NSNull() : xs.reduce(0, +) / Double(xs.count)
        }
        return [
            "subjects": rows.map { r -> [String: Any] in
                var o: [String: Any] = ["subject": r.subject, "status": r.status.rawValue, "fitted": r.fitted]
                for (k, v) in r.numbers { o[k] = v }
                if let e = r.error { o["error"] = e }
                return o
            },
            "done": done.count, "failed": rows.filter { $0.status == .failed }.map(\.subject),
            "not_finished": rows.filter { $0.status == .started || $0.status == .missing }.map(\.subject),
            "mean_test_fc_r": mean("test_fc_r"), "mean_test_held_out_fc_r": mean("test_held_out_fc_r"),
        ]
    }

    /// The group report: distributions of fitted values and FC r over subjects (a dot per
    /// subject, the mean as a bar), failures.
    public var html: String {
        let done = rows.filter { $0.status == .done }
        var figures = ""
        // One dot per subject, the group mean as a bar: the distribution, not a line over table order.
        for key in Array(Set(done.flatMap { $0.fitted.keys })).sorted() {
            figures += SVG.strip(title: "fitted \(key) over \(done.count) subjects", yLabel: SweepReport.axisTitle(key, model: ReducedWongWang.name),
                                 groups: [(key, done.map { $0.fitted[key] ?? .nan })])
        }
        figures += SVG.strip(title: "FC fit over \(done.count) subjects", yLabel: "FC r (Pearson)",
                             groups: [("train", done.map { $0.numbers["train_fc_r"] ?? .nan }), ("test", done.map { $0.numbers["test_fc_r"] ?? .nan })])
        let table = SVG.table(header: ["subject", "status", "train FC r", "test FC r", "error"], rows: rows.map { r in
            [r.subject, r.status.rawValue, r.numbers["train_fc_r"].map { String(format: "%.3f", $0) } ?? "-",
             r.numbers["test_fc_r"].map { String(format: "%.3f", $0) } ?? "-", r.error ?? ""]
        })
        let failed = rows.filter { $0.status == .failed }.map(\.subject)
        let summary = "<p>\(done.count) of \(rows.count) subjects fitted" + (failed.isEmpty ? "" : "; failed: \(failed.joined(separator: ", "))") + ".</p>"
        return SVG.page(title: "WholeBrain group fit", sections: [("Subjects", summary + table), ("Distributions", figures)])
    }
}
