import XCTest
import WholeBrain

/// The generic discrete adjoint (`ModelAdjoint`) against central finite differences of the
/// engine's own runs, for every model it covers, with delays (1-35 steps), zero-delay edges,
/// white noise, bounds, both integrators and both couplings; and its BOLD against the engine's.
final class ModelAdjointTests: XCTestCase {
    /// Three regions: delays of 2 and 35 steps and one zero-delay pair (1 <-> 2) at 10 m/s.
    static func network() throws -> Connectome {
        try Connectome(weights: Matrix(rows: 3, columns: 3, values: [0, 0.8, 0.3, 0.5, 0, 0.9, 0.4, 0.7, 0]),
                       lengths: Matrix(rows: 3, columns: 3, values: [0, 2, 35, 2, 0, 0.04, 35, 0.04, 0]))
    }

    /// L = sum_r,i w_ri BOLD_ri with fixed weights.
    static func weights(_ bold: Matrix) -> Matrix {
        var w = Matrix(rows: bold.rows, columns: bold.columns)
        for r in 0..<bold.rows { for i in 0..<bold.columns { w[r, i] = Foundation.sin(1.3 * Double(r) + 2.1 * Double(i) + 0.5) } }
        return w
    }

    static func loss(_ bold: Matrix) -> Double {
        let w = weights(bold)
        return zip(w.values, bold.values).reduce(0) { $0 + $1.0 * $1.1 }
    }

    func check<M: NeuralMassModel>(_: M.Type, assignments: [(name: String, value: Double)] = [], coupling: CouplingKind? = nil,
                                   integrator: IntegratorKind, sigma: Double, boldInput: BoldSource? = nil, relativeStep: Double = 1e-5,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let name = M.globalCouplingParameter
        func spec(coupling p: Double?, sigma s: Double) throws -> SimulationSpec<M> {
            var values = assignments
            if let p { values.append((name, p)) }
            return try SimulationSpec(model: M(parameters: try M.parameters(set: nil, assignments: values)), connectome: try Self.network(),
                                      coupling: coupling, integrator: integrator, noise: NoiseSpec(kind: .white, sigma: s), dt: 0.1,
                                      duration: 2, transient: 0.13, tr: 0.05, conductionSpeed: 10, seed: 7, boldInput: boldInput)
        }
        let base = try spec(coupling: nil, sigma: sigma)
        let p = M.parameterSpecs.first { $0.name == name }.map { base.model.parameters[keyPath: $0.keyPath] }!
        let result = try ModelAdjoint.gradient(spec: base) { Self.weights($0) }
        // The adjoint's BOLD is the engine's.
        let engine = try NetworkSimulator(spec: base).run().bold
        let scale = engine.values.map(abs).max()!
        XCTAssertGreaterThan(scale, 0, file: file, line: line)
        XCTAssertLessThanOrEqual(zip(engine.values, result.bold.values).map { abs($0 - $1) }.max()!, 1e-12 * scale,
                                 "\(M.name): BOLD differs from the engine's", file: file, line: line)
        func difference(_ f: (Double) throws -> SimulationSpec<M>, at x: Double) throws -> Double {
            let h = relativeStep * max(abs(x), 1e-2)
            return (Self.loss(try NetworkSimulator(spec: try f(x + h)).run().bold) - Self.loss(try NetworkSimulator(spec: try f(x - h)).run().bold)) / (2 * h)
        }
        // Central differences with a relative step of 1e-5 (at 1e-4 the oscillators' loss
        // curves enough to move them by up to 7e-5 of the derivative; 1e-3: 0.7%).
        let dCoupling = try difference({ try spec(coupling: $0, sigma: sigma) }, at: p)
        XCTAssertGreaterThan(abs(dCoupling), 1e-9, "\(M.name): the loss must depend on \(name)", file: file, line: line)
        XCTAssertEqual(result.coupling, dCoupling, accuracy: 2e-5 * abs(dCoupling), "\(M.name) \(integrator) d/d\(name)", file: file, line: line)
        let dSigma = try difference({ try spec(coupling: nil, sigma: $0) }, at: sigma)
        XCTAssertGreaterThan(abs(dSigma), 1e-9, "\(M.name): the loss must depend on sigma", file: file, line: line)
        XCTAssertEqual(result.sigma, dSigma, accuracy: 2e-5 * abs(dSigma), "\(M.name) \(integrator) d/dsigma", file: file, line: line)
    }

    func testReducedWongWang() throws {
        try check(ReducedWongWang.self, assignments: [("G", 0.8)], integrator: .euler, sigma: 0.01)
        try check(ReducedWongWang.self, assignments: [("G", 0.8)], integrator: .heun, sigma: 0.01)
    }

    func testWilsonCowan() throws {
        try check(WilsonCowan.self, integrator: .heun, sigma: 0.02)
        try check(WilsonCowan.self, integrator: .euler, sigma: 0.02)
    }

    func testHopfDiffusive() throws {
        try check(Hopf.self, integrator: .heun, sigma: 0.02)
    }

    func testFitzHughNagumoDiffusive() throws {
        try check(FitzHughNagumo.self, integrator: .euler, sigma: 0.05)
    }

    /// Weak noise: at sigma 0.01 the rate r meets its bound at 0 now and then, and a finite
    /// difference straddles those kinks (the adjoint takes the bound's zero derivative).
    func testMontbrioPazoRoxin() throws {
        try check(MontbrioPazoRoxin.self, integrator: .heun, sigma: 0.001)
    }

    func testWongWang() throws {
        try check(WongWang.self, integrator: .euler, sigma: 0.01)
    }

    /// Jansen-Rit exchanges and images a function of its state, S(y1 - y2). Its loss moves
    /// little with G in 2 s (dL/dG 5e-8), so the difference takes a step of 1e-4, where
    /// rounding stays small.
    func testJansenRitThroughItsRate() throws {
        try check(JansenRit.self, integrator: .heun, sigma: 0.05, relativeStep: 1e-4)
    }

    /// At zero coupling the derivative comes from the model at unit coupling (no division by it).
    func testAtZeroCoupling() throws {
        let spec = try SimulationSpec(model: WilsonCowan(parameters: try WilsonCowan.parameters(set: nil, assignments: [("K_gl", 0)])),
                                      connectome: try Self.network(), integrator: .heun, noise: NoiseSpec(kind: .white, sigma: 0.02), dt: 0.1,
                                      duration: 2, transient: 0.13, tr: 0.05, conductionSpeed: 10, seed: 7)
        let result = try ModelAdjoint.gradient(spec: spec) { Self.weights($0) }
        let h = 1e-5
        let moved = try SimulationSpec(model: WilsonCowan(parameters: try WilsonCowan.parameters(set: nil, assignments: [("K_gl", h)])),
                                       connectome: try Self.network(), integrator: .heun, noise: NoiseSpec(kind: .white, sigma: 0.02), dt: 0.1,
                                       duration: 2, transient: 0.13, tr: 0.05, conductionSpeed: 10, seed: 7)
        let forward = (Self.loss(try NetworkSimulator(spec: moved).run().bold) - Self.loss(result.bold)) / h
        XCTAssertGreaterThan(abs(forward), 1e-9)
        XCTAssertEqual(result.coupling, forward, accuracy: 1e-3 * abs(forward))
    }

    /// What it does not cover yet is refused by name.
    func testRefusesWhatItDoesNotCover() throws {
        let kuramoto = try SimulationSpec(model: Kuramoto(parameters: Kuramoto.defaultParameters), connectome: try Self.network(),
                                          duration: 1, tr: 0.05, seed: 1)
        XCTAssertThrowsError(try ModelAdjoint.gradient(spec: kuramoto) { $0 }) { XCTAssert("\($0)".contains("sine"), "\($0)") }
        let ou = try SimulationSpec(model: WilsonCowan(parameters: WilsonCowan.defaultParameters), connectome: try Self.network(),
                                    noise: NoiseSpec(kind: .ou, sigma: 0.01), duration: 1, tr: 0.05, seed: 1)
        XCTAssertThrowsError(try ModelAdjoint.gradient(spec: ou) { $0 }) { XCTAssert("\($0)".contains("white noise"), "\($0)") }
    }
}
