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
    /// The analytic signal (real, imaginary) of one series.
    public static func analytic(_ x: UnsafeBufferPointer<Double>, buffers: FFTBuffers, plans: RealFFT) {
        let n = x.count
        for k in 0..<n { buffers.real[k] = x[k] }
        plans.forward(buffers)
        // h: 1 at 0 (and n/2 for even n), 2 for positive, 0 for negative frequencies; the
        // real transform gives exactly the bins 0 ... n/2 that survive.
        for k in 0..<n {
            let h: Double
            if k == 0 || (n % 2 == 0 && k == n / 2) { h = 1 } else if k < (n + 1) / 2 { h = 2 } else { h = 0 }
            if h == 0 { buffers.complexIn[k] = (0, 0); continue }
            let (re, im) = buffers.spectrum[k]
            buffers.complexIn[k] = (re * h, im * h)
        }
        plans.complex(buffers, inverse: true)
        let inv = 1 / Double(n)
        for k in 0..<n { let (re, im) = buffers.complexOut[k]; buffers.complexOut[k] = (re * inv, im * inv) }
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
        var re = [Double](repeating: 0, count: n), im = [Double](repeating: 0, count: n)
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                analytic(UnsafeBufferPointer(rebasing: all[(r * n)..<((r + 1) * n)]), buffers: buffers, plans: plans)
                for t in 0..<n {
                    let (a, b) = buffers.complexOut[t]
                    let m = (a * a + b * b).squareRoot()
                    if m > 0 { re[t] += a / m; im[t] += b / m }
                }
            }
        }
        return (0..<n).map { (re[$0] * re[$0] + im[$0] * im[$0]).squareRoot() / Double(x.rows) }
    }

    /// (synchrony, metastability): mean and standard deviation of R(t).
    public static func synchronyAndMetastability(regionsByTime x: Matrix) -> (synchrony: Double, metastability: Double, order: [Double]) {
        let r = orderParameter(regionsByTime: x)
        let mean = r.reduce(0, +) / Double(r.count)
        let variance = r.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(r.count)
        return (mean, variance.squareRoot(), r)
    }
}
