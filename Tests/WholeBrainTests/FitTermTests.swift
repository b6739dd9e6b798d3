import XCTest
import WholeBrain

/// The loss terms beyond the FC fit (entropy, time-series error, spectral distance), the
/// gradient with respect to connectome weights, and gradients over a window that starts
/// from a carried state: each against central finite differences.
final class FitTermTests: XCTestCase {
    func wave(_ n: Int, _ t: Int, _ phase: Double) -> Matrix {
        Matrix(rows: n, columns: t, values: (0..<(n * t)).map { k in
            let i = Double(k / t), s = Double(k % t)
            return sin(0.4 * s + i * phase) + 0.3 * cos(0.17 * s * (i + 1)) + 0.05 * Double((k * 7919) % 13)
        })
    }

    /// A term's gradient with respect to the series y at some elements, against central differences.
    func assertGradientMatchesFiniteDifferences(_ name: String, _ y: Matrix, elements: [Int], absolute: Double,
                                                _ term: (Matrix) -> (loss: Double, gradient: Matrix)) {
        let value = term(y)
        for q in elements {
            var plus = y, minus = y
            plus.values[q] += 1e-6; minus.values[q] -= 1e-6
            let fd = (term(plus).loss - term(minus).loss) / 2e-6
            XCTAssertEqual(value.gradient.values[q], fd, accuracy: absolute + 1e-5 * abs(fd), "\(name), element \(q)")
        }
    }

    func testTimeSeriesAndSpectralTermsMatchFiniteDifferences() {
        let y = wave(3, 24, 0.9), e = wave(3, 24, 2.1)
        for (name, term) in [("timeseries", BoldFitTerms.timeSeriesError), ("spectrum", BoldFitTerms.spectralDistance)] {
            assertGradientMatchesFiniteDifferences(name, y, elements: [0, 5, 30, 71], absolute: 1e-7) { let v = term($0, e); return (v.loss, v.gradient) }
            XCTAssertEqual(term(e, e).loss, 0, accuracy: 1e-12, "\(name) of identical series")
        }
    }

    /// The FC terms' gradients with respect to BOLD: the surprise of r and the FC level term
    /// (mean squared FC difference), which is zero for identical FC and grows with the level.
    func testFCTermsMatchFiniteDifferences() {
        let y = wave(4, 30, 0.7), eBold = wave(4, 30, 1.9)
        let e = FunctionalConnectivity.pearson(regionsByTime: eBold)
        for (name, term) in [("surprise", FCObjective.surprise), ("fc level", FCObjective.meanSquaredError)] {
            assertGradientMatchesFiniteDifferences(name, y, elements: [0, 7, 44, 101], absolute: 1e-8) { let v = term($0, e); return (v.loss, v.gradient) }
        }
        XCTAssertEqual(FCObjective.meanSquaredError(regionsByTime: eBold, empiricalFC: e).loss, 0, accuracy: 1e-15)
        // r is blind to the level, the level term is not: FC halved off the diagonal keeps r = 1.
        var half = e
        for i in 0..<4 { for j in 0..<4 where i != j { half[i, j] *= 0.5 } }
        XCTAssertEqual(FCObjective.surprise(regionsByTime: eBold, empiricalFC: half).correlation, 1, accuracy: 1e-12)
        XCTAssertGreaterThan(FCObjective.meanSquaredError(regionsByTime: eBold, empiricalFC: half).loss, 1e-3)
    }

    /// The FC mean level and BOLD variance terms: exact gradients, zero at their targets, and
    /// the mean level is blind to the pattern but not to the level.
    func testLevelAndVarianceTermsMatchFiniteDifferences() {
        let y = wave(4, 30, 0.7), eBold = wave(4, 36, 1.9)
        let e = FunctionalConnectivity.pearson(regionsByTime: eBold)
        assertGradientMatchesFiniteDifferences("fc mean", y, elements: [0, 7, 44, 101], absolute: 1e-9) {
            let v = FCObjective.meanLevel(regionsByTime: $0, empiricalFC: e); return (v.loss, v.gradient)
        }
        let target = BoldFitTerms.logVariances(regionsByTime: eBold)
        assertGradientMatchesFiniteDifferences("bold variance", y, elements: [0, 7, 44, 101], absolute: 1e-9) {
            let v = BoldFitTerms.varianceDistance(regionsByTime: $0, targetLogVariance: target); return (v.loss, v.gradient)
        }
        XCTAssertEqual(FCObjective.meanLevel(regionsByTime: eBold, empiricalFC: e).loss, 0, accuracy: 1e-15)
        XCTAssertEqual(BoldFitTerms.varianceDistance(regionsByTime: eBold, targetLogVariance: target).loss, 0, accuracy: 1e-15)
        // The BOLD level: exact gradient, zero at the target, (shift / SD)^2 for a shifted copy.
        let levels = BoldFitTerms.levels(regionsByTime: eBold)
        assertGradientMatchesFiniteDifferences("bold mean", y, elements: [0, 7, 44, 101], absolute: 1e-9) {
            let v = BoldFitTerms.levelDistance(regionsByTime: $0, targetMean: levels.mean, targetSD: levels.sd); return (v.loss, v.gradient)
        }
        XCTAssertEqual(BoldFitTerms.levelDistance(regionsByTime: eBold, targetMean: levels.mean, targetSD: levels.sd).loss, 0, accuracy: 1e-15)
        let shifted = Matrix(rows: 4, columns: 36, values: eBold.values.enumerated().map { $1 + 0.5 * levels.sd[$0 / 36] })
        XCTAssertEqual(BoldFitTerms.levelDistance(regionsByTime: shifted, targetMean: levels.mean, targetSD: levels.sd).loss, 0.25, accuracy: 1e-12)
        for (a, b) in zip(BoldFitTerms.levels(regionsByTime: shifted).sd, levels.sd) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        // Auto uses it only where nothing holds the activity level, in model units, unfiltered.
        func auto(_ units: String?, levelFree: Bool, filtered: Bool) -> Double? {
            LossSelection.automatic(stretchSamples: 166, targetSamples: 833, modelUnits: units, shapesPattern: false,
                                    levelFree: levelFree, filtered: filtered).weights["bold-mean"]
        }
        XCTAssertEqual(auto("simulated", levelFree: true, filtered: false), LossSelection.boldMeanWeight)
        XCTAssertNil(auto("simulated", levelFree: false, filtered: false))
        XCTAssertNil(auto("simulated", levelFree: true, filtered: true))
        XCTAssertNil(auto(nil, levelFree: true, filtered: false))
        // Doubling the series quadruples each variance: the term is 4 (log 4)^2 / 4 = (log 4)^2.
        let doubled = Matrix(rows: 4, columns: 36, values: eBold.values.map { 2 * $0 })
        XCTAssertEqual(BoldFitTerms.varianceDistance(regionsByTime: doubled, targetLogVariance: target).loss, pow(log(4.0), 2), accuracy: 1e-12)
        // Stretches of 12 samples: the mean of the three stretches' log variances, each filtered first.
        let pieces = BoldFitTerms.segments(of: eBold, length: 12)
        XCTAssertEqual(pieces.count, 3)
        XCTAssertEqual(pieces[1][2, 5], eBold[2, 17])
        let perPiece = pieces.map { BoldFitTerms.logVariances(regionsByTime: Matrix(rows: 4, columns: 12, values: $0.values.map { 3 * $0 })) }
        let segmented = BoldFitTerms.logVariances(regionsByTime: eBold, segment: 12) { Matrix(rows: $0.rows, columns: $0.columns, values: $0.values.map { 3 * $0 }) }
        for i in 0..<4 { XCTAssertEqual(segmented[i], perPiece.map { $0[i] }.reduce(0, +) / 3, accuracy: 1e-12) }
        var half = e
        for i in 0..<4 { for j in 0..<4 where i != j { half[i, j] *= 0.5 } }
        var mean = 0.0
        for i in 0..<4 { for j in (i + 1)..<4 { mean += e[i, j] / 6 } }
        XCTAssertEqual(FCObjective.meanLevel(regionsByTime: eBold, empiricalFC: half).loss, pow(mean / 2, 2), accuracy: 1e-12)
    }

    /// The FCD term: the Wasserstein distance is zero against its own FCD values (as the
    /// analysis computes them), positive against another series', and its gradient through
    /// sorting, the windows' normalised FC vectors and the band-pass is exact.
    func testFCDTermMatchesFiniteDifferencesAndTheAnalysis() throws {
        let y = wave(5, 48, 0.7), other = wave(5, 60, 2.3)
        for band in [nil, FCDTerm.Settings.Band(low: 0.05, high: 0.4)] {
            var settings = FCDTerm.Settings()
            settings.window = 10; settings.step = 4; settings.bandPass = band
            let own = FCDTerm.targetValues(regionsByTime: y, tr: 1, settings: settings)
            let x = band.map { BandPass.filter(regionsByTime: y, fs: 1, low: $0.low, high: $0.high) } ?? y
            XCTAssertEqual(own, FunctionalConnectivityDynamics.distribution(FunctionalConnectivityDynamics.fcd(regionsByTime: x, window: 10, step: 4)).sorted())
            XCTAssertEqual(own.count, 45)
            // Two stretches of 24 samples, each filtered and windowed on its own: 2 x 6 values.
            let pooled = FCDTerm.targetValues(regionsByTime: y, tr: 1, settings: settings, segment: 24)
            let halves = BoldFitTerms.segments(of: y, length: 24).flatMap { FCDTerm.targetValues(regionsByTime: $0, tr: 1, settings: settings) }
            XCTAssertEqual(pooled, halves.sorted())
            XCTAssertEqual(pooled.count, 12)
            XCTAssertEqual(try FCDTerm.distance(regionsByTime: y, tr: 1, target: own, settings: settings).loss, 0, accuracy: 1e-12)
            let target = FCDTerm.targetValues(regionsByTime: other, tr: 1, settings: settings)
            XCTAssertGreaterThan(try FCDTerm.distance(regionsByTime: y, tr: 1, target: target, settings: settings).loss, 1e-3)
            assertGradientMatchesFiniteDifferences("fcd, band \(String(describing: band))", y, elements: [0, 13, 47, 100, 170, 239], absolute: 1e-8) {
                let v = try! FCDTerm.distance(regionsByTime: $0, tr: 1, target: target, settings: settings); return (v.loss, v.gradient)
            }
        }
        var settings = FCDTerm.Settings()
        settings.window = 10; settings.step = 4
        XCTAssertThrowsError(try FCDTerm.distance(regionsByTime: wave(5, 13, 0.7), tr: 1, target: [0.5], settings: settings))
    }

    /// The spectral term's periodogram is FFTW's |rfft|^2 of the centred series.
    func testSpectralShapeAgreesWithFFTW() throws {
        let y = wave(1, 20, 0.5)
        let flat = Matrix(rows: 1, columns: 20, values: [Double](repeating: 0, count: 20).enumerated().map { k, _ in k == 3 ? 1 : 0 })
        // A centred unit impulse has |X_k| = 1 at every k > 0: its shape is flat, 1/10 per bin.
        let mean = y.values.reduce(0, +) / 20
        let buffers = FFTBuffers(n: 20)
        for k in 0..<20 { buffers.real[k] = y.values[k] - mean }
        RealFFT.plans(for: 20).forward(buffers)
        let power = (1...10).map { buffers.spectrum[$0].0 * buffers.spectrum[$0].0 + buffers.spectrum[$0].1 * buffers.spectrum[$0].1 }
        let p = power.map { $0 / power.reduce(0, +) }
        let expected = p.reduce(0) { $0 + ($1 - 0.1) * ($1 - 0.1) }
        XCTAssertEqual(BoldFitTerms.spectralDistance(regionsByTime: y, empirical: flat).loss, expected, accuracy: 1e-12)
    }

    func spec(g: Double = 0.5, jI: Double = 1.0, sigma: Double = 0.01, weights: Matrix? = nil) throws -> SimulationSpec<ReducedWongWang> {
        var p = ReducedWongWang.Parameters()
        p.g = g; p.jI = jI
        let base = try smallConnectome(5)
        return try SimulationSpec(model: ReducedWongWang(parameters: p),
                                  connectome: try Connectome(weights: weights ?? base.weights, lengths: base.lengths),
                                  noise: NoiseSpec(sigma: sigma), dt: 0.1, duration: 2, transient: 0.2, tr: 0.05,
                                  conductionSpeed: 20, seed: 13)
    }

    /// Every term at once, over a window that starts mid-run from a carried state, for model
    /// parameters, sigma and single connection weights.
    func testWindowGradientOfAllTermsMatchesFiniteDifferences() throws {
        let base = try spec()
        let empiricalBold = wave(5, base.sampleCount, 1.3)
        var objective = RWWGradient.Objective(empiricalFC: FunctionalConnectivity.pearson(regionsByTime: empiricalBold),
                                              empiricalBold: empiricalBold, surprise: 1, entropy: 0.3, timeSeries: 0.5, spectrum: 2)
        objective.regime = 0.7
        objective.regimeTarget = 0.161
        objective.fcLevel = 0.4
        objective.fcMean = 0.6
        objective.boldVariance = 0.2
        objective.varianceTarget = BoldFitTerms.logVariances(regionsByTime: empiricalBold)
        objective.boldMean = 0.3
        objective.levelTarget = BoldFitTerms.levels(regionsByTime: empiricalBold)
        objective.fcd = 0.8
        objective.fcdSettings.window = 8; objective.fcdSettings.step = 3; objective.fcdSettings.bandPass = nil
        objective.fcdTarget = FCDTerm.targetValues(regionsByTime: empiricalBold, tr: base.tr, settings: objective.fcdSettings)
        let startStep = base.transientSteps + 10 * base.stepsPerTR, window = 20 * base.stepsPerTR
        func evaluate(_ s: SimulationSpec<ReducedWongWang>, weights: Bool = false, parameters: [RWWGradient.Parameter] = []) throws
            -> RWWGradient.Result {
            let start = RWWGradient.advance(spec: s, steps: startStep)
            return try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: parameters, weightGradient: weights,
                                                   checkpointEvery: 700, from: start, steps: window)
        }
        let result = try evaluate(base, weights: true, parameters: [.g, .jI, .sigma, .nodeJI(3)])
        XCTAssertEqual(Set(result.terms.keys), ["surprise", "fc_level", "fc_mean", "bold_variance", "bold_mean", "fcd", "entropy", "timeseries", "spectrum", "regime"])
        XCTAssertGreaterThan(result.terms["regime"]!, 0)
        XCTAssertEqual(result.bold.rows, 20)
        XCTAssertEqual(result.end.step, startStep + window)
        // The gradient holds the window's starting state fixed, so perturb the parameters only
        // inside the window: the start state comes from the unperturbed run.
        let start = RWWGradient.advance(spec: base, steps: startStep)
        func loss(_ s: SimulationSpec<ReducedWongWang>) throws -> Double {
            try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: [], from: start, steps: window).loss
        }
        func richardson(_ size: Double, _ f: (Double) throws -> Double) rethrows -> Double {
            let h = 1e-3 * size
            let coarse = (try f(h) - f(-h)) / (2 * h), fine = (try f(h / 2) - f(-h / 2)) / h
            return (4 * fine - coarse) / 3
        }
        let checks: [(String, Double, Double)] = [
            ("G", result.gradient[.g]!, try richardson(0.5) { try loss(try spec(g: 0.5 + $0)) }),
            ("J_i", result.gradient[.jI]!, try richardson(1) { try loss(try spec(jI: 1 + $0)) }),
            ("sigma", result.gradient[.sigma]!, try richardson(0.01) { try loss(try spec(sigma: 0.01 + $0)) }),
            ("W[1,0]", result.weightGradient![1, 0], try richardson(base.connectome.weights[1, 0]) { h in
                var w = base.connectome.weights
                w[1, 0] += h
                return try loss(try spec(weights: w))
            }),
            ("W[3,4]", result.weightGradient![3, 4], try richardson(base.connectome.weights[3, 4]) { h in
                var w = base.connectome.weights
                w[3, 4] += h
                return try loss(try spec(weights: w))
            }),
            // A long edge (88 mm, 44 steps), whose early terms read the state before the window.
            ("W[2,4]", result.weightGradient![2, 4], try richardson(base.connectome.weights[2, 4]) { h in
                var w = base.connectome.weights
                w[2, 4] += h
                return try loss(try spec(weights: w))
            }),
        ]
        for (name, analytic, fd) in checks {
            XCTAssertLessThan(abs(analytic - fd) / max(abs(fd), 1e-6), 1e-6, "\(name): adjoint \(analytic), finite difference \(fd)")
        }
        XCTAssertEqual(result.weightGradient![2, 2], 0, "no self-connection, no gradient")
    }

    /// The four-lane transfer derivative (used by the adjoint) equals the scalar one, through
    /// the threshold, far below it and far above.
    func testLaneTransferDerivativeMatchesScalar() {
        let p = ReducedWongWang.Parameters()
        for x in [-5.0, 0.3, 0.4032, 125.0 / 310, 0.41, 0.8, 3.0, -1e3] {
            let lanes = ReducedWongWang.transferDerivative(VectorMath.Lanes(repeating: x), a: p.aE, b: p.bE, d: p.dE)[2]
            let scalar = ReducedWongWang.transferDerivative(x, a: p.aE, b: p.bE, d: p.dE)
            XCTAssertEqual(lanes, scalar, accuracy: 1e-13 * max(abs(scalar), 1), "x = \(x)")
        }
        // The fused form gives each one's bits (y = 0 and |d y| < 1e-5 included).
        for x in [-5.0, 0.3, 0.4032, 125.0 / 310, 125.0 / 310 + 1e-9, 0.41, 0.8, 3.0, -1e3] {
            let lanes = VectorMath.Lanes(x, x * 0.999, x + 1e-8, -x)
            let fused = ReducedWongWang.transferWithDerivative(lanes, a: p.aE, b: p.bE, d: p.dE)
            XCTAssertEqual(fused.h, ReducedWongWang.transfer(lanes, a: p.aE, b: p.bE, d: p.dE), "x = \(x)")
            XCTAssertEqual(fused.slope, ReducedWongWang.transferDerivative(lanes, a: p.aE, b: p.bE, d: p.dE), "x = \(x)")
        }
        // The Jacobian from the exponentials the forward pass kept equals the one that recomputes them.
        let model = ReducedWongWang(parameters: p)
        for (sE, sI, c) in [(0.1, 0.05, 0.3), (0.9, 0.4, 2.0), (0.0, 0.0, 0.0), (0.5, 1.0, -1.0)] {
            let e = VectorMath.Lanes(sE, sE * 0.5, sE + 0.01, 1 - sE), i = VectorMath.Lanes(repeating: sI)
            let cl = VectorMath.Lanes(c, -c, 2 * c, 0), jI = VectorMath.Lanes(1, 1.5, 0.5, 2)
            // Regional w_+ and I_0 in three lanes, the model's own in the last.
            let node = model.terms(jI: jI, wPlus: VectorMath.Lanes(1.2, 1.6, 1.4, p.wPlus), i0: VectorMath.Lanes(0.36, 0.4, 0.3, p.i0))
            let kept = model.driftKeepingExponentials(sE: e, sI: i, coupling: cl, node: node)
            let plain = model.drift(sE: e, sI: i, coupling: cl, node: node)
            XCTAssertEqual(kept.dE, plain.dE); XCTAssertEqual(kept.dI, plain.dI)
            let uniform = model.drift(sE: e, sI: i, coupling: cl, jI: jI)
            XCTAssertEqual(uniform.dE[3], plain.dE[3], "the model's own w_+ and I_0 per node give the uniform drift's bits")
            let a = model.jacobianEntries(sE: e, sI: i, coupling: cl, node: node)
            let b = model.jacobianEntries(sE: e, sI: i, coupling: cl, node: node, emE: kept.emE, emI: kept.emI)
            XCTAssertEqual([a.ee, a.ei, a.ie, a.ii, a.ec, a.kE, a.kI], [b.ee, b.ei, b.ie, b.ii, b.ec, b.kE, b.kI])
        }
    }

    /// The band-pass transpose: <B x, g> = <x, B^T g> for any x and g.
    func testBandPassTransposeIsTheAdjoint() {
        for n in [40, 57, 100] {
            let x = wave(3, n, 0.7), g = wave(3, n, 2.3)
            let bx = BandPass.filter(regionsByTime: x, fs: 1 / 0.72, low: 0.01, high: 0.1)
            let btg = BandPass.transpose(regionsByTime: g, fs: 1 / 0.72, low: 0.01, high: 0.1)
            let left = zip(bx.values, g.values).reduce(0) { $0 + $1.0 * $1.1 }
            let right = zip(x.values, btg.values).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(left, right, accuracy: 1e-12 * max(abs(left), 1), "n = \(n)")
        }
    }

    /// The gradient through a band-passed loss against finite differences.
    func testBandPassedLossGradientMatchesFiniteDifferences() throws {
        let base = try spec()
        let empiricalBold = BandPass.filter(regionsByTime: wave(5, base.sampleCount, 1.3), fs: 20, low: 0.5, high: 4)
        var objective = RWWGradient.Objective(empiricalFC: FunctionalConnectivity.pearson(regionsByTime: empiricalBold),
                                              empiricalBold: empiricalBold, surprise: 1, timeSeries: 0.5)
        objective.bandPass = (0.5, 4)
        let result = try RWWGradient.lossAndGradient(spec: base, objective: objective, parameters: [.g, .sigma])
        func loss(_ s: SimulationSpec<ReducedWongWang>) throws -> Double {
            try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: []).loss
        }
        for (name, analytic, size, make) in [("G", result.gradient[.g]!, 0.5, { (h: Double) in try self.spec(g: 0.5 + h) }),
                                             ("sigma", result.gradient[.sigma]!, 0.01, { (h: Double) in try self.spec(sigma: 0.01 + h) })] {
            let h = 1e-3 * size
            let coarse = (try loss(try make(h)) - loss(try make(-h))) / (2 * h)
            let fine = (try loss(try make(h / 2)) - loss(try make(-h / 2))) / h
            let fd = (4 * fine - coarse) / 3
            XCTAssertLessThan(abs(analytic - fd) / max(abs(fd), 1e-6), 1e-6, "\(name): adjoint \(analytic), finite difference \(fd)")
        }
    }

    func testTermsNeedEnoughEmpiricalBold() throws {
        let base = try spec()
        let short = wave(5, 10, 1)
        let objective = RWWGradient.Objective(empiricalFC: FunctionalConnectivity.pearson(regionsByTime: short), empiricalBold: short,
                                              timeSeries: 1)
        assertThrowsMessage(try RWWGradient.lossAndGradient(spec: base, objective: objective, parameters: [.g]),
                            containing: ["timeseries", "at least 40 samples"])
    }
}
