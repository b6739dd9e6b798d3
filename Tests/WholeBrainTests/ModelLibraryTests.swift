import XCTest
import WholeBrain

/// Every model through the same checks, then each model's documented behaviour.
final class ModelLibraryTests: XCTestCase {
    // MARK: - Every model

    func checkJacobian<M: NeuralMassModel>(_: M.Type) {
        let model = M(parameters: M.defaultParameters)
        let noise = CounterNoise(seed: 99)
        let v = M.variables.count
        for trial in 0..<6 {
            let x = (0..<v).map { k -> Double in
                let r = M.variables[k].initialRange
                return r.lowerBound + (r.upperBound - r.lowerBound) * noise.uniform(node: trial, step: 1, variable: UInt64(k))
            }
            let sums = M.couplingWeightPowers.count
            let c = (0..<sums).map { [0.0, 0.3, -0.2, 0.05, 1.1, 0.7][(trial + $0) % 6] }
            let local = [Double](repeating: 0, count: M.localDelayObservables.count)
            let node = model.nodeParameterDefaults
            let (j, jc) = model.jacobian(state: x, coupling: c, node: node)
            for col in 0..<(v + sums) {
                var xp = x, xm = x, cp = c, cm = c
                let h: Double
                if col < v { h = 1e-6 * max(1, abs(x[col])); xp[col] += h; xm[col] -= h }
                else { h = 1e-6 * max(1, abs(c[col - v])); cp[col - v] += h; cm[col - v] -= h }
                let fp = model.drift(state: xp, coupling: cp, local: local, node: node)
                let fm = model.drift(state: xm, coupling: cm, local: local, node: node)
                for row in 0..<v {
                    let fd = (fp[row] - fm[row]) / (2 * h)
                    let analytic = col < v ? j[row][col] : jc[col - v][row]
                    let scale = max(j[row].map(abs).max()!, jc.map { abs($0[row]) }.max()!, 1e-8)
                    XCTAssertLessThan(abs(analytic - fd) / scale, 1e-6,
                                      "\(M.name) d f_\(M.variables[row].name) / d \(col < v ? M.variables[col].name : "c\(col - v)") at \(x), c = \(c): \(analytic) vs \(fd)")
                }
            }
        }
    }

    func testEveryJacobianMatchesFiniteDifferences() {
        for m in ModelCatalog.all { checkJacobian(m) }
    }

    func runOnBundledData<M: NeuralMassModel>(_: M.Type, integrator: IntegratorKind) throws -> SimulationRun {
        let data = try HCPDataset(root: Fixtures.hcp)
        let sc = try ConnectomePreparation().apply(to: try data.connectome(subject: "101309"))
        var request = SimulationRequest(connectome: sc, duration: 3.6)
        request.transient = 1
        request.integrator = integrator
        if integrator == .rk4 { request.noiseKind = NoiseSpec.Kind.none }
        else { request.sigma = 0.001 }
        return try M.simulate(request, progress: nil)
    }

    func testEveryModelRunsOnTheBundledConnectomeWithBOLD() throws {
        for m in ModelCatalog.all {
            for integrator in IntegratorKind.allCases {
                let run = try runOnBundledData(m, integrator: integrator)
                XCTAssertEqual(run.result.bold.rows, 5, "\(m.name) \(integrator)")
                XCTAssertEqual(run.result.bold.columns, 80)
                XCTAssert(run.result.bold.values.allSatisfy(\.isFinite), "\(m.name) \(integrator): BOLD not finite")
                XCTAssertGreaterThan(Set(run.result.bold.values).count, 1, "\(m.name) \(integrator): BOLD constant")
            }
        }
    }

    func testCatalogNamesAreUniqueAndDescribed() throws {
        let names = ModelCatalog.all.map { $0.name }
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(names.first, ModelCatalog.defaultModel.name, "the default model is listed first")
        // Generated from Models/ at build time: these must be found (a new file adds itself).
        XCTAssert(Set(["rww", "ww", "wc", "fhn", "hopf", "kuramoto", "jr", "mpr", "aln"]).isSubset(of: names), "\(names)")
        for m in ModelCatalog.all {
            XCTAssert(m.parameterNames.contains(m.globalCouplingParameter), "\(m.name): its global coupling \(m.globalCouplingParameter) is a parameter")
            let text = m.describe()
            XCTAssert(text.contains("global coupling (--G): \(m.globalCouplingParameter)"), m.name)
            XCTAssert(text.contains(m.reference), m.name)
            for p in m.parameterNames { XCTAssert(text.contains(p), "\(m.name) lists \(p)") }
        }
        assertThrowsMessage(try ModelCatalog.named("aln2"), containing: ["--model", "rww", "kuramoto"])
    }

    // MARK: - Single-node helpers

    func single() throws -> Connectome { try Connectome(weights: Matrix(rows: 1, columns: 1), lengths: Matrix(rows: 1, columns: 1)) }

    /// States of one deterministic node, sampled every `period` ms after `transient` s.
    func trajectory<M: NeuralMassModel>(_ model: M, seconds: Double, transient: Double, period: Double = 1,
                                        integrator: IntegratorKind = .rk4, dt: Double = 0.05,
                                        initial: [Double]? = nil) throws -> [[Double]] {
        let spec = try SimulationSpec(model: model, connectome: try single(), integrator: integrator,
                                      noise: NoiseSpec(kind: .none, sigma: 0), dt: dt, duration: seconds, transient: transient,
                                      tr: seconds, statePeriod: period, initialState: initial.map { $0.map { [$0] } },
                                      recordBold: false)
        let r = try NetworkSimulator(spec: spec).run()
        let v = M.variables.count
        return (0..<v).map { k in (0..<r.stateSampleCount).map { r.states![$0 * v + k] } }
    }

    func amplitude(_ xs: [Double]) -> Double { xs.max()! - xs.min()! }

    // MARK: - Documented behaviour

    func testFitzHughNagumoBrainPyLimitCycles() throws {
        for (current, oscillates) in [(0.2, false), (0.72, true), (1.0, true), (1.4, true), (1.6, false)] {
            let p = try FitzHughNagumo.parameters(set: "brainpy", assignments: [("x_ext", current)])
            let x = try trajectory(FitzHughNagumo(parameters: p), seconds: 1, transient: 2, initial: [-1, 1])[0]
            if oscillates { XCTAssertGreaterThan(amplitude(x), 3, "I = \(current) should give a limit cycle") }
            else { XCTAssertLessThan(amplitude(x), 1e-3, "I = \(current) should settle") }
        }
    }

    func testWilsonCowanBistabilityWithBrainPySet() throws {
        let fixture = Fixtures.json("wilson_cowan_bistable.json")
        let stable = fixture["stable_fixed_points"] as! [[Double]]
        let p = try WilsonCowan.parameters(set: "brainpy", assignments: [("exc_ext", -2.5), ("inh_ext", -8)])
        let model = WilsonCowan(parameters: p)
        let low = try trajectory(model, seconds: 0.01, transient: 0.2, initial: [0.01, 0])
        let high = try trajectory(model, seconds: 0.01, transient: 0.2, initial: [0.9, 0])
        XCTAssertEqual(low[0].last!, stable[0][0], accuracy: 1e-9)
        XCTAssertEqual(low[1].last!, stable[0][1], accuracy: 1e-9)
        XCTAssertEqual(high[0].last!, stable[1][0], accuracy: 1e-9)
        XCTAssertEqual(high[1].last!, stable[1][1], accuracy: 1e-9)
    }

    func testHopfOscillatesAtItsFrequencyOrDecays() throws {
        let cycle = try trajectory(Hopf(parameters: .init()), seconds: 1, transient: 0.5, period: 0.05)
        let radius = zip(cycle[0], cycle[1]).map { ($0 * $0 + $1 * $1).squareRoot() }
        XCTAssertEqual(radius.min()!, 0.5, accuracy: 1e-6)
        XCTAssertEqual(radius.max()!, 0.5, accuracy: 1e-6)
        // Upward zero crossings of x, interpolated.
        var crossings: [Double] = []
        for k in 1..<cycle[0].count where cycle[0][k - 1] < 0 && cycle[0][k] >= 0 {
            let f = cycle[0][k - 1] / (cycle[0][k - 1] - cycle[0][k])
            crossings.append((Double(k - 1) + f) * 0.05)
        }
        let period = (crossings.last! - crossings.first!) / Double(crossings.count - 1)
        XCTAssertEqual(1000 / period, 0.2 / (2 * Double.pi) * 1000, accuracy: 0.01, "Hz")
        var p = Hopf.Parameters()
        p.a = -0.25
        let decay = try trajectory(Hopf(parameters: p), seconds: 0.01, transient: 0.2, initial: [0.5, 0])
        XCTAssertLessThan(abs(decay[0].last!) + abs(decay[1].last!), 1e-12)
    }

    func testKuramotoSynchronisesAboveCriticalCoupling() throws {
        let n = 64
        let sigma = 0.01    // rad/ms, spread of natural frequencies (normal quantiles)
        let omegas = (0..<n).map { 2 * Double.pi * 0.01 + sigma * inverseNormal((Double($0) + 0.5) / Double(n)) }
        let critical = 2 * sigma * (2 * Double.pi).squareRoot() / Double.pi    // 2 / (pi g(0))
        var w = Matrix(rows: n, columns: n, repeating: 1 / Double(n))
        for i in 0..<n { w[i, i] = 0 }
        let c = try Connectome(weights: w, lengths: Matrix(rows: n, columns: n))
        func order(_ k: Double) throws -> Double {
            var p = Kuramoto.Parameters()
            p.k = k
            let spec = try SimulationSpec(model: Kuramoto(parameters: p), nodeParameters: ["omega": omegas], connectome: c,
                                          integrator: .heun, noise: NoiseSpec(kind: .none, sigma: 0), duration: 1,
                                          transient: 1, tr: 1, conductionSpeed: .infinity, seed: 4, statePeriod: 1)
            let r = try NetworkSimulator(spec: spec).run()
            var total = 0.0
            for s in 0..<r.stateSampleCount {
                var re = 0.0, im = 0.0
                for i in 0..<n { re += cos(r.states![s * n + i]); im += sin(r.states![s * n + i]) }
                total += (re * re + im * im).squareRoot() / Double(n)
            }
            return total / Double(r.stateSampleCount)
        }
        XCTAssertLessThan(try order(0.25 * critical), 0.35, "incoherent below K_c")
        XCTAssertGreaterThan(try order(4 * critical), 0.9, "synchronised above K_c")
    }

    func testJansenRitAlphaRhythm() throws {
        let y = try trajectory(JansenRit(parameters: .init()), seconds: 4, transient: 2, period: 1, dt: 0.1)
        let v = zip(y[1], y[2]).map { $0 - $1 }
        XCTAssertGreaterThan(amplitude(v), 1, "mV")
        let mean = v.reduce(0, +) / Double(v.count)
        var best = (f: 0.0, power: 0.0)
        for f in stride(from: 1.0, through: 40, by: 0.25) {
            var re = 0.0, im = 0.0
            for (k, value) in v.enumerated() {
                let phase = 2 * Double.pi * f * Double(k) / 1000
                re += (value - mean) * cos(phase); im += (value - mean) * sin(phase)
            }
            if re * re + im * im > best.power { best = (f, re * re + im * im) }
        }
        XCTAssertEqual(best.f, 11, accuracy: 1.5, "alpha rhythm")
    }

    func testMontbrioPazoRoxinIsBistable() throws {
        // With eta = -5, J = 15, Delta = 1 the paper finds a low-rate node and a high-rate focus,
        // at tau r = 0.0811 and 1.0306 (scipy fsolve; a saddle at 0.473 separates them).
        var p = MontbrioPazoRoxin.Parameters()
        p.tau = 1
        let model = MontbrioPazoRoxin(parameters: p)
        let low = try trajectory(model, seconds: 0.01, transient: 0.1, dt: 0.001, initial: [0.1, -2])
        let high = try trajectory(model, seconds: 0.01, transient: 0.1, dt: 0.001, initial: [1, -0.2])
        XCTAssertEqual(low[0].last!, 0.0811, accuracy: 1e-4)
        XCTAssertEqual(high[0].last!, 1.0306, accuracy: 1e-4)
        for x in [low, high] {
            let state = [x[0].last!, x[1].last!]
            let f = model.drift(state: state)
            XCTAssertLessThan(abs(f[0]) + abs(f[1]), 1e-8, "settled on a fixed point")
            let j = model.jacobian(state: state, coupling: [0], node: []).state
            let trace = j[0][0] + j[1][1], det = j[0][0] * j[1][1] - j[0][1] * j[1][0]
            XCTAssert(trace < 0 && det > 0, "stable: trace \(trace), det \(det)")
        }
    }

    // MARK: - Integrators

    /// Orders of convergence on a deterministic network without delays (two coupled Hopf
    /// oscillators through zero-delay edges, so the stages see the coupling).
    func testIntegratorOrders() throws {
        var w = Matrix(rows: 2, columns: 2)
        w[0, 1] = 1; w[1, 0] = 0.5
        let c = try Connectome(weights: w, lengths: Matrix(rows: 2, columns: 2))
        var p = Hopf.Parameters()
        p.kGl = 0.8
        func final(_ integrator: IntegratorKind, _ dt: Double) throws -> [Double] {
            let spec = try SimulationSpec(model: Hopf(parameters: p), connectome: c, coupling: .linear, integrator: integrator,
                                          noise: NoiseSpec(kind: .none, sigma: 0), dt: dt, duration: 0.02, tr: 0.02,
                                          conductionSpeed: .infinity, seed: 2, statePeriod: dt,
                                          initialState: [[0.3, -0.4], [0.2, 0.1]])
            let r = try NetworkSimulator(spec: spec).run()
            return Array(r.states!.suffix(4))
        }
        let reference = try final(.rk4, 0.0025)
        func error(_ i: IntegratorKind, _ dt: Double) throws -> Double {
            zip(try final(i, dt), reference).map { abs($0 - $1) }.max()!
        }
        for (integrator, expected) in [(IntegratorKind.euler, 1.0), (.heun, 2.0), (.rk4, 4.0)] {
            let coarse = try error(integrator, 0.2), fine = try error(integrator, 0.1)
            let order = log2(coarse / fine)
            XCTAssertEqual(order, expected, accuracy: 0.15 * expected, "\(integrator): errors \(coarse), \(fine)")
        }
    }

    func testRK4RefusesNoise() throws {
        assertThrowsMessage(try SimulationSpec(model: Hopf(parameters: .init()), connectome: try single(), integrator: .rk4,
                                               noise: NoiseSpec(kind: .white, sigma: 0.1), duration: 1),
                            containing: ["rk4", "deterministic"])
    }
}

/// Inverse of the standard normal CDF by bisection on erfc (tests only).
func inverseNormal(_ p: Double) -> Double {
    var lo = -10.0, hi = 10.0
    for _ in 0..<200 {
        let mid = 0.5 * (lo + hi)
        if 0.5 * erfc(-mid / 2.squareRoot()) < p { lo = mid } else { hi = mid }
    }
    return 0.5 * (lo + hi)
}
