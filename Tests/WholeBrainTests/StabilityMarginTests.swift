import XCTest
import WholeBrain

/// The stability-boundary term: the leading eigenvalue at the low state and its exact
/// gradient against central finite differences, and its place in a fit.
final class StabilityMarginTests: XCTestCase {
    func testLeadingEigenvectorsSatisfyTheirDefinitions() throws {
        // A real leading eigenvalue and a complex leading pair.
        let cases = [Matrix(rows: 3, columns: 3, values: [-1, 2, 0, 0.5, -3, 1, 0.2, 0.1, -0.5]),
                     Matrix(rows: 3, columns: 3, values: [-0.1, -2, 0.3, 2, -0.1, 0, 0.5, 0.4, -4])]
        for (index, a) in cases.enumerated() {
            let l = try Eigenvalues.leading(a)
            XCTAssertEqual(l.value.real, try Eigenvalues.of(a)[0].real, accuracy: 1e-12)
            XCTAssertEqual(l.value.imaginary == 0, index == 0)
            let (vr, vi) = l.right, (wr, wi) = l.left
            let (lr, li) = (l.value.real, l.value.imaginary)
            for r in 0..<3 {
                // (A v)_r = lambda v_r, complex.
                var avr = 0.0, avi = 0.0, wAr = 0.0, wAi = 0.0
                for c in 0..<3 { avr += a[r, c] * vr[c]; avi += a[r, c] * vi[c] }
                XCTAssertEqual(avr, lr * vr[r] - li * vi[r], accuracy: 1e-12)
                XCTAssertEqual(avi, lr * vi[r] + li * vr[r], accuracy: 1e-12)
                // (w^H A)_r = lambda conj(w_r)  <=>  (A^T w)_r = conj(lambda) w_r.
                for c in 0..<3 { wAr += a[c, r] * wr[c]; wAi += a[c, r] * wi[c] }
                XCTAssertEqual(wAr, lr * wr[r] + li * wi[r], accuracy: 1e-12)
                XCTAssertEqual(wAi, lr * wi[r] - li * wr[r], accuracy: 1e-12)
            }
        }
    }

    func spec(_ p: ReducedWongWang.Parameters, nodeJI: [Double], weights: Matrix? = nil, regional: [String: [Double]] = [:]) throws -> SimulationSpec<ReducedWongWang> {
        let base = try smallConnectome(6)
        let connectome = try weights.map { try Connectome(weights: $0, lengths: base.lengths) } ?? base
        return try SimulationSpec(model: ReducedWongWang(parameters: p), nodeParameters: regional.merging(["J_i": nodeJI]) { $1 }, connectome: connectome,
                                  noise: NoiseSpec(sigma: 0.01), dt: 0.1, duration: 2, transient: 0, tr: 0.1, conductionSpeed: 20, seed: 1)
    }

    /// d lambda / d theta for every kind of parameter and for connectome weights (present
    /// and absent connections) against central differences of lambda, at two points below G*
    /// (the second with w_+ and I_0 differing between regions).
    func testEigenvalueGradientMatchesFiniteDifferences() throws {
        for (g, wPlus, regional) in [(0.3, 1.4, true), (0.15, 1.9, false)] {
            var p = ReducedWongWang.Parameters()
            p.g = g; p.wPlus = wPlus; p.jI = 1.2
            let nodeJI = [1.2, 1.1, 1.3, 1.2, 1.25, 1.15]
            let parameters: [RWWGradient.Parameter] = [.g, .wPlus, .jNMDA, .i0, .nodeJI(2), .sigma, .nodeWPlus(1), .nodeI0(4)]
            let s = try spec(p, nodeJI: nodeJI, regional: regional
                ? ["w_plus": [0, 0.05, -0.04, 0.02, -0.01, 0.03].map { wPlus + $0 }, "I_0": [0.01, -0.005, 0, 0.008, -0.01, 0.004].map { p.i0 + $0 }] : [:])
            let e = try XCTUnwrap(try StabilityMargin.evaluate(spec: s, parameters: parameters + [.jI], weightGradient: true))
            XCTAssertLessThan(e.eigenvalue.real, 0, "a stable low state")
            func lambda(_ q: RWWGradient.Parameter?, _ value: Double, weight: (Int, Int)? = nil) throws -> Double {
                var w = s.connectome.weights
                if let (i, k) = weight { w[i, k] = value }
                let changed = try GradientFit.spec(s, with: q.map { [($0, value)] } ?? [], weights: weight == nil ? nil : w)
                return try XCTUnwrap(try StabilityMargin.evaluate(spec: changed, parameters: [], near: e.state)).eigenvalue.real
            }
            for q in parameters + [.jI] {
                // The global J_i sets every node's: its derivative is the sum over nodes, seen
                // by differences from a network whose nodes share one J_i.
                if q == .jI {
                    let uniform = try spec(p, nodeJI: [Double](repeating: p.jI, count: 6))
                    let u = try XCTUnwrap(try StabilityMargin.evaluate(spec: uniform, parameters: [.jI]))
                    let h = 1e-6
                    func at(_ v: Double) throws -> Double {
                        try XCTUnwrap(try StabilityMargin.evaluate(spec: try GradientFit.spec(uniform, with: [(.jI, v)]), parameters: [],
                                                                    near: u.state)).eigenvalue.real
                    }
                    let fd = (try at(p.jI + h) - at(p.jI - h)) / (2 * h)
                    XCTAssertEqual(u.gradient[.jI]!, fd, accuracy: 1e-6 * abs(fd), "J_i at G = \(g)")
                    continue
                }
                let v = GradientFit.value(q, in: s)
                let h = 1e-6 * max(abs(v), 1e-3)
                let fd = (try lambda(q, v + h) - lambda(q, v - h)) / (2 * h)
                let exact = e.gradient[q]!
                XCTAssertEqual(exact, fd, accuracy: 1e-6 * max(abs(fd), 1e-3 * abs(e.eigenvalue.real)), "\(q) at G = \(g)")
            }
            for (i, k) in [(0, 3), (4, 1), (2, 2), (0, 5)] {
                let v = s.connectome.weights[i, k]
                let h = 1e-6
                // Absent connections (weight 0, which cannot go negative): one-sided, second order.
                let fd = v == 0
                    ? (-3 * (try lambda(nil, 0, weight: (i, k))) + 4 * (try lambda(nil, h, weight: (i, k))) - (try lambda(nil, 2 * h, weight: (i, k)))) / (2 * h)
                    : (try lambda(nil, v + h, weight: (i, k)) - lambda(nil, v - h, weight: (i, k))) / (2 * h)
                // (one-sided differences of absent connections carry about 1e-6 of truncation error)
                XCTAssertEqual(e.weightGradient![i, k], fd, accuracy: (v == 0 ? 1e-5 : 1e-6) * max(abs(fd), 1e-3 * abs(e.eigenvalue.real)), "W[\(i),\(k)]")
            }
        }
    }

    /// The term is 0 at the target, 1 at the boundary, with the derivative of its formula.
    func testTermShape() {
        XCTAssertEqual(StabilityMargin.term(eigenvalue: -0.01, target: -0.01).value, 0)
        XCTAssertEqual(StabilityMargin.term(eigenvalue: 0, target: -0.01).value, 1, accuracy: 1e-15)
        let h = 1e-7, t = StabilityMargin.term(eigenvalue: -0.004, target: -0.01)
        let fd = (StabilityMargin.term(eigenvalue: -0.004 + h, target: -0.01).value - StabilityMargin.term(eigenvalue: -0.004 - h, target: -0.01).value) / (2 * h)
        XCTAssertEqual(t.derivative, fd, accuracy: 1e-6 * abs(fd))
    }

    /// A fit with the stability term alone moves G to where the leading eigenvalue is the
    /// target: chosen as the eigenvalue at 0.9 G*, the fit starting at 0.5 G* ends near 0.9 G*.
    func testStabilityTermAloneFitsGToTheTargetEigenvalue() throws {
        var p = ReducedWongWang.Parameters()
        p.jI = 2
        let connectome = try smallConnectome(6)
        let critical = try XCTUnwrap(try RWWContinuation(parameters: p, weights: connectome.weights).diagram(over: 0...5, highBranch: false).critical).value
        var atTarget = p
        atTarget.g = 0.9 * critical
        let target = try XCTUnwrap(try RWWStability(parameters: atTarget, weights: connectome.weights).lowState()).leading.real
        p.g = 0.5 * critical
        let s = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: connectome, noise: NoiseSpec(sigma: 0.01),
                                   dt: 0.1, duration: 1, transient: 0, tr: 0.1, conductionSpeed: 20, seed: 1)
        var options = GradientFit.Options(parameters: [(.g, .bounded(0, 10))], surprise: 0, epochs: 60, learningRate: 0.05)
        options.stability = 1
        options.stabilityTarget = target
        let outcome = try GradientFit.fit(spec: s, empiricalFC: FunctionalConnectivity.pearson(regionsByTime: Matrix(rows: 6, columns: 10, values: (0..<60).map { sin(Double($0)) })), options: options)
        let fitted = outcome.spec.model.parameters.g
        XCTAssertEqual(fitted, 0.9 * critical, accuracy: 0.01 * critical, "G* = \(critical), target lambda* = \(target)")
        XCTAssertLessThan(outcome.history.map { $0.terms["stability"]! }.min()!, 5e-3, "at the returned (lowest-loss) epoch")
        XCTAssertGreaterThan(outcome.history.first!.terms["stability"]!, 0.05)
    }
}
