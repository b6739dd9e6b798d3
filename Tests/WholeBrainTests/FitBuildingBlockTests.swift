import XCTest
import WholeBrain

/// The parts gradient-based fitting is built from, each against central finite differences.
final class FitBuildingBlockTests: XCTestCase {
    func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix {
        let noise = CounterNoise(seed: seed)
        return Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map {
            noise.normal(node: $0 / columns, step: UInt64($0 % columns), variable: 0)
        })
    }

    func testFCSurpriseGradientMatchesFiniteDifferences() {
        var y = randomMatrix(6, 50, seed: 1)
        // Shared component so FC is structured.
        for k in 0..<50 { for i in 0..<6 { y[i, k] += Double(i % 3) * 0.5 * y[0, k] } }
        let empirical = FunctionalConnectivity.pearson(regionsByTime: randomMatrix(6, 80, seed: 2))
        let value = FCObjective.surprise(regionsByTime: y, empiricalFC: empirical)
        XCTAssertEqual(value.loss, -log(0.5 + 0.5 * value.correlation), accuracy: 1e-15)
        XCTAssertEqual(value.correlation,
                       FunctionalConnectivity.similarity(FunctionalConnectivity.pearson(regionsByTime: y), empirical), accuracy: 1e-12)
        var worst = 0.0
        for (i, t) in [(0, 0), (1, 7), (2, 49), (3, 20), (5, 33), (4, 1)] {
            let h = 1e-6
            var plus = y, minus = y
            plus[i, t] += h; minus[i, t] -= h
            let fd = (FCObjective.surprise(regionsByTime: plus, empiricalFC: empirical).loss
                      - FCObjective.surprise(regionsByTime: minus, empiricalFC: empirical).loss) / (2 * h)
            let analytic = value.gradient[i, t]
            worst = max(worst, abs(analytic - fd) / max(abs(fd), 1e-8))
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testAdamConvergesAndTakesLearningRateSizedFirstSteps() {
        let target = [1.5, -2.0, 0.25]
        var theta = [0.0, 0.0, 0.0]
        var adam = Adam(parameters: 3, learningRate: 0.1)
        adam.step(&theta, gradient: [2 * (0 - 1.5), 2 * (0 + 2), 2 * (0 - 0.25)])
        for k in 0..<3 { XCTAssertEqual(abs(theta[k]), 0.1, accuracy: 1e-6, "first step is lr in size") }
        for _ in 0..<3000 {
            adam.step(&theta, gradient: zip(theta, target).map { 2 * ($0 - $1) })
        }
        for k in 0..<3 { XCTAssertEqual(theta[k], target[k], accuracy: 1e-3) }
        XCTAssertEqual(adam.steps, 3001)
        var clipped = Adam(parameters: 2, learningRate: 0.1, clipNorm: 1)
        var p = [0.0, 0.0]
        clipped.step(&p, gradient: [300, 400])
        XCTAssertEqual(clipped.m[0], 0.1 * 0.6, accuracy: 1e-12)
        XCTAssertEqual(clipped.m[1], 0.1 * 0.8, accuracy: 1e-12)
        let data = try! JSONEncoder().encode(clipped)
        XCTAssertEqual(try! JSONDecoder().decode(Adam.self, from: data), clipped, "state round-trips for checkpoints")
    }

    func testParameterTransforms() {
        for transform in [ParameterTransform.free, .positive, .bounded(0.5, 3), .steepBounded(-0.1, 0.1, gain: 2)] {
            for u in [-4.0, -0.3, 0, 0.7, 5] {
                let h = 1e-6
                let fd = (transform.value(u + h) - transform.value(u - h)) / (2 * h)
                XCTAssertEqual(transform.derivative(u), fd, accuracy: 1e-8 * max(1, abs(fd)))
                XCTAssertEqual(transform.inverse(transform.value(u)), u, accuracy: 1e-9)
            }
        }
        XCTAssertGreaterThan(ParameterTransform.positive.value(-40), 0)
        let b = ParameterTransform.bounded(0.5, 3)
        XCTAssert((0.5...3).contains(b.value(50)) && (0.5...3).contains(b.value(-50)))
    }

    func testBalloonAdjointMatchesFiniteDifferences() {
        let model = BalloonWindkessel()
        let h = 0.001
        let x0 = BalloonWindkessel.Point(s: 0.05, f: 1.2, v: 1.05, q: 0.9)
        let inputs = (0..<400).map { 0.3 + 0.2 * sin(Double($0) / 40) }
        // L = BOLD after 400 steps; gradient w.r.t. the initial state and every input.
        func forward(_ x: BalloonWindkessel.Point, _ z: [Double]) -> Double {
            var p = x
            for zi in z { p = model.rk4Step(p, z: zi, h: h) }
            return model.bold(p)
        }
        var trajectory = [x0]
        for zi in inputs { trajectory.append(model.rk4Step(trajectory.last!, z: zi, h: h)) }
        var lambda = model.boldGradient(trajectory.last!)
        var inputGradient = [Double](repeating: 0, count: inputs.count)
        for k in stride(from: inputs.count - 1, through: 0, by: -1) {
            let (lx, lz) = model.rk4StepAdjoint(trajectory[k], z: inputs[k], h: h, lambda)
            lambda = lx
            inputGradient[k] = lz
        }
        let eps = 1e-6
        for (name, direction) in [("s", BalloonWindkessel.Point(s: 1, f: 0, v: 0, q: 0)),
                                  ("f", .init(s: 0, f: 1, v: 0, q: 0)), ("v", .init(s: 0, f: 0, v: 1, q: 0)),
                                  ("q", .init(s: 0, f: 0, v: 0, q: 1))] {
            let plus = BalloonWindkessel.Point(s: x0.s + eps * direction.s, f: x0.f + eps * direction.f,
                                               v: x0.v + eps * direction.v, q: x0.q + eps * direction.q)
            let minus = BalloonWindkessel.Point(s: x0.s - eps * direction.s, f: x0.f - eps * direction.f,
                                                v: x0.v - eps * direction.v, q: x0.q - eps * direction.q)
            let fd = (forward(plus, inputs) - forward(minus, inputs)) / (2 * eps)
            assertRelative(lambda.dot(direction), fd, 1e-6, "d BOLD / d \(name)(0)")
        }
        // One input moves BOLD by ~1e-12, too little for a finite difference; a random
        // direction over all inputs carries enough signal.
        let noise = CounterNoise(seed: 5)
        let direction = (0..<inputs.count).map { noise.normal(node: 0, step: UInt64($0), variable: 0) }
        let up = zip(inputs, direction).map { $0 + 1e-4 * $1 }, down = zip(inputs, direction).map { $0 - 1e-4 * $1 }
        let fd = (forward(x0, up) - forward(x0, down)) / (2e-4)
        let analytic = zip(inputGradient, direction).reduce(0) { $0 + $1.0 * $1.1 }
        assertRelative(analytic, fd, 1e-6, "d BOLD / d z along a random direction")
    }
}
