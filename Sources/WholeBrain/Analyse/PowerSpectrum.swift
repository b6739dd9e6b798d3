import Foundation

/// Power spectral density by Welch's method, as `scipy.signal.welch` computes it.
///
/// The series is cut into segments of `segmentLength` samples overlapping by `overlap`
/// samples; each is detrended (mean or least-squares line removed, or not), multiplied by a
/// periodic Hann window w_k = 1/2 - 1/2 cos(2 pi k / L) and transformed with FFTW. The
/// one-sided density is P(f_k) = c |X_k|^2 / (fs sum_k w_k^2), averaged over segments, with
/// c = 2 except at 0 and (for even L) at the Nyquist frequency, so that sum_k P(f_k) df equals
/// the variance of the windowed data (for white noise, the variance of the series).
/// Frequencies are f_k = k fs / L, k = 0 ... L/2; units of P: signal^2 / Hz.
public struct WelchOptions: Sendable, Equatable {
    public enum Detrend: String, CaseIterable, Sendable { case none, constant, linear }
    public var segmentLength: Int
    public var overlap: Int
    public var detrend: Detrend

    public init(segmentLength: Int = 256, overlap: Int? = nil, detrend: Detrend = .constant) {
        self.segmentLength = segmentLength
        self.overlap = overlap ?? segmentLength / 2
        self.detrend = detrend
    }
}

/// Standard frequency bands of resting-state BOLD, Hz (Zuo et al. 2010; Buzsaki & Draguhn 2004).
public struct FrequencyBand: Sendable, Equatable, CustomStringConvertible {
    public let name: String, low: Double, high: Double
    public init(_ name: String, _ low: Double, _ high: Double) { self.name = name; self.low = low; self.high = high }
    public static let slow5 = FrequencyBand("slow-5", 0.01, 0.027)
    public static let slow4 = FrequencyBand("slow-4", 0.027, 0.073)
    public static let slow3 = FrequencyBand("slow-3", 0.073, 0.198)
    public static let standard = [slow5, slow4, slow3]
    public var description: String { "\(name) [\(low), \(high)) Hz" }
}

public enum PowerSpectrum {
    /// Periodic Hann window of length L.
    public static func hann(_ length: Int) -> [Double] {
        (0..<length).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(length)) }
    }

    /// Frequencies of the one-sided spectrum for a segment length and sampling rate.
    public static func frequencies(segmentLength l: Int, fs: Double) -> [Double] {
        (0...(l / 2)).map { Double($0) * fs / Double(l) }
    }

    /// Welch PSD of one series (length >= segment length; see `checkSeries`).
    public static func welch(_ x: UnsafeBufferPointer<Double>, fs: Double, options o: WelchOptions,
                             window: [Double], buffers: FFTBuffers, plans: RealFFT) -> [Double] {
        let l = o.segmentLength, step = l - o.overlap
        let segments = (x.count - o.overlap) / step
        let bins = l / 2 + 1
        var psd = [Double](repeating: 0, count: bins)
        let windowPower = window.reduce(0) { $0 + $1 * $1 }
        let scale = 1 / (fs * windowPower)
        let real = buffers.real
        for s in 0..<segments {
            let start = s * step
            for k in 0..<l { real[k] = x[start + k] }
            detrend(real, count: l, o.detrend)
            for k in 0..<l { real[k] *= window[k] }
            plans.forward(buffers)
            for k in 0..<bins {
                let (re, im) = buffers.spectrum[k]
                psd[k] += (re * re + im * im) * scale
            }
        }
        let inv = 1 / Double(segments)
        for k in 0..<bins {
            let twice = k != 0 && !(l % 2 == 0 && k == l / 2)
            psd[k] *= inv * (twice ? 2 : 1)
        }
        return psd
    }

    /// Removes the mean or the least-squares line, in place.
    public static func detrend(_ x: UnsafeMutablePointer<Double>, count n: Int, _ kind: WelchOptions.Detrend) {
        switch kind {
        case .none: return
        case .constant:
            let mean = DenseKernels.sum(x, n) / Double(n)
            for k in 0..<n { x[k] -= mean }
        case .linear:
            // Least-squares line over t = k - (n - 1)/2: sum t^2 = n (n^2 - 1) / 12 and the
            // slope is sum t (x - mean) / sum t^2 = sum t x / sum t^2 (sum t = 0).
            let tMean = Double(n - 1) / 2
            let mean = DenseKernels.sum(x, n) / Double(n)
            let sxx = Double(n) * (Double(n) * Double(n) - 1) / 12
            var acc = SIMD4<Double>()
            var t = SIMD4<Double>(0, 1, 2, 3) - tMean
            var k = 0
            while k + 4 <= n {
                acc.addProduct(t, UnsafeRawPointer(x + k).loadUnaligned(as: SIMD4<Double>.self))
                t += 4
                k += 4
            }
            var sxy = acc.sum()
            while k < n { sxy += (Double(k) - tMean) * x[k]; k += 1 }
            let slope = sxx > 0 ? sxy / sxx : 0
            for k in 0..<n { x[k] -= mean + slope * (Double(k) - tMean) }
        }
    }

    /// Welch PSD of every row of a regions x time matrix: (frequencies, regions x frequencies).
    public static func welch(regionsByTime x: Matrix, fs: Double, options: WelchOptions) -> (frequencies: [Double], psd: Matrix) {
        let l = options.segmentLength
        let plans = RealFFT.plans(for: l)
        let buffers = FFTBuffers(n: l)
        let window = hann(l)
        let bins = l / 2 + 1
        var psd = Matrix(rows: x.rows, columns: bins)
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                let row = UnsafeBufferPointer(rebasing: all[(r * x.columns)..<((r + 1) * x.columns)])
                let p = welch(row, fs: fs, options: options, window: window, buffers: buffers, plans: plans)
                for k in 0..<bins { psd[r, k] = p[k] }
            }
        }
        return (frequencies(segmentLength: l, fs: fs), psd)
    }

    /// Power in [low, high): sum of P(f_k) df over the bins whose frequency is in the band.
    public static func bandPower(_ psd: ArraySlice<Double>, frequencies f: [Double], band: FrequencyBand) -> Double {
        let df = f.count > 1 ? f[1] - f[0] : 0
        var total = 0.0
        for (k, p) in zip(f.indices, psd) where f[k] >= band.low && f[k] < band.high { total += p }
        return total * df
    }

    /// The frequency of the largest PSD value above 0 Hz.
    public static func peakFrequency(_ psd: ArraySlice<Double>, frequencies f: [Double]) -> Double {
        var best = 1, value = -Double.infinity
        for (k, p) in zip(f.indices, psd) where k > 0 && p > value { best = k; value = p }
        return f[best]
    }

    /// ALFF and fALFF (Zang et al. 2007; Zou et al. 2008) from the periodogram of the whole,
    /// linearly detrended series: ALFF = mean amplitude sqrt(P(f)) over [0.01, 0.08] Hz;
    /// fALFF = the sum of amplitudes in that band over the sum over (0, fs/2].
    public static func alff(_ x: UnsafeBufferPointer<Double>, fs: Double, band: FrequencyBand = FrequencyBand("alff", 0.01, 0.08),
                            buffers: FFTBuffers, plans: RealFFT) -> (alff: Double, falff: Double) {
        let n = x.count
        for k in 0..<n { buffers.real[k] = x[k] }
        detrend(buffers.real, count: n, .linear)
        plans.forward(buffers)
        var inBand = 0.0, count = 0, all = 0.0
        for k in 1...(n / 2) {
            let (re, im) = buffers.spectrum[k]
            let amplitude = (re * re + im * im).squareRoot() * (2 / Double(n))
            let f = Double(k) * fs / Double(n)
            all += amplitude
            if f >= band.low && f <= band.high { inBand += amplitude; count += 1 }
        }
        return (count > 0 ? inBand / Double(count) : 0, all > 0 ? inBand / all : 0)
    }
}
