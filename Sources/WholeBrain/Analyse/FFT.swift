import CFFTW
import Foundation

/// FFTW plans for real transforms of one length, made once and reused.
///
/// Planning (FFTW_ESTIMATE, which leaves the arrays untouched) happens under a process-wide
/// lock, because FFTW's planner is not thread-safe; executing a plan on other arrays with the
/// same alignment is, so each caller brings its own `FFTBuffers`. Conventions are FFTW's:
/// forward X_k = sum_t x_t e^{-2 pi i k t / n} (unnormalised), inverse likewise with +i.
public final class RealFFT: @unchecked Sendable {
    public let n: Int
    let forward: fftw_plan
    let inverse: fftw_plan

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [Int: RealFFT] = [:]

    /// The shared plans for length n (made on first use).
    public static func plans(for n: Int) -> RealFFT {
        precondition(n >= 2, "RealFFT needs n >= 2")
        lock.lock()
        defer { lock.unlock() }
        if let p = cache[n] { return p }
        let p = RealFFT(n: n)
        cache[n] = p
        return p
    }

    private init(n: Int) {
        self.n = n
        let scratch = FFTBuffers(n: n)
        let count = Int32(n)
        forward = fftw_plan_dft_r2c_1d(count, scratch.real, scratch.spectrum, UInt32(FFTW_ESTIMATE))
        inverse = fftw_plan_dft_c2r_1d(count, scratch.spectrum, scratch.real, UInt32(FFTW_ESTIMATE))
    }

    /// `buffers.spectrum[0...n/2]` = FFT of `buffers.real[0..<n]`.
    public func forward(_ buffers: FFTBuffers) { fftw_execute_dft_r2c(forward, buffers.real, buffers.spectrum) }

    /// `buffers.real` = unnormalised inverse of the half spectrum (it is overwritten).
    public func inverse(_ buffers: FFTBuffers) { fftw_execute_dft_c2r(inverse, buffers.spectrum, buffers.real) }
}

/// Arrays aligned by `fftw_malloc` for transforms of length n.
public final class FFTBuffers {
    public let n: Int
    public let real: UnsafeMutablePointer<Double>
    public let spectrum: UnsafeMutablePointer<fftw_complex>
    /// Complex results of length n (the analytic signal).
    public let complexOut: UnsafeMutablePointer<fftw_complex>

    public init(n: Int) {
        self.n = n
        real = fftw_malloc(MemoryLayout<Double>.stride * n)!.bindMemory(to: Double.self, capacity: n)
        spectrum = fftw_malloc(MemoryLayout<fftw_complex>.stride * (n / 2 + 1))!.bindMemory(to: fftw_complex.self, capacity: n / 2 + 1)
        complexOut = fftw_malloc(MemoryLayout<fftw_complex>.stride * n)!.bindMemory(to: fftw_complex.self, capacity: n)
        real.initialize(repeating: 0, count: n)
    }

    deinit {
        fftw_free(real); fftw_free(spectrum); fftw_free(complexOut)
    }
}
