import Foundation

/// K-fold cross-validation of the held-out-subject protocol: every subject is a test subject
/// once. With seven subjects one split tests two of them, and which two decides the figure
/// (on split seed 1 the two test subjects' FCD is the least like the others', ceiling KS 0.44
/// against 0.23 over all seven); pooled over folds, the test scores compare with the data's
/// leave-one-out ceiling over every subject.
extension HeldOutProtocol.Split {
    /// `count` folds: the seeded shuffle (`shuffled`) is cut into `count` test blocks of
    /// nearly equal size (sizes differ by at most one, larger first); each fold validates on
    /// the `validation` subjects after its block (wrapping round) and trains on the rest.
    public static func folds(subjects: [String], count: Int, validation: Int, seed: UInt64) throws -> [Self] {
        let n = subjects.count
        guard count >= 2, count <= n, validation >= 1, n - (n + count - 1) / count - validation >= 1 else {
            throw WholeBrainError.badValue(source: "folds", value: "\(count) folds with \(validation) validation subjects of \(n)",
                                           expected: "2 to \(n) folds leaving at least one training subject in each")
        }
        let order = shuffled(subjects, seed: seed)
        var folds: [Self] = [], start = 0
        for k in 0..<count {
            let size = n / count + (k < n % count ? 1 : 0)
            let test = (start..<(start + size)).map { order[$0] }
            let validating = (0..<validation).map { order[(start + size + $0) % n] }
            folds.append(Self(train: order.filter { !test.contains($0) && !validating.contains($0) }, validation: validating, test: test))
            start += size
        }
        return folds
    }
}

extension HeldOutProtocol {
    /// The outcomes of every fold and their test scores pooled: each subject scored once, by
    /// the model its fold chose and by its fold's baseline, beside its fold's ceiling (the
    /// fold's training subjects' data against it).
    public struct CrossValidated: Sendable {
        public let folds: [Outcome]

        public init(folds: [Outcome]) { self.folds = folds }

        public var test: Scores { Self.pooled(folds.map(\.test)) }
        public var baselineTest: Scores { Self.pooled(folds.map(\.baselineTest)) }
        public var ceiling: DataCeiling { DataCeiling(merging: folds.map(\.ceiling)) }
        /// Leave-one-out over every subject (the same in every fold).
        public var leaveOneOut: DataCeiling { folds[0].leaveOneOut }
        /// Whether every fold chose within the low-activity regime.
        public var chosenInLowRegime: Bool { folds.allSatisfy(\.chosenInLowRegime) }
        /// The candidate each fold chose.
        public var choices: [String] { folds.map { $0.candidates[$0.chosen].label } }

        public static func pooled(_ parts: [Scores]) -> Scores {
            var bySubject: [String: [DataCeiling.Score]] = [:]
            for part in parts { bySubject.merge(part.bySubject) { $0 + $1 } }
            let highest = parts.allSatisfy { $0.maxRegionRateE != nil } ? parts.flatMap { $0.maxRegionRateE! } : nil
            return Scores(bySubject: bySubject, meanRateE: parts.flatMap(\.meanRateE), maxRegionRateE: highest)
        }
    }
}

extension HeldOutProtocol {
    /// How far the model's test scores sit from a reference (the data's ceiling, or the
    /// baseline), paired by test subject: per subject the mean over its runs minus the
    /// reference's mean, then the mean difference over subjects with its sd and 95% interval
    /// (mean +- t(0.975, S - 1) sd / sqrt(S)). With seven subjects the interval is wide: it
    /// says whether the data can tell the model from the reference at all.
    public struct PairedDifference: Sendable, Equatable {
        public struct Interval: Sendable, Equatable {
            public let mean: Double, sd: Double, low: Double, high: Double
        }
        public let subjects: Int
        /// model - reference: FC r (negative: below the reference) and FCD KS (positive: farther
        /// from the data than the reference).
        public let fcR: Interval, fcdKS: Interval

        /// `model` and `reference` by subject ([subject][run]); subjects in both count.
        public init(model: [String: [DataCeiling.Score]], reference: [String: [DataCeiling.Score]]) {
            let subjects = model.keys.filter { reference[$0] != nil && !model[$0]!.isEmpty && !reference[$0]!.isEmpty }.sorted()
            func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
            func interval(_ d: [Double]) -> Interval {
                let m = mean(d)
                guard d.count > 1 else { return Interval(mean: m, sd: .nan, low: -.infinity, high: .infinity) }
                let sd = (d.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d.count - 1)).squareRoot()
                let half = Identifiability.studentT975(degreesOfFreedom: d.count - 1) * sd / Double(d.count).squareRoot()
                return Interval(mean: m, sd: sd, low: m - half, high: m + half)
            }
            self.subjects = subjects.count
            fcR = interval(subjects.map { mean(model[$0]!.map(\.fcR)) - mean(reference[$0]!.map(\.fcR)) })
            fcdKS = interval(subjects.map { mean(model[$0]!.map(\.fcdKS)) - mean(reference[$0]!.map(\.fcdKS)) })
        }

        /// "FC r -0.071 (95% interval -0.102 to -0.040), FCD KS +0.045 (-0.043 to +0.133), 7 subjects".
        public var description: String {
            String(format: "FC r %+.3f (95%% interval %+.3f to %+.3f), FCD KS %+.3f (%+.3f to %+.3f), paired over %d subjects",
                   fcR.mean, fcR.low, fcR.high, fcdKS.mean, fcdKS.low, fcdKS.high, subjects)
        }
    }
}

extension HeldOutProtocol.CrossValidated {
    /// The chosen models' test scores minus each subject's ceiling (its fold's training
    /// subjects' data against it).
    public var versusCeiling: HeldOutProtocol.PairedDifference {
        HeldOutProtocol.PairedDifference(model: test.bySubject,
                                         reference: Dictionary(ceiling.scores.map { ($0.subject, [$0.score]) }) { a, b in a + b })
    }

    /// The chosen models' test scores minus their folds' baselines (G alone), subject by subject.
    public var versusBaseline: HeldOutProtocol.PairedDifference {
        HeldOutProtocol.PairedDifference(model: test.bySubject, reference: baselineTest.bySubject)
    }
}
