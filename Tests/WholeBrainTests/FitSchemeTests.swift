import XCTest
import WholeBrain

/// Learnable priors, the windowed scheme, connection gains and early stopping.
final class FitSchemeTests: XCTestCase {
    func testPriorGradientsAndBoundBelow() {
        var priors = ParameterPriors(values: [0.8, 0.02], relativeFloor: 0.1)
        priors.means = [0.7, 0.025]
        priors.logPrecisions = [3.1, 9.0]
        let values = [0.85, 0.018]
        let at = priors.evaluate(values)
        for k in 0..<2 {
            let h = 1e-6
            var up = values, down = values
            up[k] += h; down[k] -= h
            XCTAssertEqual(at.parameters[k], (priors.evaluate(up).value - priors.evaluate(down).value) / (2 * h), accuracy: 1e-4 * abs(at.parameters[k]))
            var pu = priors, pd = priors
            pu.means[k] += h; pd.means[k] -= h
            XCTAssertEqual(at.means[k], (pu.evaluate(values).value - pd.evaluate(values).value) / (2 * h), accuracy: 1e-4 * abs(at.means[k]))
            pu = priors; pd = priors
            pu.logPrecisions[k] += h; pd.logPrecisions[k] -= h
            XCTAssertEqual(at.logPrecisions[k], (pu.evaluate(values).value - pd.evaluate(values).value) / (2 * h),
                           accuracy: 1e-4 * abs(at.logPrecisions[k]) + 1e-8)
        }
        // The hyperprior bounds the term below by sum(log s + 1/2), reached at m = p, v = 1/s^2.
        let bound = priors.floors.reduce(0) { $0 + Foundation.log($1) + 0.5 }
        var lowest = Double.infinity
        for m in stride(from: -0.5, through: 0.5, by: 0.01) {
            for w in stride(from: -5.0, through: 20, by: 0.25) {
                var p = priors
                p.means = [values[0] + m * 0.1, values[1] + m * 0.01]
                p.logPrecisions = [w, w]
                lowest = min(lowest, p.evaluate(values).value)
            }
        }
        XCTAssertGreaterThanOrEqual(lowest, bound - 1e-9)
        var optimum = priors
        optimum.means = values
        optimum.logPrecisions = priors.floors.map { -2 * Foundation.log($0) }
        XCTAssertEqual(optimum.evaluate(values).value, bound, accuracy: 1e-12)
        XCTAssertEqual(optimum.evaluate(values).logPrecisions.map { abs($0) }.max()!, 0, accuracy: 1e-12, "stationary in v")
    }

    func spec(g: Double, seed: UInt64 = 5, duration: Double = 2) throws -> SimulationSpec<ReducedWongWang> {
        var p = ReducedWongWang.Parameters()
        p.g = g
        return try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: try smallConnectome(5),
                                  noise: NoiseSpec(sigma: 0.01), dt: 0.1, duration: duration, transient: 0.2, tr: 0.05, seed: seed)
    }

    /// Windows carry the state: with a zero learning rate, the windows of an epoch cover the
    /// same run as one whole-run pass, sample for sample.
    func testWindowsCarryTheStateAcrossTheRun() throws {
        let s = try spec(g: 0.5)
        let target = FunctionalConnectivity.pearson(timeByRegions: try NetworkSimulator(spec: try spec(g: 0.7)).run().bold)
        let whole = try RWWGradient.lossAndGradient(spec: s, empiricalFC: target, parameters: [.g])
        let options = GradientFit.Options(parameters: [(.g, .bounded(0, 2))], window: 10, epochs: 2, learningRate: 0)
        let outcome = try GradientFit.fit(spec: s, target: GradientFit.Target(fc: target), options: options)
        XCTAssertEqual(outcome.history.count, 2 * (s.sampleCount / 10))
        XCTAssertEqual(outcome.history.map(\.window), Array(0..<4) + Array(0..<4))
        let wholeR = FunctionalConnectivity.similarity(FunctionalConnectivity.pearson(timeByRegions: whole.bold), target)
        XCTAssertEqual(outcome.scores[0].trainCorrelation, wholeR, "the windows together are the whole run")
        XCTAssertEqual(outcome.scores[1].trainCorrelation, wholeR, "same noise every epoch")
        // Each window's FC is its own: the first window's r is not the whole run's.
        XCTAssertNotEqual(outcome.history[0].fcCorrelation, wholeR)
    }

    /// A held-out score that only gets worse stops the fit after `patience` epochs and
    /// returns the parameters the best epoch started with.
    func testEarlyStopReturnsTheBestEpoch() throws {
        let start = try spec(g: 0.4)
        let train = FunctionalConnectivity.pearson(timeByRegions: try NetworkSimulator(spec: try spec(g: 0.8)).run().bold)
        let heldOut = FunctionalConnectivity.pearson(timeByRegions: try NetworkSimulator(spec: start).run().bold)
        let options = GradientFit.Options(parameters: [(.g, .bounded(0, 2))], epochs: 30, learningRate: 0.1, patience: 3)
        let outcome = try GradientFit.fit(spec: start, target: GradientFit.Target(fc: train, heldOutFC: heldOut), options: options)
        XCTAssertTrue(outcome.stoppedEarly)
        let best = outcome.scores.indices.max { outcome.scores[$0].heldOutCorrelation! < outcome.scores[$1].heldOutCorrelation! }!
        XCTAssertEqual(outcome.scores.count, best + 4, "stopped three epochs after the best")
        XCTAssertEqual(outcome.spec.model.parameters.g, outcome.history[best].values[0], accuracy: 1e-12)
    }

    /// Connection gains move and stay symmetric and positive; the loss falls.
    func testConnectionGainsFitLowersTheLoss() throws {
        let start = try spec(g: 0.5)
        let target = FunctionalConnectivity.pearson(timeByRegions: try NetworkSimulator(spec: try spec(g: 0.5, seed: 99)).run().bold)
        let options = GradientFit.Options(parameters: [], connectionGains: true, epochs: 15, learningRate: 0.1)
        let outcome = try GradientFit.fit(spec: start, target: GradientFit.Target(fc: target), options: options)
        let gains = try XCTUnwrap(outcome.gains)
        for i in 0..<5 { for j in 0..<5 { XCTAssertEqual(gains[i, j], gains[j, i]); XCTAssertGreaterThan(gains[i, j], 0) } }
        XCTAssertGreaterThan(gains.values.map { abs($0 - 1) }.max()!, 0.05, "gains moved")
        XCTAssertLessThan(outcome.history.last!.loss, outcome.history.first!.loss)
        let w = outcome.spec.connectome.weights, c = start.connectome.weights
        XCTAssertEqual(w[1, 3], gains[1, 3] * c[1, 3], accuracy: 1e-15)
    }
}
