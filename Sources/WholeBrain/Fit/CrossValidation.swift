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
