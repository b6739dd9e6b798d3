import XCTest
import WholeBrain

final class BalloonTests: XCTestCase {
    /// Response to a 0.1 s unit pulse, integrated with RK4 at 1 ms, against scipy's DOP853.
    func testPulseResponseMatchesHighAccuracyIntegration() throws {
        let reference = try NumpyFile.readMatrix(path: Fixtures.path("bold_pulse.npy"))   // rows: (t, y)
        let info = Fixtures.json("bold_pulse.json")
        let model = BalloonWindkessel()
        var state = BalloonWindkessel.State()
        let h = 0.001
        var worst = 0.0, peak = (t: 0.0, y: -1.0), trough = (t: 0.0, y: 1.0)
        var row = 1
        for step in 1...20_000 {
            let z = step <= 100 ? 1.0 : 0.0          // z = 1 on [0, 0.1) s
            model.rk4Step(&state, z: SIMD4(repeating: z), h: h)
            let y = model.bold(state)[0]
            let t = Double(step) * h
            if y > peak.y { peak = (t, y) }
            if y < trough.y { trough = (t, y) }
            if step % 10 == 0 {
                XCTAssertEqual(reference[row, 0], t, accuracy: 1e-9)
                worst = max(worst, abs(y - reference[row, 1]))
                row += 1
            }
        }
        let peakHeight = info["peak"] as! Double
        XCTAssertLessThan(worst / peakHeight, 1e-9, "largest deviation relative to the peak")
        XCTAssertEqual(peak.t, info["peak_time"] as! Double, accuracy: 0.005)
        XCTAssertEqual(peak.t, 3.1, accuracy: 0.1, "peak near 3.1 s")
        XCTAssertEqual(trough.t, 9.1, accuracy: 0.2, "undershoot near 9 s")
        XCTAssertLessThan(trough.y, 0)
    }

    /// The engine's default haemodynamic step (10 ms, RK4 on the mean input over the step)
    /// against 0.5 ms on the same neural trajectory (RWW with noise): the error is second
    /// order in the step (holding the input at its mean over the step), a small fraction of
    /// the BOLD's own spread at 10 ms, and leaves FC unchanged to 1e-8.
    func testHaemodynamicStepConvergesAtSecondOrder() throws {
        func bold(_ step: Double) throws -> Matrix {
            var p = ReducedWongWang.Parameters()
            p.g = 0.5
            return try NetworkSimulator(spec: SimulationSpec(model: ReducedWongWang(parameters: p), connectome: try smallConnectome(6),
                                                             duration: 60, transient: 5, boldStep: step, seed: 4)).run().bold
        }
        let reference = try bold(0.5)
        /// Worst difference to the reference over all samples, relative to each region's spread.
        func error(_ m: Matrix) -> Double {
            var worst = 0.0
            for i in 0..<reference.columns {
                let b = (0..<reference.rows).map { reference[$0, i] }
                let mean = b.reduce(0, +) / Double(b.count)
                let spread = (b.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(b.count)).squareRoot()
                for t in 0..<reference.rows { worst = max(worst, abs(m[t, i] - b[t]) / spread) }
            }
            return worst
        }
        let ten = try bold(10), five = try bold(5)
        XCTAssertEqual(ten.rows, reference.rows)
        let e10 = error(ten), e5 = error(five)
        XCTAssertLessThan(e10, 1e-3, "10 ms step: worst difference over spread")
        XCTAssertGreaterThan(e10 / e5, 3, "second order: halving the step divides the error by about 4 (10 ms \(e10), 5 ms \(e5))")
        XCTAssertLessThan(e10 / e5, 5.5)
        let similarity = FunctionalConnectivity.similarity(FunctionalConnectivity.pearson(timeByRegions: ten),
                                                           FunctionalConnectivity.pearson(timeByRegions: reference))
        XCTAssertGreaterThan(similarity, 1 - 1e-8)
    }

    func testGeneralAlphaPathAgreesWithSquareRootPath() {
        var general = BalloonWindkessel()
        general.alpha = 0.32 * (1 + 1e-13)     // not a whole number of eighths: exp/log path
        let special = BalloonWindkessel()
        var a = BalloonWindkessel.State(), b = BalloonWindkessel.State()
        for step in 0..<5000 {
            let z = SIMD4<Double>(repeating: step < 300 ? 0.5 : 0)
            general.rk4Step(&a, z: z, h: 0.001)
            special.rk4Step(&b, z: z, h: 0.001)
        }
        XCTAssertEqual(general.bold(a)[0], special.bold(b)[0], accuracy: 1e-12)
    }
}
