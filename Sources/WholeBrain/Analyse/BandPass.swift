import CFFTW

/// Zero-phase band-pass filtering in the frequency domain.
///
/// Each series is extended by its mirror image on both sides (x reflected about its first and
/// last samples, p samples on each side, so the extended series has no jump at the original
/// ends; p is the smallest value >= n/2 for which n + 2p has no prime factor above 7, so the
/// transform is fast), transformed with FFTW, every bin outside [low, high] Hz is set to zero
/// (an ideal "brick-wall" filter, so the phase is untouched), transformed back, and the
/// middle n samples are kept. The mean (0 Hz) goes whenever low > 0. The reflection keeps
/// the circular transform from wrapping the end of the series onto its start; samples within
/// about 1 / low seconds of either end are still less reliable, as with any filter.
public enum BandPass {
    /// The mirror padding p for n samples: the smallest p >= n/2 (and <= n - 1) with n + 2p
    /// 7-smooth.
    public static func padding(_ n: Int) -> Int {
        func smooth(_ v: Int) -> Bool {
            var v = v
            for f in [2, 3, 5, 7] { while v % f == 0 { v /= f } }
            return v == 1
        }
        let lower = (n + 1) / 2, upper = max(lower, n - 1)
        return (lower...upper).first { smooth(n + 2 * $0) } ?? upper
    }

    public static func filter(regionsByTime x: Matrix, fs: Double, low: Double, high: Double) -> Matrix {
        filter(regionsByTime: x, fs: fs, bands: [(low, high)])[0]
    }

    /// The bins k (frequency k fs / m) kept by a band, low <= f <= high: a contiguous range.
    static func keptBins(m: Int, fs: Double, low: Double, high: Double) -> Range<Int> {
        let kept = (0...(m / 2)).filter { k in
            let f = Double(k) * fs / Double(m)
            return !(f < low || f > high)
        }
        guard let first = kept.first, let last = kept.last else { return 0..<0 }
        return first..<(last + 1)
    }

    /// Several bands of the same series with one forward transform per region.
    public static func filter(regionsByTime x: Matrix, fs: Double, bands: [(low: Double, high: Double)]) -> [Matrix] {
        let n = x.columns
        guard n >= 2 else { return bands.map { _ in x } }
        let p = padding(n)
        let m = n + 2 * p
        let plans = RealFFT.plans(for: m)
        let buffers = FFTBuffers(n: m)
        let bins = m / 2 + 1
        let kept = bands.map { keptBins(m: m, fs: fs, low: $0.low, high: $0.high) }
        let scale = 1 / Double(m)
        var outs = bands.map { _ in Matrix(rows: x.rows, columns: n) }
        let spectrum = UnsafeMutablePointer<fftw_complex>.allocate(capacity: bins)
        defer { spectrum.deallocate() }
        let real = buffers.real
        x.values.withUnsafeBufferPointer { xp in
            for r in 0..<x.rows {
                let row = xp.baseAddress! + r * n
                // [x_p ... x_1] x_0 ... x_{n-1} [x_{n-2} ... x_{n-1-p}]
                for k in 0..<p { real[k] = row[p - k] }
                (real + p).update(from: row, count: n)
                for k in 0..<p { real[p + n + k] = row[n - 2 - k] }
                plans.forward(buffers)
                spectrum.update(from: buffers.spectrum, count: bins)
                for (b, range) in kept.enumerated() {
                    buffers.spectrum.update(repeating: (0, 0), count: bins)
                    (buffers.spectrum + range.lowerBound).update(from: spectrum + range.lowerBound, count: range.count)
                    plans.inverse(buffers)
                    outs[b].values.withUnsafeMutableBufferPointer { target in
                        for k in 0..<n { target[r * n + k] = real[p + k] * scale }
                    }
                }
            }
        }
        return outs
    }

    /// The transpose of `filter` (for gradients through it): with the filter written as
    /// y = C H P x (mirror extension P, the masked circular transform H / m, cropping C), and H
    /// symmetric because its real mask is even in frequency, the transpose is P^T H C^T:
    /// the cotangent is placed in the middle of a zero series of the extended length,
    /// filtered the same way, and the reflected parts are folded back onto the samples they
    /// copied.
    public static func transpose(regionsByTime g: Matrix, fs: Double, low: Double, high: Double) -> Matrix {
        let n = g.columns
        guard n >= 2 else { return g }
        let p = padding(n)
        let m = n + 2 * p
        let plans = RealFFT.plans(for: m)
        let buffers = FFTBuffers(n: m)
        var out = Matrix(rows: g.rows, columns: n)
        let bins = m / 2 + 1
        for r in 0..<g.rows {
            let base = r * n
            for k in 0..<m { buffers.real[k] = 0 }
            for k in 0..<n { buffers.real[p + k] = g.values[base + k] }
            plans.forward(buffers)
            for k in 0..<bins {
                let f = Double(k) * fs / Double(m)
                if f < low || f > high { buffers.spectrum[k] = (0, 0) }
            }
            plans.inverse(buffers)
            let scale = 1 / Double(m)
            for k in 0..<n { out.values[base + k] = buffers.real[p + k] * scale }
            for k in 0..<p { out.values[base + p - k] += buffers.real[k] * scale }
            for k in 0..<p { out.values[base + n - 2 - k] += buffers.real[p + n + k] * scale }
        }
        return out
    }
}
