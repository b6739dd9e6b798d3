import Foundation

/// What `wholebrain protocol` writes: protocol.json (the split, every candidate's fit,
/// validation and identifiability, the chosen model's and the baseline's test scores, the
/// data's ceiling), scores.csv (one row per model, part, subject and seed) and report.html.
public enum ProtocolReport {
    static func summary(_ scores: HeldOutProtocol.Scores, regionLimit: Double) -> [String: Any] {
        ["fc_r_mean": scores.fcR.mean, "fc_r_sd": scores.fcR.sd, "fcd_ks_mean": scores.fcdKS.mean, "fcd_ks_sd": scores.fcdKS.sd,
         "cost": scores.cost, "mean_rate_E_hz": scores.meanRateE, "max_region_rate_E_hz": scores.maxRegionRateE ?? NSNull(),
         "low_activity": scores.lowActivity(regionLimit: regionLimit), "regime_problem": scores.regimeProblem(regionLimit: regionLimit),
         "by_subject": scores.bySubject.mapValues { $0.map { ["fc_r": $0.fcR, "fcd_ks": $0.fcdKS] } }]
    }

    static func ceilingSummary(_ c: DataCeiling) -> [String: Any] {
        ["fc_r_mean": c.meanFCR, "fcd_ks_mean": c.meanFCDKS,
         "by_subject": Dictionary(uniqueKeysWithValues: c.scores.map { ($0.subject, ["fc_r": $0.score.fcR, "fcd_ks": $0.score.fcdKS]) })]
    }

    public static func json(_ o: HeldOutProtocol.Outcome, settings: HeldOutProtocol.Settings) throws -> [String: Any] {
        [
            "split": ["train": o.split.train, "validation": o.split.validation, "test": o.split.test],
            "start": ["G": o.startG, "G_star": o.gStar as Any? ?? NSNull(), "fraction_of_G_star": settings.criticalFraction, "fic_rate_hz": settings.ficRate],
            "settings": ["epochs": settings.epochs, "learning_rate": settings.learningRate, "duration_s": settings.duration,
                         "stability_weight": settings.stability, "fit_seed": settings.seed, "evaluation_seeds": settings.evaluationSeeds,
                         "fcd_window_trs": settings.features.fcdWindow, "fcd_step_trs": settings.features.fcdStep,
                         "regional_maps": settings.mapSources, "shaping_steps": settings.shapingSteps,
                         "pattern_term": settings.expectedFC ? "expected-fc" : "surprise", "gain_shrinkage": settings.gainShrinkage,
                         "shaped_epochs": settings.shapedEpochs ?? settings.epochs],
            "candidates": try o.candidates.map { c -> [String: Any] in
                ["name": c.candidate, "stage": (c.stage ?? .fitted).rawValue, "label": c.label, "initial": c.initial, "fitted": c.fitted, "train_fc_r": c.trainFCR, "expected_fc_r": c.expectedFCR ?? NSNull(), "wall_time_s": c.wallSeconds,
                 "validation": summary(c.validation, regionLimit: settings.regionRateLimit),
                 "identifiability": try c.identifiability.map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) }]
            },
            "chosen": o.candidates[o.chosen].label, "chosen_in_low_activity_regime": o.chosenInLowRegime,
            "test": summary(o.test, regionLimit: settings.regionRateLimit), "baseline_test": summary(o.baselineTest, regionLimit: settings.regionRateLimit),
            "ceiling": ceilingSummary(o.ceiling), "leave_one_out_ceiling": ceilingSummary(o.leaveOneOut),
        ]
    }

    static let csvHeader = "model,part,subject,seed,fc_r,fcd_ks\n"

    public static func csv(_ o: HeldOutProtocol.Outcome) -> String { csvHeader + csvRows(o, prefix: "") }

    /// The rows of `csv`, each starting with `prefix` (a cross-validation's fold column).
    static func csvRows(_ o: HeldOutProtocol.Outcome, prefix: String) -> String {
        var s = ""
        func rows(_ name: String, _ part: String, _ scores: HeldOutProtocol.Scores) {
            // Names such as G,sc-gains hold commas: quoted, as CSV readers expect (RFC 4180).
            let model = name.contains(",") ? "\"\(name)\"" : name
            for subject in scores.bySubject.keys.sorted() {
                for (k, score) in scores.bySubject[subject]!.enumerated() { s += "\(prefix)\(model),\(part),\(subject),\(k),\(score.fcR),\(score.fcdKS)\n" }
            }
        }
        for c in o.candidates { rows(c.label, "validation", c.validation) }
        rows(o.candidates[o.chosen].label, "test", o.test)
        if o.candidates[o.chosen].label != HeldOutProtocol.Candidate.baseline.name { rows(HeldOutProtocol.Candidate.baseline.name, "test", o.baselineTest) }
        for (subject, score) in o.ceiling.scores { s += "\(prefix)data ceiling,test,\(subject),,\(score.fcR),\(score.fcdKS)\n" }
        return s
    }

    /// The lines printed at the end: the test scores beside the ceiling and the baseline.
    public static func lines(_ o: HeldOutProtocol.Outcome) -> [String] {
        let chosen = o.candidates[o.chosen].label
        var out = ["test subjects \(o.split.test.joined(separator: ", ")), never seen by the fit or the choice:",
                   "  " + line("model (\(chosen), chosen on validation)", o.test)]
        out.append(chosen != HeldOutProtocol.Candidate.baseline.name ? "  " + line("baseline (G alone)", o.baselineTest)
                   : "  baseline (G alone): the chosen model itself")
        out.append(String(format: "  data ceiling (training subjects' own data): FC r %.3f, FCD KS %.3f", o.ceiling.meanFCR, o.ceiling.meanFCDKS))
        if !o.chosenInLowRegime { out.append("warning: no candidate stayed in the low-activity state on validation; the chosen one is not physiological") }
        return out
    }

    /// "NAME: FC r m +- sd, FCD KS m +- sd (runs x subjects; E rate)".
    static func line(_ name: String, _ s: HeldOutProtocol.Scores) -> String {
        String(format: "%@: FC r %.3f +- %.3f, FCD KS %.3f +- %.3f (%d runs x %d subjects; E rate %.2f Hz)", name, s.fcR.mean, s.fcR.sd,
               s.fcdKS.mean, s.fcdKS.sd, s.all.count / max(s.bySubject.count, 1), s.bySubject.count, s.meanRateE.reduce(0, +) / Double(max(s.meanRateE.count, 1)))
    }

    /// Per test subject: subject, model FC r and FCD KS, baseline FC r and FCD KS, ceiling FC r and FCD KS (means over runs).
    static func subjectRows(_ o: HeldOutProtocol.Outcome) -> [[String]] {
        o.split.test.map { s in
            let m = HeldOutProtocol.Scores.meanAndSD((o.test.bySubject[s] ?? []).map(\.fcR)).mean
            let mk = HeldOutProtocol.Scores.meanAndSD((o.test.bySubject[s] ?? []).map(\.fcdKS)).mean
            let b = HeldOutProtocol.Scores.meanAndSD((o.baselineTest.bySubject[s] ?? []).map(\.fcR)).mean
            let bk = HeldOutProtocol.Scores.meanAndSD((o.baselineTest.bySubject[s] ?? []).map(\.fcdKS)).mean
            let c = o.ceiling.scores.first { $0.subject == s }?.score
            return [s] + [m, mk, b, bk, c?.fcR ?? .nan, c?.fcdKS ?? .nan].map { String(format: "%.3f", $0) }
        }
    }

    public static func html(_ o: HeldOutProtocol.Outcome, settings: HeldOutProtocol.Settings) -> String {
        let chosen = o.candidates[o.chosen]
        var rowsR: [(label: String, mean: Double, sd: Double)] = [("model: " + chosen.label, o.test.fcR.mean, o.test.fcR.sd)]
        var rowsKS: [(label: String, mean: Double, sd: Double)] = [("model: " + chosen.label, o.test.fcdKS.mean, o.test.fcdKS.sd)]
        if chosen.label != HeldOutProtocol.Candidate.baseline.name {
            rowsR.append(("baseline: G", o.baselineTest.fcR.mean, o.baselineTest.fcR.sd))
            rowsKS.append(("baseline: G", o.baselineTest.fcdKS.mean, o.baselineTest.fcdKS.sd))
        }
        let cr = o.ceiling.scores.map(\.score.fcR), ck = o.ceiling.scores.map(\.score.fcdKS)
        rowsR.append(("data ceiling", o.ceiling.meanFCR, HeldOutProtocol.Scores.meanAndSD(cr).sd))
        rowsKS.append(("data ceiling", o.ceiling.meanFCDKS, HeldOutProtocol.Scores.meanAndSD(ck).sd))
        var sections: [(heading: String, body: String)] = []
        let intro = "<p>Train on \(SVG.escape(o.split.train.joined(separator: ", "))) (averaged connectome, mean FC), choose on "
            + "\(SVG.escape(o.split.validation.joined(separator: ", "))), test on \(SVG.escape(o.split.test.joined(separator: ", "))). "
            + String(format: "Start: feedback inhibition at %.0f Hz, G = %.4f (%.2f G*). ", settings.ficRate, o.startG, settings.criticalFraction)
            + "Scores: \(settings.evaluationSeeds) runs with new noise per model, each against every test subject; mean and sd over runs and subjects. "
            + "The data ceiling scores the training subjects' mean FC and pooled FCD against each test subject.</p>"
        sections.append(("Test", intro
            + SVG.intervals(title: "FC r on test subjects (higher is better)", xLabel: "FC r (Pearson, upper triangle)", rows: rowsR, range: 0...1)
            + SVG.intervals(title: "FCD KS distance on test subjects (lower is better)", xLabel: "Kolmogorov-Smirnov distance", rows: rowsKS, range: 0...1)
            + SVG.table(header: ["test subject", "model FC r", "model FCD KS", "baseline FC r", "baseline FCD KS", "ceiling FC r", "ceiling FCD KS"],
                        rows: subjectRows(o))
            + (o.chosenInLowRegime ? "" : "<p><b>Warning:</b> no candidate stayed in the low-activity state on validation.</p>")))
        sections.append(("Candidates (validation)", SVG.table(
            header: ["model", "fitted", "train FC r", "expected FC r", "validation FC r", "validation FCD KS", "cost", "E rate (Hz)", "highest region (Hz)", "low-activity", "fit time (s)"],
            rows: o.candidates.map { c in
                [c.label, c.fitted.keys.sorted().map { String(format: "%@ %.4f", $0, c.fitted[$0]!) }.joined(separator: ", "),
                 String(format: "%.3f", c.trainFCR), c.expectedFCR.map { String(format: "%.3f", $0) } ?? "-",
                 String(format: "%.3f +- %.3f", c.validation.fcR.mean, c.validation.fcR.sd),
                 String(format: "%.3f +- %.3f", c.validation.fcdKS.mean, c.validation.fcdKS.sd), String(format: "%.3f", c.validation.cost),
                 String(format: "%.2f", c.validation.meanRateE.reduce(0, +) / Double(max(c.validation.meanRateE.count, 1))),
                 c.validation.maxRegionRateE.map { String(format: "%.1f", $0.max() ?? 0) } ?? "-",
                 c.validation.lowActivity(regionLimit: settings.regionRateLimit) ? "yes" : "no", String(format: "%.0f", c.wallSeconds)]
            })
            + "<p>Train FC r: the last epoch's run against the training group's mean FC; expected FC r: the fitted network's stationary FC (linearised, noise-free) against it. "
            + "A candidate that shapes the FC pattern is scored twice: after its simulated epochs, and as it was right after the shaping (\"(shaped)\": at \(String(format: "%.2g", settings.criticalFraction)) G* of the shaped network). "
            + "Chosen by (1 - FC r) + FCD KS among those whose validation runs stay in the low-activity state (mean E rate 1-10 Hz, no region's mean above \(String(format: "%.0f", settings.regionRateLimit)) Hz, twice the feedback-inhibition rate; highest region: the largest regional mean E rate over the runs).</p>"
            + SVG.table(header: ["model", "identifiability"], rows: o.candidates.map { c in [c.label, c.identifiability.map(\.description).joined(separator: "; ")] })))
        sections.append(("The data's own ceiling", "<p>Leave-one-out over every subject (each predicted by the other subjects' mean FC and pooled FCD): "
            + SVG.escape(o.leaveOneOut.description) + ".</p>"))
        return SVG.page(title: "WholeBrain protocol: train / validation / test", sections: sections)
    }
}
