import XCTest
import WholeBrain

/// Eigenvalues (LAPACK), fixed points and the critical coupling G* of the RWW network.
final class StabilityTests: XCTestCase {
    func testEigenvaluesOfKnownMatrices() throws {
        let real = try Eigenvalues.of(Matrix(rows: 2, columns: 2, values: [0, 1, -2, -3]))
        XCTAssertEqual(real[0].real, -1, accuracy: 1e-12)
        XCTAssertEqual(real[1].real, -2, accuracy: 1e-12)
        let rotation = try Eigenvalues.of(Matrix(rows: 2, columns: 2, values: [0.5, -2, 2, 0.5]))
        XCTAssertEqual(rotation[0].real, 0.5, accuracy: 1e-12)
        XCTAssertEqual(abs(rotation[0].imaginary), 2, accuracy: 1e-12)
    }

    /// Every fixed point of a single node and its eigenvalues against scipy/numpy
    /// (Fixtures/make_stability_fixture.py), including bistable cases with a saddle.
    func testSingleNodeFixedPointsAndEigenvaluesMatchScipy() throws {
        let url = Bundle.module.url(forResource: "rww_stability", withExtension: "json", subdirectory: "Fixtures")!
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        for case let c as [String: Any] in fixture["cases"] as! [Any] {
            var p = ReducedWongWang.Parameters()
            p.jI = c["J_i"] as! Double
            p.wPlus = c["w_plus"] as! Double
            let found = try RWWStability(parameters: p, weights: Matrix(rows: 1, columns: 1)).fixedPoints(starts: 41)
            let expected = c["fixed_points"] as! [[String: Any]]
            XCTAssertEqual(found.count, expected.count, "J_i \(p.jI), w_plus \(p.wPlus)")
            for (point, reference) in zip(found, expected) {
                XCTAssertEqual(point.state[0], reference["sE"] as! Double, accuracy: 1e-10)
                XCTAssertEqual(point.state[1], reference["sI"] as! Double, accuracy: 1e-10)
                let real = reference["eigen_real"] as! [Double], imaginary = reference["eigen_imag"] as! [Double]
                for k in 0..<2 {
                    XCTAssertEqual(point.eigenvalues[k].real, real[k], accuracy: 1e-7 * max(abs(real[k]), 1e-3))
                    XCTAssertEqual(abs(point.eigenvalues[k].imaginary), abs(imaginary[k]), accuracy: 1e-9)
                }
                XCTAssertEqual(point.kind == "saddle", real[0] > 0, "classification at S_E = \(point.state[0])")
            }
        }
    }

    /// The two-parameter map counts the fixture's fixed points: one at the defaults, three (two
    /// stable) at J_i = 2, w_plus = 3.
    func testNodeMapCountsFixedPoints() throws {
        let r = try NodeMap.map(parameters: ReducedWongWang.Parameters(), x: (\.wPlus, [1.4, 3.0]), y: (\.jI, [1.0, 2.0]))
        XCTAssertEqual(r.fixedPoints[0, 0], 1)
        XCTAssertEqual(r.stablePoints[0, 0], 1)
        XCTAssertEqual(r.fixedPoints[1, 1], 3)
        XCTAssertEqual(r.stablePoints[1, 1], 2)
        XCTAssertEqual(r.highestStableSE[1, 1], 0.6715, accuracy: 1e-4)
    }

    /// The uncoupled node's fixed point is where the engine's noise-free run settles.
    func testFixedPointIsWhereTheSimulationSettles() throws {
        var p = ReducedWongWang.Parameters()
        p.g = 0.05
        let connectome = try smallConnectome(6, lengthScale: 1)
        let stability = RWWStability(parameters: p, weights: connectome.weights)
        let point = try XCTUnwrap(try stability.lowState())
        XCTAssertTrue(point.isStable, point.kind)
        XCTAssertLessThan(point.meanSE, 0.3)
        // Several starts find the low state and, with this much self-excitation, a high one.
        let all = try stability.fixedPoints()
        XCTAssertEqual(all.first.map { $0.meanSE } ?? -1, point.meanSE, accuracy: 1e-9)
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, noise: NoiseSpec(kind: .none, sigma: 0),
                                      dt: 0.1, duration: 20, transient: 0, tr: 1, seed: 1, statePeriod: 1000,
                                      initialState: [point.state.prefix(6).map { $0 * 0.9 }, point.state.suffix(6).map { $0 * 0.9 }])
        let run = try NetworkSimulator(spec: spec).run()
        let last = run.states!.suffix(12)
        for (a, b) in zip(last, point.state) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// G* of the bundled subject: below it a noise-free run started near the low state stays
    /// there; above it the run leaves (the low state has ended or turned unstable). With the
    /// default J_i = 1 the low state rises smoothly into the high one (no bifurcation on
    /// 0...6); with J_i = 2 it ends in a fold.
    func testCriticalCouplingSeparatesLowAndHighActivity() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let connectome = try ConnectomePreparation().apply(to: try data.connectome(subject: "101309"))
        XCTAssertNil(try RWWContinuation(parameters: ReducedWongWang.Parameters(), weights: connectome.weights)
            .diagram(over: 0...6, steps: 30, highBranch: false).critical)
        var base = ReducedWongWang.Parameters()
        base.jI = 2
        let result = try RWWContinuation(parameters: base, weights: connectome.weights).diagram(over: 0...6, steps: 60, highBranch: false)
        let critical = try XCTUnwrap(result.critical, "the low state ends inside 0...6")
        let gStar = critical.value
        XCTAssertGreaterThan(gStar, 0.1)
        XCTAssertEqual(critical.kind, "fold")
        let stablePart = result.curves[0].points.prefix { $0.isStable }
        XCTAssertGreaterThan(stablePart.count, 5)
        XCTAssert(stablePart.allSatisfy { $0.value < gStar })
        // Runs from the last low state of the branch (just below G*), slightly perturbed.
        let edge = stablePart.last!
        let n = connectome.regionCount
        func meanSE(at g: Double) throws -> Double {
            var p = base
            p.g = g
            let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, noise: NoiseSpec(kind: .none, sigma: 0),
                                          dt: 0.1, duration: 10, transient: 0, tr: 1, seed: 1, statePeriod: 1000,
                                          initialState: [edge.state.prefix(n).map { $0 * 1.01 }, Array(edge.state.suffix(n))])
            let run = try NetworkSimulator(spec: spec).run()
            return run.meanVariables[0].reduce(0, +) / Double(n)
        }
        XCTAssertEqual(try meanSE(at: 0.97 * gStar), edge.meanSE, accuracy: 0.03, "below G* = \(gStar) the low state holds")
        XCTAssertGreaterThan(try meanSE(at: 1.03 * gStar), edge.meanSE + 0.1, "above G* = \(gStar) the run leaves the low state")
    }

    /// Feedback inhibition control: with the computed J_i the network has a fixed point with
    /// every excitatory population at 3 Hz; where it is stable, a noise-free run started near it
    /// settles there.
    func testFeedbackInhibitionPutsEveryNodeAtThreeHertz() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let connectome = try ConnectomePreparation().apply(to: try data.connectome(subject: "102311"))
        let n = connectome.regionCount
        for g in [0.3, 0.8] {
            var p = ReducedWongWang.Parameters()
            p.g = g
            let ji = try FeedbackInhibition.localInhibition(parameters: p, weights: connectome.weights, targetRate: 3)
            XCTAssertGreaterThan(ji.max()! - ji.min()!, 0.05, "stronger-connected nodes need more inhibition")
            let target = try FeedbackInhibition.targetState(parameters: p, rate: 3)
            let stability = RWWStability(parameters: p, weights: connectome.weights, nodeJI: ji)
            let designed = [Double](repeating: target.sE, count: n) + [Double](repeating: target.sI, count: n)
            let point = try XCTUnwrap(try stability.fixedPoint(from: designed.map { $0 * 1.02 }))
            let model = ReducedWongWang(parameters: p)
            for i in 0..<n {
                var c = 0.0
                for j in 0..<n { c += connectome.weights[i, j] * point.state[j] }
                let xE = p.wE * p.i0 + p.wPlus * p.jNMDA * point.state[i] + p.g * p.jNMDA * c - ji[i] * point.state[n + i]
                XCTAssertEqual(ReducedWongWang.transfer(xE, a: p.aE, b: p.bE, d: p.dE), 3, accuracy: 1e-9, "node \(i), G = \(g)")
            }
            guard point.isStable else { continue }
            let spec = try SimulationSpec(model: model, nodeParameters: ["J_i": ji], connectome: connectome,
                                          noise: NoiseSpec(kind: .none, sigma: 0), dt: 0.1, duration: 10, transient: 10, tr: 1, seed: 4,
                                          initialState: [point.state.prefix(n).map { $0 * 1.01 }, Array(point.state.suffix(n))])
            let rates = try NetworkSimulator(spec: spec).run().meanObservables[0]
            for r in rates { XCTAssertEqual(r, 3, accuracy: 0.01, "G = \(g)") }
        }
        var p = ReducedWongWang.Parameters()
        p.g = 0.3
        XCTAssertTrue(try RWWStability(parameters: p, weights: connectome.weights,
                                       nodeJI: try FeedbackInhibition.localInhibition(parameters: p, weights: connectome.weights))
            .fixedPoint(from: [Double](repeating: 0.16, count: n) + [Double](repeating: 0.04, count: n))!.isStable,
                      "at G = 0.3 the 3 Hz state is stable")
        assertThrowsMessage(try FeedbackInhibition.localInhibition(parameters: p, weights: connectome.weights, targetRate: -1),
                            containing: ["--fic", "> 0 Hz"])
    }
}

extension StabilityTests {
    /// The operating point says how G was chosen: "the default" only for the default fraction.
    func testOperatingPointNamesTheFractionItUsed() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let weights = try ConnectomePreparation().apply(to: try data.connectome(subject: "102311")).weights
        let standard = try RWWOperatingPoint.resolve(parameters: ReducedWongWang.Parameters(), weights: weights, ficRate: 3, g: nil)
        let lower = try RWWOperatingPoint.resolve(parameters: ReducedWongWang.Parameters(), weights: weights, ficRate: 3, g: nil, fraction: 0.8)
        XCTAssertTrue(standard.gChoice.hasPrefix("0.9 G*, the default"), standard.gChoice)
        XCTAssertTrue(lower.gChoice.hasPrefix("0.8 G*, chosen: below"), lower.gChoice)
        XCTAssertEqual(lower.parameters.g / standard.parameters.g, 0.8 / 0.9, accuracy: 1e-12)
    }
}

/// Limit cycles by simulation against the Stuart-Landau oscillator's analytic cycle: radius
/// sqrt(a), angular frequency omega (period 2 pi / omega ms); none for a < 0.
final class LimitCycleTests: XCTestCase {
    func testHopfCycleHasTheAnalyticAmplitudeAndPeriod() throws {
        var p = Hopf.Parameters()
        p.a = 0.25; p.omega = 0.2
        let cycles = try LimitCycles.find(model: Hopf(parameters: p))
        XCTAssertEqual(cycles.compactMap { $0 }.count, 4, "every start ends on the cycle")
        for c in cycles.compactMap({ $0 }) {
            XCTAssertEqual(c.amplitude, 0.5, accuracy: 1e-4)
            XCTAssertEqual(c.period, 2 * Double.pi / 0.2, accuracy: 1e-3)
        }
        p.a = -0.1
        XCTAssertTrue(try LimitCycles.find(model: Hopf(parameters: p)).allSatisfy { $0 == nil }, "a stable focus, no cycle")
    }

    func testCycleMapOverTwoParameters() throws {
        let map = try Hopf.cycleMap(assignments: [], x: ("a", [-0.1, 0.04, 0.25]), y: ("omega", [0.2, 0.5]), duration: 2000, window: 500)
        for (r, omega) in [0.2, 0.5].enumerated() {
            XCTAssertTrue(map.amplitude[r, 0].isNaN)
            XCTAssertEqual(map.oscillating[r, 0], 0)
            XCTAssertEqual(map.amplitude[r, 1], 0.2, accuracy: 1e-4)
            XCTAssertEqual(map.amplitude[r, 2], 0.5, accuracy: 1e-4)
            XCTAssertEqual(map.period[r, 2], 2 * Double.pi / omega, accuracy: 1e-3)
        }
    }
}
