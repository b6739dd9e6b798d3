import XCTest
import WholeBrain

/// The BOLD analyses against scipy and numpy on the bundled data and on known signals.
final class AnalysisTests: XCTestCase {
    let tr = 0.72

    func subject(_ s: String) throws -> Matrix { try HCPDataset(root: Fixtures.hcp).boldTimeCourses(subject: s) }

    func assertClose(_ a: Matrix, _ b: Matrix, _ tolerance: Double, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.rows, b.rows, label, file: file, line: line)
        XCTAssertEqual(a.columns, b.columns, label, file: file, line: line)
        let scale = b.values.map(abs).max() ?? 1
        let worst = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, tolerance, "\(label): worst relative difference \(worst / scale)", file: file, line: line)
    }

    func testWelchMatchesScipy() throws {
        let x = try subject("101309")
        let (f, psd) = PowerSpectrum.welch(regionsByTime: x, fs: 1 / tr, options: WelchOptions(segmentLength: 256))
        let reference = try NumpyFile.readMatrix(path: Fixtures.path("welch_101309_psd.npy"))
        let freqs = try NumpyFile.readMatrix(path: Fixtures.path("welch_101309_freqs.npy"))
        for (a, b) in zip(f, freqs.values) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        for r in 0..<x.rows {
            assertClose(Matrix(rows: 1, columns: psd.columns, values: Array(psd.row(r))),
                        Matrix(rows: 1, columns: psd.columns, values: Array(reference.row(r))), 1e-10, "region \(r)")
        }
        let first4 = x.selecting(rows: [0, 1, 2, 3], columns: Array(0..<x.columns))
        let linear = PowerSpectrum.welch(regionsByTime: first4, fs: 1 / tr,
                                         options: WelchOptions(segmentLength: 200, overlap: 50, detrend: .linear)).psd
        assertClose(linear, try NumpyFile.readMatrix(path: Fixtures.path("welch_101309_linear_200_50.npy")), 1e-10, "linear detrend")
    }

    func testKnownSpectrum() throws {
        let signal = try NumpyFile.readMatrix(path: Fixtures.path("sine_noise.npy"))
        let (f, psd) = PowerSpectrum.welch(regionsByTime: signal, fs: 1 / tr, options: WelchOptions(segmentLength: 512))
        assertClose(psd, try NumpyFile.readMatrix(path: Fixtures.path("sine_noise_psd.npy")), 1e-10, "sine + noise")
        let df = f[1] - f[0]
        XCTAssertEqual(PowerSpectrum.peakFrequency(psd.row(0), frequencies: f), 0.05, accuracy: df)
        // Parseval for the one-sided density: the integral is the variance (2^2/2 + 0.25).
        let integral = psd.values.reduce(0, +) * df
        XCTAssertEqual(integral, Fixtures.json("analysis_101309.json")["sine_variance"] as! Double, accuracy: 0.03 * integral)
        let slow4 = PowerSpectrum.bandPower(psd.row(0), frequencies: f, band: .slow4)
        XCTAssertGreaterThan(slow4 / integral, 0.85, "the 0.05 Hz sine carries most power, in slow-4")
        let plans = RealFFT.plans(for: signal.columns), buffers = FFTBuffers(n: signal.columns)
        let a = signal.values.withUnsafeBufferPointer { PowerSpectrum.alff($0, fs: 1 / tr, buffers: buffers, plans: plans) }
        let reference = Fixtures.json("analysis_101309.json")
        assertRelative(a.alff, reference["sine_alff"] as! Double, 1e-10, "ALFF")
        assertRelative(a.falff, reference["sine_falff"] as! Double, 1e-10, "fALFF")
    }

    func testHilbertMatchesScipy() throws {
        let x = try subject("101309")
        for (row, length, file) in [(0, 1200, "hilbert_101309_r0.npy"), (1, 999, "hilbert_101309_r1_odd.npy")] {
            let reference = try NumpyFile.readMatrix(path: Fixtures.path(file))
            let plans = RealFFT.plans(for: length), buffers = FFTBuffers(n: length)
            Array(x.row(row).prefix(length)).withUnsafeBufferPointer { PhaseSynchrony.analytic($0, buffers: buffers, plans: plans) }
            var ours = Matrix(rows: 2, columns: length)
            for t in 0..<length { ours[0, t] = buffers.complexOut[t].0; ours[1, t] = buffers.complexOut[t].1 }
            assertClose(ours, reference, 1e-10, file)
        }
    }

    func testBandPassMatchesTheReferenceMethod() throws {
        let x = try subject("101309")
        let filtered = BandPass.filter(regionsByTime: x, fs: 1 / tr, low: 0.01, high: 0.1)
        assertClose(filtered, try NumpyFile.readMatrix(path: Fixtures.path("bandpass_101309_001_01.npy")), 1e-10, "band-pass")
        // A sine inside the band passes, one outside is removed (away from the ends).
        let n = 2000
        let inside = (0..<n).map { sin(2 * Double.pi * 0.05 * Double($0) * tr) }
        let outside = (0..<n).map { sin(2 * Double.pi * 0.3 * Double($0) * tr) }
        let mixed = Matrix(rows: 1, columns: n, values: zip(inside, outside).map { $0 + $1 })
        let y = BandPass.filter(regionsByTime: mixed, fs: 1 / tr, low: 0.01, high: 0.1)
        let middle = 300..<(n - 300)
        let error = middle.map { abs(y[0, $0] - inside[$0]) }.max()!
        XCTAssertLessThan(error, 0.02)
    }

    func testFCDAndKSDistanceMatchNumpyAndScipy() throws {
        let a = try subject("101309"), b = try subject("102311")
        let fcdA = FunctionalConnectivityDynamics.fcd(regionsByTime: a, window: 60, step: 10)
        assertClose(fcdA, try NumpyFile.readMatrix(path: Fixtures.path("fcd_101309_60_10.npy")), 1e-10, "FCD")
        let fcdB = FunctionalConnectivityDynamics.fcd(regionsByTime: b, window: 60, step: 10)
        let ks = FunctionalConnectivityDynamics.ksDistance(FunctionalConnectivityDynamics.distribution(fcdA),
                                                           FunctionalConnectivityDynamics.distribution(fcdB))
        XCTAssertEqual(ks, Fixtures.json("analysis_101309.json")["fcd_ks_101309_vs_102311"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(FunctionalConnectivityDynamics.ksDistance(FunctionalConnectivityDynamics.distribution(fcdA),
                                                                 FunctionalConnectivityDynamics.distribution(fcdA)), 0)
    }

    /// The blocked kernels (4 x 2 dot-product blocks, 4 x 8 outer-product blocks, chunks of
    /// 512 samples) against the definitions, on shapes that fill no block exactly: 13 regions,
    /// lengths that are not multiples of 4, more samples than one chunk, and sliding windows
    /// (step below the window) as well as windows summed afresh (step above it).
    /// The data's own ceiling (each subject predicted by the mean FC and pooled FCD of the other
    /// six) equals numpy's and scipy's (make_ceiling_fixture.py), subject by subject.
    func testDataCeilingMatchesNumpy() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        var features: [String: DataCeiling.Features] = [:]
        for s in data.subjects { features[s] = DataCeiling.Features(regionsByTime: try data.boldTimeCourses(subject: s), tr: 0.72) }
        let ceiling = DataCeiling(features: features, targets: data.subjects)
        let reference = Fixtures.json("ceiling_hcp.json")
        let fc = reference["fc_r"] as! [String: Double], ks = reference["fcd_ks"] as! [String: Double]
        XCTAssertEqual(ceiling.scores.count, 7)
        for (subject, score) in ceiling.scores {
            XCTAssertEqual(score.fcR, fc[subject]!, accuracy: 1e-9, subject)
            XCTAssertEqual(score.fcdKS, ks[subject]!, accuracy: 1e-9, subject)
        }
        XCTAssertEqual(ceiling.meanFCR, 0.823, accuracy: 0.0005)
        XCTAssert(ceiling.description.hasPrefix("FC r 0.779-0.880 (mean 0.823), FCD KS 0.098-0.404"), ceiling.description)
        // Predicting two held-out subjects from four others.
        let split = DataCeiling(features: features, targets: ["101309", "102311"], predictors: ["102816", "131217", "211619", "213522"])
        XCTAssertEqual(split.scores.map(\.subject), ["101309", "102311"])
        XCTAssertNotEqual(split.scores[0].score.fcR, fc["101309"]!)
    }

    func testFCAndFCDOnOddShapesMatchTheirDefinitions() throws {
        var state: UInt64 = 12345
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let regions = 13, samples = 1101
        var x = Matrix(rows: regions, columns: samples)
        for r in 0..<regions { for t in 0..<samples { x[r, t] = uniform() + (r > 0 ? 0.6 * x[r - 1, t] : 0) } }
        func directFC(_ m: Matrix) -> Matrix {
            var out = Matrix(rows: m.rows, columns: m.rows)
            for i in 0..<m.rows { for j in 0..<m.rows { out[i, j] = FunctionalConnectivity.correlation(Array(m.row(i)), Array(m.row(j))) } }
            return out
        }
        assertClose(FunctionalConnectivity.pearson(regionsByTime: x), directFC(x), 1e-13, "FC, 13 x 1101")
        for (window, step) in [(23, 7), (30, 41)] {
            let count = FunctionalConnectivityDynamics.windowCount(samples: samples, window: window, step: step)
            let triangles = (0..<count).map { a -> [Double] in
                let fc = directFC(x.selecting(rows: Array(0..<regions), columns: Array((a * step)..<(a * step + window))))
                return (0..<regions).flatMap { i in ((i + 1)..<regions).map { fc[i, $0] } }
            }
            var direct = Matrix(rows: count, columns: count)
            for a in 0..<count { for b in 0..<count { direct[a, b] = FunctionalConnectivity.correlation(triangles[a], triangles[b]) } }
            assertClose(FunctionalConnectivityDynamics.fcd(regionsByTime: x, window: window, step: step), direct, 1e-12,
                        "FCD, window \(window), step \(step)")
        }
    }

    func testSynchronyAndMetastabilityMatchNumpy() throws {
        let x = try subject("101309")
        var o = AnalysisOptions(tr: tr)
        o.phaseBand = (0.04, 0.07)
        let m = try BoldAnalysis.analyze(regionsByTime: x, source: "101309", options: o)
        let reference = Fixtures.json("analysis_101309.json")
        assertRelative(m.synchrony, reference["synchrony"] as! Double, 1e-10, "synchrony")
        assertRelative(m.metastability, reference["metastability"] as! Double, 1e-10, "metastability")
        XCTAssertEqual(m.psd.rows, 80)
        XCTAssertEqual(m.fcd.rows, FunctionalConnectivityDynamics.windowCount(samples: 1200, window: 60, step: 10))
    }

    func testBadSeriesAreNamed() throws {
        let x = try subject("101309")
        let o = AnalysisOptions(tr: tr)
        var constant = x
        for t in 0..<x.columns { constant[7, t] = 3 }
        assertThrowsMessage(try BoldAnalysis.analyze(regionsByTime: constant, source: "bold.npy", options: o),
                            containing: ["bold.npy", "region 7", "constant"])
        var broken = x
        broken[5, 42] = .nan
        assertThrowsMessage(try BoldAnalysis.analyze(regionsByTime: broken, source: "bold.npy", options: o),
                            containing: ["region 5, sample 42", "nan"])
        let short = x.selecting(rows: Array(0..<80), columns: Array(0..<100))
        assertThrowsMessage(try BoldAnalysis.analyze(regionsByTime: short, source: "short", options: o),
                            containing: ["100 samples", "--segment 100 or less"])
        var longWindow = o
        longWindow.welch = WelchOptions(segmentLength: 64)
        longWindow.fcdWindow = 200
        assertThrowsMessage(try BoldAnalysis.analyze(regionsByTime: short, source: "short", options: longWindow),
                            containing: ["FCD window of 200", "--fcd-window 100 or less"])
    }
}
