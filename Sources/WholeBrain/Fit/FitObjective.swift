import Foundation

/// The loss terms computed from a simulation, their weights, and the data they compare with.
/// The BOLD terms (`evaluate`) serve every model; entropy and regime are the reduced
/// Wong-Wang model's (terms of its S_E and S_I, in `RWWGradient`).
public struct FitObjective: Sendable {
    public var empiricalFC: Matrix
    /// Empirical BOLD, regions x samples, for the time-series and spectral terms: sample k
    /// of the run (counted from the end of the transient) is compared with column k.
    public var empiricalBold: Matrix?
    /// Weights of the FC surprise, the entropy of S_E and S_I, the time-series error and
    /// the spectral distance (`BoldFitTerms`); a zero weight switches a term off.
    public var surprise: Double, entropy: Double, timeSeries: Double, spectrum: Double
    /// Band-pass (Hz) applied to the simulated BOLD before the BOLD terms (the empirical
    /// data are expected filtered the same way); the gradient goes back through it.
    public var bandPass: (low: Double, high: Double)?
    /// Weight of the regime term: the mean over BOLD samples and regions of
    /// ((S_E - S_E*) / S_E*)^2, S_E* = `regimeTarget` (the FIC state's S_E: 0.161 at 3 Hz).
    /// It keeps the run near the low-activity state feedback inhibition designs: slow
    /// fluctuations cost little (0.003 at a 5% spread), an excursion to the high state a lot
    /// (2.3 at S_E = 0.4). Zero switches it off.
    public var regime = 0.0, regimeTarget = 0.161
    /// Weight of the FC level term (`FCObjective.meanSquaredError`), 0: off.
    public var fcLevel = 0.0
    /// Weight of the FC mean level term (`FCObjective.meanLevel`), 0: off.
    public var fcMean = 0.0
    /// Weight of the BOLD variance term (`BoldFitTerms.varianceDistance`) and its target,
    /// one log variance per region (`BoldFitTerms.logVariances`); 0: off.
    public var boldVariance = 0.0, varianceTarget: [Double] = []
    /// Weight of the BOLD level term (`BoldFitTerms.levelDistance`) and its target, the
    /// mean and standard deviation of each region's BOLD (`BoldFitTerms.levels`); 0: off.
    public var boldMean = 0.0, levelTarget: (mean: [Double], sd: [Double]) = ([], [])
    /// Weight of the FCD term (`FCDTerm`), its target (the sorted empirical FCD values) and
    /// its windows and band; 0: off.
    public var fcd = 0.0, fcdTarget: [Double] = [], fcdSettings = FCDTerm.Settings()

    public init(empiricalFC: Matrix, empiricalBold: Matrix? = nil, surprise: Double = 1, entropy: Double = 0,
                timeSeries: Double = 0, spectrum: Double = 0) {
        self.empiricalFC = empiricalFC
        self.empiricalBold = empiricalBold
        self.surprise = surprise; self.entropy = entropy; self.timeSeries = timeSeries; self.spectrum = spectrum
    }
}

extension FitObjective {
    /// The weighted BOLD terms and their cotangent.
    public struct Evaluation {
        /// The weighted sum of the switched-on BOLD terms.
        public let loss: Double
        /// Each switched-on term's unweighted value, by its history.csv name.
        public let terms: [String: Double]
        /// r of the simulated FC (band-passed with `bandPass`) with `empiricalFC`.
        public let fcCorrelation: Double
        /// dL/dBOLD, regions x samples, for the unfiltered BOLD.
        public let cotangent: Matrix
    }

    /// The BOLD terms of a run's BOLD (samples x regions, unfiltered; TR in s) and dL/dBOLD;
    /// `firstSample`: the column of `empiricalBold` that the run's first sample is compared
    /// with (time-series and spectral terms). Any model's BOLD: nothing here knows the model.
    public func evaluate(bold: Matrix, tr: Double, firstSample: Int) throws -> Evaluation {
        let n = bold.columns, samples = bold.rows
        let samplingRate = 1 / tr
        let regionsByTime = bandPass.map {
            BandPass.filter(regionsByTime: bold.transposed, fs: samplingRate, low: $0.low, high: $0.high)
        } ?? bold.transposed
        var loss = 0.0
        var terms: [String: Double] = [:]
        var cotangent = Matrix(rows: n, columns: samples)
        func add(_ name: String, _ weight: Double, _ value: BoldFitTerms.Value) {
            terms[name] = value.loss
            loss += weight * value.loss
            for q in cotangent.values.indices { cotangent.values[q] += weight * value.gradient.values[q] }
        }
        let fit = FCObjective.surprise(regionsByTime: regionsByTime, empiricalFC: empiricalFC)
        if surprise != 0 { add("surprise", surprise, BoldFitTerms.Value(loss: fit.loss, gradient: fit.gradient)) }
        if fcLevel != 0 {
            let level = FCObjective.meanSquaredError(regionsByTime: regionsByTime, empiricalFC: empiricalFC)
            add("fc_level", fcLevel, BoldFitTerms.Value(loss: level.loss, gradient: level.gradient))
        }
        if fcMean != 0 {
            let level = FCObjective.meanLevel(regionsByTime: regionsByTime, empiricalFC: empiricalFC)
            add("fc_mean", fcMean, BoldFitTerms.Value(loss: level.loss, gradient: level.gradient))
        }
        if boldVariance != 0 {
            guard varianceTarget.count == n else {
                throw WholeBrainError.badValue(source: "--loss", value: "bold-variance", expected: "a target log variance for each of \(n) regions")
            }
            add("bold_variance", boldVariance, BoldFitTerms.varianceDistance(regionsByTime: regionsByTime, targetLogVariance: varianceTarget))
        }
        if boldMean != 0 {
            guard levelTarget.mean.count == n, levelTarget.sd.count == n, bandPass == nil else {
                throw WholeBrainError.badValue(source: "--loss", value: "bold-mean",
                                               expected: "unfiltered BOLD (no --bandpass: it removes the level) with a target mean and SD for each of \(n) regions")
            }
            add("bold_mean", boldMean, BoldFitTerms.levelDistance(regionsByTime: regionsByTime, targetMean: levelTarget.mean,
                                                                 targetSD: levelTarget.sd))
        }
        if timeSeries != 0 || spectrum != 0 {
            guard let e = empiricalBold, e.rows == n, firstSample + samples <= e.columns else {
                throw WholeBrainError.badValue(source: "--loss", value: "timeseries/spectrum",
                                               expected: "empirical BOLD of \(n) regions with at least \(firstSample + samples) samples")
            }
            var aligned = Matrix(rows: n, columns: samples)
            for i in 0..<n { for c in 0..<samples { aligned[i, c] = e[i, firstSample + c] } }
            if timeSeries != 0 {
                add("timeseries", timeSeries, BoldFitTerms.timeSeriesError(regionsByTime: regionsByTime, empirical: aligned))
            }
            if spectrum != 0 {
                add("spectrum", spectrum, BoldFitTerms.spectralDistance(regionsByTime: regionsByTime, empirical: aligned))
            }
        }
        if let band = bandPass {
            cotangent = BandPass.transpose(regionsByTime: cotangent, fs: samplingRate, low: band.low, high: band.high)
        }
        if fcd != 0 {
            // On the unfiltered BOLD (the term filters it with its own band), so added after the
            // cotangent went back through the fit's band-pass.
            add("fcd", fcd, try FCDTerm.distance(regionsByTime: bold.transposed, tr: tr, target: fcdTarget, settings: fcdSettings))
        }
        return Evaluation(loss: loss, terms: terms, fcCorrelation: fit.correlation, cotangent: cotangent)
    }
}
