import XCTest
import WholeBrain

/// The expected-FC term: the Lyapunov adjoint and the pullback through the fixed point
/// against central finite differences, with and without feedback inhibition.
final class ExpectedFCTermTests: XCTestCase {
    func spec(_ p: ReducedWongWang.Parameters, nodeJI: [Double], regional: [String: [Double]] = [:]) throws -> SimulationSpec<ReducedWongWang> {
        try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: regional.merging(["J_i": nodeJI]) { $1 },
                           connectome: try smallConnectome(6), noise: NoiseSpec(sigma: 0.01), dt: 0.1, duration: 2, transient: 0, tr: 0.1,
                           conductionSpeed: 20, seed: 1)
    }

    /// A target FC unlike the model's: a fixed pattern with values in (-0.3, 0.9).
    var target: Matrix {
        var t = Matrix(rows: 6, columns: 6)
        for i in 0..<6 { for j in 0..<6 { t[i, j] = i == j ? 1 : 0.3 + 0.6 * sin(Double(3 * i + 5 * j + i * j)) } }
        for i in 0..<6 { for j in 0..<i { t[i, j] = t[j, i] } }
        return t
    }

    /// The adjoint's dL/dJ (2N x 2N) against differences of the term in each Jacobian entry:
    /// checks the correlation, readout and Lyapunov steps on their own.
    func testJacobianGradientMatchesFiniteDifferences() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.3; p.jI = 1.2
        let s = try spec(p, nodeJI: [1.2, 1.1, 1.3, 1.2, 1.25, 1.15])
        let stability = RWWStability(spec: s)
        let low = try XCTUnwrap(try stability.lowState())
        let linear = try LinearisedFC(stability: stability, state: low.state, sigma: 1)
        let (r, dr) = ExpectedFCTerm.correlationGradient(linear.fc, target)
        var g = Matrix(rows: 6, columns: 6)
        for i in 0..<6 { for j in (i + 1)..<6 { g[i, j] = -dr[i, j] } }
        let m = try linear.jacobianGradient(fcGradient: g)
        /// 1 - r with the system's Jacobian entry (a, b) moved by h.
        func loss(_ a: Int, _ b: Int, _ h: Double) throws -> Double {
            var system = linear.system
            system[a, b] += h
            let pp = try LinearisedFC.lyapunov(system, LinearisedFC.noise(regions: 6, sigma: 1))
            return 1 - ExpectedFCTerm.correlationGradient(LinearisedFC.boldFC(pp, regions: 6, readout: linear.readout), target).r
        }
        XCTAssertEqual(try loss(0, 0, 0), 1 - r, accuracy: 1e-12)
        for (a, b) in [(0, 0), (0, 3), (2, 8), (7, 1), (9, 9), (4, 4), (11, 5)] {
            let h = 1e-6 * max(abs(linear.system[a, b]), 1e-3)
            let fd = (try loss(a, b, h) - loss(a, b, -h)) / (2 * h)
            XCTAssertEqual(m[a, b], fd, accuracy: 1e-5 * max(abs(fd), 1e-2), "dL/dJ[\(a),\(b)]")
        }
    }

    /// dL/dtheta for every kind of parameter and for weights against differences of the term,
    /// with w_+ and I_0 differing between regions.
    func testParameterGradientMatchesFiniteDifferences() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.3; p.wPlus = 1.4; p.jI = 1.2
        let s = try spec(p, nodeJI: [1.2, 1.1, 1.3, 1.2, 1.25, 1.15],
                         regional: ["w_plus": [0, 0.05, -0.04, 0.02, -0.01, 0.03].map { 1.4 + $0 }, "I_0": [0.01, -0.005, 0, 0.008, -0.01, 0.004].map { p.i0 + $0 }])
        let parameters: [RWWGradient.Parameter] = [.g, .wPlus, .jNMDA, .i0, .nodeJI(2), .nodeWPlus(1), .nodeI0(4)]
        let e = try XCTUnwrap(try ExpectedFCTerm.evaluate(spec: s, target: target, parameters: parameters, weightGradient: true))
        XCTAssertGreaterThan(e.value, 0.05, "the target differs from the model's FC")
        func loss(_ q: RWWGradient.Parameter?, _ value: Double, weight: (Int, Int)? = nil) throws -> Double {
            var w = s.connectome.weights
            if let (i, k) = weight { w[i, k] = value }
            let changed = try GradientFit.spec(s, with: q.map { [($0, value)] } ?? [], weights: weight == nil ? nil : w)
            return try XCTUnwrap(try ExpectedFCTerm.evaluate(spec: changed, target: target, parameters: [], near: e.state)).value
        }
        for q in parameters {
            let v = GradientFit.value(q, in: s)
            let h = 1e-5 * max(abs(v), 1e-2)
            let fd = (try loss(q, v + h) - loss(q, v - h)) / (2 * h)
            XCTAssertEqual(e.gradient[q]!, fd, accuracy: 1e-5 * max(abs(fd), 1e-2), "\(q)")
        }
        for (i, k) in [(0, 3), (4, 1), (2, 2), (5, 0)] where s.connectome.weights[i, k] != 0 {
            let v = s.connectome.weights[i, k], h = 1e-6
            let fd = (try loss(nil, v + h, weight: (i, k)) - loss(nil, v - h, weight: (i, k))) / (2 * h)
            XCTAssertEqual(e.weightGradient![i, k], fd, accuracy: 1e-5 * max(abs(fd), 1e-2), "W[\(i),\(k)]")
        }
    }

    /// With feedback inhibition retuned at every evaluation (J_i follow G, w_+ and the
    /// weights), the folded gradient against differences of the retuned term.
    func testGradientThroughFeedbackInhibition() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.3
        let base = try spec(p, nodeJI: [Double](repeating: 1, count: 6))
        let s = try GradientFit.retuned(base, rate: 3)
        let parameters: [RWWGradient.Parameter] = [.g, .wPlus]
        let requested = parameters + (0..<6).map { .nodeJI($0) }
        let e = try XCTUnwrap(try ExpectedFCTerm.evaluate(spec: s, target: target, parameters: requested, weightGradient: true))
        var gradient = parameters.map { e.gradient[$0]! }
        var weightGradient = e.weightGradient
        try GradientFit.foldRetunedInhibition(into: &gradient, parameters: parameters, weightGradient: &weightGradient,
                                              byParameter: e.gradient, spec: s, rate: 3)
        func loss(_ q: RWWGradient.Parameter?, _ value: Double, weight: (Int, Int)? = nil) throws -> Double {
            var w = s.connectome.weights
            if let (i, k) = weight { w[i, k] = value }
            let changed = try GradientFit.retuned(try GradientFit.spec(s, with: q.map { [($0, value)] } ?? [], weights: weight == nil ? nil : w), rate: 3)
            return try XCTUnwrap(try ExpectedFCTerm.evaluate(spec: changed, target: target, parameters: [], near: e.state)).value
        }
        for (index, q) in parameters.enumerated() {
            let v = GradientFit.value(q, in: s), h = 1e-5 * abs(v)
            let fd = (try loss(q, v + h) - loss(q, v - h)) / (2 * h)
            XCTAssertEqual(gradient[index], fd, accuracy: 1e-5 * max(abs(fd), 1e-2), "\(q) with FIC")
        }
        for (i, k) in [(0, 3), (4, 1)] where s.connectome.weights[i, k] != 0 {
            let v = s.connectome.weights[i, k], h = 1e-6
            let fd = (try loss(nil, v + h, weight: (i, k)) - loss(nil, v - h, weight: (i, k))) / (2 * h)
            XCTAssertEqual(weightGradient![i, k], fd, accuracy: 1e-5 * max(abs(fd), 1e-2), "W[\(i),\(k)] with FIC")
        }
    }

    /// Noise-free shaping steps before the first epoch: from gains all 1, connection gains fitted
    /// to the expected FC of the same network with other gains (feedback inhibition retuned at
    /// every step) bring the expected FC r near 1, and a fit with nothing that shapes the
    /// pattern refuses shaping steps.
    func testShapingStepsFitConnectionGainsToAnExpectedFC() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.3
        let s = try GradientFit.retuned(try spec(p, nodeJI: [Double](repeating: 1, count: 6)), rate: 3)
        var truth = s.connectome.weights
        for i in 0..<6 { for j in (i + 1)..<6 { let g = 1 + 0.4 * sin(Double(7 * i + 3 * j)); truth[i, j] *= g; truth[j, i] *= g } }
        let truthSpec = try GradientFit.retuned(try GradientFit.spec(s, with: [], weights: truth), rate: 3)
        let stability = RWWStability(spec: truthSpec)
        let target = try LinearisedFC(stability: stability, state: try XCTUnwrap(try stability.lowState()).state, sigma: 1).fc
        var options = GradientFit.Options(parameters: [(.g, .positive)], connectionGains: true, surprise: 0, epochs: 0, learningRate: 0.05)
        options.feedbackInhibition = 3
        options.shapingSteps = 80
        let outcome = try GradientFit.fit(spec: s, target: GradientFit.Target(fc: target), options: options)
        XCTAssertEqual(outcome.shaping.count, 80)
        let first = outcome.shaping.first!.expectedFCCorrelation, last = outcome.shaping.last!.expectedFCCorrelation
        XCTAssertLessThan(first, 0.97, "gains of 1 give another pattern")
        XCTAssertGreaterThan(last, 0.995, "from \(first)")
        XCTAssertEqual(outcome.spec.model.parameters.g, p.g, "G waits for the simulated epochs")
        var global = options
        global.connectionGains = false
        XCTAssertThrowsError(try GradientFit.fit(spec: s, target: GradientFit.Target(fc: target), options: global))
    }

    /// Re-anchoring after the shaping: G moves to the asked fraction of the shaped network's
    /// own G*, which the shaping moved.
    func testReanchoringPutsGAtAFractionOfTheShapedNetworksCriticalCoupling() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.3
        let s = try GradientFit.retuned(try spec(p, nodeJI: [Double](repeating: 1, count: 6)), rate: 3)
        var options = GradientFit.Options(parameters: [(.g, .positive)], connectionGains: true, surprise: 0, epochs: 0, learningRate: 0.05)
        options.feedbackInhibition = 3
        options.shapingSteps = 30
        options.reanchorFraction = 0.8
        let outcome = try GradientFit.fit(spec: s, target: GradientFit.Target(fc: target), options: options)
        let anchored = try XCTUnwrap(outcome.reanchored)
        let fitted = outcome.spec
        let critical = try XCTUnwrap(try FeedbackInhibition.criticalCoupling(parameters: fitted.model.parameters, weights: fitted.connectome.weights, rate: 3))
        XCTAssertEqual(anchored.critical, critical.value, accuracy: 1e-9)
        XCTAssertEqual(fitted.model.parameters.g, 0.8 * critical.value, accuracy: 1e-9)
        let unshaped = try XCTUnwrap(try FeedbackInhibition.criticalCoupling(parameters: p, weights: s.connectome.weights, rate: 3))
        XCTAssertGreaterThan(abs(critical.value - unshaped.value), 1e-4, "the gains moved G*")
    }
}
