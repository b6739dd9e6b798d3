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
