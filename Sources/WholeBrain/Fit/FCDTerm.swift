import Foundation

/// A differentiable FCD term: the distance between the distribution of simulated FCD values
/// and the empirical one, with its exact gradient with respect to BOLD.
///
/// FCD as `FunctionalConnectivityDynamics` computes it: windows a of w samples every s samples,
/// v_a the upper triangle of the window's FC, u_a = (v_a - mean v_a) / |v_a - mean v_a|, and
/// FCD_ab = u_a . u_b; its distribution is the M = A(A-1)/2 values a < b. The KS distance used
/// to score FCD is a maximum of step functions, with zero gradient almost everywhere, so the
/// loss is the squared 2-Wasserstein distance between the two distributions instead:
/// L = (1/M) sum_k (x_(k) - q_k)^2, x_(k) the sorted simulated values and q_k the empirical
/// quantile at (k + 1/2) / M (linear interpolation between the sorted empirical values). Where
/// no two simulated values are equal, sorting is locally a fixed permutation, so
/// dL/dFCD_ab = 2 (x_(k) - q_k) / M for the pair at rank k, and the chain goes back through
/// dL/du_a = sum_b dL/dFCD_ab u_b (both halves of the symmetric matrix),
/// dL/dv_a = P(g - u (u . g)) / |v_a - mean v_a| (P: removing the mean), and each window's
/// Pearson FC (`FCObjective.backpropagate`) into the window's samples; overlapping windows add.
/// Like the scores, the term band-passes the simulated BOLD itself (0.01-0.1 Hz by default)
/// and its gradient goes back through that filter (`BandPass.transpose`).
public enum FCDTerm {
    public struct Settings: Sendable, Equatable {
        public var window = 60, step = 10
        public var bandPass: Band? = Band(low: 0.01, high: 0.1)

        public struct Band: Sendable, Equatable {
            public var low: Double, high: Double
            public init(low: Double, high: Double) { self.low = low; self.high = high }
        }

        public init() {}

        /// The settings that compute the data's FCD scores (`DataCeiling.Options`).
        public init(_ options: DataCeiling.Options) {
            window = options.fcdWindow; step = options.fcdStep
            bandPass = options.fcdBandPass.map { Band(low: $0.low, high: $0.high) }
        }

        /// Windows in a series of `samples` samples.
        public func windows(samples: Int) -> Int {
            FunctionalConnectivityDynamics.windowCount(samples: samples, window: window, step: step)
        }
    }

    /// Sorted FCD values of BOLD (regions x samples, one sample every `tr` s): a target. With
    /// `segment`, the scan is cut into consecutive stretches of that many samples, each filtered
    /// and windowed on its own as a simulated stretch of that length is, and their values pooled:
    /// band-passing a short stretch changes its FCD, so the target must be made the same way.
    public static func targetValues(regionsByTime bold: Matrix, tr: Double, settings: Settings, segment: Int? = nil) -> [Double] {
        BoldFitTerms.segments(of: bold, length: segment).flatMap { piece -> [Double] in
            let x = settings.bandPass.map { BandPass.filter(regionsByTime: piece, fs: 1 / tr, low: $0.low, high: $0.high) } ?? piece
            return FunctionalConnectivityDynamics.distribution(
                FunctionalConnectivityDynamics.fcd(regionsByTime: x, window: settings.window, step: settings.step))
        }.sorted()
    }

    /// The empirical quantiles q_k at (k + 1/2) / M of sorted `values`.
    static func quantiles(_ values: [Double], count m: Int) -> [Double] {
        let n = values.count
        return (0..<m).map { k in
            let position = (Double(k) + 0.5) / Double(m) * Double(n) - 0.5
            let below = min(max(Int(position.rounded(.down)), 0), n - 1), above = min(below + 1, n - 1)
            let f = min(max(position - Double(below), 0), 1)
            return values[below] * (1 - f) + values[above] * f
        }
    }

    /// The squared 2-Wasserstein distance between the FCD values of `y` (regions x samples,
    /// unfiltered BOLD) and the sorted `target`, and dL/dy.
    public static func distance(regionsByTime y: Matrix, tr: Double, target: [Double], settings: Settings) throws -> BoldFitTerms.Value {
        let n = y.rows, w = settings.window, s = settings.step
        let count = settings.windows(samples: y.columns)
        guard count >= 2, !target.isEmpty else {
            throw WholeBrainError.badValue(source: "fcd loss term", value: "\(y.columns) samples",
                                           expected: "at least \(w + s) samples per fitted stretch (two FCD windows of \(w) TRs every \(s))")
        }
        let x = settings.bandPass.map { BandPass.filter(regionsByTime: y, fs: 1 / tr, low: $0.low, high: $0.high) } ?? y
        let pairs = n * (n - 1) / 2
        // Each window's FC; its upper triangle v_a, centred and normalised: u_a and |v_a - mean|.
        var fcs: [(fc: Matrix, z: [Double], norms: [Double])] = []
        var vectors = Matrix(rows: count, columns: pairs)
        for a in 0..<count {
            var window = Matrix(rows: n, columns: w)
            for i in 0..<n { for k in 0..<w { window[i, k] = x[i, a * s + k] } }
            let p = FCObjective.pearson(window)
            fcs.append(p)
            var q = 0
            for i in 0..<n { for j in (i + 1)..<n { vectors[a, q] = p.fc[i, j]; q += 1 } }
        }
        let (u, lengths) = BoldFitTerms.standardised(vectors)
        // FCD values, their ranks and the quantile distance.
        var values: [(value: Double, a: Int, b: Int)] = []
        for a in 0..<count {
            for b in (a + 1)..<count {
                var d = 0.0
                for q in 0..<pairs { d += u[a * pairs + q] * u[b * pairs + q] }
                values.append((d, a, b))
            }
        }
        let order = values.indices.sorted { values[$0].value < values[$1].value || (values[$0].value == values[$1].value && $0 < $1) }
        let m = values.count
        let q = quantiles(target, count: m)
        var loss = 0.0
        var dFCD = Matrix(rows: count, columns: count)
        for (k, index) in order.enumerated() {
            let d = values[index].value - q[k]
            loss += d * d / Double(m)
            dFCD[values[index].a, values[index].b] = 2 * d / Double(m)
        }
        // Back to the windows' FC and their samples.
        var gradient = Matrix(rows: n, columns: y.columns)
        for a in 0..<count where lengths[a] > 0 {
            var g = [Double](repeating: 0, count: pairs)
            for b in 0..<count where b != a {
                let weight = a < b ? dFCD[a, b] : dFCD[b, a]
                if weight == 0 { continue }
                for p in 0..<pairs { g[p] += weight * u[b * pairs + p] }
            }
            var ug = 0.0
            for p in 0..<pairs { ug += u[a * pairs + p] * g[p] }
            var mean = 0.0
            for p in 0..<pairs { g[p] = (g[p] - u[a * pairs + p] * ug) / lengths[a]; mean += g[p] }
            mean /= Double(pairs)
            var dFC = Matrix(rows: n, columns: n)
            var p = 0
            for i in 0..<n { for j in (i + 1)..<n { dFC[i, j] = g[p] - mean; dFC[j, i] = dFC[i, j]; p += 1 } }
            let windowGradient = FCObjective.backpropagate(dFC, fc: fcs[a].fc, z: fcs[a].z, norms: fcs[a].norms, samples: w)
            for i in 0..<n { for k in 0..<w { gradient[i, a * s + k] += windowGradient[i, k] } }
        }
        if let band = settings.bandPass {
            gradient = BandPass.transpose(regionsByTime: gradient, fs: 1 / tr, low: band.low, high: band.high)
        }
        return BoldFitTerms.Value(loss: loss, gradient: gradient)
    }
}
