/// Zero-phase band-pass filtering in the frequency domain.
///
/// Each series is extended by its mirror image on both sides (x reflected about its first and
/// last samples, length n - 1 on each side, so the extended series has no jump at the
/// original ends), transformed with FFTW, every bin outside [low, high] Hz is set to zero
/// (an ideal "brick-wall" filter, so the phase is untouched), transformed back, and the
/// middle n samples are kept. The mean (0 Hz) goes whenever low > 0. The reflection keeps
/// the circular transform from wrapping the end of the series onto its start; samples within
/// about 1 / low seconds of either end are still less reliable, as with any filter.
public enum BandPass {
    public static func filter(regionsByTime x: Matrix, fs: Double, low: Double, high: Double) -> Matrix {
        let n = x.columns
        guard n >= 2 else { return x }
        let m = 3 * n - 2
        let plans = RealFFT.plans(for: m)
        let buffers = FFTBuffers(n: m)
        var out = Matrix(rows: x.rows, columns: n)
        let bins = m / 2 + 1
        for r in 0..<x.rows {
            let base = r * n
            // [x_{n-1} ... x_1] x_0 ... x_{n-1} [x_{n-2} ... x_0]
            for k in 0..<(n - 1) { buffers.real[k] = x.values[base + n - 1 - k] }
            for k in 0..<n { buffers.real[n - 1 + k] = x.values[base + k] }
            for k in 0..<(n - 1) { buffers.real[2 * n - 1 + k] = x.values[base + n - 2 - k] }
            plans.forward(buffers)
            for k in 0..<bins {
                let f = Double(k) * fs / Double(m)
                if f < low || f > high { buffers.spectrum[k] = (0, 0) }
            }
            plans.inverse(buffers)
            let scale = 1 / Double(m)
            for k in 0..<n { out[r, k] = buffers.real[n - 1 + k] * scale }
        }
        return out
    }
}
