import Foundation
import XCTest
import WholeBrain

/// The noise-free BOLD FC of a linearised network against scipy's Lyapunov solution of the
/// same equations (Tests/Reference/linearised_fc.py, via make_linearised_fc_fixture.py), and
/// the Lyapunov solver against its own equation.
final class LinearisedFCTests: XCTestCase {
    func testMatchesScipysLyapunovSolution() throws {
        let fixture = Fixtures.json("linearised_fc.json")
        let rows = fixture["weights"] as! [[Double]]
        let n = rows.count
        let weights = Matrix(rows: n, columns: n, values: rows.flatMap { $0 })
        let sigma = fixture["sigma"] as! Double
        for case_ in fixture["cases"] as! [[String: Any]] {
            var p = ReducedWongWang.Parameters()
            p.g = case_["G"] as! Double
            let ji = try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: 3)
            for (a, b) in zip(ji, case_["J_i"] as! [Double]) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(b), "J_i at G \(p.g)") }
            let state = try FeedbackInhibition.state(parameters: p, nodes: n, rate: 3)
            let lin = try LinearisedFC(stability: RWWStability(parameters: p, weights: weights, nodeJI: ji), state: state, sigma: sigma)
            let fc = (case_["fc"] as! [[Double]]).flatMap { $0 }, neural = (case_["fc_neural"] as! [[Double]]).flatMap { $0 }
            for k in 0..<(n * n) {
                XCTAssertEqual(lin.fc.values[k], fc[k], accuracy: 1e-7, "BOLD FC entry \(k) at G \(p.g)")
                XCTAssertEqual(lin.neuralFC.values[k], neural[k], accuracy: 1e-7, "S_E FC entry \(k) at G \(p.g)")
            }
            for (i, v) in (case_["bold_variance"] as! [Double]).enumerated() {
                XCTAssertEqual(lin.boldCovariance[i, i], v, accuracy: 1e-6 * v, "BOLD variance of region \(i) at G \(p.g)")
            }
        }
    }

    /// A X + X A^T + Q = 0 to rounding for a stable, non-normal A with complex eigenvalues.
    func testLyapunovSolutionSatisfiesItsEquation() throws {
        let m = 7
        var a = Matrix(rows: m, columns: m), q = Matrix(rows: m, columns: m)
        for i in 0..<m {
            for j in 0..<m { a[i, j] = sin(Double(3 * i + 5 * j + 1)) * 0.3 }
            a[i, i] -= 2
            q[i, i] = 1 + Double(i)
        }
        a[0, 1] = 3; a[1, 0] = -3  // a rotating pair
        let x = try LinearisedFC.lyapunov(a, q)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<m {
                var r = q[i, j]
                for k in 0..<m { r += a[i, k] * x[k, j] + x[i, k] * a[j, k] }
                worst = max(worst, abs(r))
            }
        }
        XCTAssertLessThan(worst, 1e-12)
        for i in 0..<m { XCTAssertGreaterThan(x[i, i], 0, "a covariance's diagonal is positive") }
    }

    func testAnUnstableSystemHasNoStationaryCovariance() {
        var a = Matrix(rows: 2, columns: 2)
        a[0, 0] = 0.1; a[1, 1] = -1
        XCTAssertThrowsError(try LinearisedFC.lyapunov(a, Matrix(rows: 2, columns: 2, values: [1, 0, 0, 1]))) { error in
            XCTAssert("\(error)".contains("stable fixed point"), "\(error)")
        }
    }

    /// simulate reports the expectation at the default operating point, and a 300-s run's FC
    /// (no band-pass) comes close to it: the linearisation describes the noisy network.
    func testSimulateReportsTheExpectedFCAndARunApproachesIt() throws {
        let out = NSTemporaryDirectory() + "wholebrain-linearised-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CommandLineTests.launch(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "300", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.err.contains("expected FC: an infinitely long run here would reach FC r"), r.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        let expected = try XCTUnwrap(summary["linearised_fc"] as? [String: Any])
        let subject = try XCTUnwrap(expected["fc_r_subject"] as? Double)
        let run = try XCTUnwrap((summary["fc_correlation"] as? [String: Any])?["101309"] as? Double)
        let linearised = try NumpyFile.readMatrix(path: out + "/fc_linearised.npy"), simulated = try NumpyFile.readMatrix(path: out + "/fc.npy")
        XCTAssertEqual(linearised.rows, 80)
        XCTAssertGreaterThan(FunctionalConnectivity.similarity(linearised, simulated), 0.9, "the run's FC against the expected one")
        XCTAssertEqual(run, subject, accuracy: 0.1, "the run's FC r with the data near the expectation (\(run) vs \(subject))")
    }
}
