import Foundation
import XCTest
import WholeBrain

/// Both branches of the RWW network's fixed points against independent references
/// (`Fixtures/make_continuation_fixture.py`: a closed-form branch of a homogeneous network,
/// and G* of the FIC network of subject 101309 by numpy eigenvalues).
final class ContinuationTests: XCTestCase {
    func allToAll(_ n: Int) -> Matrix {
        var w = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n where i != j { w[i, j] = 1 } }
        return w
    }

    /// The curve from the low state passes the fold at its end, the unstable middle branch
    /// and the second fold into the high branch: every point on the closed-form curve, the
    /// folds where G(S_E) has its extrema, stability as numpy's eigenvalues say, and G* at the
    /// first fold (where the low state ends).
    func testHomogeneousNetworkBranchesMatchTheClosedForm() throws {
        let fixture = Fixtures.json("rww_continuation.json")["homogeneous"] as! [String: Any]
        let samples = fixture["samples"] as! [[String: Double]]
        let folds = (fixture["folds"] as! [[String: Double]]).map { ($0["G"]!, $0["S_E"]!) }
        var p = ReducedWongWang.Parameters()
        p.jI = 2
        let continuation = RWWContinuation(parameters: p, weights: allToAll(4))
        let diagram = try continuation.diagram(over: 0.3...0.8, steps: 60)
        let points = diagram.curves.flatMap(\.points)
        XCTAssertEqual(diagram.curves.count, 1, "low, middle and high are one curve here")
        XCTAssertTrue(points.contains { $0.branch == "low" } && points.contains { $0.branch == "high" } && points.contains { $0.branch == "unstable" })
        // Every sample in range lies on the followed curve: interpolate G at the sample's S_E
        // between neighbouring points of the curve (they are ordered by arclength).
        let curve = diagram.curves[0].points
        var checked = 0
        for s in samples where s["G"]! > 0.31 && s["G"]! < 0.79 {
            let target = s["S_E"]!
            guard let k = curve.indices.dropLast().first(where: { k in (curve[k].meanSE - target) * (curve[k + 1].meanSE - target) <= 0 }) else {
                XCTFail("no point of the curve near S_E = \(target)"); continue
            }
            let a = curve[k], b = curve[k + 1]
            let t = (target - a.meanSE) / (b.meanSE - a.meanSE)
            XCTAssertEqual(a.value + t * (b.value - a.value), s["G"]!, accuracy: 2e-3, "G at S_E = \(target)")
            // Away from the folds, the stability agrees with numpy's eigenvalues.
            if abs(s["leading_real"]!) > 2e-4 && a.isStable == b.isStable {
                XCTAssertEqual(a.isStable, s["leading_real"]! < 0, "stability at S_E = \(target)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 30)
        let found = diagram.curves[0].bifurcations.filter { $0.kind == "fold" }
        XCTAssertEqual(found.count, 2, "two folds: \(diagram.curves[0].bifurcations)")
        for (g, sE) in folds {
            let match = try XCTUnwrap(found.min { abs($0.value - g) < abs($1.value - g) })
            XCTAssertEqual(match.value, g, accuracy: 1e-6)
            XCTAssertEqual(match.meanSE, sE, accuracy: 1e-3)
        }
        let critical = try XCTUnwrap(diagram.critical)
        XCTAssertEqual(critical.value, folds[0].0, accuracy: 1e-6, "G* is the fold that ends the low state")
        XCTAssertEqual(critical.kind, "fold")
    }

    /// A range that starts past the fold has no G*, whatever the start of the range is
    /// (the old continuation reported the range's start as G*).
    func testNoCriticalPointWhenTheLowStateDoesNotExistInTheRange() throws {
        var p = ReducedWongWang.Parameters()
        p.jI = 2
        let continuation = RWWContinuation(parameters: p, weights: allToAll(4))
        let diagram = try continuation.diagram(over: 0.56...0.7, steps: 20)
        XCTAssertNil(diagram.critical)
        XCTAssertNotNil(diagram.reason)
        XCTAssertTrue(diagram.curves.flatMap(\.points).allSatisfy { $0.branch == "high" }, "only the high branch lives there")
        let below = try continuation.diagram(over: 0.3...0.5, steps: 20)
        XCTAssertNil(below.critical, "the low state stays stable below the fold")
    }

    /// FIC: G* where the 3 Hz state loses stability, by bisection and by continuation, equals
    /// numpy's; the leading eigenvalue at three couplings too.
    func testFeedbackInhibitionCriticalCouplingMatchesNumpy() throws {
        let fixture = Fixtures.json("rww_continuation.json")["fic"] as! [String: Any]
        let data = try HCPDataset(root: Fixtures.hcp)
        let weights = try ConnectomePreparation().apply(to: try data.connectome(subject: "101309")).weights
        let p = ReducedWongWang.Parameters()
        let expected = fixture["G_star"] as! Double
        let gStar = try XCTUnwrap(try FeedbackInhibition.criticalCoupling(parameters: p, weights: weights, rate: 3))
        XCTAssertEqual(gStar.value, expected, accuracy: 1e-7)
        XCTAssertFalse(gStar.hopf)
        for row in fixture["leading_real_at"] as! [[String: Double]] {
            var q = p
            q.g = row["G"]!
            XCTAssertEqual(try FeedbackInhibition.leadingEigenvalue(parameters: q, weights: weights, rate: 3).real, row["leading_real"]!, accuracy: 1e-10)
        }
        let diagram = try RWWContinuation(parameters: p, weights: weights, inhibition: .feedback(rate: 3)).diagram(over: 0.2...1.0, steps: 20)
        let critical = try XCTUnwrap(diagram.critical)
        XCTAssertEqual(critical.value, expected, accuracy: 1e-6)
        XCTAssertEqual(critical.kind, "branch point", "the FIC state goes on past G*, unstable")
        let low = diagram.curves[0].points
        XCTAssertTrue(low.allSatisfy { abs($0.meanRate - 3) < 1e-6 }, "the FIC state stays at 3 Hz")
        XCTAssertTrue(low.filter { $0.value > expected + 1e-3 }.allSatisfy { !$0.isStable })
        XCTAssertTrue(diagram.curves.flatMap(\.points).contains { $0.branch == "high" }, "the high branch is traced too")
    }
}
