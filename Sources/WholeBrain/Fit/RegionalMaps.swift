import CLAPACKE
import Foundation

/// Regional heterogeneity as a linear function of maps over regions (Demirtas et al. 2019,
/// Neuron 101:1181, with the T1w/T2w map; Kong et al. 2021, Nat Commun 12:6373, with T1w/T2w
/// and the first FC gradient):
///
///     w_+,i = w_+ + sum_k b_k m_k,i,    I_0,i = I_0 + sum_k c_k m_k,i,
///
/// each map m_k z-scored over regions (mean 0, SD 1), so a slope is the change of the
/// parameter per standard deviation of the map and the intercept stays the regional mean.
/// The slopes are fitted by exact gradients: dL/db_k = sum_i m_k,i dL/dw_+,i.
public struct RegionalMaps: Sendable, Equatable {
    /// One name per map (e.g. "fc_gradient" or a file's name).
    public let names: [String]
    /// The z-scored maps, [map][region].
    public let values: [[Double]]

    /// Maps as given, [map][region]; each is z-scored. Throws for a map of the wrong length, a
    /// non-finite value or a constant map (it cannot make regions differ).
    public init(names: [String], values raw: [[Double]], regions: Int, source: String) throws {
        guard names.count == raw.count else {
            throw WholeBrainError.badValue(source: source, value: "\(names.count) names", expected: "one name per map (\(raw.count))")
        }
        var standardised: [[Double]] = []
        for (k, map) in raw.enumerated() {
            guard map.count == regions else {
                throw WholeBrainError.badValue(source: source, value: "map \(names[k]) with \(map.count) values",
                                               expected: "one value per region (\(regions))")
            }
            if let i = map.firstIndex(where: { !$0.isFinite }) {
                throw WholeBrainError.badValue(source: source, value: "\(map[i]) at region \(i) of map \(names[k])", expected: "finite values")
            }
            let mean = map.reduce(0, +) / Double(regions)
            let sd = (map.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(regions)).squareRoot()
            guard sd > 1e-12 * max(1, abs(mean)) else {
                throw WholeBrainError.badValue(source: source, value: "map \(names[k]) (constant)", expected: "a map that differs between regions")
            }
            standardised.append(map.map { ($0 - mean) / sd })
        }
        self.names = names
        values = standardised
    }

    public var count: Int { values.count }

    /// How far a slope may go, per SD of its map: w_+ within +-0.1 (about 7% of 1.4), I_0
    /// within +-0.02 nA (about 5% of 0.382), so that two SD either side keep every region near
    /// the low-activity regime feedback inhibition can hold (a fit with free slopes on the
    /// bundled data took I_0 to 0.09 nA in one region after three epochs, where FIC needs
    /// J_i < 0). Slopes start at 0 (the midpoint); gain 4 lets a step of ADAM at rate 0.05 move
    /// a slope by 5% of its range there (1.25% with gain 1, too slow to cross it in 20 epochs).
    public static func slopeTransform(uniform name: String) -> ParameterTransform {
        name == "I_0" ? .steepBounded(-0.02, 0.02, gain: 4) : .steepBounded(-0.1, 0.1, gain: 4)
    }

    /// The word that names the principal FC gradient among map sources.
    public static let fcGradientName = "fc-gradient"

    /// Maps from sources: `fc-gradient` (the principal gradient of `fc`, e.g. the fitted
    /// subjects' mean FC) or a file any matrix reader takes holding one value per region
    /// (a vector) or several maps (maps x regions, or regions x maps).
    public static func load(_ sources: [String], regions: Int, fc: Matrix?) throws -> RegionalMaps {
        var names: [String] = [], values: [[Double]] = []
        for source in sources {
            if source == fcGradientName {
                guard let fc else {
                    throw WholeBrainError.badValue(source: "--maps", value: source, expected: "empirical FC to take the gradient of")
                }
                names.append("fc_gradient"); values.append(try fcGradient(fc))
                continue
            }
            let m = try MatrixFile.load(path: source)
            let base = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
            if m.columns == regions && m.rows != regions || m.rows == 1 {
                for r in 0..<m.rows { names.append(m.rows == 1 ? base : "\(base)[\(r)]"); values.append((0..<m.columns).map { m[r, $0] }) }
            } else if m.rows == regions {
                for c in 0..<m.columns { names.append(m.columns == 1 ? base : "\(base)[\(c)]"); values.append((0..<m.rows).map { m[$0, c] }) }
            } else {
                throw WholeBrainError.badValue(source: source, value: "a \(m.rows) x \(m.columns) array",
                                               expected: "one value per region (\(regions)), or maps x \(regions)")
            }
        }
        return try RegionalMaps(names: names, values: values, regions: regions, source: "--maps")
    }

    /// sum_k slopes_k m_k,i for every region i.
    public func offsets(slopes: [Double]) -> [Double] {
        guard let first = values.first else { return [] }
        var out = [Double](repeating: 0, count: first.count)
        for (k, map) in values.enumerated() { for i in map.indices { out[i] += slopes[k] * map[i] } }
        return out
    }

    /// The slopes whose offsets are closest (least squares) to `offsets` (exact for offsets
    /// made by `offsets(slopes:)`, up to rounding): the normal equations M M^T b = M o, solved by
    /// LAPACK's dgesv (`RWWStability.solve`); zeros if the maps are linearly dependent.
    public func slopes(offsets o: [Double]) -> [Double] {
        let k = count
        var normal = Matrix(rows: k, columns: k)
        for p in 0..<k { for q in 0..<k { normal[p, q] = zip(values[p], values[q]).reduce(0) { $0 + $1.0 * $1.1 } } }
        let projections = values.map { map in zip(map, o).reduce(0) { $0 + $1.0 * $1.1 } }
        return RWWStability.solve(normal, projections) ?? [Double](repeating: 0, count: k)
    }

    /// The principal gradient of functional connectivity as the first principal component of
    /// the FC matrix (each column centred over regions; the leading eigenvector of F F^T, by
    /// LAPACK's dsyev), the PCA form of Margulies et al. (2016, PNAS 113:12574). Their diffusion
    /// embedding (top-10% rows, cosine affinity, alpha = 0.5) on the bundled 80-region data
    /// isolates two regions (z = 5.4 and 5.9, kurtosis 25, measured with numpy), which would
    /// make a slope along it move two regions only; the first component is spread over all
    /// (z from -1.2 to 2.4, kurtosis 2.2). Its sign is fixed so that its largest absolute value
    /// is positive. Not z-scored (the init does it).
    public static func fcGradient(_ fc: Matrix) throws -> [Double] {
        let n = fc.rows
        guard n >= 3, fc.columns == n else {
            throw WholeBrainError.badValue(source: "FC gradient", value: "\(fc.rows) x \(fc.columns) FC", expected: "a square FC of at least 3 regions")
        }
        var centred = fc
        for j in 0..<n {
            let mean = (0..<n).reduce(0) { $0 + fc[$1, j] } / Double(n)
            for i in 0..<n { centred[i, j] -= mean }
        }
        var s = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in i..<n {
            var dot = 0.0
            for j in 0..<n { dot += centred[i, j] * centred[k, j] }
            s[i * n + k] = dot; s[k * n + i] = dot
        } }
        var eigenvalues = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), &s, Int32(n), &eigenvalues)
        guard info == 0 else {
            throw WholeBrainError.badValue(source: "FC gradient", value: "LAPACK dsyev info \(info)", expected: "a converged eigendecomposition")
        }
        // Ascending eigenvalues: the last column is the leading component.
        var gradient = (0..<n).map { s[$0 * n + n - 1] }
        if let largest = gradient.max(by: { abs($0) < abs($1) }), largest < 0 { gradient = gradient.map { -$0 } }
        return gradient
    }
}
