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
public enum FCObjective {
    public struct Value {
        public let loss: Double
        public let correlation: Double
        /// dL/dy, regions x time.
        public let gradient: Matrix
    }

    public static func surprise(regionsByTime y: Matrix, empiricalFC e: Matrix) -> Value {
        let n = y.rows, t = y.columns
        // Centred, unit-norm rows and their norms.
        let (z, norms) = BoldFitTerms.standardised(y)
        var fc = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in 0..<t { s += z[i * t + k] * z[j * t + k] }
                fc[i, j] = s; fc[j, i] = s
            }
        }
        // Upper triangles, centred.
        var a: [Double] = [], b: [Double] = []
        for i in 0..<n { for j in (i + 1)..<n { a.append(fc[i, j]); b.append(e[i, j]) } }
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        a = a.map { $0 - ma }; b = b.map { $0 - mb }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let r = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb)
        let loss = -Foundation.log(0.5 + 0.5 * r)
        let dLdr = -0.5 / (0.5 + 0.5 * r)
        // dL/dFC_ij for i < j, kept symmetric.
        var dFC = Matrix(rows: n, columns: n)
        var q = 0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = dLdr * (b[q] / (na * nb) - r * a[q] / (na * na))
                dFC[i, j] = d; dFC[j, i] = d
                q += 1
            }
        }
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
        return Value(loss: loss, correlation: r, gradient: gradient)
    }
}
