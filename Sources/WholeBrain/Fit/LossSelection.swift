import Foundation

/// `--loss auto`: the loss terms that carry information about the parameters for the data at
/// hand, chosen so that a user need not know which statistic FC misses where.
///
/// Measured on synthetic BOLD (RECOVERY.md): the FC surprise alone climbs toward G* because
/// a cleaner copy of the target's pattern scores a higher r at any coupling; the level of FC,
/// the distribution of FCD and the BOLD amplitude each rise with coupling and pin it down.
/// - fc-mean (the global FC level) always; surprise (the paper's FC fit, r of the FC
///   patterns) only when the fit shapes the pattern (connection gains or per-region
///   parameters): r rewards a run whose FC is less noisy, not the true coupling, so with global
///   parameters alone it biases them (G fitted 12% high at 0.6 G* with it, 1.8% without);
/// - fcd when every fitted stretch holds at least `minimumFCDWindows` FCD windows (and the
///   target as many), else the FCD distribution is a handful of numbers;
/// - bold-variance only when the target BOLD is in the model's units (BOLD simulated by
///   WholeBrain or another Balloon-Windkessel model): scanner BOLD has an arbitrary scale;
/// - bold-mean, in the model's units and unfiltered, when nothing holds the activity level
///   (no feedback inhibition, or per-region J_i fitted): the BOLD level follows the mean drive,
///   which separates G from J_i where FC, FCD and variance trade them off (RECOVERY.md).
public enum LossSelection {
    /// Weight of the FC mean level term under auto: (mean FC difference / 0.2)^2, so that a
    /// difference of 0.1 weighs like a change of r of about 0.2 in the surprise.
    public static let fcMeanWeight = 25.0
    public static let fcdWeight = 1.0, boldVarianceWeight = 0.1, boldMeanWeight = 0.1
    public static let minimumFCDWindows = 5

    public struct Choice: Sendable {
        /// Weights by the names `--loss` takes (surprise, fc-mean, fcd, bold-variance, bold-mean).
        public let weights: [String: Double]
        /// One line per term considered: used or not, and why.
        public let reasons: [String]
    }

    /// The terms for stretches of `stretchSamples` BOLD samples (a whole run, or a window),
    /// a target scan of `targetSamples`, BOLD whose units are described by `modelUnits` (nil:
    /// not the model's), and whether the fitted parameters shape the FC pattern.
    /// With `expectedFC`, the pattern is fitted by the expected-FC term (`ExpectedFCTerm`,
    /// noise-free) instead of the surprise. `levelFree`: nothing holds the activity level
    /// (no feedback inhibition, or per-region J_i fitted); `filtered`: the BOLD is band-passed.
    public static func automatic(stretchSamples: Int, targetSamples: Int, modelUnits: String?, shapesPattern: Bool,
                                 fcd settings: FCDTerm.Settings = FCDTerm.Settings(), expectedFC: Bool = false,
                                 levelFree: Bool = false, filtered: Bool = false) -> Choice {
        var weights = ["fc-mean": fcMeanWeight]
        var reasons = ["fc-mean=\(fcMeanWeight): the global FC level"]
        if shapesPattern && expectedFC {
            weights["expected-fc"] = 1
            reasons.append("expected-fc: the fit shapes the FC pattern; r of the linearised network's stationary FC measures it without noise")
        } else if shapesPattern {
            weights["surprise"] = 1
            reasons.append("surprise: the fit shapes the FC pattern (connection gains or per-region parameters), which r measures")
        } else {
            reasons.append("no surprise: global parameters only; r of FC patterns rewards less noisy runs, not the true values (RECOVERY.md)")
        }
        let windows = settings.windows(samples: stretchSamples), targetWindows = settings.windows(samples: targetSamples)
        if windows >= minimumFCDWindows && targetWindows >= minimumFCDWindows {
            weights["fcd"] = fcdWeight
            reasons.append("fcd: each fitted stretch of \(stretchSamples) samples holds \(windows) FCD windows of \(settings.window) TRs every \(settings.step)")
        } else {
            let needed = settings.window + (minimumFCDWindows - 1) * settings.step
            reasons.append("no fcd: a stretch of \(stretchSamples) samples holds \(windows) FCD windows (the target \(targetWindows)); "
                           + "at least \(minimumFCDWindows) need \(needed) samples (a longer --duration, whole-run gradients)")
        }
        if let modelUnits {
            weights["bold-variance"] = boldVarianceWeight
            reasons.append("bold-variance=\(boldVarianceWeight): the target BOLD is in the model's units (\(modelUnits))")
        } else {
            reasons.append("no bold-variance: the target BOLD's scale is not the model's (scanner units); its amplitude says nothing")
        }
        if modelUnits != nil && levelFree && !filtered {
            weights["bold-mean"] = boldMeanWeight
            reasons.append("bold-mean=\(boldMeanWeight): nothing holds the activity level (no feedback inhibition), and the BOLD level in model units follows it")
        } else if modelUnits != nil && levelFree {
            reasons.append("no bold-mean: the band-pass removes the BOLD level")
        }
        return Choice(weights: weights, reasons: reasons)
    }

    /// Whether a BOLD file holds BOLD in the model's units, from the description written beside
    /// it: a `summary.json` of `wholebrain simulate` (it names the variable driving BOLD) or any
    /// `summary.json` / `reference.json` with "bold_units": "model". Nil when neither says so.
    public static func modelUnits(boldFile path: String) -> String? {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        for name in ["summary.json", "reference.json"] {
            let url = folder.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { continue }
            if let input = object["bold_input"] as? String, object["model"] != nil {
                return "\(url.path) says it was simulated, BOLD driven by \(input)"
            }
            if let units = object["bold_units"] as? String, units == "model" {
                return "\(url.path) says bold_units = model"
            }
        }
        return nil
    }
}
