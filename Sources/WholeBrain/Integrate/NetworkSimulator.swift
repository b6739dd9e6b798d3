import Foundation

/// What a simulation produced. Nothing per step is kept: observers reduce as they go.
public struct SimulationResult: Sendable {
    /// BOLD, samples x regions; sample k is taken at transient + (k + 1) TR.
    public let bold: Matrix
    /// Temporal averages of (S_E, S_I) per period, samples x 2 x regions, if requested.
    public let states: [Double]?
    public let stateSampleCount: Int
    /// Means over the recorded time (sampled at every haemodynamic step).
    public let meanSE: [Double], meanSI: [Double], meanRateE: [Double]
    public let steps: Int
    public let wallSeconds: Double
}

/// Integrates the reduced Wong-Wang network with delays, noise and BOLD by Euler-Maruyama:
///
///     S(t + dt) = clamp(S + dt f(S, c) + sigma sqrt(dt) xi, 0, 1),  xi ~ N(0, 1)
///
/// with c the delayed coupling of `DelayCoupling` and xi from `CounterNoise`. Before t = 0
/// every node's history equals its initial S_E. Initial S_E and S_I are uniform on
/// [0, 0.2] per node, drawn from the same counter generator (step counter 2^47 - 1, which no
/// integration step reaches), so the seed fixes them too.
///
/// Work is done in blocks of K = `DelayCoupling.blockLength` steps: long-delay coupling
/// for the whole block first, then K local steps. All buffers are allocated once; the step
/// loop allocates nothing.
public final class NetworkSimulator {
    public let spec: SimulationSpec
    public let coupling: DelayCoupling
    let n: Int, groups: Int, padded: Int
    let rowLength: Int
    let history: UnsafeMutablePointer<Double>
    let longAcc: UnsafeMutablePointer<Double>
    let sE, sI, cIn, noiseE, noiseI, jI, rE, zSum, checkSum: UnsafeMutablePointer<Double>
    var balloonState: [BalloonWindkessel.State]
    var cursor: Int

    public init(spec: SimulationSpec) {
        self.spec = spec
        n = spec.connectome.regionCount
        coupling = DelayCoupling(connectome: spec.connectome, dt: spec.dt, speed: spec.conductionSpeed)
        groups = (n + 3) / 4
        padded = groups * 4
        rowLength = coupling.rowLength
        history = .allocate(capacity: n * rowLength)
        longAcc = .allocate(capacity: n * DelayCoupling.blockLength)
        let size = groups * 4
        func buffer() -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: size)
            p.initialize(repeating: 0, count: size)
            return p
        }
        sE = buffer(); sI = buffer(); cIn = buffer()
        let blockNoise = DelayCoupling.blockLength * size
        noiseE = .allocate(capacity: blockNoise); noiseE.initialize(repeating: 0, count: blockNoise)
        noiseI = .allocate(capacity: blockNoise); noiseI.initialize(repeating: 0, count: blockNoise)
        jI = buffer(); rE = buffer(); zSum = buffer(); checkSum = buffer()
        balloonState = Array(repeating: BalloonWindkessel.State(), count: groups)
        cursor = 0
    }

    deinit {
        history.deallocate(); longAcc.deallocate()
        for p in [sE, sI, cIn, noiseE, noiseI, jI, rE, zSum, checkSum] { p.deallocate() }
    }

    static let initialStateCounter: UInt64 = (1 << 47) - 1

    func reset() {
        let noise = CounterNoise(seed: spec.seed)
        for i in 0..<n {
            sE[i] = 0.2 * noise.uniform(node: i, step: NetworkSimulator.initialStateCounter, variable: 0)
            sI[i] = 0.2 * noise.uniform(node: i, step: NetworkSimulator.initialStateCounter, variable: 1)
            jI[i] = spec.inhibitoryCoupling[i]
        }
        for i in n..<padded { sE[i] = 0; sI[i] = 0; jI[i] = 0; cIn[i] = 0 }
        cursor = coupling.maxDelay
        for j in 0..<n {
            (history + j * rowLength).initialize(repeating: sE[j], count: cursor + 1)
        }
        for k in 0..<padded { zSum[k] = 0; checkSum[k] = 0 }
        balloonState = Array(repeating: BalloonWindkessel.State(), count: groups)
    }

    /// Moves the last maxDelay + 1 history values of every row to the row's start.
    func shiftHistory() {
        let keep = coupling.maxDelay + 1
        for j in 0..<n {
            let row = history + j * rowLength
            (row).update(from: row + (cursor - keep + 1), count: keep)
        }
        cursor = keep - 1
    }

    /// Long-edge coupling for K steps from the block starting at `cursor`.
    func accumulateLongEdges() {
        let k = DelayCoupling.blockLength
        coupling.longOffset.withUnsafeBufferPointer { off in
        coupling.longWeight.withUnsafeBufferPointer { w in
            let base = UnsafeRawPointer(history + cursor)
            for i in 0..<n {
                var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
                for e in coupling.longStart[i]..<coupling.longStart[i + 1] {
                    let p = base + Int(off[e]) * MemoryLayout<Double>.stride
                    let we = w[e]
                    a0.addProduct(SIMD8(repeating: we), p.loadUnaligned(as: SIMD8<Double>.self))
                    a1.addProduct(SIMD8(repeating: we), p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self))
                }
                let out = UnsafeMutableRawPointer(longAcc + i * k)
                out.storeBytes(of: a0, as: SIMD8<Double>.self)
                out.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
            }
        } }
    }

    /// Runs the whole simulation. `progress` receives the completed fraction now and then.
    public func run(progress: ((Double) -> Void)? = nil) throws -> SimulationResult {
        let start = DispatchTime.now().uptimeNanoseconds
        reset()
        let p = spec.model
        let k = DelayCoupling.blockLength
        let total = spec.totalSteps
        let m = spec.boldSubsteps
        let transientSteps = spec.transientSteps
        let stepsPerTR = spec.stepsPerTR
        let sampleCount = spec.sampleCount
        let dt = spec.dt
        let constants = ReducedWongWang.StepConstants(p, dt: dt)
        let noise = CounterNoise(seed: spec.seed)
        let noisy = p.sigma != 0
        let hBold = Double(m) * dt / 1000       // haemodynamic step in seconds
        let balloon = spec.balloon
        let useRate = spec.boldInput == .rate
        var bold = Matrix(rows: sampleCount, columns: n)
        var meanSE = [Double](repeating: 0, count: padded), meanSI = meanSE, meanRE = meanSE
        var meanCount = 0
        let statePeriodSteps = spec.statePeriod.map { Int(($0 / dt).rounded()) }
        let stateSamples = statePeriodSteps.map { (total - transientSteps) / $0 } ?? 0
        var states: [Double]? = statePeriodSteps == nil ? nil : [Double](repeating: 0, count: stateSamples * 2 * n)
        var stateAccE = [Double](repeating: 0, count: n), stateAccI = stateAccE
        var stateCount = 0, stateIndex = 0
        var substep = 0, recorded = 0
        var lastReport = -1

        let zig = Ziggurat.tables
        let ss = coupling.shortStart, so = coupling.shortOffset, sw = coupling.shortWeight
        var step = 0
        try ss.withUnsafeBufferPointer { shortStart in
        try so.withUnsafeBufferPointer { shortOffset in
        try sw.withUnsafeBufferPointer { shortWeight in
            while step < total {
                if cursor + k >= rowLength { shiftHistory() }
                accumulateLongEdges()
                let blockSteps = min(k, total - step)
                // The block's normal numbers, node by node (row s holds step + s).
                if noisy {
                    for i in 0..<n {
                        for s in 0..<blockSteps {
                            let counter = UInt64(step + s)
                            noiseE[s * padded + i] = noise.normal(node: i, step: counter, variable: 0, tables: zig)
                            noiseI[s * padded + i] = noise.normal(node: i, step: counter, variable: 1, tables: zig)
                        }
                    }
                }
                for s in 0..<blockSteps {
                    let now = history + cursor
                    // Coupling: long edges (precomputed) then short edges, ascending j;
                    // the node's two normal numbers for this step alongside.
                    for i in 0..<n {
                        // Two interleaved partial sums (even and odd edges) break the
                        // FMA latency chain; the order is still fixed by edge index.
                        var even = 0.0, odd = 0.0
                        var e = shortStart[i]
                        let end = shortStart[i + 1]
                        while e + 1 < end {
                            even = even.addingProduct(shortWeight[e], now[Int(shortOffset[e])])
                            odd = odd.addingProduct(shortWeight[e + 1], now[Int(shortOffset[e + 1])])
                            e += 2
                        }
                        if e < end { even = even.addingProduct(shortWeight[e], now[Int(shortOffset[e])]) }
                        cIn[i] = longAcc[i * k + s] + (even + odd)
                    }
                    ReducedWongWang.eulerMaruyamaStep(constants, groups: groups, sE: sE, sI: sI, coupling: cIn, jI: jI,
                                                      noiseE: noiseE + s * padded, noiseI: noiseI + s * padded,
                                                      rateE: rE, boldInput: zSum,
                                                      rateDrivesBold: useRate, check: checkSum)
                    let next = now + 1
                    for j in 0..<n { next[j * rowLength] = sE[j] }
                    cursor += 1
                    step += 1
                    let recording = step > transientSteps
                    if let period = statePeriodSteps, recording {
                        for i in 0..<n { stateAccE[i] += sE[i]; stateAccI[i] += sI[i] }
                        stateCount += 1
                        if stateCount == period, stateIndex < stateSamples {
                            let base = stateIndex * 2 * n
                            for i in 0..<n {
                                states![base + i] = stateAccE[i] / Double(period)
                                states![base + n + i] = stateAccI[i] / Double(period)
                                stateAccE[i] = 0; stateAccI[i] = 0
                            }
                            stateCount = 0; stateIndex += 1
                        }
                    }
                    substep += 1
                    if substep == m {
                        substep = 0
                        let inv = 1 / Double(m)
                        for g in 0..<groups {
                            let o = 4 * g
                            let z = UnsafeRawPointer(zSum + o).loadUnaligned(as: SIMD4<Double>.self) * inv
                            UnsafeMutableRawPointer(zSum + o).storeBytes(of: SIMD4<Double>(), as: SIMD4<Double>.self)
                            balloon.rk4Step(&balloonState[g], z: z, h: hBold)
                        }
                        if recording {
                            for i in 0..<n { meanSE[i] += sE[i]; meanSI[i] += sI[i]; meanRE[i] += rE[i] }
                            meanCount += 1
                            if (step - transientSteps) % stepsPerTR == 0, recorded < sampleCount {
                                for g in 0..<groups {
                                    let y = balloon.bold(balloonState[g])
                                    for l in 0..<4 where 4 * g + l < n {
                                        guard y[l].isFinite else {
                                            throw WholeBrainError.diverged(timeMs: Double(step) * dt, node: 4 * g + l, variable: "BOLD")
                                        }
                                        bold[recorded, 4 * g + l] = y[l]
                                    }
                                }
                                recorded += 1
                            }
                        }
                    }
                }
                // Divergence: any NaN or infinity in this block shows in the running sum.
                for i in 0..<n where !checkSum[i].isFinite {
                    throw WholeBrainError.diverged(timeMs: Double(step) * dt, node: i,
                                                   variable: sE[i].isFinite ? "S_I" : "S_E")
                }
                if let progress {
                    let permille = step * 1000 / max(total, 1)
                    if permille != lastReport { lastReport = permille; progress(Double(step) / Double(total)) }
                }
            }
        } } }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let c = Double(max(meanCount, 1))
        return SimulationResult(bold: bold, states: states, stateSampleCount: stateSamples,
                                meanSE: meanSE.prefix(n).map { $0 / c }, meanSI: meanSI.prefix(n).map { $0 / c },
                                meanRateE: meanRE.prefix(n).map { $0 / c }, steps: total, wallSeconds: elapsed)
    }
}
