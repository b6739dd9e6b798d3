/// Functional connectivity dynamics (FCD): how the FC pattern changes over time
/// (Hansen et al. 2015; Deco et al. 2017).
///
/// Windows of `window` samples start every `step` samples; in each, the FC (Pearson
/// correlation between regions) is computed, and FCD[a, b] is the Pearson correlation between
/// the upper triangles of the FCs of windows a and b. Each window's sums of the z-scored series and of their
/// pairwise products slide from window to window (the samples entering are added,
/// those leaving subtracted, as blocked outer-product sums); FCD is then the Gram matrix of
/// the windows' normalised FC vectors. The FCD distribution is the strict upper
/// triangle of FCD; two runs are compared by the Kolmogorov-Smirnov distance between their
/// distributions.
public enum FunctionalConnectivityDynamics {
    /// Number of windows for a series of n samples.
    public static func windowCount(samples n: Int, window: Int, step: Int) -> Int {
        n >= window ? (n - window) / step + 1 : 0
    }

    /// The FCD matrix (windows x windows) of a regions x time matrix.
    public static func fcd(regionsByTime x: Matrix, window w: Int, step: Int) -> Matrix {
        let r = x.rows, n = x.columns
        let count = windowCount(samples: n, window: w, step: step)
        let pairs = r * (r - 1) / 2
        // z-scored over the whole series (keeps the sliding sums well scaled), stored time-major
        // with the regions padded with zeros to a multiple of 8, so that at each sample the
        // regions are contiguous for the blocked outer-product sums.
        let width = (r + 7) / 8 * 8
        let z = UnsafeMutablePointer<Double>.allocate(capacity: n * width + width * width + 4 * width)
        defer { z.deallocate() }
        z.initialize(repeating: 0, count: n * width + width * width + 4 * width)
        x.values.withUnsafeBufferPointer { xp in
            for i in 0..<r {
                let row = xp.baseAddress! + i * n
                let (mean, ss) = DenseKernels.meanAndSquaredDeviations(row, n)
                let inv = ss > 0 ? 1 / (ss / Double(n)).squareRoot() : 0
                for t in 0..<n { z[t * width + i] = (row[t] - mean) * inv }
            }
        }
        // Window sums: products (upper blocks of a width x width matrix) and the series.
        let products = z + n * width, s1 = products + width * width
        let inverseDeviation = s1 + width, scaledMean = s1 + 2 * width
        var vectors = [Double](repeating: 0, count: count * pairs)
        vectors.withUnsafeMutableBufferPointer { vp in
            for a in 0..<count {
                // Window a + 1 adds the `step` samples after window a and removes the `step`
                // samples at its start (summed from scratch when step >= window).
                let start = a * step
                let added: Range<Int>, removed: Range<Int>
                if a == 0 || step >= w {
                    products.update(repeating: 0, count: width * width)
                    s1.update(repeating: 0, count: width)
                    added = start..<(start + w); removed = start..<start
                } else {
                    added = (start + w - step)..<(start + w); removed = (start - step)..<start
                }
                DenseKernels.rankUpdate(z, width: width, added: added, removed: removed, into: products)
                for t in added { for i in 0..<r { s1[i] += z[t * width + i] } }
                for t in removed { for i in 0..<r { s1[i] -= z[t * width + i] } }
                // corr = (S_ij - S_i S_j / w) / sqrt((S_ii - S_i^2/w)(S_jj - S_j^2/w)),
                // with the per-region factors computed once per window.
                let invW = 1 / Double(w)
                for i in 0..<r {
                    let v = products[i * width + i] - s1[i] * s1[i] * invW
                    inverseDeviation[i] = v > 0 ? 1 / v.squareRoot() : 0
                    scaledMean[i] = s1[i] * invW
                }
                // Upper triangle into the window's vector, then zero mean and unit norm.
                let v = vp.baseAddress! + a * pairs
                var q = 0
                for i in 0..<r {
                    let mi = scaledMean[i], di = inverseDeviation[i], row = products + i * width, out = v + q - i - 1
                    for j in (i + 1)..<max(r, i + 1) {
                        out[j] = (row[j] - mi * s1[j]) * (di * inverseDeviation[j])
                    }
                    q += r - i - 1
                }
                centreAndNormalise(v, pairs)
            }
        }
        // FCD = dot products of the normalised vectors.
        var out = Matrix(rows: count, columns: count)
        vectors.withUnsafeBufferPointer { vp in
            out.values.withUnsafeMutableBufferPointer { op in
                DenseKernels.symmetricGram(vp.baseAddress!, rows: count, length: pairs, stride: pairs, into: op.baseAddress!)
            }
        }
        for k in 0..<count { out[k, k] = 1 }
        return out
    }

    /// v = (v - mean) / |v - mean| over n values (left at zero if v is constant).
    static func centreAndNormalise(_ v: UnsafeMutablePointer<Double>, _ n: Int) {
        let (mean, ss) = DenseKernels.meanAndSquaredDeviations(v, n)
        let inv = ss > 0 ? 1 / ss.squareRoot() : 0
        for k in 0..<n { v[k] = (v[k] - mean) * inv }
    }

    /// The strict upper triangle of an FCD matrix.
    public static func distribution(_ fcd: Matrix) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(fcd.rows * (fcd.rows - 1) / 2)
        for a in 0..<fcd.rows { for b in (a + 1)..<max(fcd.rows, a + 1) { out.append(fcd[a, b]) } }
        return out
    }

    /// Two-sample Kolmogorov-Smirnov statistic sup_x |F_a(x) - F_b(x)| (as
    /// `scipy.stats.ks_2samp(...).statistic`).
    public static func ksDistance(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
        }
        return d
    }
}
