import XCTest
import WholeBrain

final class EngineTests: XCTestCase {
    /// A change in node 0 reaches node 1 exactly d + 1 steps later through an edge of d steps,
    /// on the short-edge path (d < 16) and the long-edge path (d >= 16).
    func testPulseCrossesAnEdgeAfterItsDelay() throws {
        for delay in [0, 1, 2, 5, 15, 16, 17, 37, 90] {
            var w = Matrix(rows: 2, columns: 2), l = Matrix(rows: 2, columns: 2)
            w[1, 0] = 1
            l[1, 0] = Double(delay) * 2          // 20 m/s x 0.1 ms = 2 mm per step
            let c = try Connectome(weights: w, lengths: l)
            func run(_ ji0: Double) throws -> [Double] {
                let spec = try SimulationSpec(model: ReducedWongWang(parameters: .init()), nodeParameters: ["J_i": [ji0, 1]],
                                              connectome: c, duration: 0.01, tr: 0.01, conductionSpeed: 20, seed: 5, statePeriod: 0.1)
                return try NetworkSimulator(spec: spec).run().states!
            }
            let a = try run(1.0), b = try run(1.5)
            // states: sample k (state at t_{k+1}) x (S_E, S_I) x 2 nodes; node 1's S_E is index 4k + 1.
            let firstDifferent = (0..<100).first { a[4 * $0 + 1] != b[4 * $0 + 1] }
            XCTAssertEqual(firstDifferent, delay + 1, "delay \(delay) steps")
            XCTAssertNotEqual(a[0], b[4 * 1], "node 0 itself changes at once")
        }
    }

    func testSameSeedSameBitsOtherSeedOtherBits() throws {
        let c = try smallConnectome(11)
        func bold(_ seed: UInt64) throws -> [Double] {
            try NetworkSimulator(spec: try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: c,
                                                          duration: 1.44, tr: 0.72, seed: seed)).run().bold.values
        }
        let a = try bold(9), b = try bold(9), other = try bold(10)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertNotEqual(a, other)
        XCTAssert(a.allSatisfy(\.isFinite))
    }

    /// The blocked, vectorised engine against a plain step-by-step integration written from
    /// the equations (full history arrays, one node at a time, scalar RK4 inputs).
    func testFastPathAgreesWithSlowReference() throws {
        let c = try smallConnectome(6, lengthScale: 30)     // delays 3 to 33 steps
        let coupling = DelayCoupling(connectome: c, dt: 0.1, speed: 20)
        XCTAssertGreaterThan(coupling.shortEdgeCount, 0, "edges summed step by step")
        XCTAssertGreaterThan(coupling.mediumEdgeCount, 0, "edges summed per chunk")
        XCTAssertGreaterThan(coupling.longEdgeCount, 0, "edges summed per block")
        try assertAgreesWithReference(c, speed: 20, duration: 0.5)
    }

    /// A network whose history windows exceed 1 MiB (150 nodes, delays up to 880 steps) sums
    /// its long edges in source bands kept in L2, two of them here: the same states as the
    /// plain sum over every edge.
    func testSourceBandsAgreeWithSlowReference() throws {
        let dense = try smallConnectome(150, lengthScale: 40)
        var w = dense.weights
        w.values = w.values.map { $0 / 75 }      // in-strength about 1, so S_E stays off its bounds
        let c = try Connectome(weights: w, lengths: dense.lengths)
        let coupling = DelayCoupling(connectome: c, dt: 0.1, speed: 1)
        XCTAssertGreaterThan(150 * (coupling.maxDelay + DelayCoupling.blockLength) * 8, 1 << 20, "at least two L2 bands")
        try assertAgreesWithReference(c, speed: 1, duration: 0.1 + Double(coupling.maxDelay) / 10_000, checkBold: false)
    }

    /// The engine's S_E, S_I at every step (and BOLD at every TR) against a plain loop over
    /// every edge and step in the test.
    func assertAgreesWithReference(_ c: Connectome, speed: Double, duration: Double, checkBold: Bool = true) throws {
        let n = c.regionCount
        var p = ReducedWongWang.Parameters()
        p.g = 0.9
        let dt = 0.1
        let sigma = 0.01
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: c, noise: NoiseSpec(sigma: sigma), dt: dt, duration: duration,
                                      transient: 0, tr: 0.05, conductionSpeed: speed, seed: 21, statePeriod: dt)
        let result = try NetworkSimulator(spec: spec).run()

        let noise = CounterNoise(seed: 21)
        var sE = (0..<n).map { 0.2 * noise.uniform(node: $0, step: (1 << 32) - 1, variable: 0) }
        var sI = (0..<n).map { 0.2 * noise.uniform(node: $0, step: (1 << 32) - 1, variable: 1) }
        var history: [[Double]] = [sE]         // history[t] = S_E at t (t >= 0); before 0: sE(0)
        let steps = spec.totalSteps
        let m = spec.boldSubsteps
        var zSum = [Double](repeating: 0, count: n)
        var balloon = [BalloonWindkessel.State](repeating: .init(), count: n)
        var boldSamples: [[Double]] = []
        var worstState = 0.0
        for step in 0..<steps {
            var next = sE, nextI = sI
            for i in 0..<n {
                var input = 0.0
                for j in 0..<n where c.weights[i, j] != 0 {
                    let d = DelayCoupling.delaySteps(length: c.lengths[i, j], speed: speed, dt: dt)
                    input += c.weights[i, j] * history[max(step - d, 0)][j]
                }
                let f = ReducedWongWang.drift(p, sE: sE[i], sI: sI[i], coupling: input, jI: p.jI)
                let xiE = noise.normal(node: i, step: UInt64(step), variable: 0)
                let xiI = noise.normal(node: i, step: UInt64(step), variable: 1)
                next[i] = min(max(sE[i] + dt * f.dE + sigma * dt.squareRoot() * xiE, 0), 1)
                nextI[i] = min(max(sI[i] + dt * f.dI + sigma * dt.squareRoot() * xiI, 0), 1)
            }
            sE = next; sI = nextI
            history.append(sE)
            for i in 0..<n {
                worstState = max(worstState, abs(result.states![step * 2 * n + i] - sE[i]),
                                 abs(result.states![step * 2 * n + n + i] - sI[i]))
                zSum[i] += sE[i]
            }
            if (step + 1) % m == 0 {
                for i in 0..<n {
                    BalloonWindkessel().rk4Step(&balloon[i], z: SIMD4(repeating: zSum[i] / Double(m)), h: Double(m) * dt / 1000)
                    zSum[i] = 0
                }
                if (step + 1) % spec.stepsPerTR == 0 { boldSamples.append((0..<n).map { BalloonWindkessel().bold(balloon[$0])[0] }) }
            }
        }
        XCTAssertLessThan(worstState, 1e-12, "S_E, S_I at every step")
        let final = (0..<n).map { result.states![(steps - 1) * 2 * n + $0] }
        XCTAssertTrue(final.allSatisfy { $0 > 0.01 && $0 < 0.99 }, "S_E inside its bounds, so the comparison means something")
        guard checkBold else { return }
        XCTAssertEqual(boldSamples.count, result.bold.rows)
        for (k, row) in boldSamples.enumerated() {
            for i in 0..<n { XCTAssertEqual(result.bold[k, i], row[i], accuracy: 1e-12 * max(abs(row[i]), 1e-3)) }
        }
    }

    /// The result does not depend on how the nodes are split into blocks (what MPI ranks do).
    func testAnySplitIntoNodeBlocksGivesTheSameBits() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let sc = try ConnectomePreparation().apply(to: try data.connectome(subject: "101309"))
        for integrator in [IntegratorKind.euler, .heun] {
            let spec = try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: sc, integrator: integrator,
                                          duration: 1.44, transient: 0.5, seed: 8, statePeriod: 10)
            let whole = try NetworkSimulator(spec: spec).run()
            for split in [[0..<33, 33..<80], [0..<1, 1..<40, 40..<41, 41..<80], [0..<79, 79..<80]] {
                let parts = try NetworkSimulator(spec: spec, blocks: split).run()
                XCTAssertEqual(parts.bold.values.map(\.bitPattern), whole.bold.values.map(\.bitPattern), "\(integrator) \(split)")
                XCTAssertEqual(parts.states!.map(\.bitPattern), whole.states!.map(\.bitPattern), "\(integrator) \(split)")
                XCTAssertEqual(parts.meanObservables, whole.meanObservables)
            }
        }
        // ALN couples through an observable and has intra-node delays: also split-invariant.
        var request = SimulationRequest(connectome: sc, duration: 0.72)
        request.noiseKind = NoiseSpec.Kind.ou
        request.sigma = 0.05
        let aln = try ALN.makeSpec(request)
        let a = try NetworkSimulator(spec: aln).run(), b = try NetworkSimulator(spec: aln, blocks: [0..<20, 20..<80]).run()
        XCTAssertEqual(a.bold.values.map(\.bitPattern), b.bold.values.map(\.bitPattern))
        // Zero-delay connections may not cross blocks.
        let instant = try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: sc, duration: 1.44,
                                         conductionSpeed: .infinity)
        assertThrowsMessage(try NetworkSimulator(spec: instant, blocks: [0..<40, 40..<80]), containing: ["zero-delay", "within a block"])
        assertThrowsMessage(try NetworkSimulator(spec: instant, blocks: [0..<40, 41..<80]), containing: ["contiguous"])
    }

    /// The AVX-512 Euler kernel of the reduced Wong-Wang model gives the Swift path's bits:
    /// default settings, strong noise with a drive near threshold (the clamps and expm1's
    /// series in play), Ornstein-Uhlenbeck input with BOLD from the rate, w_+ and I_0 per
    /// node, and node blocks.
    func testVectorKernelGivesTheSwiftBits() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let sc = try ConnectomePreparation().apply(to: try data.connectome(subject: "101309"))
        var near = ReducedWongWang.Parameters()
        near.iExt = 0.02
        var strong = ReducedWongWang.Parameters()
        strong.g = 6
        let specs = [
            try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: sc, duration: 1.44, seed: 3, statePeriod: 5),
            try SimulationSpec(model: ReducedWongWang(parameters: near), connectome: sc, noise: NoiseSpec(sigma: 0.08), duration: 1.44,
                               seed: 4, statePeriod: 5),
            try SimulationSpec(model: ReducedWongWang(parameters: strong), connectome: sc, noise: NoiseSpec(kind: .ou, sigma: 0.05, mean: 0.01),
                               duration: 1.44, seed: 5, boldInput: .observable(0), statePeriod: 5),
            // Regional heterogeneity: w_+ and I_0 per node.
            try SimulationSpec(model: ReducedWongWang(parameters: near),
                               nodeParameters: ["w_plus": (0..<80).map { 1.2 + 0.005 * Double($0) }, "I_0": (0..<80).map { 0.36 + 0.0005 * Double($0) }],
                               connectome: sc, noise: NoiseSpec(sigma: 0.02), duration: 1.44, seed: 6, statePeriod: 5),
        ]
        for (k, spec) in specs.enumerated() {
            let swift = try NetworkSimulator(spec: spec, vectorKernels: false).run()
            for blocks in [nil, [0..<37, 37..<80]] {
                let simulator = try NetworkSimulator(spec: spec, blocks: blocks, vectorKernels: true)
                let kernel = try simulator.run()
                XCTAssertEqual(simulator.ranVectorKernel, CounterNoise.hasVectorKernel, "kernel chosen where the CPU has it")
                XCTAssertEqual(kernel.bold.values.map(\.bitPattern), swift.bold.values.map(\.bitPattern), "BOLD, case \(k)")
                XCTAssertEqual(kernel.states!.map(\.bitPattern), swift.states!.map(\.bitPattern), "states, case \(k)")
                XCTAssertEqual(kernel.meanObservables.flatMap { $0 }.map(\.bitPattern), swift.meanObservables.flatMap { $0 }.map(\.bitPattern),
                               "rates, case \(k)")
            }
            XCTAssert(swift.bold.values.allSatisfy(\.isFinite))
        }
    }

    /// Node blocks exchange often enough for the edges between them: within the shortest
    /// short delay (step by step), at every chunk start when medium edges cross, else per block.
    func testExchangeIntervalFollowsTheEdgesBetweenBlocks() throws {
        func interval(lengthScale: Double, speed: Double, split: [Range<Int>]) throws -> Int {
            let spec = try SimulationSpec(model: ReducedWongWang(parameters: .init()), connectome: try smallConnectome(6, lengthScale: lengthScale),
                                          duration: 0.72, conductionSpeed: speed)
            return try NetworkSimulator(spec: spec, blocks: split).exchangeInterval
        }
        // Lengths 6-66 mm at 20 m/s: delays 3 (short), 8 and 13 (medium), 18 and more (long).
        // Between 0..<3 and 3..<6 only short (3 steps) and long edges cross: every 3 steps.
        XCTAssertEqual(try interval(lengthScale: 30, speed: 20, split: [0..<3, 3..<6]), 3)
        // Between 0..<4 and 4..<6 medium ones cross too: 3 is not a divisor of the 4-step
        // chunk, so every 2 steps.
        XCTAssertEqual(try interval(lengthScale: 30, speed: 20, split: [0..<4, 4..<6]), 2)
        // Node 0 alone: medium and long edges cross, no short one: at every chunk start.
        XCTAssertEqual(try interval(lengthScale: 30, speed: 20, split: [0..<1, 1..<6]), 4)
        // At 1 m/s every delay is at least 60 steps: once per block.
        XCTAssertEqual(try interval(lengthScale: 30, speed: 1, split: [0..<4, 4..<6]), DelayCoupling.blockLength)
    }

    func testSpecRejectsBadTimes() throws {
        let c = try smallConnectome(3)
        let rww = ReducedWongWang(parameters: .init())
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, dt: 0, duration: 1), containing: ["--dt", "positive"])
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, duration: -5), containing: ["--duration", "-5"])
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, duration: 10, tr: 0), containing: ["--tr"])
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, duration: 10, tr: 0.72005), containing: ["--tr", "multiple of dt"])
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, duration: 10, conductionSpeed: -1), containing: ["--speed"])
        XCTAssertEqual(try SimulationSpec(model: rww, connectome: c, duration: 10).boldSubsteps, 100, "10 ms at dt 0.1 ms")
        XCTAssertEqual(try SimulationSpec(model: rww, connectome: c, duration: 10, boldStep: 1).boldSubsteps, 10)
        XCTAssertEqual(try SimulationSpec(model: rww, connectome: c, duration: 10, tr: 0.75, boldStep: 7).boldSubsteps, 60,
                       "the largest divisor of 7500 steps per TR within 7 ms")
        assertThrowsMessage(try SimulationSpec(model: rww, connectome: c, duration: 10, boldStep: 0.01), containing: ["--bold-step", "dt"])
        XCTAssertEqual(try SimulationSpec(model: rww, connectome: c, duration: 10).sampleCount, 13)
    }
}
