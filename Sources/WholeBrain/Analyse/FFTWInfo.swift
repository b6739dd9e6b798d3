import CFFTW

/// The FFTW library this binary is linked against (spectral analysis builds on it).
public enum FFTWInfo {
    public static var version: String { String(cString: wb_fftw_version()) }
}
