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
/// The standard error comes from K slopes, so it is itself uncertain (with K = 4, three degrees
/// of freedom); the 95% interval is value +- t(0.975, K - 1) x standard error, Student's t
/// quantile (3.18 for K = 4, where a normal 1.96 would be overconfident). A parameter is
/// `identified` when H_j > 0 and that interval's half-width is at most 20% of its value (the
/// former rule, a standard error of 10%, at 1.96), `weak` while the interval excludes zero
/// (half-width below 100%), `not identified` beyond that or when the loss does not curve
/// upward (H_j <= 0: flat, or the fitted value is not a minimum). Cost: K (2P + 1) forward
/// runs for P parameters.
///
/// A refit to another scan meets the data's noise too, not only the fit's: along a trade-off
/// the scan's own noise moves the minimum (RECOVERY.md: G with J_i without feedback inhibition
/// stopped 15% off while the fit's noise alone moved it 3-4%). Given `scans` (how each subject's
/// target is made from a BOLD recording), every new realisation s also gets a new scan: BOLD
/// simulated at the fitted values with its own seed, made into a target as the data were (a
/// parametric bootstrap; K - 1 more runs as long as the scan). The slopes b_s then spread as a
/// refit to another scan with another seed would. (The protocol's group fits have no such
/// recipe: their target pools several subjects, so their spread is the fit's noise alone.)
///
/// The spread over seeds is a precision, blind to bias: where weak coupling leaves FC mostly
/// noise, every seed's loss can agree on a minimum that the FC terms' noise put there. So the
/// K runs at the fitted values are also compared with each other: their mean pairwise FC r
/// (the model's own seed-to-seed FC agreement) is reported, and when the loss holds FC pattern
/// terms (surprise, fc-level), whose minimum that noise moves, below `noiseFloor` (0.2) it
/// makes every verdict `not identified`, below `weakFloor` (0.4) at most `weak`, with the
/// figure in the reason.
///
/// Varying one parameter at a time misses ridges, where two parameters trade off (RECOVERY.md:
/// G with J_i without feedback inhibition stopped 15% off and was called identified). With
/// P > 1 parameters the mixed differences
///     H_jk = mean_s (L_s(+j+k) - L_s(+j-k) - L_s(-j+k) + L_s(-j-k)) / (4 h_j h_k)
/// complete the Hessian (4 more runs per pair and seed), and the joint standard errors are
/// those of the sandwich H^-1 S H^-1, S the covariance over seeds of the slope vectors b_s:
/// the spread of the whole fitted vector over noise realisations, each parameter free to move
/// along the others. The verdict then uses the larger of the two errors; a Hessian that is not
/// positive definite (a flat or downward direction) makes the parameters along that direction
/// `not identified`, and each figure names the parameter it is most correlated with.
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
        /// Half-width of the 95% interval, t(0.975, K - 1) x standardError (infinity: none).
        public let interval: Double
        public let verdict: Verdict
        /// Mean pairwise FC r between the runs at the fitted values under different seeds (nil:
        /// one seed), and why it capped the verdict, if it did.
        public let seedAgreement: Double?
        public let caveat: String?
        /// With other fitted parameters: the standard error with every parameter free (nil: the
        /// only one; infinity: the Hessian is not positive definite along this parameter), the
        /// parameter whose estimate is most correlated with this one and that correlation.
        public let jointStandardError: Double?
        public let mostCorrelatedWith: String?, correlation: Double?

        public static let noiseFloor = 0.2, weakFloor = 0.4

        enum CodingKeys: String, CodingKey {
            case parameter, value, curvature, verdict, caveat
            case seedSlopes = "seed_slopes", standardError = "standard_error", relativeError = "relative_error"
            case seedAgreement = "seed_to_seed_fc_r"
            case jointStandardError = "joint_standard_error", mostCorrelatedWith = "most_correlated_with", correlation
            case interval = "interval_95"
        }

        /// Half-widths of the 95% interval, as fractions of |value|, for each verdict.
        public static let identifiedInterval = 0.2, weakInterval = 1.0

        /// `patternTerms`: the loss holds terms of the FC pattern (surprise, fc-level), whose
        /// minimum noise moves; only then does a low seed agreement cap the verdict.
        public init(parameter: String, value: Double, curvature: Double, seedSlopes: [Double], seedAgreement: Double? = nil,
                    patternTerms: Bool = true, jointStandardError: Double? = nil, mostCorrelatedWith: String? = nil, correlation: Double? = nil) {
            self.parameter = parameter; self.value = value; self.curvature = curvature; self.seedSlopes = seedSlopes
            self.seedAgreement = seedAgreement
            self.jointStandardError = jointStandardError; self.mostCorrelatedWith = mostCorrelatedWith; self.correlation = correlation
            let k = Double(seedSlopes.count)
            let mean = seedSlopes.reduce(0, +) / k
            let sd = k > 1 ? (seedSlopes.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (k - 1)).squareRoot() : .infinity
            let marginal = curvature > 0 ? sd / curvature : Double.infinity
            // The larger of the one-at-a-time and the joint error (a ridge makes the joint one large).
            standardError = max(marginal, jointStandardError ?? 0)
            relativeError = value != 0 ? standardError / abs(value) : .infinity
            interval = seedSlopes.count > 1 ? Identifiability.studentT975(degreesOfFreedom: seedSlopes.count - 1) * standardError : .infinity
            let relativeInterval = value != 0 ? interval / abs(value) : .infinity
            var verdict: Verdict = !(curvature > 0) || !(relativeInterval < Self.weakInterval) ? .notIdentified
                : relativeInterval <= Self.identifiedInterval ? .identified : .weak
            var caveat: String?
            // A trade-off is named when letting the others move widens the error by a fifth or more.
            if let joint = jointStandardError, joint > 1.2 * marginal, let other = mostCorrelatedWith {
                caveat = joint.isFinite
                    ? String(format: "trades off with %@%@: free to move along it, the error is %.3g, not %.3g", other,
                             correlation.map { String(format: " (correlation %.2f)", $0) } ?? "", joint, marginal)
                    : "the loss does not curve upward along a combination with \(other): a ridge the data cannot resolve"
            }
            if patternTerms, let r = seedAgreement, r < Self.weakFloor, verdict != .notIdentified {
                let capped: Verdict = r < Self.noiseFloor ? .notIdentified : .weak
                if capped == .notIdentified || verdict == .identified {
                    caveat = (caveat.map { $0 + "; " } ?? "") + String(format: "FC is mostly noise here: runs with different noise seeds at the fitted values agree at FC r = %.2f "
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
            try c.encode(interval.isFinite ? [value - interval, value + interval] : nil, forKey: .interval)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(seedAgreement, forKey: .seedAgreement)
            try c.encode(caveat, forKey: .caveat)
            try c.encodeIfPresent(jointStandardError.map { $0.isFinite ? $0 : nil } ?? nil, forKey: .jointStandardError)
            try c.encodeIfPresent(mostCorrelatedWith, forKey: .mostCorrelatedWith)
            try c.encodeIfPresent(correlation, forKey: .correlation)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(parameter: try c.decode(String.self, forKey: .parameter), value: try c.decode(Double.self, forKey: .value),
                      curvature: try c.decode(Double.self, forKey: .curvature), seedSlopes: try c.decode([Double].self, forKey: .seedSlopes),
                      seedAgreement: try c.decodeIfPresent(Double.self, forKey: .seedAgreement),
                      patternTerms: try c.decodeIfPresent(String.self, forKey: .caveat) != nil,
                      jointStandardError: try c.decodeIfPresent(String.self, forKey: .mostCorrelatedWith) == nil ? nil
                          : try c.decodeIfPresent(Double.self, forKey: .jointStandardError) ?? .infinity,
                      mostCorrelatedWith: try c.decodeIfPresent(String.self, forKey: .mostCorrelatedWith),
                      correlation: try c.decodeIfPresent(Double.self, forKey: .correlation))
        }

        /// "G = 0.52 +- 0.01 (2%; 95% interval 0.50-0.54 over 4 seeds, identified; curvature 3.1)".
        public var description: String {
            let se = standardError.isFinite
                ? String(format: " +- %.3g (%.0f%%; 95%% interval %.4g to %.4g over %d seeds", standardError, 100 * relativeError,
                         value - interval, value + interval, seedSlopes.count)
                : " (no upward curvature"
            return String(format: "%@ = %.4g%@, %@; curvature %.3g)", parameter, value, se, verdict.rawValue, curvature)
                + (caveat.map { ": " + $0 } ?? "")
        }
    }

    /// The parameters that get figures: the scalar ones (not one value per region).
    public static func assessed(_ parameters: [RWWGradient.Parameter]) -> [RWWGradient.Parameter] {
        parameters.filter {
            switch $0 { case .nodeJI, .nodeWPlus, .nodeI0: return false; default: return true }
        }
    }

    /// The number of noise seeds K by default: 4 for one parameter; 10 for more, since the joint
    /// covariance of P parameters is estimated from K slope vectors (K - 1 degrees of freedom)
    /// and underestimates a ridge when K is small. Measured (RECOVERY.md): G with J_i without
    /// feedback inhibition, 15% off, had G's joint error at 5% with 4 seeds (its interval missed
    /// the truth) and at 13% with 10 (correlation 0.93, interval 0.18-0.33 holding the truth 0.30).
    public static func defaultSeeds(parameters: [RWWGradient.Parameter]) -> Int {
        assessed(parameters).count > 1 ? 10 : 4
    }

    /// Student's t quantile t(0.975, nu): a table to 30 degrees of freedom (scipy.stats.t.ppf,
    /// to 4 decimals), then the Cornish-Fisher expansion in 1/nu (within 1e-4 beyond 30).
    public static func studentT975(degreesOfFreedom nu: Int) -> Double {
        let table = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
                     2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                     2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]
        guard nu >= 1 else { return .infinity }
        if nu <= table.count { return table[nu - 1] }
        let z = 1.959963984540054, v = Double(nu)
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }

    /// How a subject's target is made from a scan: its length in samples and the function from
    /// BOLD (regions x samples) to the target, as the fit made it from the data.
    public struct Scan {
        public let samples: Int
        public let target: (Matrix) throws -> GradientFit.Target

        public init(samples: Int, target: @escaping (Matrix) throws -> GradientFit.Target) { self.samples = samples; self.target = target }
    }

    /// Figures for every scalar parameter of `options.parameters` at the fitted specs (one per
    /// subject; the loss is their mean), under the fit's seed and `extraSeeds`; with `scans`
    /// (one per subject), each extra seed also against a scan simulated at the fitted values.
    public static func assess(fitted: [(spec: SimulationSpec<ReducedWongWang>, target: GradientFit.Target)], options: GradientFit.Options,
                              extraSeeds: [UInt64], scans: [Scan]? = nil, relativeStep h: Double = 0.1) throws -> [Figure] {
        let parameters = assessed(options.parameters.map(\.parameter))
        guard !parameters.isEmpty, !fitted.isEmpty else { return [] }
        let seeds: [UInt64?] = [nil] + extraSeeds.map { $0 }
        // The targets under each seed: the data under the fit's own, a fresh scan under each
        // extra seed when `scans` says how (its noise seed offset from the fit's by 7919).
        let targets: [[GradientFit.Target]] = try seeds.map { seed in
            guard let seed, let scans else { return fitted.map(\.target) }
            return try zip(fitted, scans).map { subject, scan in
                let s = try GradientFit.retuned(try GradientFit.spec(subject.spec, with: [], seed: seed &+ 7919,
                                                                     duration: Double(scan.samples) * subject.spec.tr, maps: options.maps), rate: options.feedbackInhibition)
                return try scan.target(try NetworkSimulator(spec: s).run().bold.transposed)
            }
        }
        let values = parameters.map { GradientFit.value($0, in: fitted[0].spec, maps: options.maps) }
        // A map slope can be 0: its step is at least 0.01 (per SD of the map).
        let steps = zip(parameters, values).map { parameter, value in h * max(abs(value), parameter.isMapSlope ? 0.1 : 1e-3) }
        return try assess(names: parameters.map(\.description), values: values, steps: steps, seeds: seeds.count,
                          patternTerms: options.surprise != 0 || options.fcLevel != 0) { moved, k in
            // The mean data loss over subjects with the `moved` parameters set to their values
            // (none: as fitted, whose runs' FC is returned for the seed agreement), under seed k
            // of `seeds` (0: the fit's) against that seed's targets.
            let seed = seeds[k]
            var sum = 0.0
            var fcs: [Matrix] = []
            for (subject, target) in zip(fitted, targets[k]) {
                let s = try GradientFit.retuned(try GradientFit.spec(subject.spec, with: moved.map { (parameters[$0.index], $0.value) }, seed: seed,
                                                                     maps: options.maps), rate: options.feedbackInhibition)
                // The data terms only: no entropy or regime regulariser.
                var objective = options.objective(target: target, parameters: s.model.parameters)
                objective.entropy = 0
                objective.regime = 0
                let result = try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: [], checkpointEvery: options.checkpointEvery)
                sum += result.loss
                if moved.isEmpty {
                    let bold = options.bandPass.map { BandPass.filter(regionsByTime: result.bold.transposed, fs: 1 / s.tr, low: $0.low, high: $0.high) }
                        ?? result.bold.transposed
                    fcs.append(FunctionalConnectivity.pearson(regionsByTime: bold))
                }
            }
            return (sum / Double(fitted.count), moved.isEmpty ? fcs : nil)
        }
    }

    /// The figures from a loss under `seeds` noise realisations, for any model: `loss(moved, k)`
    /// is the mean data loss over subjects under realisation k (0: the fit's) with the parameters
    /// at `moved` indices set to the given values (the others at `values`), and with nothing
    /// moved also each subject's FC of that run (for the seed agreement). `steps`: each
    /// parameter's difference step; `patternTerms`: the loss holds FC pattern terms (surprise,
    /// fc-level), whose minimum noise moves, so a low seed agreement caps the verdicts.
    public static func assess(names: [String], values: [Double], steps: [Double], seeds: Int, patternTerms: Bool,
                              loss evaluate: (_ moved: [(index: Int, value: Double)], _ seed: Int) throws -> (loss: Double, fc: [Matrix]?)) throws -> [Figure] {
        var centreFC: [[Matrix]] = []                    // [seed][subject]
        func loss(_ moved: [(index: Int, value: Double)], seed k: Int) throws -> Double {
            let result = try evaluate(moved, k)
            if moved.isEmpty { centreFC.append(result.fc ?? []) }
            return result.loss
        }
        let centre = try (0..<seeds).map { try loss([], seed: $0) }
        // Seed-to-seed agreement: mean FC r over pairs of seeds and over subjects.
        var agreement: Double?
        if seeds > 1 {
            var total = 0.0, pairs = 0
            for a in 0..<seeds { for b in (a + 1)..<seeds { for k in centreFC[a].indices {
                total += FunctionalConnectivity.similarity(centreFC[a][k], centreFC[b][k]); pairs += 1
            } } }
            agreement = pairs > 0 ? total / Double(pairs) : nil
        }
        let p = names.count
        var curvatures = [Double](repeating: 0, count: p)
        var slopes = [[Double]](repeating: [Double](repeating: 0, count: p), count: seeds)     // [seed][parameter]
        var hessian = Matrix(rows: p, columns: p)
        for k in 0..<seeds {
            for j in 0..<p {
                let up = try loss([(j, values[j] + steps[j])], seed: k), down = try loss([(j, values[j] - steps[j])], seed: k)
                curvatures[j] += (up - 2 * centre[k] + down) / (steps[j] * steps[j]) / Double(seeds)
                slopes[k][j] = (up - down) / (2 * steps[j])
            }
        }
        /// The mean data loss with parameters a and b moved by da and db.
        func loss(_ a: Int, _ da: Double, _ b: Int, _ db: Double, seed: Int) throws -> Double {
            try loss([(a, values[a] + da), (b, values[b] + db)], seed: seed)
        }
        var joint: [Double]?, partner: [(name: String, r: Double?)?] = [(name: String, r: Double?)?](repeating: nil, count: p)
        if p > 1 {
            for j in 0..<p { hessian[j, j] = curvatures[j] }
            for a in 0..<p { for b in (a + 1)..<p {
                var mixed = 0.0
                for seed in 0..<seeds {
                    let pp = try loss(a, steps[a], b, steps[b], seed: seed), pm = try loss(a, steps[a], b, -steps[b], seed: seed)
                    let mp = try loss(a, -steps[a], b, steps[b], seed: seed), mm = try loss(a, -steps[a], b, -steps[b], seed: seed)
                    mixed += (pp - pm - mp + mm) / (4 * steps[a] * steps[b]) / Double(seeds)
                }
                hessian[a, b] = mixed; hessian[b, a] = mixed
            } }
            let sandwich = jointCovariance(hessian: hessian, slopes: slopes)
            joint = sandwich.map { c in (0..<p).map { c[$0, $0] >= 0 ? c[$0, $0].squareRoot() : .infinity } }
                ?? [Double](repeating: .infinity, count: p)
            // The most correlated partner: with a positive definite Hessian, from its inverse (the
            // estimates' correlation); otherwise the largest normalised curvature coupling
            // |H_jk| / sqrt(|H_jj H_kk|) names it, and no correlation is given.
            let inverse = sandwich != nil ? invert(hessian) : nil
            for j in 0..<p {
                let others = (0..<p).filter { $0 != j }
                if let inverse {
                    let best = others.map { k in (k, inverse[j, k] / (inverse[j, j] * inverse[k, k]).squareRoot()) }.max { abs($0.1) < abs($1.1) }!
                    partner[j] = (names[best.0], best.1.isFinite ? best.1 : nil)
                } else {
                    let best = others.max { a, b in
                        abs(hessian[j, a]) / abs(hessian[j, j] * hessian[a, a]).squareRoot() < abs(hessian[j, b]) / abs(hessian[j, j] * hessian[b, b]).squareRoot()
                    }!
                    partner[j] = (names[best], nil)
                }
            }
        }
        return (0..<p).map { j in
            Figure(parameter: names[j], value: values[j], curvature: curvatures[j], seedSlopes: slopes.map { $0[j] },
                   seedAgreement: agreement, patternTerms: patternTerms,
                   jointStandardError: joint?[j], mostCorrelatedWith: partner[j]?.name, correlation: partner[j]?.r ?? nil)
        }
    }

    /// The sandwich H^-1 S H^-1 with S the covariance over seeds of the slope vectors; nil when
    /// H is not positive definite (a direction the loss does not curve upward along).
    public static func jointCovariance(hessian: Matrix, slopes: [[Double]]) -> Matrix? {
        let p = hessian.rows, k = slopes.count
        guard k > 1, let inverse = invert(hessian), isPositiveDefinite(hessian) else { return nil }
        var covariance = Matrix(rows: p, columns: p)
        let means = (0..<p).map { j in slopes.reduce(0) { $0 + $1[j] } / Double(k) }
        for a in 0..<p { for b in 0..<p {
            covariance[a, b] = slopes.reduce(0) { $0 + ($1[a] - means[a]) * ($1[b] - means[b]) } / Double(k - 1)
        } }
        func product(_ x: Matrix, _ y: Matrix) -> Matrix {
            var out = Matrix(rows: p, columns: p)
            for i in 0..<p { for j in 0..<p { for q in 0..<p { out[i, j] += x[i, q] * y[q, j] } } }
            return out
        }
        return product(product(inverse, covariance), inverse)
    }

    /// Cholesky succeeds.
    static func isPositiveDefinite(_ m: Matrix) -> Bool {
        let p = m.rows
        var l = Matrix(rows: p, columns: p)
        for i in 0..<p { for j in 0...i {
            var sum = m[i, j]
            for k in 0..<j { sum -= l[i, k] * l[j, k] }
            if i == j {
                guard sum > 0 else { return false }
                l[i, i] = sum.squareRoot()
            } else {
                l[i, j] = sum / l[j, j]
            }
        } }
        return true
    }

    /// The inverse, column by column with LAPACK's dgesv (`RWWStability.solve`); nil when singular.
    static func invert(_ m: Matrix) -> Matrix? {
        let p = m.rows
        var inverse = Matrix(rows: p, columns: p)
        for c in 0..<p {
            guard let column = RWWStability.solve(m, (0..<p).map { $0 == c ? 1 : 0 }), column.allSatisfy(\.isFinite) else { return nil }
            for r in 0..<p { inverse[r, c] = column[r] }
        }
        return inverse
    }
}
