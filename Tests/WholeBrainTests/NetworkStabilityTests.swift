import XCTest
import WholeBrain

/// The model-generic network stability (`NetworkStability`) against the reduced Wong-Wang
/// network's own (`RWWStability`, `RWWContinuation`), against the analytic spectrum of coupled
/// Stuart-Landau oscillators, and against noise-free simulations on both sides of a G*.
final class NetworkStabilityTests: XCTestCase {
    func weights() throws -> Matrix {
        try ConnectomePreparation().apply(to: try HCPDataset(root: Fixtures.hcp).connectome(subject: "102311")).weights
    }

    /// The residual is the network drift with the exchanged signal, and the Jacobian equals its
    /// central differences, for every model it serves: diffusive and sine coupling, and
    /// Jansen-Rit's exchanged rate S(y1 - y2) (before, the residual and Jacobian coupled
    /// Jansen-Rit through y1 itself, where the engine sends S(y1 - y2)).
    func testNetworkJacobianMatchesDifferences() throws {
        let w = Matrix(rows: 3, columns: 3, values: [0, 0.8, 0.3, 0.5, 0, 0.9, 0.4, 0.7, 0])
        func check<M: NeuralMassModel>(_ model: M, coupling: CouplingKind = M.defaultCoupling, file: StaticString = #filePath, line: UInt = #line) throws {
            let stability = try NetworkStability(model: model, weights: w, coupling: coupling)
            let v = M.variables.count
            let x = (0..<(3 * v)).map { k -> Double in
                let range = M.variables[k / 3].initialRange
                return range.lowerBound + (range.upperBound - range.lowerBound) * (0.3 + 0.2 * Double(k % 3))
            }
            let (f, j) = stability.residualAndJacobian(x)
            // The residual is the network's drift with the signal the engine exchanges.
            let states = (0..<3).map { i in (0..<v).map { x[$0 * 3 + i] } }
            for i in 0..<3 {
                var sum0 = 0.0, sum1 = 0.0, rowSum = 0.0
                for k in 0..<3 {
                    let s = model.couplingSignal(state: states[k])
                    sum0 += w[i, k] * coupling.pre(s, channel: 0); sum1 += w[i, k] * coupling.pre(s, channel: 1); rowSum += w[i, k]
                }
                let c = coupling.post(sum0: sum0, sum1: sum1, local: model.couplingSignal(state: states[i]), rowSum: rowSum)
                let drift = model.drift(state: states[i], coupling: [c], node: model.nodeParameterDefaults)
                for a in 0..<v { XCTAssertEqual(f[a * 3 + i], drift[a], accuracy: 1e-12 * max(abs(drift[a]), 1), "\(M.name) f", file: file, line: line) }
            }
            for b in x.indices {
                let h = 1e-6 * max(abs(x[b]), 1)
                var up = x, down = x
                up[b] += h; down[b] -= h
                let fu = stability.residualAndJacobian(up).f, fd = stability.residualAndJacobian(down).f
                for a in x.indices {
                    let difference = (fu[a] - fd[a]) / (2 * h)
                    XCTAssertEqual(j[a, b], difference, accuracy: 1e-6 * max(abs(difference), 1e-3), "\(M.name) d f\(a) / d x\(b)", file: file, line: line)
                }
            }
        }
        try check(JansenRit(parameters: JansenRit.defaultParameters))
        try check(WilsonCowan(parameters: WilsonCowan.defaultParameters))
        try check(Hopf(parameters: Hopf.defaultParameters))
        try check(FitzHughNagumo(parameters: FitzHughNagumo.defaultParameters))
        try check(MontbrioPazoRoxin(parameters: MontbrioPazoRoxin.defaultParameters))
        try check(Kuramoto(parameters: Kuramoto.defaultParameters))
    }

    /// Same residual, Jacobian, fixed point and eigenvalues as RWWStability, with feedback
    /// inhibition's per-node J_i.
    func testReducedWongWangAgreesWithItsOwnStability() throws {
        let w = try weights(), n = w.rows
        var p = ReducedWongWang.Parameters()
        p.g = 0.4
        let ji = try FeedbackInhibition.localInhibition(parameters: p, weights: w, targetRate: 3)
        let own = RWWStability(parameters: p, weights: w, nodeJI: ji)
        let generic = try NetworkStability(model: ReducedWongWang(parameters: p), weights: w,
                                           nodeParameters: [ji, [Double](repeating: p.wPlus, count: n), [Double](repeating: p.i0, count: n)])
        let start = [Double](repeating: 0.12, count: n) + [Double](repeating: 0.04, count: n)
        let a = own.residualAndJacobian(start), b = generic.residualAndJacobian(start)
        for k in a.f.indices { XCTAssertEqual(a.f[k], b.f[k], accuracy: 1e-14) }
        for k in a.j.values.indices { XCTAssertEqual(a.j.values[k], b.j.values[k], accuracy: 1e-12) }
        let x = try XCTUnwrap(try own.fixedPoint(from: start)), y = try XCTUnwrap(try generic.fixedPoint(from: start))
        for k in x.state.indices { XCTAssertEqual(x.state[k], y.state[k], accuracy: 1e-12) }
        for k in 0..<5 { XCTAssertEqual(x.eigenvalues[k].real, y.eigenvalues[k].real, accuracy: 1e-10) }
        XCTAssertTrue(y.isStable)
    }

    /// Without feedback inhibition (J_i = 2), the low state's G* from the generic branch
    /// following is RWWContinuation's; at the default J_i = 1 neither finds one in 0-6.
    func testReducedWongWangCriticalCouplingMatchesTheContinuation() throws {
        let w = try weights(), n = w.rows
        let start = [Double](repeating: 0.05, count: 2 * n)
        XCTAssertNil(try NetworkStability.criticalCoupling(model: ReducedWongWang(parameters: ReducedWongWang.Parameters()), weights: w,
                                                           start: start, range: 0...6, steps: 30))
        var p = ReducedWongWang.Parameters()
        p.jI = 2
        let diagram = try RWWContinuation(parameters: p, weights: w).diagram(over: 0...6, steps: 60, highBranch: false)
        let expected = try XCTUnwrap(diagram.critical)
        let found = try XCTUnwrap(try NetworkStability.criticalCoupling(model: ReducedWongWang(parameters: p), weights: w, start: start,
                                                                        range: 0...6, steps: 60))
        XCTAssertEqual(found.value, expected.value, accuracy: 1e-4 * expected.value, "G* \(found.value) against \(expected.value)")
        XCTAssertEqual(found.kind, "fold or branch point")
    }

    /// Stuart-Landau oscillators below their Hopf point (a < 0) coupled diffusively on x: the
    /// origin is the fixed point and, for each eigenvalue mu of L = C - diag(rows sums) of a
    /// symmetric C, the network has lambda = a + K mu / 2 +- sqrt((K mu / 2)^2 - omega^2).
    func testCoupledHopfOscillatorsHaveTheAnalyticSpectrum() throws {
        var c = try weights()
        let n = 12
        var small = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n where i != j { small[i, j] = 0.5 * (c[i, j] + c[j, i]) } }
        c = small
        var p = Hopf.Parameters()
        p.a = -0.05; p.omega = 0.2; p.kGl = 3
        let stability = try NetworkStability(model: Hopf(parameters: p), weights: c)
        let point = try XCTUnwrap(try stability.fixedPoint(from: [Double](repeating: 0.1, count: 2 * n)))
        for x in point.state { XCTAssertEqual(x, 0, accuracy: 1e-12) }
        var laplacian = c
        for i in 0..<n { laplacian[i, i] = -(0..<n).reduce(0.0) { $0 + c[i, $1] } }
        var expected: [(Double, Double)] = []
        for mu in try Eigenvalues.of(laplacian).map(\.real) {
            let half = p.kGl * mu / 2, d = half * half - p.omega * p.omega
            expected += d >= 0 ? [(p.a + half + d.squareRoot(), 0), (p.a + half - d.squareRoot(), 0)]
                               : [(p.a + half, (-d).squareRoot()), (p.a + half, -(-d).squareRoot())]
        }
        let byValue: ((Double, Double), (Double, Double)) -> Bool = { ($0.0, $0.1) > ($1.0, $1.1) }
        let got = point.eigenvalues.map { ($0.real, $0.imaginary) }.sorted(by: byValue)
        for (g, e) in zip(got, expected.sorted(by: byValue)) {
            XCTAssertEqual(g.0, e.0, accuracy: 1e-10); XCTAssertEqual(g.1, e.1, accuracy: 1e-10)
        }
        XCTAssertTrue(point.isStable)
    }

    /// Wilson-Cowan's low state: a noise-free run without delays, started off the fixed point,
    /// returns to it just below the G* found here and leaves it just above.
    func testWilsonCowanLosesStabilityWhereTheSimulationSaysSo() throws {
        let w = try weights(), n = w.rows
        let model = WilsonCowan(parameters: WilsonCowan.defaultParameters)
        let critical = try XCTUnwrap(try NetworkStability.criticalCoupling(model: model, weights: w, start: [Double](repeating: 0, count: 2 * n),
                                                                           range: 0...20, steps: 100),
                                     "the low state loses stability below K_gl = 20")
        var below = model.parameters
        below.kGl = 0.95 * critical.value
        let anchor = try XCTUnwrap(try NetworkStability(model: WilsonCowan(parameters: below), weights: w)
            .fixedPoint(from: [Double](repeating: 0, count: 2 * n)))
        XCTAssertTrue(anchor.isStable)
        for (factor, settles) in [(0.95, true), (1.05, false)] {
            var p = model.parameters
            p.kGl = factor * critical.value
            // The fixed point continued to this coupling (past a fold there is none: the anchor).
            let reference = try NetworkStability(model: WilsonCowan(parameters: p), weights: w).fixedPoint(from: anchor.state)?.state ?? anchor.state
            let spec = try SimulationSpec(model: WilsonCowan(parameters: p), connectome: Connectome(weights: w, lengths: Matrix(rows: n, columns: n)),
                                          noise: NoiseSpec(kind: .none, sigma: 0), dt: 0.05, duration: 4, transient: 0, tr: 0.5,
                                          conductionSpeed: .infinity, seed: 1, statePeriod: 50,
                                          initialState: [reference.prefix(n).map { $0 + 1e-3 }, Array(reference.suffix(n))])
            let run = try NetworkSimulator(spec: spec).run()
            let states = try XCTUnwrap(run.states), last = (run.stateSampleCount - 1) * 2 * n
            let distance = (0..<n).map { abs(states[last + $0] - reference[$0]) }.max()!
            if settles { XCTAssertLessThan(distance, 1e-4, "K_gl = \(p.kGl): back at the fixed point (G* \(critical.value), \(critical.kind))") }
            else { XCTAssertGreaterThan(distance, 1e-2, "K_gl = \(p.kGl): away from the fixed point (G* \(critical.value), \(critical.kind))") }
        }
    }
}
