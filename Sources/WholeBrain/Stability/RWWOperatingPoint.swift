import Foundation

/// Where a reduced Wong-Wang network operates: how its J_i and G were chosen, the critical
/// coupling G*, the regime of the noise-free network (low, high or bistable) and, after a
/// run, where the noisy activity actually sat.
///
/// The default operating point follows Deco et al. (2014): feedback inhibition control (FIC)
/// puts every excitatory population at 3 Hz at the fixed point (`FeedbackInhibition`, J_i per
/// region, retuned for each G), and G sits just below G*, the coupling where that state loses
/// stability, where its slow fluctuations are largest: G = 0.9 G*. On subject 101309 (80
/// regions, weights divided by their maximum) G* = 0.578, so G = 0.520; 300 s runs there keep
/// every region near 3 Hz (mean 3.08 Hz over seeds 1-3) with FC r 0.65-0.66 to the subject
/// (noise 0.001). At 0.95 G* the network is bistable and noise carries part of it into the
/// high state (measured: mean 13 Hz).
public struct RWWOperatingPoint: Sendable {
    /// FIC target rate of the defaults (Hz).
    public static let defaultFICRate = 3.0
    /// G = this fraction of G* by default.
    public static let defaultCriticalFraction = 0.9
    /// A run or state whose mean excitatory rate exceeds this (Hz) is in the high-activity state.
    public static let highRate = RWWContinuation.highRateThreshold

    /// Noise-free regime of the network at the chosen parameters, from its stable fixed points.
    public enum Regime: String, Sendable {
        /// Every stable fixed point is low-activity (mean E rate <= 10 Hz).
        case low
        /// Every stable fixed point is high-activity.
        case high
        /// Low- and high-activity states are both stable.
        case bistable
        /// No stable fixed point (oscillations or divergence).
        case noStableFixedPoint = "no stable fixed point"
    }

    /// A stable fixed point of the noise-free network.
    public struct StableState: Sendable {
        public let meanRate: Double, minRate: Double, maxRate: Double, meanSE: Double
        public let leading: Eigenvalues.Value
    }

    public let parameters: ReducedWongWang.Parameters
    /// Per-region J_i (FIC) or nil for the parameters' uniform J_i.
    public let nodeJI: [Double]?
    /// FIC target rate (Hz), nil without FIC.
    public let ficRate: Double?
    /// G* of this network (FIC retuned at every G, or fixed J_i), nil when none in the range searched.
    public let criticalCoupling: Double?
    public let criticalKind: String?
    /// How G was chosen, in words.
    public let gChoice: String
    public let regime: Regime
    public let stableStates: [StableState]

    /// The leading eigenvalue (real part, 1/ms) of the first stable low-activity state, nil
    /// when none is stable: the stability term's default target, the margin a fit keeps.
    public var lowStateLeadingEigenvalue: Double? {
        stableStates.first { $0.meanRate <= RWWOperatingPoint.highRate }?.leading.real
    }

    /// Resolves the operating point. `g` nil: `fraction` x G* (an error when there is no G*).
    /// `ficRate` nil: uniform J_i from `parameters`. `wPlus` and `i0`: per-region values
    /// (regional heterogeneity; G* then needs feedback inhibition or a given G).
    public static func resolve(parameters base: ReducedWongWang.Parameters, weights: Matrix, ficRate: Double?,
                               g: Double?, fraction: Double = defaultCriticalFraction, gSource: String = "--G",
                               wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> RWWOperatingPoint {
        var p = base
        let gStar: (value: Double, kind: String)?
        let regional = wPlus != nil || i0 != nil
        if let ficRate {
            gStar = try FeedbackInhibition.criticalCoupling(parameters: base, weights: weights, rate: ficRate, range: 0...20, wPlus: wPlus, i0: i0)
                .map { ($0.value, $0.hopf ? "Hopf" : "branch point") }
        } else if regional {
            guard g != nil else {
                throw WholeBrainError.badValue(source: gSource, value: "(default: \(fraction) G*)",
                                               expected: "a value: without feedback inhibition G* is not computed for per-region w_plus or I_0")
            }
            gStar = nil
        } else {
            let upper = max(4, 1.5 * (g ?? base.g))
            let diagram = try RWWContinuation(parameters: base, weights: weights).diagram(over: 0...upper, steps: 80, highBranch: false)
            gStar = diagram.critical.map { ($0.value, $0.kind) }
        }
        let choice: String
        if let g {
            p.g = g
            choice = "from \(gSource)"
        } else if let gStar {
            p.g = fraction * gStar.value
            let state = ficRate == nil ? "low-activity" : "FIC"
            choice = fraction == defaultCriticalFraction
                ? String(format: "%g G*, the default: just below the coupling where the %@ state loses stability", fraction, state)
                : String(format: "%g G*, chosen: %@ the coupling where the %@ state loses stability", fraction,
                         fraction < 1 ? "below" : "at or above", state)
        } else {
            throw WholeBrainError.badValue(source: gSource, value: "(default: \(fraction) G*)",
                                           expected: "a value: this network has no G* in 0-20 to place G below")
        }
        return try at(parameters: p, weights: weights, ficRate: ficRate, critical: gStar, gChoice: choice, wPlus: wPlus, i0: i0)
    }

    /// The operating point at `parameters` (their G) when G* is already known: J_i by
    /// feedback inhibition and the regime there.
    public static func at(parameters p: ReducedWongWang.Parameters, weights: Matrix, ficRate: Double?,
                          critical: (value: Double, kind: String)?, gChoice: String,
                          wPlus: [Double]? = nil, i0: [Double]? = nil) throws -> RWWOperatingPoint {
        let nodeJI = try ficRate.map { try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: $0, wPlus: wPlus, i0: i0) }
        let (regime, states) = try classify(parameters: p, weights: weights, nodeJI: nodeJI, ficRate: ficRate, nodeWPlus: wPlus, nodeI0: i0)
        return RWWOperatingPoint(parameters: p, nodeJI: nodeJI, ficRate: ficRate, criticalCoupling: critical?.value,
                                 criticalKind: critical?.kind, gChoice: gChoice, regime: regime, stableStates: states)
    }

    /// The stable fixed points (Newton from the FIC state, a low start and 15 uniform levels)
    /// and the regime they make.
    /// `classify` for a simulation's network (its per-node J_i, w_+ and I_0).
    public static func classify(spec: SimulationSpec<ReducedWongWang>, ficRate: Double? = nil) throws -> (Regime, [StableState]) {
        try classify(parameters: spec.model.parameters, weights: spec.connectome.weights, nodeJI: spec.nodeParameters[0], ficRate: ficRate,
                     nodeWPlus: spec.nodeParameters[1], nodeI0: spec.nodeParameters[2])
    }

    public static func classify(parameters p: ReducedWongWang.Parameters, weights: Matrix, nodeJI: [Double]?,
                                ficRate: Double? = nil, nodeWPlus: [Double]? = nil, nodeI0: [Double]? = nil) throws -> (Regime, [StableState]) {
        let n = weights.rows
        let stability = RWWStability(parameters: p, weights: weights, nodeJI: nodeJI, nodeWPlus: nodeWPlus, nodeI0: nodeI0)
        var points = try stability.fixedPoints(starts: 15)
        if let ficRate, let designed = try stability.fixedPoint(from: try FeedbackInhibition.state(parameters: p, nodes: n, rate: ficRate, i0: nodeI0)) {
            points.append(designed)
        }
        if let low = try stability.lowState() { points.append(low) }
        var states: [StableState] = []
        for point in points where point.isStable {
            if states.contains(where: { abs($0.meanSE - point.meanSE) < 1e-6 }) { continue }
            var rates: [Double] = []
            for i in 0..<n {
                var c = 0.0
                for k in 0..<n { c += weights[i, k] * point.state[k] }
                rates.append(ReducedWongWang.drift(p, sE: point.state[i], sI: point.state[n + i], coupling: c, jI: nodeJI?[i] ?? p.jI,
                                                   wPlus: nodeWPlus?[i], i0: nodeI0?[i]).rE)
            }
            states.append(StableState(meanRate: rates.reduce(0, +) / Double(n), minRate: rates.min() ?? 0, maxRate: rates.max() ?? 0,
                                      meanSE: point.meanSE, leading: point.leading))
        }
        states.sort { $0.meanSE < $1.meanSE }
        let lows = states.filter { $0.meanRate <= highRate }.count, highs = states.count - lows
        let regime: Regime = states.isEmpty ? .noStableFixedPoint : lows > 0 && highs > 0 ? .bistable : lows > 0 ? .low : .high
        return (regime, states)
    }

    /// G / G*, nil without G*.
    public var criticalRatio: Double? { criticalCoupling.map { parameters.g / $0 } }

    /// Where a finished run sat, from each region's time-averaged excitatory rate (Hz).
    public struct Activity: Sendable {
        public let meanRate: Double, minRate: Double, maxRate: Double
        /// "low", "high" or "mixed" (some regions above 10 Hz, the mean below).
        public var state: String {
            if meanRate > RWWOperatingPoint.highRate { return "high" }
            return maxRate > RWWOperatingPoint.highRate ? "mixed" : "low"
        }
        public init(regionRates: [Double]) {
            meanRate = regionRates.reduce(0, +) / Double(max(regionRates.count, 1))
            minRate = regionRates.min() ?? 0
            maxRate = regionRates.max() ?? 0
        }
    }

    /// A warning for a run in the high-activity (saturated) state, nil otherwise.
    public static func warning(for activity: Activity) -> String? {
        guard activity.state == "high" else { return nil }
        return String(format: "warning: the run sits in the high-activity state (mean excitatory rate %.1f Hz; resting cortex fires at a few Hz). "
                      + "The defaults avoid it: feedback inhibition (--fic 3) and G below G* (leave --G unset).", activity.meanRate)
    }

    /// One line per fact, for stderr.
    public func describe(activity: Activity? = nil) -> [String] {
        var lines: [String] = []
        let inhibition = ficRate.map { r in
            String(format: "feedback inhibition control: J_i per region %.3f-%.3f nA (every E population at %g Hz at the fixed point)",
                   nodeJI?.min() ?? 0, nodeJI?.max() ?? 0, r)
        } ?? String(format: "uniform J_i = %g nA (no feedback inhibition control)", parameters.jI)
        lines.append(inhibition)
        if let gStar = criticalCoupling {
            lines.append(String(format: "G = %.4f (%@); G* = %.4f (%@), G/G* = %.3f", parameters.g, gChoice, gStar, criticalKind ?? "", parameters.g / gStar))
        } else {
            lines.append(String(format: "G = %.4f (%@); no G* found in the range searched", parameters.g, gChoice))
        }
        let states = stableStates.map { String(format: "%.2f Hz", $0.meanRate) }.joined(separator: ", ")
        let meaning: String
        switch regime {
        case .low: meaning = "only low-activity states are stable"
        case .high: meaning = "only high-activity states are stable"
        case .bistable: meaning = "a low- and a high-activity state are both stable; noise can carry a run from one to the other"
        case .noStableFixedPoint: meaning = "no fixed point is stable"
        }
        lines.append("regime: \(regime.rawValue): \(meaning) (noise-free network; mean E rates \(states.isEmpty ? "none" : states))")
        if let a = activity {
            lines.append(String(format: "run: %@ activity, E rate mean %.2f Hz, regions %.2f-%.2f Hz", a.state, a.meanRate, a.minRate, a.maxRate))
        }
        return lines
    }

    /// The summary.json block.
    public func summary(activity: Activity? = nil) -> [String: Any] {
        var s: [String: Any] = [
            "regime": regime.rawValue,
            "G": parameters.g,
            "G_choice": gChoice,
            "feedback_inhibition": ficRate.map { r -> Any in
                ["target_rate_hz": r, "J_i_min": nodeJI?.min() ?? 0, "J_i_max": nodeJI?.max() ?? 0,
                 "J_i_mean": (nodeJI ?? []).reduce(0, +) / Double(max(nodeJI?.count ?? 1, 1)), "file": "fic_J_i.npy"]
            } ?? NSNull(),
            "stable_states": stableStates.map {
                ["mean_rate_E_hz": $0.meanRate, "min_rate_E_hz": $0.minRate, "max_rate_E_hz": $0.maxRate, "mean_S_E": $0.meanSE,
                 "leading_eigenvalue_real": $0.leading.real, "kind": $0.meanRate > RWWOperatingPoint.highRate ? "high" : "low"]
            },
        ]
        if let gStar = criticalCoupling {
            s["G_star"] = gStar
            s["G_star_kind"] = criticalKind ?? ""
            s["G_over_G_star"] = parameters.g / gStar
            s["G_star_minus_G"] = gStar - parameters.g
        } else {
            s["G_star"] = NSNull()
        }
        if let a = activity {
            var run: [String: Any] = ["state": a.state, "mean_rate_E_hz": a.meanRate, "min_region_rate_E_hz": a.minRate, "max_region_rate_E_hz": a.maxRate]
            if let w = RWWOperatingPoint.warning(for: a) { run["warning"] = w }
            s["run"] = run
        }
        return s
    }
}
