import XCTest
import WholeBrain

final class ModelTests: XCTestCase {
    func testDriftAtHandComputedStatesMatchesNumpy() {
        let fixture = Fixtures.json("rww.json")
        let p = ReducedWongWang.Parameters()
        for case let c as [String: Double] in fixture["drift_cases"] as! [Any] {
            let r = ReducedWongWang.drift(p, sE: c["sE"]!, sI: c["sI"]!, coupling: c["coupling"]!, jI: 1)
            assertRelative(r.dE, c["dE"]!, 1e-13, "dS_E/dt")
            assertRelative(r.dI, c["dI"]!, 1e-13, "dS_I/dt")
            assertRelative(r.rE, c["rE"]!, 1e-13, "H_E")
            assertRelative(r.rI, c["rI"]!, 1e-13, "H_I")
        }
        // By hand at S_E = 0.3, S_I = 0.1, c = 0.5: x_E = 0.382 + 0.063 + 0.15 - 0.1 = 0.495 nA.
        let xE = 1.0 * 0.382 + 1.4 * 0.15 * 0.3 + 2 * 0.15 * 0.5 - 0.1
        let y = 310 * xE - 125
        let h = y / (1 - Foundation.exp(-0.16 * y))
        let r = ReducedWongWang.drift(p, sE: 0.3, sI: 0.1, coupling: 0.5, jI: 1)
        XCTAssertEqual(r.rE, h, accuracy: 1e-12 * h)
        XCTAssertEqual(r.dE, -0.3 / 100 + 0.7 * 0.641e-3 * h, accuracy: 1e-15)
    }

    func testTransferFunctionIsSmoothThroughThreshold() {
        let (a, b, d) = (310.0, 125.0, 0.16)
        let x0 = b / a
        XCTAssertEqual(ReducedWongWang.transfer(x0, a: a, b: b, d: d), 1 / d, accuracy: 1e-12)
        for k in 1...40 {
            let dx = pow(10, -Double(k) / 3)
            for x in [x0 + dx, x0 - dx] {
                let y = a * x - b
                let series = 1 / d + y / 2 + d * y * y / 12        // Taylor of y / (1 - e^{-dy})
                let exact = y / -Foundation.expm1(-d * y)
                let reference = abs(d * y) < 1e-3 ? series : exact
                assertRelative(ReducedWongWang.transfer(x, a: a, b: b, d: d), reference, 1e-13, "H near threshold at \(x)")
            }
        }
        XCTAssertLessThan(abs(ReducedWongWang.transfer(-1e6, a: a, b: b, d: d)), 1e-290, "vanishes far below threshold")
        assertRelative(ReducedWongWang.transfer(1e3, a: a, b: b, d: d), 310e3 - 125, 1e-15, "saturating")
    }

    func testUncoupledNodeSettlesOnTheIndependentFixedPoint() throws {
        let fp = Fixtures.json("rww.json")["uncoupled_fixed_point"] as! [String: Double]
        let single = try Connectome(weights: Matrix(rows: 1, columns: 1), lengths: Matrix(rows: 1, columns: 1))
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: single,
                                      noise: NoiseSpec(kind: .none, sigma: 0), duration: 0.1, transient: 5, tr: 0.1, statePeriod: 0.1)
        let result = try NetworkSimulator(spec: spec).run()
        let states = result.states!
        let last = (result.stateSampleCount - 1) * 2
        // Euler's fixed points are the drift's zeros, so the discrete run converges to them.
        assertRelative(states[last], fp["sE"]!, 1e-10, "S_E*")
        assertRelative(states[last + 1], fp["sI"]!, 1e-10, "S_I*")
        assertRelative(result.meanObservables[0][0], fp["rE"]!, 1e-8, "r_E*")
        XCTAssertEqual(fp["rE"]!, 3.07, accuracy: 0.05, "low-activity state near 3 Hz (Deco et al. 2014)")
    }

    func testSetRejectsUnknownAndOutOfRangeParameters() {
        var p = ReducedWongWang.Parameters()
        XCTAssertNoThrow(try ReducedWongWang.parameterSpecs.apply([("w_plus", 1.5), ("G", 0.7)], to: &p, model: "rww"))
        XCTAssertEqual(p.wPlus, 1.5); XCTAssertEqual(p.g, 0.7)
        assertThrowsMessage(try ReducedWongWang.parameterSpecs.apply([("wplus", 1)], to: &p, model: "rww"),
                            containing: ["--set wplus", "w_plus", "J_NMDA"])
        assertThrowsMessage(try ReducedWongWang.parameterSpecs.apply([("tau_E", -1)], to: &p, model: "rww"),
                            containing: ["tau_E", "-1"])
        XCTAssertEqual(ReducedWongWang.parameterSpecs.count, 18)
        let defaults = ReducedWongWang.Parameters()
        for spec in ReducedWongWang.parameterSpecs {
            XCTAssertEqual(defaults[keyPath: spec.keyPath], spec.defaultValue, "default of \(spec.name)")
        }
    }
}
