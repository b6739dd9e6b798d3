import XCTest
import WholeBrain

/// Points integrated together as SIMD lanes give each point's own run, bit for bit.
final class EnsembleTests: XCTestCase {
    func spec(g: Double, jI: Double = 1, nodeJI: [Double]? = nil, sigma: Double = 0.01, seed: UInt64 = 3,
              connectome: Connectome) throws -> SimulationSpec<ReducedWongWang> {
        var p = ReducedWongWang.Parameters()
        p.g = g; p.jI = jI
        return try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: nodeJI.map { ["J_i": $0] } ?? [:],
                                  connectome: connectome, noise: NoiseSpec(sigma: sigma), dt: 0.1, duration: 6, transient: 1,
                                  tr: 0.5, conductionSpeed: 20, seed: seed)
    }

    func assertSameBits(_ a: SimulationResult, _ b: SimulationResult, _ label: String) {
        XCTAssertEqual(a.bold.rows, b.bold.rows, label)
        XCTAssertEqual(a.bold.values.map(\.bitPattern), b.bold.values.map(\.bitPattern), "BOLD, \(label)")
        XCTAssertEqual(a.meanVariables.flatMap { $0 }.map(\.bitPattern), b.meanVariables.flatMap { $0 }.map(\.bitPattern), "means, \(label)")
        XCTAssertEqual(a.meanObservables.flatMap { $0 }.map(\.bitPattern), b.meanObservables.flatMap { $0 }.map(\.bitPattern), "rates, \(label)")
    }

    func testLanesEqualSeparateRuns() throws {
        // Delays from 1 to many steps (short, medium and long edges), nodes not a multiple of four.
        let connectome = try smallConnectome(7, lengthScale: 30)
        let fic = [1.0, 1.2, 0.9, 1.1, 1.3, 1.05, 0.95]
        let mixed = [try spec(g: 0.5, connectome: connectome), try spec(g: 1.5, jI: 1.4, seed: 9, connectome: connectome),
                     try spec(g: 0.8, nodeJI: fic, sigma: 0.02, connectome: connectome), try spec(g: 2, sigma: 0, connectome: connectome)]
        let delays = DelayCoupling(connectome: connectome, dt: 0.1, speed: 20)
        XCTAssert(delays.shortEdgeCount > 0 && delays.mediumEdgeCount > 0 && delays.longEdgeCount > 0, "every kind of delayed edge")
        let together = try RWWEnsemble.run(mixed)
        for (k, s) in mixed.enumerated() { assertSameBits(together[k], try NetworkSimulator(spec: s).run(), "point \(k) of 4") }
        // Shared seeds (the noise drawn once for all lanes) and fewer than four points.
        let shared = [try spec(g: 0.3, connectome: connectome), try spec(g: 0.6, connectome: connectome), try spec(g: 0.9, connectome: connectome)]
        let three = try RWWEnsemble.run(shared)
        XCTAssertEqual(three.count, 3)
        for (k, s) in shared.enumerated() { assertSameBits(three[k], try NetworkSimulator(spec: s).run(), "point \(k) of 3") }
        // Regional w_+ and I_0, different in each lane.
        let regional = try (0..<4).map { lane -> SimulationSpec<ReducedWongWang> in
            let base = try spec(g: 0.4 + 0.2 * Double(lane), connectome: connectome)
            return try GradientFit.spec(base, with: (0..<7).flatMap { i -> [(RWWGradient.Parameter, Double)] in
                [(.nodeWPlus(i), 1.3 + 0.02 * Double((i + lane) % 7)), (.nodeI0(i), 0.37 + 0.003 * Double((2 * i + lane) % 7))]
            })
        }
        let heterogeneous = try RWWEnsemble.run(regional)
        for (k, s) in regional.enumerated() { assertSameBits(heterogeneous[k], try NetworkSimulator(spec: s).run(), "regional point \(k)") }
    }

    func testIncompatiblePointsAreRefused() throws {
        let connectome = try smallConnectome(5)
        let a = try spec(g: 0.5, connectome: connectome)
        var p = ReducedWongWang.Parameters()
        p.g = 0.5
        let heun = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, integrator: .heun, dt: 0.1,
                                      duration: 6, transient: 1, tr: 0.5, conductionSpeed: 3, seed: 3)
        XCTAssertNotNil(RWWEnsemble.incompatibility([a, heun]))
        XCTAssertNil(RWWEnsemble.incompatibility([a, try spec(g: 3, seed: 4, connectome: connectome)]))
        assertThrowsMessage(try RWWEnsemble.run([a, heun]), containing: ["ensemble", "Euler"])
    }
}
