import XCTest
import WholeBrain

/// Fits with feedback inhibition retuned as the parameters move: how the FIC J_i move with
/// each parameter, and the fit's whole gradient (through the J_i), against central finite
/// differences.
final class FeedbackFitTests: XCTestCase {
    func testSensitivitiesMatchFiniteDifferences() throws {
        let weights = try smallConnectome(6).weights
        var p = ReducedWongWang.Parameters()
        p.g = 0.4
        let sens = try FeedbackInhibition.sensitivities(parameters: p, weights: weights, rate: 3)
        func ji(_ change: (inout ReducedWongWang.Parameters) -> Void, weights w: Matrix? = nil) throws -> [Double] {
            var q = p
            change(&q)
            return try FeedbackInhibition.localInhibition(parameters: q, weights: w ?? weights, targetRate: 3)
        }
        let h = 1e-6
        for (name, analytic, path) in [("G", sens.dG, \ReducedWongWang.Parameters.g), ("w_plus", sens.dWPlus, \.wPlus),
                                       ("J_NMDA", sens.dJNMDA, \.jNMDA), ("I_0", sens.dI0, \.i0)] {
            let up = try ji { $0[keyPath: path] += h }, down = try ji { $0[keyPath: path] -= h }
            for i in 0..<6 { XCTAssertEqual(analytic[i], (up[i] - down[i]) / (2 * h), accuracy: 1e-6 * max(1, abs(analytic[i])), "\(name), node \(i)") }
        }
        var wUp = weights, wDown = weights
        wUp[2, 4] += h; wDown[2, 4] -= h
        let up = try ji({ _ in }, weights: wUp), down = try ji({ _ in }, weights: wDown)
        XCTAssertEqual(sens.dWeight[2], (up[2] - down[2]) / (2 * h), accuracy: 1e-6 * sens.dWeight[2])
        XCTAssertEqual(up[3], down[3], "a weight moves only its target's J_i")
    }

    /// With w_+ and I_0 per node, each node's J_i moves with its own w_+ and I_0 only, as the
    /// sensitivities say; uniform per-node values give the uniform J_i to the bit.
    func testRegionalSensitivitiesMatchFiniteDifferences() throws {
        let weights = try smallConnectome(6).weights
        var p = ReducedWongWang.Parameters()
        p.g = 0.4
        let wPlus = [1.3, 1.4, 1.5, 1.45, 1.35, 1.4], i0 = [0.37, 0.382, 0.39, 0.36, 0.4, 0.38]
        let sens = try FeedbackInhibition.sensitivities(parameters: p, weights: weights, rate: 3, wPlus: wPlus, i0: i0)
        func ji(_ w: [Double], _ input: [Double]) throws -> [Double] {
            try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: 3, wPlus: w, i0: input)
        }
        let h = 1e-6
        for i in 0..<6 {
            var wUp = wPlus, wDown = wPlus, iUp = i0, iDown = i0
            wUp[i] += h; wDown[i] -= h; iUp[i] += h; iDown[i] -= h
            let dW = (try ji(wUp, i0)[i] - ji(wDown, i0)[i]) / (2 * h), dI = (try ji(wPlus, iUp)[i] - ji(wPlus, iDown)[i]) / (2 * h)
            XCTAssertEqual(sens.dWPlus[i], dW, accuracy: 1e-6 * abs(dW), "w_plus, node \(i)")
            XCTAssertEqual(sens.dI0[i], dI, accuracy: 1e-6 * abs(dI), "I_0, node \(i)")
            XCTAssertEqual(try ji(wUp, i0)[(i + 1) % 6], try ji(wPlus, i0)[(i + 1) % 6], "node \(i)'s w_plus moves only its own J_i")
        }
        XCTAssertEqual(try ji([Double](repeating: p.wPlus, count: 6), [Double](repeating: p.i0, count: 6)),
                       try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: 3))
    }

    /// The gradient a fit records for its first step, with J_i retuned at every evaluation,
    /// equals the central difference of the loss it records (same noise, fixed seed).
    func testFitGradientThroughRetunedInhibitionMatchesFiniteDifferences() throws {
        let connectome = try smallConnectome(6)
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 6, columns: 40, values: (0..<240).map { sin(0.37 * Double($0)) + cos(0.11 * Double($0 * $0 % 17)) }))
        func first(g: Double, wPlus: Double, i0: Double) throws -> GradientFit.Step {
            var p = ReducedWongWang.Parameters()
            p.g = g; p.wPlus = wPlus; p.i0 = i0
            let ji = try FeedbackInhibition.localInhibition(parameters: p, weights: connectome.weights, targetRate: 3)
            let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: ["J_i": ji], connectome: connectome,
                                          noise: NoiseSpec(sigma: 0.003), dt: 0.1, duration: 6, transient: 0.5, tr: 0.2, conductionSpeed: 5, seed: 3)
            var options = GradientFit.Options(parameters: [(.g, .bounded(0, 10)), (.wPlus, .bounded(0, 3)), (.i0, .bounded(0, 1))],
                                              surprise: 1, epochs: 1, learningRate: 1e-9)
            options.feedbackInhibition = 3
            return try GradientFit.fit(spec: spec, empiricalFC: empirical, options: options).history[0]
        }
        let base = (g: 0.3, wPlus: 1.4, i0: 0.382)
        let step = try first(g: base.g, wPlus: base.wPlus, i0: base.i0)
        let h = 1e-6
        let fdG = (try first(g: base.g + h, wPlus: base.wPlus, i0: base.i0).loss - first(g: base.g - h, wPlus: base.wPlus, i0: base.i0).loss) / (2 * h)
        let fdW = (try first(g: base.g, wPlus: base.wPlus + h, i0: base.i0).loss - first(g: base.g, wPlus: base.wPlus - h, i0: base.i0).loss) / (2 * h)
        let fdI = (try first(g: base.g, wPlus: base.wPlus, i0: base.i0 + h).loss - first(g: base.g, wPlus: base.wPlus, i0: base.i0 - h).loss) / (2 * h)
        for (analytic, fd, name) in zip3(step.gradient, [fdG, fdW, fdI], ["G", "w_plus", "I_0"]) {
            XCTAssertEqual(analytic, fd, accuracy: 1e-5 * max(abs(fd), 1e-3), name)
        }
        XCTAssertGreaterThan(abs(fdG), 1e-4, "the loss moves with G, so the check means something")
    }

    /// Regional heterogeneity as map slopes (`RegionalMaps`): the gradient a fit records for the
    /// slopes of w_+ and I_0 along two maps and the uniform G, with J_i retuned at every
    /// evaluation from each node's own w_+ and I_0, equals the central difference of its loss.
    func testMapSlopeGradientsThroughRetunedInhibitionMatchFiniteDifferences() throws {
        let connectome = try smallConnectome(6)
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 6, columns: 40, values: (0..<240).map { sin(0.23 * Double($0)) + cos(0.13 * Double($0 * $0 % 11)) }))
        let maps = try RegionalMaps(names: ["a", "b"], values: [[0.1, 0.5, 0.2, 0.9, 0.4, 0.3], [1, -1, 2, 0, 0.5, -0.5]], regions: 6, source: "test")
        let parameters: [(RWWGradient.Parameter, ParameterTransform)] = [(.g, .bounded(0, 10)), (.wPlusSlope(0), .free), (.i0Slope(1), .free)]
        func first(_ values: [Double]) throws -> GradientFit.Step {
            var p = ReducedWongWang.Parameters()
            p.g = 0.3
            let start = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, noise: NoiseSpec(sigma: 0.003),
                                           dt: 0.1, duration: 6, transient: 0.5, tr: 0.2, conductionSpeed: 5, seed: 3)
            // The start holds the slopes' offsets already; the fit starts from them.
            let spec = try GradientFit.spec(start, with: zip(parameters.map(\.0), values).map { ($0, $1) }, maps: maps)
            var options = GradientFit.Options(parameters: parameters, surprise: 1, epochs: 1, learningRate: 1e-9)
            options.feedbackInhibition = 3
            options.maps = maps
            return try GradientFit.fit(spec: try GradientFit.retuned(spec, rate: 3), empiricalFC: empirical, options: options).history[0]
        }
        let base = [0.3, 0.05, -0.01]
        let step = try first(base)
        XCTAssertEqual(step.values[1], base[1], accuracy: 1e-14, "the slope read back from the per-node values")
        let h = 1e-6
        for k in 0..<3 {
            var up = base, down = base
            up[k] += h; down[k] -= h
            let fd = (try first(up).loss - first(down).loss) / (2 * h)
            XCTAssertEqual(step.gradient[k], fd, accuracy: 1e-5 * max(abs(fd), 1e-3), "\(parameters[k].0)")
            XCTAssertGreaterThan(abs(fd), 1e-4, "\(parameters[k].0) moves the loss")
        }
    }

    func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] { (0..<min(a.count, b.count, c.count)).map { (a[$0], b[$0], c[$0]) } }

    /// Connection weights: the adjoint's weight gradient plus the part through the retuned J_i
    /// (`GradientFit.foldRetunedInhibition`) against central differences of the loss with J_i
    /// retuned to the perturbed weights; J_NMDA likewise.
    func testWeightAndNMDAGradientsThroughRetunedInhibitionMatchFiniteDifferences() throws {
        let base = try smallConnectome(6)
        let empirical = FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 6, columns: 40, values: (0..<240).map { cos(0.29 * Double($0)) + sin(0.07 * Double($0 * $0 % 13)) }))
        let objective = RWWGradient.Objective(empiricalFC: empirical)
        func spec(weights: Matrix, jNMDA: Double = 0.15) throws -> SimulationSpec<ReducedWongWang> {
            var p = ReducedWongWang.Parameters()
            p.g = 0.3; p.jNMDA = jNMDA
            let ji = try FeedbackInhibition.localInhibition(parameters: p, weights: weights, targetRate: 3)
            return try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: ["J_i": ji],
                                      connectome: try Connectome(weights: weights, lengths: base.lengths),
                                      noise: NoiseSpec(sigma: 0.003), dt: 0.1, duration: 6, transient: 0.5, tr: 0.2, conductionSpeed: 5, seed: 5)
        }
        let s = try spec(weights: base.weights)
        let parameters: [RWWGradient.Parameter] = [.jNMDA] + (0..<6).map { .nodeJI($0) }
        let result = try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: parameters, weightGradient: true)
        var gradient = [result.gradient[.jNMDA]!]
        var weights = result.weightGradient
        try GradientFit.foldRetunedInhibition(into: &gradient, parameters: [.jNMDA], weightGradient: &weights, byParameter: result.gradient, spec: s, rate: 3)
        func loss(_ s: SimulationSpec<ReducedWongWang>) throws -> Double {
            try RWWGradient.lossAndGradient(spec: s, objective: objective, parameters: []).loss
        }
        let h = 1e-6
        for (i, j) in [(1, 0), (3, 4), (2, 5)] where base.weights[i, j] != 0 {
            var up = base.weights, down = base.weights
            up[i, j] += h; down[i, j] -= h
            let fd = (try loss(spec(weights: up)) - loss(spec(weights: down))) / (2 * h)
            XCTAssertEqual(weights![i, j], fd, accuracy: 1e-5 * max(abs(fd), 1e-3), "W[\(i),\(j)]")
        }
        let fd = (try loss(spec(weights: base.weights, jNMDA: 0.15 + h)) - loss(spec(weights: base.weights, jNMDA: 0.15 - h))) / (2 * h)
        XCTAssertEqual(gradient[0], fd, accuracy: 1e-5 * max(abs(fd), 1e-3), "J_NMDA")
        XCTAssertGreaterThan(abs(fd), 1e-4)
    }
}
