import Foundation

/// What resting-state data predict about a subject they do not include: the ceiling for a
/// model fitted to other subjects and scored on a held-out one.
///
/// A subject's features are its FC (Pearson, raw BOLD) and its FCD values (the strict upper
/// triangle of the FCD matrix of band-passed BOLD; Hansen et al. 2015). A group predicts a
/// subject by its element-wise mean FC and its pooled FCD values; the prediction is scored as
/// a model's is: FC r (Pearson of the upper triangles) and the Kolmogorov-Smirnov distance of
/// the FCD values. Leave-one-out over the 7 bundled subjects gives FC r 0.779-0.880 (mean
/// 0.823) and FCD KS 0.098-0.404 (mean 0.229), as `make_ceiling_fixture.py` computes with
/// numpy and scipy: a model that predicts a new subject that well is at the data's ceiling.
public struct DataCeiling: Sendable {
    /// How features are computed: FC of the BOLD band-passed by `fcBandPass` (nil: raw), FCD
    /// of the BOLD band-passed by `fcdBandPass` in windows of `fcdWindow` samples every
    /// `fcdStep` (Deco/Kong conventions: 0.01-0.1 Hz, 60 TRs, step 10 at TR 0.72 s).
    public struct Options: Sendable {
        public var fcBandPass: (low: Double, high: Double)?
        public var fcdBandPass: (low: Double, high: Double)? = (0.01, 0.1)
        public var fcdWindow = 60, fcdStep = 10

        public init() {}
    }

    /// A subject's (or a simulation's) FC and FCD values.
    public struct Features: Sendable {
        public let fc: Matrix
        public let fcdValues: [Double]

        public init(fc: Matrix, fcdValues: [Double]) { self.fc = fc; self.fcdValues = fcdValues }

        /// From BOLD, regions x samples, sampled every `tr` seconds.
        public init(regionsByTime bold: Matrix, tr: Double, options: Options = Options()) {
            func filtered(_ band: (low: Double, high: Double)?) -> Matrix {
                band.map { BandPass.filter(regionsByTime: bold, fs: 1 / tr, low: $0.low, high: $0.high) } ?? bold
            }
            fc = FunctionalConnectivity.pearson(regionsByTime: filtered(options.fcBandPass))
            fcdValues = FunctionalConnectivityDynamics.distribution(
                FunctionalConnectivityDynamics.fcd(regionsByTime: filtered(options.fcdBandPass), window: options.fcdWindow, step: options.fcdStep))
        }

        /// The group's prediction: mean FC and pooled FCD values.
        public static func pooled(_ group: [Features]) -> Features {
            Features(fc: FunctionalConnectivity.mean(group.map(\.fc))!, fcdValues: group.flatMap(\.fcdValues))
        }

        /// How well these features predict `target`'s: FC r and FCD KS distance.
        public func score(against target: Features) -> Score {
            Score(fcR: FunctionalConnectivity.similarity(fc, target.fc),
                  fcdKS: FunctionalConnectivityDynamics.ksDistance(fcdValues, target.fcdValues))
        }
    }

    public struct Score: Sendable, Codable, Equatable {
        public let fcR: Double
        public let fcdKS: Double

        public init(fcR: Double, fcdKS: Double) { self.fcR = fcR; self.fcdKS = fcdKS }

        enum CodingKeys: String, CodingKey { case fcR = "fc_r", fcdKS = "fcd_ks" }
    }

    /// Each target subject and how well the predictors' data predict it.
    public let scores: [(subject: String, score: Score)]

    /// Every target predicted by `predictors` (by default, leave-one-out: all other subjects).
    public init(features: [String: Features], targets: [String], predictors: [String]? = nil) {
        scores = targets.map { target in
            let group = (predictors ?? features.keys.sorted()).filter { $0 != target }.map { features[$0]! }
            return (target, Features.pooled(group).score(against: features[target]!))
        }
    }

    /// The scores of several ceilings together (folds of a cross-validation).
    public init(merging parts: [DataCeiling]) { scores = parts.flatMap(\.scores) }

    public var meanFCR: Double { scores.map(\.score.fcR).reduce(0, +) / Double(max(scores.count, 1)) }
    public var meanFCDKS: Double { scores.map(\.score.fcdKS).reduce(0, +) / Double(max(scores.count, 1)) }

    /// One line: "FC r 0.779-0.880 (mean 0.823), FCD KS 0.098-0.404 (mean 0.229)".
    public var description: String {
        let r = scores.map(\.score.fcR), ks = scores.map(\.score.fcdKS)
        return String(format: "FC r %.3f-%.3f (mean %.3f), FCD KS %.3f-%.3f (mean %.3f)",
                      r.min() ?? .nan, r.max() ?? .nan, meanFCR, ks.min() ?? .nan, ks.max() ?? .nan, meanFCDKS)
    }
}
