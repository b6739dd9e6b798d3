import Foundation

/// Choices of the BOLD analysis, with defaults for resting-state fMRI.
public struct AnalysisOptions: Sendable {
    /// Sampling interval, s.
    public var tr: Double
    public var welch = WelchOptions()
    public var bands = FrequencyBand.standard
    /// Band-pass (Hz) applied before FC and FCD; nil: none.
    public var bandPass: (low: Double, high: Double)?
    /// Narrow band (Hz) for phases (synchrony, metastability).
    public var phaseBand: (low: Double, high: Double) = (0.04, 0.07)
    /// FCD windows and step, in samples (TRs).
    public var fcdWindow = 60
    public var fcdStep = 10

    public init(tr: Double) { self.tr = tr }
    public var fs: Double { 1 / tr }

    /// The one rule for series too short for their windows, in simulate, analyze and sweep
    /// alike: a window left at its default shrinks to fit (the Welch segment to the series'
    /// length, with half of it overlapping; the FCD window to a quarter of the series, at least
    /// 3 samples, its step to at most half of it), and a note says so; a window asked for
    /// explicitly (`segmentGiven`, `fcdWindowGiven`) is kept, and one longer than the series is
    /// an error. Returns the options and the notes.
    public func fitted(toSamples n: Int, segmentGiven: Bool = false, fcdWindowGiven: Bool = false,
                       source: String) throws -> (options: AnalysisOptions, notes: [String]) {
        var o = self
        var notes: [String] = []
        guard n >= 4 else {
            throw WholeBrainError.badValue(source: source, value: "\(n) samples", expected: "at least 4 samples for a spectrum (a longer run or a shorter TR)")
        }
        if n < o.welch.segmentLength {
            if segmentGiven {
                throw WholeBrainError.badValue(source: "--segment", value: "\(o.welch.segmentLength)",
                                               expected: "at most the \(n) samples of \(source) (or leave it out: the default shrinks to fit)")
            }
            notes.append(String(format: "%@: %d samples, fewer than the default Welch segment of %d: the segment is %d samples (frequency resolution %.4f Hz)",
                                source, n, o.welch.segmentLength, n, 1 / (Double(n) * tr)))
            o.welch = WelchOptions(segmentLength: n, overlap: n / 2, detrend: o.welch.detrend)
        }
        let quarter = max(3, n / 4)
        if o.fcdWindow > quarter && !fcdWindowGiven {
            notes.append("\(source): \(n) samples, fewer than 4 default FCD windows of \(o.fcdWindow): the FCD window is \(quarter) samples")
            o.fcdWindow = quarter
            o.fcdStep = max(1, min(o.fcdStep, quarter / 2))
        } else if o.fcdWindow > n {
            throw WholeBrainError.badValue(source: "--fcd-window", value: "\(o.fcdWindow)",
                                           expected: "at most the \(n) samples of \(source) (or leave it out: the default shrinks to fit)")
        }
        return (o, notes)
    }
}

/// Everything the analysis computes for one regions x time BOLD matrix.
public struct BoldMetrics: Sendable {
    public let frequencies: [Double]
    /// Welch PSD, regions x frequencies (signal^2 / Hz).
    public let psd: Matrix
    /// Band power per band, per region.
    public let bandPower: [(band: FrequencyBand, perRegion: [Double])]
    public let peakFrequency: [Double]
    public let alff: [Double], falff: [Double]
    public let fc: Matrix
    public let fcd: Matrix
    public let orderParameter: [Double]
    public let synchrony: Double, metastability: Double
}

/// The whole analysis of BOLD, the same for simulated and empirical data: PSD (Welch), band
/// powers, peak frequency, ALFF and fALFF on the series as given; FC and FCD on the
/// band-passed series (if a band is set); synchrony and metastability from phases in a
/// narrow band.
public enum BoldAnalysis {
    /// Rejects series that the analyses cannot use, naming the region and sample.
    public static func check(regionsByTime x: Matrix, source: String, options o: AnalysisOptions) throws {
        let n = x.columns
        guard x.rows >= 2 else {
            throw WholeBrainError.badValue(source: source, value: "\(x.rows) region(s)", expected: "at least 2 regions")
        }
        if let (r, t) = x.firstNonFinite {
            throw WholeBrainError.badValue(source: "\(source): region \(r), sample \(t)", value: "\(x[r, t])", expected: "finite BOLD values")
        }
        guard o.tr.isFinite, o.tr > 0 else { throw WholeBrainError.badValue(source: "--tr", value: "\(o.tr)", expected: "a positive TR in s") }
        let l = o.welch.segmentLength
        guard l >= 4, o.welch.overlap >= 0, o.welch.overlap < l else {
            throw WholeBrainError.badValue(source: "--segment/--overlap", value: "\(l)/\(o.welch.overlap)",
                                           expected: "a segment of at least 4 samples and an overlap below it")
        }
        guard n >= l else {
            throw WholeBrainError.badValue(source: "\(source)", value: "\(n) samples",
                                           expected: "at least one Welch segment of \(l) samples; use --segment \(max(4, n)) or less, or a longer series")
        }
        guard n >= o.fcdWindow, o.fcdWindow >= 3, o.fcdStep >= 1 else {
            throw WholeBrainError.badValue(source: "\(source)", value: "\(n) samples",
                                           expected: "at least one FCD window of \(o.fcdWindow) samples; use --fcd-window \(max(3, n)) or less")
        }
        for r in 0..<x.rows {
            let row = x.row(r)
            if let first = row.first, row.allSatisfy({ $0 == first }) {
                throw WholeBrainError.badValue(source: "\(source): region \(r)", value: "constant \(first)",
                                               expected: "a series that varies (FC and phases are undefined for a constant one)")
            }
        }
        if let band = o.bandPass {
            guard band.low >= 0, band.high > band.low, band.low < o.fs / 2 else {
                throw WholeBrainError.badValue(source: "--bandpass", value: "\(band.low),\(band.high)",
                                               expected: "0 <= low < high with low below the Nyquist frequency \(o.fs / 2) Hz")
            }
        }
    }

    public static func analyze(regionsByTime x: Matrix, source: String, options o: AnalysisOptions) throws -> BoldMetrics {
        try check(regionsByTime: x, source: source, options: o)
        let (frequencies, psd) = PowerSpectrum.welch(regionsByTime: x, fs: o.fs, options: o.welch)
        let bandPower = o.bands.map { band in
            (band, (0..<x.rows).map { PowerSpectrum.bandPower(psd.row($0), frequencies: frequencies, band: band) })
        }
        let peak = (0..<x.rows).map { PowerSpectrum.peakFrequency(psd.row($0), frequencies: frequencies) }
        let plans = RealFFT.plans(for: x.columns)
        let buffers = FFTBuffers(n: x.columns)
        var alff: [Double] = [], falff: [Double] = []
        x.values.withUnsafeBufferPointer { all in
            for r in 0..<x.rows {
                let a = PowerSpectrum.alff(UnsafeBufferPointer(rebasing: all[(r * x.columns)..<((r + 1) * x.columns)]),
                                           fs: o.fs, buffers: buffers, plans: plans)
                alff.append(a.alff); falff.append(a.falff)
            }
        }
        // One forward transform per region serves both the band-pass and the phase band.
        let bands = [o.phaseBand] + (o.bandPass.map { [$0] } ?? [])
        let passed = BandPass.filter(regionsByTime: x, fs: o.fs, bands: bands)
        let narrow = passed[0]
        let filtered = o.bandPass == nil ? x : passed[1]
        let fc = FunctionalConnectivity.pearson(regionsByTime: filtered)
        let fcd = FunctionalConnectivityDynamics.fcd(regionsByTime: filtered, window: o.fcdWindow, step: o.fcdStep)
        let sync = PhaseSynchrony.synchronyAndMetastability(regionsByTime: narrow)
        return BoldMetrics(frequencies: frequencies, psd: psd, bandPower: bandPower, peakFrequency: peak,
                           alff: alff, falff: falff, fc: fc, fcd: fcd, orderParameter: sync.order,
                           synchrony: sync.synchrony, metastability: sync.metastability)
    }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(xs.count, 1)) }

    /// Region-averaged PSD normalised to unit area (for comparing spectral shapes).
    static func meanSpectrum(_ m: BoldMetrics) -> [Double] {
        var s = [Double](repeating: 0, count: m.frequencies.count)
        for r in 0..<m.psd.rows { for k in s.indices { s[k] += m.psd[r, k] } }
        let total = s.reduce(0, +)
        return total > 0 ? s.map { $0 / total } : s
    }

    /// Distances between two analyses of the same regions: FC correlation, FCD KS distance,
    /// metastability and synchrony differences, and the Euclidean distance between
    /// unit-area mean spectra (when the frequency grids agree).
    public static func compare(_ a: BoldMetrics, to b: BoldMetrics) -> [String: Any] {
        var out: [String: Any] = [
            "fc_correlation": FunctionalConnectivity.similarity(a.fc, b.fc),
            "fcd_ks_distance": FunctionalConnectivityDynamics.ksDistance(FunctionalConnectivityDynamics.distribution(a.fcd),
                                                                         FunctionalConnectivityDynamics.distribution(b.fcd)),
            "metastability_difference": a.metastability - b.metastability,
            "synchrony_difference": a.synchrony - b.synchrony,
        ]
        if a.frequencies == b.frequencies {
            let sa = meanSpectrum(a), sb = meanSpectrum(b)
            out["spectrum_distance"] = zip(sa, sb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        }
        return out
    }

    /// A JSON-ready summary: global values and per-region arrays.
    public static func summary(_ m: BoldMetrics, options o: AnalysisOptions) -> [String: Any] {
        var bands: [String: Any] = [:]
        for (band, values) in m.bandPower {
            bands[band.name] = ["low_hz": band.low, "high_hz": band.high, "mean": mean(values), "per_region": values]
        }
        return [
            "tr_s": o.tr,
            "welch": ["segment": o.welch.segmentLength, "overlap": o.welch.overlap, "detrend": o.welch.detrend.rawValue, "window": "hann"],
            "bandpass_hz": o.bandPass.map { [$0.low, $0.high] as Any } ?? NSNull(),
            "phase_band_hz": [o.phaseBand.low, o.phaseBand.high],
            "fcd": ["window": o.fcdWindow, "step": o.fcdStep, "windows": m.fcd.rows],
            "band_power": bands,
            "peak_frequency_hz": ["mean": mean(m.peakFrequency), "per_region": m.peakFrequency],
            "alff": ["mean": mean(m.alff), "per_region": m.alff],
            "falff": ["mean": mean(m.falff), "per_region": m.falff],
            "synchrony": m.synchrony,
            "metastability": m.metastability,
            "fcd_mean": mean(FunctionalConnectivityDynamics.distribution(m.fcd)),
        ]
    }
}
