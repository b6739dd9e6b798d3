import XCTest
import WholeBrain

/// The discrete adjoint of the RWW network with delays, noise and BOLD, against central
/// finite differences of the same loss, for every kind of parameter.
final class GradientTests: XCTestCase {
    func spec(_ p: ReducedWongWang.Parameters, sigma: Double, nodeJI: [Double]? = nil,
              regional: [String: [Double]] = [:]) throws -> SimulationSpec<ReducedWongWang> {
        try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: regional.merging(nodeJI.map { ["J_i": $0] } ?? [:]) { $1 },
                           connectome: try smallConnectome(5), noise: NoiseSpec(sigma: sigma), dt: 0.1, duration: 2,
                           transient: 0.2, tr: 0.05, conductionSpeed: 20, seed: 13)
    }

    func testGradientMatchesFiniteDifferencesForEveryParameterKind() throws {
        // Deterministic run (nodes differ by their initial states) for the model parameters;
        // a fixed-noise run for sigma.
        try check(sigma: 0, parameters: [.g, .wPlus, .jI, .jNMDA, .i0, .nodeJI(2)])
        try check(sigma: 0.01, parameters: [.sigma, .g, .nodeJI(3)])
        // Regional heterogeneity: w_+ and I_0 differ between nodes; one node's own, and the
        // uniform parameters (which shift every node's value).
        try check(sigma: 0.01, parameters: [.nodeWPlus(2), .nodeI0(4), .wPlus, .i0], regional: true)
    }

    /// Checkpointing (recomputing segments) changes memory, not the result.
    func testCheckpointedGradientEqualsTheStoredOne() throws {
        var base = ReducedWongWang.Parameters()
        base.g = 0.5
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 5, columns: 40, values: (0..<200).map { k in
            sin(Double(k) * 0.37) + Double(k % 7) * 0.1
        }))
        let parameters: [RWWGradient.Parameter] = [.g, .wPlus, .jI, .jNMDA, .i0, .sigma, .nodeJI(1)]
        let s = try spec(base, sigma: 0.01)
        let whole = try RWWGradient.lossAndGradient(spec: s, empiricalFC: empirical, parameters: parameters)
        for every in [1, 300, 777, 5000] {
            let segmented = try RWWGradient.lossAndGradient(spec: s, empiricalFC: empirical, parameters: parameters, checkpointEvery: every)
            XCTAssertEqual(segmented.loss.bitPattern, whole.loss.bitPattern, "forward recomputation is exact (K = \(every))")
            for q in parameters {
                XCTAssertEqual(segmented.gradient[q]!, whole.gradient[q]!, accuracy: 1e-12 * abs(whole.gradient[q]!), "\(q), K = \(every)")
            }
        }
    }

    /// A workspace left holding another, longer run's trajectory (and a run with another
    /// noise level and checkpoints) gives the same bits as a fresh one: nothing is read
    /// before it is written.
    func testReusedWorkspaceGivesTheSameBits() throws {
        var base = ReducedWongWang.Parameters()
        base.g = 0.5
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 5, columns: 40, values: (0..<200).map { k in
            cos(Double(k) * 0.23) + Double(k % 5) * 0.1
        }))
        let parameters: [RWWGradient.Parameter] = [.g, .wPlus, .jI, .sigma, .nodeJI(1)]
        let s = try spec(base, sigma: 0.01)
        for every in [nil, 700] as [Int?] {
            let fresh = try RWWGradient.lossAndGradient(spec: s, objective: .init(empiricalFC: empirical), parameters: parameters,
                                                        weightGradient: true, checkpointEvery: every)
            let workspace = GradientWorkspace()
            var longer = base
            longer.jI = 1.3
            let other = try SimulationSpec(model: ReducedWongWang(parameters: longer), connectome: try smallConnectome(5),
                                           noise: NoiseSpec(sigma: 0.03), dt: 0.1, duration: 3, transient: 0.2, tr: 0.05,
                                           conductionSpeed: 20, seed: 99)
            _ = try RWWGradient.lossAndGradient(spec: other, objective: .init(empiricalFC: empirical), parameters: parameters,
                                                weightGradient: true, workspace: workspace)
            for _ in 0..<2 {
                let reused = try RWWGradient.lossAndGradient(spec: s, objective: .init(empiricalFC: empirical), parameters: parameters,
                                                             weightGradient: true, checkpointEvery: every, workspace: workspace)
                XCTAssertEqual(reused.loss.bitPattern, fresh.loss.bitPattern)
                XCTAssertEqual(reused.bold.values, fresh.bold.values)
                for q in parameters { XCTAssertEqual(reused.gradient[q]!.bitPattern, fresh.gradient[q]!.bitPattern, "\(q)") }
                XCTAssertEqual(reused.weightGradient!.values, fresh.weightGradient!.values)
            }
        }
    }

    func check(sigma noiseLevel: Double, parameters: [RWWGradient.Parameter], regional: Bool = false) throws {
        var base = ReducedWongWang.Parameters()
        base.g = 0.5
        let wOffsets = regional ? [0.05, -0.1, 0.08, 0, -0.03] : [Double](repeating: 0, count: 5)
        let iOffsets = regional ? [-0.01, 0.02, 0, 0.015, -0.02] : [Double](repeating: 0, count: 5)
        func node(_ p: ReducedWongWang.Parameters, w: Int? = nil, i: Int? = nil, delta: Double = 0) -> [String: [Double]] {
            ["w_plus": (0..<5).map { p.wPlus + wOffsets[$0] + ($0 == w ? delta : 0) },
             "I_0": (0..<5).map { p.i0 + iOffsets[$0] + ($0 == i ? delta : 0) }]
        }
        var values: [Double] = []
        for k in 0..<300 {
            let t = Double(k % 60), region = Double(k / 60)
            let wave: Double = sin(t * 0.3 + region)
            values.append(wave + 0.3 * cos(Double(k) * 0.77))
        }
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 5, columns: 60, values: values))
        let result = try RWWGradient.lossAndGradient(spec: try spec(base, sigma: noiseLevel, regional: node(base)), empiricalFC: empirical,
                                                     parameters: parameters)
        XCTAssertLessThan(result.clampedUpdates, 5, "few bound hits, where the gradient is cut")
        // The loss is that of the engine's own BOLD.
        let engine = try NetworkSimulator(spec: try spec(base, sigma: noiseLevel, regional: node(base))).run()
        let engineLoss = FCObjective.surprise(regionsByTime: engine.bold.transposed, empiricalFC: empirical).loss
        XCTAssertEqual(result.loss, engineLoss, accuracy: 1e-9 * abs(engineLoss))
        for q in parameters {
            func loss(_ delta: Double) throws -> Double {
                var p = base
                var sigma = noiseLevel
                var nodeJI: [Double]? = nil
                var regionalValues = node(base)
                switch q {
                case .g: p.g += delta
                case .wPlus: p.wPlus += delta
                case .jI: p.jI += delta
                case .jNMDA: p.jNMDA += delta
                case .i0: p.i0 += delta
                case .sigma: sigma += delta
                case let .nodeJI(k): nodeJI = (0..<5).map { $0 == k ? p.jI + delta : p.jI }
                case let .nodeWPlus(k): regionalValues = node(p, w: k, delta: delta)
                case let .nodeI0(k): regionalValues = node(p, i: k, delta: delta)
                case .wPlusSlope, .i0Slope: XCTFail("GradientFit's parameter")
                }
                if case .wPlus = q { regionalValues = node(p) }
                if case .i0 = q { regionalValues = node(p) }
                return try RWWGradient.lossAndGradient(spec: try spec(p, sigma: sigma, nodeJI: nodeJI, regional: regionalValues),
                                                       empiricalFC: empirical, parameters: []).loss
            }
            // The loss carries ~1e-13 of rounding noise (FC of slowly varying BOLD), so steps
            // below ~1e-5 are noise-dominated; Richardson extrapolation of two larger steps
            // removes the h^2 truncation term instead (h = 1e-3 and 5e-4 of the parameter's size).
            let size: Double
            switch q {
            case .g: size = base.g
            case .wPlus, .nodeWPlus, .wPlusSlope: size = base.wPlus
            case .jI, .nodeJI: size = base.jI
            case .jNMDA: size = base.jNMDA
            case .i0, .nodeI0, .i0Slope: size = base.i0
            case .sigma: size = noiseLevel
            }
            let h = 1e-3 * size
            let coarse = (try loss(h) - loss(-h)) / (2 * h)
            let fine = (try loss(h / 2) - loss(-h / 2)) / h
            let fd = (4 * fine - coarse) / 3
            let analytic = result.gradient[q]!
            XCTAssertLessThan(abs(analytic - fd) / max(abs(fd), 1e-6), 1e-6, "\(q): adjoint \(analytic), finite difference \(fd)")
        }
    }
}

/// Fitting BOLD simulated with known parameters back from a wrong start.
final class ParameterRecoveryTests: XCTestCase {
    /// With the FC fit alone, G and J_i trade off (the paper adds priors and other terms for
    /// joint fits); G on its own is recovered from a fixed noise realisation.
    func testRecoversGlobalCouplingFromSimulatedFC() throws {
        var truth = ReducedWongWang.Parameters()
        truth.g = 0.6
        truth.jI = 1.1
        let connectome = try smallConnectome(6)
        func spec(_ p: ReducedWongWang.Parameters) throws -> SimulationSpec<ReducedWongWang> {
            try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, noise: NoiseSpec(sigma: 0.01),
                               dt: 0.1, duration: 3, transient: 0.2, tr: 0.05, conductionSpeed: 20, seed: 31)
        }
        let target = try NetworkSimulator(spec: try spec(truth)).run()
        let targetFC = FunctionalConnectivity.pearson(timeByRegions: target.bold)
        var start = truth
        start.g = 0.4
        let options = GradientFit.Options(parameters: [(.g, .bounded(0, 2))], epochs: 120, learningRate: 0.1, checkpointEvery: 2000)
        let outcome = try GradientFit.fit(spec: try spec(start), empiricalFC: targetFC, options: options)
        let (fitted, history) = (outcome.spec, outcome.history)
        let g = fitted.model.parameters.g
        XCTAssertEqual(g, truth.g, accuracy: 0.05 * truth.g, "G recovered within 5%")
        XCTAssertLessThan(history.last!.loss, history.first!.loss)
        let refit = try NetworkSimulator(spec: fitted).run()
        XCTAssertGreaterThan(FunctionalConnectivity.similarity(FunctionalConnectivity.pearson(timeByRegions: refit.bold), targetFC), 0.9)
    }
}

final class FitResumeTests: XCTestCase {
    func testResumingGivesTheSameFitAsRunningThrough() throws {
        var truth = ReducedWongWang.Parameters()
        truth.g = 0.6
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: truth), connectome: try smallConnectome(5),
                                      noise: NoiseSpec(sigma: 0.01), duration: 1, transient: 0.1, tr: 0.05, seed: 3)
        let target = FunctionalConnectivity.pearson(timeByRegions: try NetworkSimulator(spec: spec).run().bold)
        let start = try GradientFit.spec(spec, with: [(.g, 0.4), (.sigma, 0.02)])
        func options(_ epochs: Int) -> GradientFit.Options {
            GradientFit.Options(parameters: [(.g, .bounded(0, 2)), (.sigma, .positive)], epochs: epochs, learningRate: 0.1)
        }
        let straight = try GradientFit.fit(spec: start, empiricalFC: target, options: options(6))
        var saved: GradientFit.State?
        _ = try GradientFit.fit(spec: start, empiricalFC: target, options: options(3), onEpoch: { saved = $0 })
        let data = try JSONEncoder().encode(saved!)
        let restored = try JSONDecoder().decode(GradientFit.State.self, from: data)
        let resumed = try GradientFit.fit(spec: start, empiricalFC: target, options: options(6), resume: restored)
        XCTAssertEqual(resumed.history, straight.history)
        XCTAssertEqual(resumed.spec.model.parameters, straight.spec.model.parameters)
        XCTAssertEqual(resumed.spec.noise, straight.spec.noise)
        var other = options(6)
        other.parameters = [(.g, .bounded(0, 2))]
        assertThrowsMessage(try GradientFit.fit(spec: start, empiricalFC: target, options: other, resume: restored),
                            containing: ["--resume", "same fit"])
    }
}
