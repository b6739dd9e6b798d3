/// Functional connectivity dynamics (FCD): how the FC pattern changes over time
/// (Hansen et al. 2015; Deco et al. 2017).
///
/// Windows of `window` samples start every `step` samples; in each, the FC (Pearson
/// correlation between regions) is computed, and FCD[a, b] is the Pearson correlation between
/// the upper triangles of the FCs of windows a and b. Each window's sums of the z-scored series and of their
/// pairwise products slide from window to window (the samples entering are added,
/// those leaving subtracted) with vectorised multiply-adds. The FCD distribution is the strict upper
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
        // Time-major copy: at each sample the regions are contiguous, so the products with
        // region i update the pair sums (i, i+1 ... r-1) as one vectorised multiply-add.
        var timeMajor = [Double](repeating: 0, count: n * r)
        for i in 0..<r { for t in 0..<n { timeMajor[t * r + i] = z[i * n + t] } }
        var vectors = [Double](repeating: 0, count: count * pairs)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 4 * r + pairs)
        defer { sums.deallocate() }
        let s1 = sums, s2 = sums + r, inverseDeviation = sums + 2 * r, scaledMean = sums + 3 * r, spp = sums + 4 * r
        timeMajor.withUnsafeBufferPointer { zp in
        vectors.withUnsafeMutableBufferPointer { vp in
            // Sliding sums: window a + 1 adds the `step` samples after window a and removes
            // the `step` samples at its start (recomputed from scratch when step >= window).
            func add(_ t: Int, _ sign: Double) {
                let row = zp.baseAddress! + t * r
                var q = 0
                for i in 0..<r {
                    let xi = sign * row[i]
                    s1[i] += xi; s2[i] += xi * row[i]
                    let m = r - i - 1
                    axpy(xi, row + i + 1, spp + q, m)
                    q += m
                }
            }
            for a in 0..<count {
                let start = a * step
                if a == 0 || step >= w {
                    for i in 0..<r { s1[i] = 0; s2[i] = 0 }
                    for q in 0..<pairs { spp[q] = 0 }
                    for t in start..<(start + w) { add(t, 1) }
                } else {
                    for t in (start - step)..<start { add(t, -1) }
                    for t in (start + w - step)..<(start + w) { add(t, 1) }
                }
                // corr = (S_ij - S_i S_j / w) / sqrt((S_ii - S_i^2/w)(S_jj - S_j^2/w)),
                // with the per-region factors computed once per window.
                let invW = 1 / Double(w)
                for i in 0..<r {
                    let v = s2[i] - s1[i] * s1[i] * invW
                    inverseDeviation[i] = v > 0 ? 1 / v.squareRoot() : 0
                    scaledMean[i] = s1[i] * invW
                }
                var q = 0
                let base = a * pairs
                for i in 0..<r {
                    let mi = scaledMean[i], di = inverseDeviation[i]
                    for j in (i + 1)..<r {
                        vp[base + q] = (spp[q] - mi * s1[j]) * (di * inverseDeviation[j])
                        q += 1
                    }
                }
            }
        } }
        // Normalise each window's FC vector (zero mean, unit norm), then FCD = dot products.
        vectors.withUnsafeMutableBufferPointer { vp in
            for a in 0..<count {
                let v = vp.baseAddress! + a * pairs
                let mean = sum(v, pairs) / Double(pairs)
                var acc = SIMD4<Double>()
                var k = 0
                let m4 = SIMD4<Double>(repeating: mean)
                while k + 4 <= pairs {
                    let d = UnsafeRawPointer(v + k).loadUnaligned(as: SIMD4<Double>.self) - m4
                    acc.addProduct(d, d)
                    k += 4
                }
                var ss = acc.sum()
                while k < pairs { ss += (v[k] - mean) * (v[k] - mean); k += 1 }
                let inv = ss > 0 ? 1 / ss.squareRoot() : 0
                for q in 0..<pairs { v[q] = (v[q] - mean) * inv }
            }
        }
        var out = Matrix(rows: count, columns: count)
        vectors.withUnsafeBufferPointer { vp in
            let v = vp.baseAddress!
            // Eight windows at a time: each vector b is read once for eight dot products.
            var a = 0
            while a < count {
                let block = min(8, count - a)
                for b in a..<count {
                    let d0 = dot4(v + a * pairs, min(4, block), pairs, v + b * pairs)
                    let d1 = block > 4 ? dot4(v + (a + 4) * pairs, block - 4, pairs, v + b * pairs) : SIMD4<Double>()
                    for k in 0..<block where a + k < b {
                        let d = k < 4 ? d0[k] : d1[k - 4]
                        out[a + k, b] = d; out[b, a + k] = d
                    }
                }
                a += block
            }
            for k in 0..<count { out[k, k] = 1 }
        }
        return out
    }

    /// Dot products of up to four consecutive vectors (stride `n`) with `b`.
    @inline(__always)
    static func dot4(_ a: UnsafePointer<Double>, _ count: Int, _ n: Int, _ b: UnsafePointer<Double>) -> SIMD4<Double> {
        if count < 4 {
            var r = SIMD4<Double>()
            for k in 0..<count { r[k] = dot(a + k * n, b, n) }
            return r
        }
        var c0 = SIMD4<Double>(), c1 = SIMD4<Double>(), c2 = SIMD4<Double>(), c3 = SIMD4<Double>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        let stride = n * 8
        var k = 0
        while k + 4 <= n {
            let bv = rb.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self)
            c0.addProduct(ra.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self), bv)
            c1.addProduct(ra.loadUnaligned(fromByteOffset: stride + k * 8, as: SIMD4<Double>.self), bv)
            c2.addProduct(ra.loadUnaligned(fromByteOffset: 2 * stride + k * 8, as: SIMD4<Double>.self), bv)
            c3.addProduct(ra.loadUnaligned(fromByteOffset: 3 * stride + k * 8, as: SIMD4<Double>.self), bv)
            k += 4
        }
        var r = SIMD4<Double>(c0.sum(), c1.sum(), c2.sum(), c3.sum())
        while k < n {
            for j in 0..<4 { r[j] = r[j].addingProduct(a[j * n + k], b[k]) }
            k += 1
        }
        return r
    }

    /// Sum of n values (four partial sums).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
        var acc = SIMD4<Double>()
        var k = 0
        while k + 4 <= n { acc += UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Double>.self); k += 4 }
        var s = acc.sum()
        while k < n { s += x[k]; k += 1 }
        return s
    }

    /// y += a x over n values (vectorised fused multiply-adds).
    @inline(__always)
    static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        var k = 0
        let av = SIMD4<Double>(repeating: a)
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        while k + 4 <= n {
            var v = ry.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self)
            v.addProduct(av, rx.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self))
            ry.storeBytes(of: v, toByteOffset: k * 8, as: SIMD4<Double>.self)
            k += 4
        }
        while k < n { y[k] = y[k].addingProduct(a, x[k]); k += 1 }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>(), acc2 = SIMD4<Double>(), acc3 = SIMD4<Double>()
        var k = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while k + 16 <= n {
            acc0.addProduct(ra.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self))
            acc1.addProduct(ra.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self))
            acc2.addProduct(ra.loadUnaligned(fromByteOffset: k * 8 + 64, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8 + 64, as: SIMD4<Double>.self))
            acc3.addProduct(ra.loadUnaligned(fromByteOffset: k * 8 + 96, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8 + 96, as: SIMD4<Double>.self))
            k += 16
        }
        while k + 4 <= n {
            acc0.addProduct(ra.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self),
                            rb.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self))
            k += 4
        }
        var s = ((acc0 + acc1) + (acc2 + acc3)).sum()
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
