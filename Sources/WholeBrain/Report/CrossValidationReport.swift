import Foundation

/// What `wholebrain protocol --folds K` writes at the top of --out: protocol.json (the pooled
/// test scores, ceiling and baseline, and each fold's own protocol record), scores.csv (the
/// single protocol's rows with a fold column first) and report.html (pooled figures, one row
/// per subject and per fold). Each fold's full outputs sit in fold-k/.
public enum CrossValidationReport {
    public static func json(_ cv: HeldOutProtocol.CrossValidated, settings: HeldOutProtocol.Settings) throws -> [String: Any] {
        [
            "folds": try cv.folds.map { try ProtocolReport.json($0, settings: settings) },
            "chosen_per_fold": cv.choices, "chosen_in_low_activity_regime": cv.chosenInLowRegime,
            "test": ProtocolReport.summary(cv.test, regionLimit: settings.regionRateLimit), "baseline_test": ProtocolReport.summary(cv.baselineTest, regionLimit: settings.regionRateLimit),
            "ceiling": ProtocolReport.ceilingSummary(cv.ceiling), "leave_one_out_ceiling": ProtocolReport.ceilingSummary(cv.leaveOneOut),
            "model_minus_ceiling": paired(cv.versusCeiling), "model_minus_baseline": paired(cv.versusBaseline),
        ]
    }

    static func paired(_ d: HeldOutProtocol.PairedDifference) -> [String: Any] {
        func interval(_ x: HeldOutProtocol.PairedDifference.Interval) -> [String: Any] {
            ["mean": x.mean, "sd": x.sd.isNaN ? NSNull() : x.sd, "ci95": x.low.isFinite ? [x.low, x.high] as Any : NSNull()]
        }
        return ["subjects": d.subjects, "fc_r": interval(d.fcR), "fcd_ks": interval(d.fcdKS)]
    }

    public static func csv(_ cv: HeldOutProtocol.CrossValidated) -> String {
        "fold," + ProtocolReport.csvHeader + cv.folds.enumerated().map { ProtocolReport.csvRows($1, prefix: "\($0 + 1),") }.joined()
    }

    /// The lines printed at the end: pooled test scores beside the ceiling and the baseline.
    public static func lines(_ cv: HeldOutProtocol.CrossValidated) -> [String] {
        var out = ["\(cv.folds.count)-fold cross-validation: every subject tested once, by the model its fold chose ("
                   + cv.choices.enumerated().map { "fold \($0.offset + 1): \($0.element)" }.joined(separator: "; ") + "):"]
        out.append("  " + ProtocolReport.line("model (chosen on each fold's validation)", cv.test))
        out.append("  " + ProtocolReport.line("baseline (G alone)", cv.baselineTest))
        out.append(String(format: "  data ceiling (each fold's training subjects' own data): FC r %.3f, FCD KS %.3f", cv.ceiling.meanFCR, cv.ceiling.meanFCDKS))
        out.append("  model - ceiling: " + cv.versusCeiling.description)
        out.append("  model - baseline: " + cv.versusBaseline.description)
        if !cv.chosenInLowRegime { out.append("warning: in some fold no candidate stayed in the low-activity state on validation") }
        return out
    }

    public static func html(_ cv: HeldOutProtocol.CrossValidated, settings: HeldOutProtocol.Settings) -> String {
        let ceilingR = HeldOutProtocol.Scores.meanAndSD(cv.ceiling.scores.map(\.score.fcR))
        let ceilingKS = HeldOutProtocol.Scores.meanAndSD(cv.ceiling.scores.map(\.score.fcdKS))
        let rowsR = [("model (each fold's choice)", cv.test.fcR.mean, cv.test.fcR.sd), ("baseline: G", cv.baselineTest.fcR.mean, cv.baselineTest.fcR.sd),
                     ("data ceiling", ceilingR.mean, ceilingR.sd)]
        let rowsKS = [("model (each fold's choice)", cv.test.fcdKS.mean, cv.test.fcdKS.sd),
                      ("baseline: G", cv.baselineTest.fcdKS.mean, cv.baselineTest.fcdKS.sd), ("data ceiling", ceilingKS.mean, ceilingKS.sd)]
        var sections: [(heading: String, body: String)] = []
        sections.append(("Test, pooled over folds", "<p>\(cv.folds.count) folds: each subject is a test subject once, scored by "
            + "\(settings.evaluationSeeds) runs with new noise of the model its fold chose on validation, beside that fold's baseline (G alone) "
            + "and the data's ceiling (the fold's training subjects' mean FC and pooled FCD against it). Mean and sd over runs and subjects. "
            + "Each fold's full report is in fold-k/report.html.</p>"
            + SVG.intervals(title: "FC r on test subjects (higher is better)", xLabel: "FC r (Pearson, upper triangle)", rows: rowsR, range: 0...1)
            + SVG.intervals(title: "FCD KS distance on test subjects (lower is better)", xLabel: "Kolmogorov-Smirnov distance", rows: rowsKS, range: 0...1)
            + "<p>Paired by test subject (each subject's mean over its runs), with 95% intervals (Student's t over subjects): "
            + "model &minus; ceiling: " + SVG.escape(cv.versusCeiling.description) + "; model &minus; baseline: "
            + SVG.escape(cv.versusBaseline.description) + ". An interval that spans zero means these subjects cannot tell the two apart.</p>"
            + SVG.table(header: ["test subject", "fold", "model", "model FC r", "model FCD KS", "baseline FC r", "baseline FCD KS", "ceiling FC r", "ceiling FCD KS"],
                        rows: cv.folds.enumerated().flatMap { k, fold in
                            ProtocolReport.subjectRows(fold).map { [$0[0], "\(k + 1)", fold.candidates[fold.chosen].label] + $0.dropFirst() }
                        })
            + (cv.chosenInLowRegime ? "" : "<p><b>Warning:</b> in some fold no candidate stayed in the low-activity state on validation.</p>")))
        sections.append(("Folds", SVG.table(
            header: ["fold", "train", "validation", "test", "chosen", "validation FC r / FCD KS of each candidate"],
            rows: cv.folds.enumerated().map { k, fold in
                ["\(k + 1)", fold.split.train.joined(separator: ", "), fold.split.validation.joined(separator: ", "), fold.split.test.joined(separator: ", "),
                 fold.candidates[fold.chosen].label,
                 fold.candidates.map { String(format: "%@ %.3f / %.3f", $0.label, $0.validation.fcR.mean, $0.validation.fcdKS.mean) }.joined(separator: "; ")]
            })))
        sections.append(("The data's own ceiling", "<p>Leave-one-out over every subject (each predicted by the other subjects' mean FC and pooled FCD): "
            + SVG.escape(cv.leaveOneOut.description) + ".</p>"))
        return SVG.page(title: "WholeBrain protocol: \(cv.folds.count)-fold cross-validation over subjects", sections: sections)
    }
}
