/// Dense kernels behind the BOLD analyses: Gram matrices of rows and symmetric rank-k updates
/// (FC, FCD), sums, means and dot products.
///
/// Both keep a small block of results in vector registers while they run over the shared
/// dimension, so each loaded vector serves several multiply-adds (a 4 x 2 block of dot
/// products; a 4 x 8 block of outer-product sums). Summation orders are fixed by the shapes
/// alone, so the same inputs give the same bits.
enum DenseKernels {
    /// Length of the chunks of the shared dimension in `symmetricGram`: a panel of four rows
    /// (16 KiB) stays in L1 while the other rows' chunks stream from L2.
    static let chunk = 512

    /// g[a * rows + b] = sum_k x[a * stride + k] x[b * stride + k] for all a, b < rows (both
    /// triangles written; only a <= b computed).
    static func symmetricGram(_ x: UnsafePointer<Double>, rows: Int, length n: Int, stride: Int,
                              into g: UnsafeMutablePointer<Double>) {
        g.update(repeating: 0, count: rows * rows)
        guard rows > 0 else { return }
        var k0 = 0
        while k0 < n {
            let k1 = min(n, k0 + chunk)
            var a = 0
            while a < rows {
                var b = a
                while b < rows {
                    block4x2(x, rows: rows, stride: stride, a: a, b: b, k0: k0, k1: k1, g: g)
                    b += 2
                }
                a += 4
            }
            k0 = k1
        }
        for a in 0..<rows { for b in (a + 1)..<max(rows, a + 1) { g[b * rows + a] = g[a * rows + b] } }
    }

    /// Adds the dot products of rows a..a+3 with rows b, b+1 over [k0, k1) to g (rows past
    /// the end are read as the last row and their sums dropped; only a <= b is written).
    @inline(__always)
    static func block4x2(_ x: UnsafePointer<Double>, rows: Int, stride: Int, a: Int, b: Int, k0: Int, k1: Int,
                         g: UnsafeMutablePointer<Double>) {
        let last = rows - 1
        let r = UnsafeRawPointer(x)
        let a0 = r + min(a, last) * stride * 8, a1 = r + min(a + 1, last) * stride * 8
        let a2 = r + min(a + 2, last) * stride * 8, a3 = r + min(a + 3, last) * stride * 8
        let b0 = r + min(b, last) * stride * 8, b1 = r + min(b + 1, last) * stride * 8
        var c00 = SIMD4<Double>(), c01 = SIMD4<Double>(), c10 = SIMD4<Double>(), c11 = SIMD4<Double>()
        var c20 = SIMD4<Double>(), c21 = SIMD4<Double>(), c30 = SIMD4<Double>(), c31 = SIMD4<Double>()
        var k = k0
        while k + 4 <= k1 {
            let o = k * 8
            let u = b0.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            let v = b1.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            let x0 = a0.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            c00.addProduct(x0, u); c01.addProduct(x0, v)
            let x1 = a1.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            c10.addProduct(x1, u); c11.addProduct(x1, v)
            let x2 = a2.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            c20.addProduct(x2, u); c21.addProduct(x2, v)
            let x3 = a3.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self)
            c30.addProduct(x3, u); c31.addProduct(x3, v)
            k += 4
        }
        var s = SIMD8<Double>(c00.sum(), c01.sum(), c10.sum(), c11.sum(), c20.sum(), c21.sum(), c30.sum(), c31.sum())
        while k < k1 {
            let o = k * 8
            let u = b0.load(fromByteOffset: o, as: Double.self), v = b1.load(fromByteOffset: o, as: Double.self)
            let x0 = a0.load(fromByteOffset: o, as: Double.self), x1 = a1.load(fromByteOffset: o, as: Double.self)
            let x2 = a2.load(fromByteOffset: o, as: Double.self), x3 = a3.load(fromByteOffset: o, as: Double.self)
            s.addProduct(SIMD8(x0, x0, x1, x1, x2, x2, x3, x3), SIMD8(u, v, u, v, u, v, u, v))
            k += 1
        }
        for i in 0..<4 where a + i < rows {
            for j in 0..<2 where b + j < rows && a + i <= b + j {
                g[(a + i) * rows + b + j] += s[2 * i + j]
            }
        }
    }

    /// s[i * width + j] += sum over t in `added` of x_t[i] x_t[j] - sum over t in `removed`
    /// of the same, for the blocks on or above the diagonal (4 rows x 8 columns, so entries
    /// with j >= i are all updated; some below are too). Rows x_t = x + t * width; `width`
    /// is a multiple of 8 and any padding columns are zero.
    static func rankUpdate(_ x: UnsafePointer<Double>, width: Int, added: Range<Int>, removed: Range<Int>,
                           into s: UnsafeMutablePointer<Double>) {
        precondition(width % 8 == 0)
        var i = 0
        while i < width {
            var j = i - i % 8
            while j < width {
                var c = Block4x8()
                for t in added { c.accumulate(x + t * width, i: i, j: j, sign: 1) }
                for t in removed { c.accumulate(x + t * width, i: i, j: j, sign: -1) }
                c.add(to: s + i * width + j, rowStride: width)
                j += 8
            }
            i += 4
        }
    }

    /// Sums of outer products for a 4 x 8 block, held in eight vector registers.
    struct Block4x8 {
        var c00 = SIMD4<Double>(), c01 = SIMD4<Double>(), c10 = SIMD4<Double>(), c11 = SIMD4<Double>()
        var c20 = SIMD4<Double>(), c21 = SIMD4<Double>(), c30 = SIMD4<Double>(), c31 = SIMD4<Double>()

        /// Adds sign * row[i + r] * row[j ..< j + 8] for r = 0 ... 3.
        @inline(__always)
        mutating func accumulate(_ row: UnsafePointer<Double>, i: Int, j: Int, sign: Double) {
            let raw = UnsafeRawPointer(row + j)
            let u = raw.loadUnaligned(as: SIMD4<Double>.self)
            let v = raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Double>.self)
            let y0 = SIMD4(repeating: sign * row[i]), y1 = SIMD4(repeating: sign * row[i + 1])
            let y2 = SIMD4(repeating: sign * row[i + 2]), y3 = SIMD4(repeating: sign * row[i + 3])
            c00.addProduct(y0, u); c01.addProduct(y0, v)
            c10.addProduct(y1, u); c11.addProduct(y1, v)
            c20.addProduct(y2, u); c21.addProduct(y2, v)
            c30.addProduct(y3, u); c31.addProduct(y3, v)
        }

        /// Adds the block to the 4 x 8 block at `out` (rows `rowStride` apart).
        @inline(__always)
        func add(to out: UnsafeMutablePointer<Double>, rowStride: Int) {
            let raw = UnsafeMutableRawPointer(out)
            @inline(__always) func add(_ r: Int, _ u: SIMD4<Double>, _ v: SIMD4<Double>) {
                let o = r * rowStride * 8
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: o, as: SIMD4<Double>.self) + u, toByteOffset: o, as: SIMD4<Double>.self)
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: o + 32, as: SIMD4<Double>.self) + v, toByteOffset: o + 32, as: SIMD4<Double>.self)
            }
            add(0, c00, c01); add(1, c10, c11); add(2, c20, c21); add(3, c30, c31)
        }
    }

    /// Sum of n values (eight partial sums in two vector accumulators).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
        let raw = UnsafeRawPointer(x)
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
        var k = 0
        while k + 8 <= n {
            acc0 += raw.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self)
            acc1 += raw.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self)
            k += 8
        }
        var total = (acc0 + acc1).sum()
        while k < n { total += x[k]; k += 1 }
        return total
    }

    /// Mean of n values and the sum of squared deviations from it (two passes, vector
    /// accumulators).
    static func meanAndSquaredDeviations(_ x: UnsafePointer<Double>, _ n: Int) -> (mean: Double, squares: Double) {
        let raw = UnsafeRawPointer(x)
        let mean = sum(x, n) / Double(max(n, 1)), m4 = SIMD4<Double>(repeating: mean)
        var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
        var k = 0
        while k + 8 <= n {
            let d0 = raw.loadUnaligned(fromByteOffset: k * 8, as: SIMD4<Double>.self) - m4
            let d1 = raw.loadUnaligned(fromByteOffset: k * 8 + 32, as: SIMD4<Double>.self) - m4
            acc0.addProduct(d0, d0); acc1.addProduct(d1, d1)
            k += 8
        }
        var squares = (acc0 + acc1).sum()
        while k < n { squares += (x[k] - mean) * (x[k] - mean); k += 1 }
        return (mean, squares)
    }

    /// Dot product of n values (four vector accumulators).
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
}
