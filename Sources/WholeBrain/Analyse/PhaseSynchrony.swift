import Foundation

/// Phase synchrony across regions from the analytic signal (Hilbert transform).
///
/// The analytic signal of a series is obtained by FFT, as `scipy.signal.hilbert` does: the
/// spectrum is kept at 0 (and at n/2 for even n), doubled at positive frequencies, zeroed at
/// negative ones, and transformed back. With phases theta_j(t), the Kuramoto order parameter
/// is R(t) = |(1/N) sum_j exp(i theta_j(t))|; synchrony is the mean of R over time and
/// metastability its standard deviation (Shanahan 2010; Deco et al. 2017). Series are usually
/// band-passed first (narrow bands give meaningful phases).
public enum PhaseSynchrony {
    /// The analytic signal of one series into `buffers.complexOut` (real, imaginary).
    ///
    /// The real part of the analytic signal is the series itself; the imaginary part, its
    /// Hilbert transform, is the inverse real transform of -i sgn(f) X(f) (0 at 0 Hz and at
    /// n/2), which is what `scipy.signal.hilbert`'s complex inverse gives, with one real
    /// inverse transform instead of a complex one.
    public static func analytic(_ x: UnsafeBufferPointer<Double>, buffers: FFTBuffers, plans: RealFFT) {
        let n = x.count
        buffers.real.update(from: x.baseAddress!, count: n)
        plans.forward(buffers)
        buffers.spectrum[0] = (0, 0)
        for k in 1...(n / 2) {
            let (re, im) = buffers.spectrum[k]
            buffers.spectrum[k] = (im, -re)
        }
        if n % 2 == 0 { buffers.spectrum[n / 2] = (0, 0) }
        plans.inverse(buffers)
        let inv = 1 / Double(n)
        for k in 0..<n { buffers.complexOut[k] = (x[k], buffers.real[k] * inv) }
    }

    /// Phases (regions x time) of every row.
    public static func phases(regionsByTime x: Matrix) -> Matrix {
        let n = x.columns
        let plans = RealFFT.plans(for: n)
        let buffers = FFTBuffers(n: n)
        var out = Matrix(rows: x.rows, columns: n)
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                analytic(UnsafeBufferPointer(rebasing: all[(r * n)..<((r + 1) * n)]), buffers: buffers, plans: plans)
                for t in 0..<n { let (re, im) = buffers.complexOut[t]; out[r, t] = atan2(im, re) }
            }
        }
        return out
    }

    /// R(t) for every time point straight from the analytic signals: each z_j(t) / |z_j(t)|
    /// is exp(i theta_j(t)), so no phase angles (and no trigonometric calls) are needed.
    public static func orderParameter(regionsByTime x: Matrix) -> [Double] {
        let n = x.columns
        let plans = RealFFT.plans(for: n)
        let buffers = FFTBuffers(n: n)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 2 * n)
        let re = UnsafeMutableRawPointer(sums), im = UnsafeMutableRawPointer(sums + n)
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                analytic(UnsafeBufferPointer(rebasing: all[(r * n)..<((r + 1) * n)]), buffers: buffers, plans: plans)
                // exp(i theta) = z / |z| (0 where z = 0), four samples at a time.
                let z = UnsafeRawPointer(buffers.complexOut)
                var t = 0
                while t + 4 <= n {
                    let pair = z.loadUnaligned(fromByteOffset: t * 16, as: SIMD8<Double>.self)
                    let a = pair.evenHalf, b = pair.oddHalf
                    let m = (a * a + b * b).squareRoot()
                    let inverse = (1 / m).replacing(with: 0, where: m .== 0)
                    re.storeBytes(of: re.loadUnaligned(fromByteOffset: t * 8, as: SIMD4<Double>.self) + a * inverse,
                                  toByteOffset: t * 8, as: SIMD4<Double>.self)
                    im.storeBytes(of: im.loadUnaligned(fromByteOffset: t * 8, as: SIMD4<Double>.self) + b * inverse,
                                  toByteOffset: t * 8, as: SIMD4<Double>.self)
                    t += 4
                }
                while t < n {
                    let (a, b) = buffers.complexOut[t]
                    let m = (a * a + b * b).squareRoot()
                    let inverse = m > 0 ? 1 / m : 0
                    sums[t] += a * inverse; sums[n + t] += b * inverse
                    t += 1
                }
            }
        }
        return (0..<n).map { (sums[$0] * sums[$0] + sums[n + $0] * sums[n + $0]).squareRoot() / Double(x.rows) }
    }

    /// (synchrony, metastability): mean and standard deviation of R(t).
    public static func synchronyAndMetastability(regionsByTime x: Matrix) -> (synchrony: Double, metastability: Double, order: [Double]) {
        let r = orderParameter(regionsByTime: x)
        let mean = r.reduce(0, +) / Double(r.count)
        let variance = r.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(r.count)
        return (mean, variance.squareRoot(), r)
    }
}
