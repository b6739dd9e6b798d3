/// Functional connectivity dynamics (FCD): how the FC pattern changes over time
/// (Hansen et al. 2015; Deco et al. 2017).
///
/// Windows of `window` samples start every `step` samples; in each, the FC (Pearson
/// correlation between regions) is computed, and FCD[a, b] is the Pearson correlation between
/// the upper triangles of the FCs of windows a and b. Sums over each window come from prefix
/// sums of the z-scored series and of their pairwise products (one pass over the data), so
/// the cost does not grow with the window length. The FCD distribution is the strict upper
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
        // z-score each region over the whole series (keeps the prefix sums well scaled).
        var z = x.values
        for i in 0..<r {
            var mean = 0.0
            for t in 0..<n { mean += z[i * n + t] }
            mean /= Double(n)
            var ss = 0.0
            for t in 0..<n { ss += (z[i * n + t] - mean) * (z[i * n + t] - mean) }
            let inv = ss > 0 ? 1 / (ss / Double(n)).squareRoot() : 0
            for t in 0..<n { z[i * n + t] = (z[i * n + t] - mean) * inv }
        }
        // Window sums by differences of sums over consecutive steps: each window is a run of
        // `w` samples; accumulate per window directly from running sums per region and pair.
        var vectors = [Double](repeating: 0, count: count * pairs)
        var s1 = [Double](repeating: 0, count: r), s2 = [Double](repeating: 0, count: r)
        var sp = [Double](repeating: 0, count: pairs)
        z.withUnsafeBufferPointer { zp in
        vectors.withUnsafeMutableBufferPointer { vp in
            for a in 0..<count {
                let start = a * step
                for i in 0..<r { s1[i] = 0; s2[i] = 0 }
                for q in 0..<pairs { sp[q] = 0 }
                for t in start..<(start + w) {
                    var q = 0
                    for i in 0..<r {
                        let xi = zp[i * n + t]
                        s1[i] += xi; s2[i] += xi * xi
                        for j in (i + 1)..<r { sp[q] += xi * zp[j * n + t]; q += 1 }
                    }
                }
                let wd = Double(w)
                var q = 0
                let base = a * pairs
                for i in 0..<r {
                    let vi = s2[i] - s1[i] * s1[i] / wd
                    for j in (i + 1)..<r {
                        let vj = s2[j] - s1[j] * s1[j] / wd
                        let c = sp[q] - s1[i] * s1[j] / wd
                        let d = (vi * vj).squareRoot()
                        vp[base + q] = d > 0 ? c / d : 0
                        q += 1
                    }
                }
            }
        } }
        // Normalise each window's FC vector, then FCD = dot products.
        for a in 0..<count {
            var mean = 0.0
            for q in 0..<pairs { mean += vectors[a * pairs + q] }
            mean /= Double(pairs)
            var ss = 0.0
            for q in 0..<pairs { let d = vectors[a * pairs + q] - mean; ss += d * d }
            let inv = ss > 0 ? 1 / ss.squareRoot() : 0
            for q in 0..<pairs { vectors[a * pairs + q] = (vectors[a * pairs + q] - mean) * inv }
        }
        var out = Matrix(rows: count, columns: count)
        vectors.withUnsafeBufferPointer { vp in
            for a in 0..<count {
                out[a, a] = 1
                for b in (a + 1)..<max(count, a + 1) {
                    let s = dot(vp.baseAddress! + a * pairs, vp.baseAddress! + b * pairs, pairs)
                    out[a, b] = s; out[b, a] = s
                }
            }
        }
        return out
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
        var k = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while k + 8 <= n {
            acc0.addProduct(ra.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self))
            acc1.addProduct(ra.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self))
            k += 8
        }
        var s = (acc0 + acc1).sum()
        while k < n { s = s.addingProduct(a[k], b[k]); k += 1 }
        return s
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
