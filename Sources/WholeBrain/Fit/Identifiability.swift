import Foundation

/// How firmly the data pin down each fitted parameter, so that a fit never reports a confident
/// number where the data cannot decide.
///
/// At the fitted values theta^ the data loss L_s (the fit's data terms: FC surprise, time
/// series, spectrum, FC level; not its priors, entropy, regime or stability terms, which would add
/// curvature the data do not have) is evaluated under K noise realisations s (the fit's seed
/// and K - 1 new ones) at theta^_j and theta^_j (1 +- h) for each parameter j, h = 10%:
/// - curvature H_j = mean_s (L_s(+) - 2 L_s(0) + L_s(-)) / (h theta^_j)^2;
/// - slope under seed s: b_s = (L_s(+) - L_s(-)) / (2 h theta^_j). One Newton step moves the
///   fitted value to theta^_j - b_s / H_j, so sd_s(b_s) / H_j is the spread of the fitted
///   value over noise realisations: the standard error a refit with another seed would show
///   (a "sandwich" estimate, parameter by parameter).
/// Differences of the loss over +-10% rather than exact gradients at points: with a fixed
/// noise realisation the loss is rugged on finer scales (clamped states and near-threshold
/// excursions make its gradient jump by as much as the curvature changes it over 1%), and
/// the question is whether the data decide the parameter to about 10%.
/// A parameter is `identified` when H_j > 0 and the standard error is at most 10% of its
/// value, `weak` up to 50%, `not identified` beyond that or when the loss does not curve
/// upward (H_j <= 0: flat, or the fitted value is not a minimum). Cost: K (2P + 1) forward
/// runs for P parameters.
///
/// The spread over seeds is a precision, blind to bias: where weak coupling leaves FC mostly
/// noise, every seed's loss can agree on a minimum that the FC terms' noise put there. So the
/// K runs at the fitted values are also compared with each other: their mean pairwise FC r
/// (the model's own seed-to-seed FC agreement) is reported, and when the loss holds FC pattern
/// terms (surprise, fc-level), whose minimum that noise moves, below `noiseFloor` (0.2) it
/// makes every verdict `not identified`, below `weakFloor` (0.4) at most `weak`, with the
/// figure in the reason.
public enum Identifiability {
    public enum Verdict: String, Codable, Sendable {
        case identified
        case weak
        case notIdentified = "not identified"
    }

    public struct Figure: Codable, Sendable, Equatable {
        public let parameter: String
        public let value: Double
        /// d2L/dtheta2 at the fitted value over +-10% (units of L per unit^2 of the parameter).
        public let curvature: Double
        /// dL/dtheta over +-10% of the fitted value under each noise seed (the fit's first).
        public let seedSlopes: [Double]
        /// sd over seeds of the slope, divided by the curvature; infinity when H <= 0.
        public let standardError: Double
        /// standardError / |value|.
        public let relativeError: Double
        public let verdict: Verdict
        /// Mean pairwise FC r between the runs at the fitted values under different seeds (nil:
        /// one seed), and why it capped the verdict, if it did.
        public let seedAgreement: Double?
        public let caveat: String?

        public static let noiseFloor = 0.2, weakFloor = 0.4

        enum CodingKeys: String, CodingKey {
            case parameter, value, curvature, verdict, caveat
            case seedSlopes = "seed_slopes", standardError = "standard_error", relativeError = "relative_error"
            case seedAgreement = "seed_to_seed_fc_r"
        }

        /// `patternTerms`: the loss holds terms of the FC pattern (surprise, fc-level), whose
        /// minimum noise moves; only then does a low seed agreement cap the verdict.
        public init(parameter: String, value: Double, curvature: Double, seedSlopes: [Double], seedAgreement: Double? = nil,
                    patternTerms: Bool = true) {
            self.parameter = parameter; self.value = value; self.curvature = curvature; self.seedSlopes = seedSlopes
            self.seedAgreement = seedAgreement
            let k = Double(seedSlopes.count)
            let mean = seedSlopes.reduce(0, +) / k
            let sd = k > 1 ? (seedSlopes.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (k - 1)).squareRoot() : .infinity
            standardError = curvature > 0 ? sd / curvature : .infinity
            relativeError = value != 0 ? standardError / abs(value) : .infinity
            var verdict: Verdict = !(curvature > 0) || !(relativeError <= 0.5) ? .notIdentified : relativeError <= 0.1 ? .identified : .weak
            var caveat: String?
            if patternTerms, let r = seedAgreement, r < Self.weakFloor, verdict != .notIdentified {
                let capped: Verdict = r < Self.noiseFloor ? .notIdentified : .weak
                if capped == .notIdentified || verdict == .identified {
                    caveat = String(format: "FC is mostly noise here: runs with different noise seeds at the fitted values agree at FC r = %.2f "
                                    + "(below %.1f), so a minimum of the fit's loss says little about the truth", r, r < Self.noiseFloor ? Self.noiseFloor : Self.weakFloor)
                    verdict = capped
                }
            }
            self.verdict = verdict
            self.caveat = caveat
        }

        /// Non-finite numbers (no curvature: an infinite error) are written as null.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(parameter, forKey: .parameter)
            try c.encode(value, forKey: .value)
            try c.encode(curvature, forKey: .curvature)
            try c.encode(seedSlopes, forKey: .seedSlopes)
            try c.encode(standardError.isFinite ? standardError : nil, forKey: .standardError)
            try c.encode(relativeError.isFinite ? relativeError : nil, forKey: .relativeError)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(seedAgreement, forKey: .seedAgreement)
            try c.encode(caveat, forKey: .caveat)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(parameter: try c.decode(String.self, forKey: .parameter), value: try c.decode(Double.self, forKey: .value),
                      curvature: try c.decode(Double.self, forKey: .curvature), seedSlopes: try c.decode([Double].self, forKey: .seedSlopes),
                      seedAgreement: try c.decodeIfPresent(Double.self, forKey: .seedAgreement),
                      patternTerms: try c.decodeIfPresent(String.self, forKey: .caveat) != nil)
        }

        /// "G = 0.52 +- 0.01 (2%, identified; curvature 3.1)".
        public var description: String {
            let se = standardError.isFinite ? String(format: " +- %.3g (%.0f%%", standardError, 100 * relativeError) : " (no upward curvature"
            return String(format: "%@ = %.4g%@, %@; curvature %.3g)", parameter, value, se, verdict.rawValue, curvature)
                + (caveat.map { ": " + $0 } ?? "")
        }
    }

    /// Figures for every scalar parameter of `options.parameters` at the fitted specs (one per
    /// subject; the loss is their mean), under the fit's seed and `extraSeeds`.
    public static func assess(fitted: [(spec: SimulationSpec<ReducedWongWang>, target: GradientFit.Target)], options: GradientFit.Options,
                              extraSeeds: [UInt64], relativeStep h: Double = 0.1) throws -> [Figure] {
        let parameters = options.parameters.map(\.parameter).filter { !$0.isNodeJI }
        guard !parameters.isEmpty, !fitted.isEmpty else { return [] }
        /// The mean data loss over subjects, one parameter set to `value` (nil: as fitted), under `seed` (nil: the fit's).
        var centreFC: [[Matrix]] = []                    // [seed][subject]
        func loss(_ parameter: RWWGradient.Parameter?, _ value: Double, seed: UInt64?) throws -> Double {
            var sum = 0.0
            var fcs: [Matrix] = []
            for subject in fitted {
                let s = try GradientFit.retuned(try GradientFit.spec(subject.spec, with: parameter.map { [($0, value)] } ?? [], seed: seed),
                                                rate: options.feedbackInhibition)
                // The data terms only: no entropy or regime regulariser.
                var objective = options.objective(target: subject.target, parameters: s.model.parameters)
                objective.entropy = 0
                objective.regime = 0
                let result = try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: [], checkpointEvery: options.checkpointEvery)
                sum += result.loss
                if parameter == nil {
                    let bold = options.bandPass.map { BandPass.filter(regionsByTime: result.bold.transposed, fs: 1 / s.tr, low: $0.low, high: $0.high) }
                        ?? result.bold.transposed
                    fcs.append(FunctionalConnectivity.pearson(regionsByTime: bold))
                }
            }
            if parameter == nil { centreFC.append(fcs) }
            return sum / Double(fitted.count)
        }
        let seeds: [UInt64?] = [nil] + extraSeeds.map { $0 }
        let centre = try seeds.map { try loss(nil, 0, seed: $0) }
        // Seed-to-seed agreement: mean FC r over pairs of seeds and over subjects.
        var agreement: Double?
        if seeds.count > 1 {
            var total = 0.0, pairs = 0
            for a in 0..<seeds.count { for b in (a + 1)..<seeds.count { for k in fitted.indices {
                total += FunctionalConnectivity.similarity(centreFC[a][k], centreFC[b][k]); pairs += 1
            } } }
            agreement = total / Double(pairs)
        }
        return try parameters.map { parameter in
            let value = GradientFit.value(parameter, in: fitted[0].spec)
            let step = h * max(abs(value), 1e-3)
            var curvature = 0.0, slopes: [Double] = []
            for (k, seed) in seeds.enumerated() {
                let up = try loss(parameter, value + step, seed: seed), down = try loss(parameter, value - step, seed: seed)
                curvature += (up - 2 * centre[k] + down) / (step * step) / Double(seeds.count)
                slopes.append((up - down) / (2 * step))
            }
            return Figure(parameter: parameter.description, value: value, curvature: curvature, seedSlopes: slopes, seedAgreement: agreement,
                          patternTerms: options.surprise != 0 || options.fcLevel != 0)
        }
    }
}
