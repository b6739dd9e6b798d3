import XCTest
import WholeBrain

/// The small case of `make recovery`: G fitted back from BOLD simulated with another noise
/// seed (nothing shared but the model), with the terms `--loss auto` picks for BOLD in model
/// units, below and near the bifurcation of a small network; and the FC surprise alone, which
/// the auto choice leaves out for global parameters, shown to land further off.
final class RecoveryTests: XCTestCase {
    func spec(g: Double, seed: UInt64, duration: Double) throws -> SimulationSpec<ReducedWongWang> {
        var p = ReducedWongWang.Parameters()
        p.g = g; p.wPlus = 1.3; p.jI = 1.1
        return try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: try smallConnectome(8), noise: NoiseSpec(sigma: 0.01),
                                  dt: 0.1, duration: duration, transient: SimulationDefaults.transient, tr: 0.5, conductionSpeed: 20, seed: seed)
    }

    func fit(truth g: Double, start: Double, auto: Bool) throws -> Double {
        // 600 s of data from seed 5; epochs of 120 s with seed 9.
        let data = try NetworkSimulator(spec: try spec(g: g, seed: 5, duration: 600)).run().bold.transposed
        let fitted = try spec(g: start, seed: 9, duration: 120)
        var options = GradientFit.Options(parameters: [(.g, .bounded(0, 1))], epochs: 20, learningRate: 0.05)
        let choice = LossSelection.automatic(stretchSamples: fitted.sampleCount, targetSamples: data.columns, modelUnits: "a test",
                                             shapesPattern: false, fcd: options.fcdSettings)
        XCTAssertEqual(Set(choice.weights.keys), ["fc-mean", "fcd", "bold-variance"], choice.reasons.joined(separator: "; "))
        options.setWeights(auto ? choice.weights : ["surprise": 1])
        let target = GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: data),
                                        fcdValues: FCDTerm.targetValues(regionsByTime: data, tr: fitted.tr, settings: options.fcdSettings,
                                                                        segment: fitted.sampleCount),
                                        logVariances: BoldFitTerms.logVariances(regionsByTime: data, segment: fitted.sampleCount))
        let outcome = try GradientFit.fit(spec: fitted, target: target, options: options)
        XCTAssertTrue(outcome.fittedByTrainingLoss)
        let best = outcome.history.min { $0.loss < $1.loss }!
        XCTAssertEqual(outcome.spec.model.parameters.g, best.values[0], accuracy: 1e-12, "the lowest-loss epoch's values are returned")
        return outcome.spec.model.parameters.g
    }

    func testGRecoveredWithin5PercentFromAnotherNoiseSeed() throws {
        // The low state gives way between G = 0.1 and 0.15 on this network (JointRecoveryTests).
        for (g, start) in [(0.06, 0.075), (0.12, 0.1)] {
            let value = try fit(truth: g, start: start, auto: true)
            print("recovery: G = \(g) from \(start): \(value) (\(String(format: "%+.1f", 100 * (value - g) / g))%)")
            XCTAssertEqual(value, g, accuracy: 0.05 * g, "G = \(g) from \(start)")
        }
        let surpriseOnly = try fit(truth: 0.06, start: 0.075, auto: false)
        print("recovery: G = 0.06 from 0.075 with the FC surprise alone: \(surpriseOnly)")
        XCTAssertGreaterThan(abs(surpriseOnly - 0.06), 0.05 * 0.06, "the surprise alone is biased here")
    }

    /// Regional heterogeneity on a network too small to show it: BOLD made with w_+ varying
    /// along a map (slope 0.05 per SD), fitted with G from a homogeneous start and another
    /// noise seed. Across slopes -0.05 to 0.075 the loss moves by 0.001 under one seed while two
    /// seeds differ by 0.19 (measured), so the data cannot decide the slope, and the
    /// identifiability figure must say so rather than report the fitted number.
    func testRegionalSlopeTheDataCannotDecideIsFlagged() throws {
        let maps = try RegionalMaps(names: ["m"], values: [[0.2, 1.4, 0.5, -0.7, 1.1, -1.2, 0.1, -0.9]], regions: 8, source: "test")
        let truth = (g: 0.06, slope: 0.05)
        let dataSpec = try GradientFit.spec(try spec(g: truth.g, seed: 5, duration: 600), with: [(.wPlusSlope(0), truth.slope)], maps: maps)
        let data = try NetworkSimulator(spec: dataSpec).run().bold.transposed
        let fitted = try spec(g: 0.075, seed: 9, duration: 120)
        var options = GradientFit.Options(parameters: [(.g, .bounded(0, 1)), (.wPlusSlope(0), RegionalMaps.slopeTransform(uniform: "w_plus"))],
                                          epochs: 10, learningRate: 0.05)
        options.maps = maps
        let choice = LossSelection.automatic(stretchSamples: fitted.sampleCount, targetSamples: data.columns, modelUnits: "a test",
                                             shapesPattern: true, fcd: options.fcdSettings)
        options.setWeights(choice.weights)
        let target = GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: data),
                                        fcdValues: FCDTerm.targetValues(regionsByTime: data, tr: fitted.tr, settings: options.fcdSettings,
                                                                        segment: fitted.sampleCount),
                                        logVariances: BoldFitTerms.logVariances(regionsByTime: data, segment: fitted.sampleCount))
        let outcome = try GradientFit.fit(spec: fitted, target: target, options: options)
        let slope = GradientFit.value(.wPlusSlope(0), in: outcome.spec, maps: maps)
        let figures = try Identifiability.assess(fitted: [(outcome.spec, target)], options: options, extraSeeds: [10, 11, 12])
        for f in figures { print("recovery: regional (truth G \(truth.g), slope \(truth.slope)): \(f.description)") }
        XCTAssertEqual(figures.map(\.parameter), ["G", "w_plus_slope[0]"])
        XCTAssertEqual(figures[1].value, slope, accuracy: 1e-12)
        XCTAssertNotEqual(figures[1].verdict, .identified, "a slope the data cannot decide is not reported as a measurement")
    }
}
