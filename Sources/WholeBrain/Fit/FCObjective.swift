import Foundation

/// The FC-fit term of Griffiths et al. (2022) and its exact gradient with respect to BOLD.
///
/// With simulated BOLD y (regions x time), FC_ij = corr(y_i, y_j) and r the Pearson
/// correlation between the strict upper triangles of simulated and empirical FC, the
/// "surprise" of the fit is L = -log(0.5 + 0.5 r). Its gradient follows from
/// dL/dr = -0.5 / (0.5 + 0.5 r);
/// dr/dFC_ij = b_ij / (|a| |b|) - r a_ij / |a|^2   (a, b: centred upper triangles);
/// dFC_ij/dy_i(t) = (z_j(t) - FC_ij z_i(t)) / |y_i - mean(y_i)|   (z: centred, unit norm).
/// Means drop out because centred vectors sum to zero. Constant regions give no gradient.
///
/// r ignores the FC's level: a noise-free version of the empirical pattern scores best at any
/// coupling, so r alone pulls G up where weak coupling leaves FC mostly noise. The level term
/// L = mean over pairs i < j of (FC_ij - E_ij)^2 (dL/dFC_ij = 2 (FC_ij - E_ij) / P, P pairs)
/// compares the correlations themselves and carries what r discards, but each pair's sampling
/// noise enters it squared: its expectation grows with the FC's sampling variance, which falls
/// as coupling grows, so a short simulated stretch still favours stronger coupling. The mean
/// level term L = (mean_{i<j} FC_ij - mean_{i<j} E_ij)^2 (dL/dFC_ij = 2 d / P) averages the
/// noise over the P pairs before squaring: the global level of correlation, the statistic that
/// rises most with coupling.
public enum FCObjective {
    public struct Value {
        public let loss: Double
        public let correlation: Double
        /// dL/dy, regions x time.
        public let gradient: Matrix
    }

    public static func surprise(regionsByTime y: Matrix, empiricalFC e: Matrix) -> Value {
        let (fc, z, norms) = pearson(y)
        let (a, b, r, na, nb) = centredTriangles(fc, e)
        let loss = -Foundation.log(0.5 + 0.5 * r)
        let dLdr = -0.5 / (0.5 + 0.5 * r)
        // dL/dFC_ij for i < j, kept symmetric.
        let n = y.rows
        var dFC = Matrix(rows: n, columns: n)
        var q = 0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = dLdr * (b[q] / (na * nb) - r * a[q] / (na * na))
                dFC[i, j] = d; dFC[j, i] = d
                q += 1
            }
        }
        return Value(loss: loss, correlation: r, gradient: backpropagate(dFC, fc: fc, z: z, norms: norms, samples: y.columns))
    }

    /// The FC level term: mean squared difference of simulated and empirical FC over pairs.
    public static func meanSquaredError(regionsByTime y: Matrix, empiricalFC e: Matrix) -> Value {
        let (fc, z, norms) = pearson(y)
        let n = y.rows, pairs = Double(n * (n - 1) / 2)
        var loss = 0.0
        var dFC = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = fc[i, j] - e[i, j]
                loss += d * d / pairs
                dFC[i, j] = 2 * d / pairs; dFC[j, i] = dFC[i, j]
            }
        }
        return Value(loss: loss, correlation: centredTriangles(fc, e).r, gradient: backpropagate(dFC, fc: fc, z: z, norms: norms, samples: y.columns))
    }

    /// The FC mean level term: squared difference of the mean simulated and empirical FC over pairs.
    public static func meanLevel(regionsByTime y: Matrix, empiricalFC e: Matrix) -> Value {
        let (fc, z, norms) = pearson(y)
        let n = y.rows, pairs = Double(n * (n - 1) / 2)
        var d = 0.0
        for i in 0..<n { for j in (i + 1)..<n { d += (fc[i, j] - e[i, j]) / pairs } }
        var dFC = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n where j != i { dFC[i, j] = 2 * d / pairs } }
        return Value(loss: d * d, correlation: centredTriangles(fc, e).r, gradient: backpropagate(dFC, fc: fc, z: z, norms: norms, samples: y.columns))
    }

    /// FC of regions x time series, with the centred unit-norm rows and their norms.
    static func pearson(_ y: Matrix) -> (fc: Matrix, z: [Double], norms: [Double]) {
        let n = y.rows, t = y.columns
        let (z, norms) = BoldFitTerms.standardised(y)
        var fc = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in 0..<t { s += z[i * t + k] * z[j * t + k] }
                fc[i, j] = s; fc[j, i] = s
            }
        }
        return (fc, z, norms)
    }

    /// The centred upper triangles of simulated (a) and empirical (b) FC, their correlation and norms.
    static func centredTriangles(_ fc: Matrix, _ e: Matrix) -> (a: [Double], b: [Double], r: Double, na: Double, nb: Double) {
        let n = fc.rows
        var a: [Double] = [], b: [Double] = []
        for i in 0..<n { for j in (i + 1)..<n { a.append(fc[i, j]); b.append(e[i, j]) } }
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        a = a.map { $0 - ma }; b = b.map { $0 - mb }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return (a, b, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb), na, nb)
    }

    /// dL/dy from a symmetric dL/dFC: dFC_ij/dy_i(t) = (z_j(t) - FC_ij z_i(t)) / |y_i - mean(y_i)|.
    static func backpropagate(_ dFC: Matrix, fc: Matrix, z: [Double], norms: [Double], samples t: Int) -> Matrix {
        let n = fc.rows
        var gradient = Matrix(rows: n, columns: t)
        for i in 0..<n where norms[i] > 0 {
            let inv = 1 / norms[i]
            for j in 0..<n where j != i {
                let g = dFC[i, j] * inv
                if g == 0 { continue }
                let c = fc[i, j]
                for k in 0..<t { gradient.values[i * t + k] += g * (z[j * t + k] - c * z[i * t + k]) }
            }
        }
        return gradient
    }
}
