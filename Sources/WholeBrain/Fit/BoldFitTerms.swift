import Foundation

/// Loss terms that compare simulated BOLD (or states) with data, each with its exact gradient.
///
/// - Time-series error: L = 1 - (1/N) sum_i corr(y_i, e_i), simulated against empirical BOLD
///   of the same samples; dcorr_i/dy_i(t) = (ze_i(t) - r_i zy_i(t)) / |y_i - mean(y_i)|
///   (z: centred, unit norm). Meaningful only when the data share the noise realisation (a
///   fit to BOLD simulated with the same seed); Griffiths et al. (2022) list it as optional.
/// - Spectral distance: with P_k = |X_k|^2 the periodogram of the centred series
///   (k = 1 ... T/2, DC left out) and p = P / sum P its normalised shape,
///   L = (1/N) sum_i sum_k (p_ik - q_ik)^2 against the empirical shape q. By the chain rule
///   dL/dP_k = (g_k - sum_j g_j p_j) / sum P with g = dL/dp, and dP_k/dx(t) = 2 Re(X_k e^(2 pi i k t / T)),
///   so dL/dx is an inverse DFT of the weighted spectrum, minus its mean for the centring.
/// - BOLD variance: L = (1/N) sum_i (log var y_i - v_i)^2 (var: mean squared deviation), v_i
///   the target's log variance over stretches as long as the simulated one (`logVariances`),
///   dL/dy_i(t) = (4 / N) (log var y_i - v_i) (y_i(t) - mean y_i) / (T var y_i).
///   It carries the fluctuation amplitude, which rises with coupling where FC hardly changes,
///   but compares amplitudes, so only BOLD in the model's own units (fractional signal change,
///   as `simulate` writes) is a valid target: scanner BOLD has an arbitrary scale.
/// - BOLD level: L = (1/N) sum_i ((mean y_i - m_i) / s_i)^2 against the target's mean m_i and
///   standard deviation s_i per region, dL/dy_i(t) = 2 (mean y_i - m_i) / (N T s_i^2). The
///   Balloon-Windkessel model's stationary BOLD follows the mean of its drive (S_E), so the
///   level carries the activity level that FC and FCD do not: without feedback inhibition,
///   G and J_i trade off along FC (RECOVERY.md) but not along the level (measured at G 0.30,
///   J_i 1.5 against G 0.255, J_i 1.385: levels 10 SDs apart, 0.05 SD between two noise seeds
///   at the same values). Like the variance, valid only for BOLD in the model's units.
/// - Entropy of the gating variables (Griffiths et al. 2022): mean over samples and nodes of
///   h(S_E) + 0.5 h(S_I) with h(s) = s log s + (1 - s) log(1 - s) (the negative binary
///   entropy, so minimising it keeps S away from 0 and 1); h'(s) = log(s / (1 - s)). Values
///   within 1e-9 of a bound are clamped there, with zero gradient.
public enum BoldFitTerms {
    public struct Value {
        public let loss: Double
        /// dL/dy, regions x time.
        public let gradient: Matrix
    }

    /// Centred, unit-norm rows and the norms before scaling.
    static func standardised(_ y: Matrix) -> (z: [Double], norms: [Double]) {
        let n = y.rows, t = y.columns
        var z = y.values
        var norms = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var mean = 0.0
            for k in 0..<t { mean += z[i * t + k] }
            mean /= Double(t)
            var ss = 0.0
            for k in 0..<t { z[i * t + k] -= mean; ss += z[i * t + k] * z[i * t + k] }
            norms[i] = ss.squareRoot()
            let inv = norms[i] > 0 ? 1 / norms[i] : 0
            for k in 0..<t { z[i * t + k] *= inv }
        }
        return (z, norms)
    }

    /// 1 - mean regional correlation of simulated `y` with empirical `e` (both regions x time).
    public static func timeSeriesError(regionsByTime y: Matrix, empirical e: Matrix) -> Value {
        precondition(y.rows == e.rows && y.columns == e.columns, "timeSeriesError: shapes differ")
        let n = y.rows, t = y.columns
        let (zy, ny) = standardised(y), (ze, _) = standardised(e)
        var loss = 1.0
        var gradient = Matrix(rows: n, columns: t)
        for i in 0..<n {
            var r = 0.0
            for k in 0..<t { r += zy[i * t + k] * ze[i * t + k] }
            loss -= r / Double(n)
            guard ny[i] > 0 else { continue }
            let scale = -1 / (Double(n) * ny[i])
            for k in 0..<t { gradient.values[i * t + k] = scale * (ze[i * t + k] - r * zy[i * t + k]) }
        }
        return Value(loss: loss, gradient: gradient)
    }

    /// Mean squared difference between the log variances of simulated BOLD regions and
    /// `target` (one log variance per region, e.g. `logVariances`).
    public static func varianceDistance(regionsByTime y: Matrix, targetLogVariance target: [Double]) -> Value {
        precondition(y.rows == target.count, "varianceDistance: region counts differ")
        let n = y.rows, t = y.columns
        var loss = 0.0
        var gradient = Matrix(rows: n, columns: t)
        for i in 0..<n {
            let row = y.values[(i * t)..<((i + 1) * t)]
            let (mean, v) = meanAndVariance(row)
            guard v > 0, target[i].isFinite else { continue }
            let d = Foundation.log(v) - target[i]
            loss += d * d / Double(n)
            let scale = 4 * d / (Double(n) * Double(t) * v)
            for k in 0..<t { gradient.values[i * t + k] = scale * (row[i * t + k] - mean) }
        }
        return Value(loss: loss, gradient: gradient)
    }

    /// Mean squared difference between the simulated BOLD regions' means and `targetMean`, in
    /// units of the target's standard deviation `targetSD` per region (`levels`).
    public static func levelDistance(regionsByTime y: Matrix, targetMean: [Double], targetSD: [Double]) -> Value {
        precondition(y.rows == targetMean.count && y.rows == targetSD.count, "levelDistance: region counts differ")
        let n = y.rows, t = y.columns
        var loss = 0.0
        var gradient = Matrix(rows: n, columns: t)
        for i in 0..<n {
            guard targetSD[i] > 0, targetMean[i].isFinite else { continue }
            let d = meanAndVariance(y.values[(i * t)..<((i + 1) * t)]).mean - targetMean[i]
            loss += d * d / (targetSD[i] * targetSD[i] * Double(n))
            let g = 2 * d / (targetSD[i] * targetSD[i] * Double(n) * Double(t))
            for k in 0..<t { gradient.values[i * t + k] = g }
        }
        return Value(loss: loss, gradient: gradient)
    }

    /// Per region, the mean and the standard deviation of `e` (regions x time): the level term's target.
    public static func levels(regionsByTime e: Matrix) -> (mean: [Double], sd: [Double]) {
        let t = e.columns
        let stats = (0..<e.rows).map { meanAndVariance(e.values[($0 * t)..<(($0 + 1) * t)]) }
        return (stats.map(\.mean), stats.map { $0.variance.squareRoot() })
    }

    /// The mean and the variance (mean squared deviation) of a series.
    static func meanAndVariance(_ row: ArraySlice<Double>) -> (mean: Double, variance: Double) {
        let mean = row.reduce(0, +) / Double(row.count)
        return (mean, row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(row.count))
    }

    /// Per region, the mean over consecutive stretches of `segment` samples (all of `e` when
    /// nil or longer) of the log variance, each stretch passed through `filter` first: the
    /// target for simulated stretches of that length (BOLD variance grows with the length of
    /// the stretch, slow fluctuations adding to it).
    public static func logVariances(regionsByTime e: Matrix, segment: Int? = nil, filter: (Matrix) -> Matrix = { $0 }) -> [Double] {
        let pieces = segments(of: e, length: segment).map(filter)
        let n = e.rows
        var out = [Double](repeating: 0, count: n)
        for piece in pieces {
            let t = piece.columns
            for i in 0..<n {
                let v = meanAndVariance(piece.values[(i * t)..<((i + 1) * t)]).variance
                out[i] += (v > 0 ? Foundation.log(v) : -.infinity) / Double(pieces.count)
            }
        }
        return out
    }

    /// Consecutive stretches of `length` columns (the whole matrix when nil or longer than it).
    public static func segments(of e: Matrix, length: Int?) -> [Matrix] {
        guard let length, length >= 2, length < e.columns else { return [e] }
        return (0..<(e.columns / length)).map { k in
            Matrix(rows: e.rows, columns: length, values: (0..<e.rows).flatMap { i in (0..<length).map { e[i, k * length + $0] } })
        }
    }

    /// Normalised periodogram shapes p_ik (k = 1 ... T/2) of each centred row, with the DFT.
    static func spectra(_ y: Matrix) -> (p: [[Double]], re: [[Double]], im: [[Double]], total: [Double]) {
        let n = y.rows, t = y.columns, kMax = t / 2
        var p: [[Double]] = [], re: [[Double]] = [], im: [[Double]] = [], total: [Double] = []
        for i in 0..<n {
            let row = Array(y.values[(i * t)..<((i + 1) * t)])
            let mean = row.reduce(0, +) / Double(t)
            var r = [Double](repeating: 0, count: kMax + 1), m = r, power = r
            for k in 1...kMax {
                var a = 0.0, b = 0.0
                for s in 0..<t {
                    let phase = 2 * Double.pi * Double((k * s) % t) / Double(t)
                    a += (row[s] - mean) * Foundation.cos(phase)
                    b -= (row[s] - mean) * Foundation.sin(phase)
                }
                r[k] = a; m[k] = b; power[k] = a * a + b * b
            }
            let sum = power.reduce(0, +)
            p.append(power.map { sum > 0 ? $0 / sum : 0 }); re.append(r); im.append(m); total.append(sum)
        }
        return (p, re, im, total)
    }

    /// Mean squared distance between normalised periodogram shapes of simulated and empirical BOLD.
    public static func spectralDistance(regionsByTime y: Matrix, empirical e: Matrix) -> Value {
        precondition(y.rows == e.rows && y.columns == e.columns, "spectralDistance: shapes differ")
        let n = y.rows, t = y.columns, kMax = t / 2
        let sim = spectra(y), emp = spectra(e)
        var loss = 0.0
        var gradient = Matrix(rows: n, columns: t)
        for i in 0..<n {
            var g = [Double](repeating: 0, count: kMax + 1)
            for k in 1...kMax {
                let d = sim.p[i][k] - emp.p[i][k]
                loss += d * d / Double(n)
                g[k] = 2 * d / Double(n)
            }
            guard sim.total[i] > 0 else { continue }
            let gp = (1...kMax).reduce(0.0) { $0 + g[$1] * sim.p[i][$1] }
            var dx = [Double](repeating: 0, count: t)
            for k in 1...kMax {
                let w = (g[k] - gp) / sim.total[i] * 2
                if w == 0 { continue }
                for s in 0..<t {
                    let phase = 2 * Double.pi * Double((k * s) % t) / Double(t)
                    // Re(X_k e^{i phase}) with X_k = re + i im.
                    dx[s] += w * (sim.re[i][k] * Foundation.cos(phase) - sim.im[i][k] * Foundation.sin(phase))
                }
            }
            let mean = dx.reduce(0, +) / Double(t)
            for s in 0..<t { gradient.values[i * t + s] = dx[s] - mean }
        }
        return Value(loss: loss, gradient: gradient)
    }

    /// h(s) and h'(s) of the entropy term, with s clamped 1e-9 inside the bounds.
    @inline(__always)
    public static func negativeEntropy(_ s: Double) -> (value: Double, derivative: Double) {
        let eps = 1e-9
        if s <= eps || s >= 1 - eps {
            let c = min(max(s, eps), 1 - eps)
            return (c * Foundation.log(c) + (1 - c) * Foundation.log(1 - c), 0)
        }
        return (s * Foundation.log(s) + (1 - s) * Foundation.log(1 - s), Foundation.log(s / (1 - s)))
    }
}
