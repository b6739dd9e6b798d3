import Foundation

/// What a simulation produced. Nothing per step is kept: observers reduce as they go.
public struct SimulationResult: Sendable {
    /// BOLD, samples x regions; sample k is taken at transient + (k + 1) TR.
    public let bold: Matrix
    /// Temporal averages of the state per period, samples x variables x regions, if requested.
    public let states: [Double]?
    public let stateSampleCount: Int
    /// Means over the recorded time (sampled at every haemodynamic step), [variable][node].
    public let meanVariables: [[Double]]
    /// Means of the model's observables, [observable][node].
    public let meanObservables: [[Double]]
    public let steps: Int
    public let wallSeconds: Double
}

/// Integrates a network of neural masses with delays, noise and BOLD.
///
/// Before t = 0 every node's history equals its initial state. Initial states are given in
/// the spec, or uniform in each variable's initial range, per node, from the counter
/// generator (step counter 2^32 - 1, which no integration step reaches), so the seed fixes
/// them too.
///
/// Work is done in blocks of K = `DelayCoupling.blockLength` steps: long-delay sums for
/// the whole block and the block's normal numbers first, then K steps. Per step: the sums of
/// delayed edges (held over the step), then the integrator's stages, each with the
/// zero-delay edges evaluated at the stage state, the coupling function's post step and the
/// model's drift for four nodes at a time; then noise, bounds, history and observers. All
/// buffers are allocated once; the step loop allocates nothing.
public final class NetworkSimulator<Model: NeuralMassModel> {
    public typealias Lanes = VectorMath.Lanes
    public let spec: SimulationSpec<Model>
    public let coupling: DelayCoupling
    let model: Model
    let n: Int, groups: Int, padded: Int
    let vars: Int, channels: Int, observableCount: Int, nodeParameterCount: Int
    /// Network sums: one per (weight power, history channel); inputs: one per weight power.
    let powers: Int, sums: Int
    let localCount: Int, localDelaySteps: [Int]
    let rowLength: Int
    let history: UnsafeMutablePointer<Double>       // channel-major: [channel][node][rowLength]
    let longAcc: UnsafeMutablePointer<Double>       // [channel][node][K]
    let x, xStage, dx, dxSum, ou, observables, nodeParameters, noise: UnsafeMutablePointer<Double>
    let held, stageChannels, signal, cIn, zSum, checkSum: UnsafeMutablePointer<Double>
    let firstObservables, localNow: UnsafeMutablePointer<Double>
    /// Ring buffers of the intra-node delayed observables, [k][slot][node].
    let localRings: [UnsafeMutablePointer<Double>]
    var balloonState: [BalloonWindkessel.State]
    var cursor = 0
    let lowerBounds = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.lowerBound ?? -.infinity) }
    let upperBounds = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.upperBound ?? .infinity) }
    private var allocations: [UnsafeMutablePointer<Double>] = []

    public init(spec: SimulationSpec<Model>) {
        self.spec = spec
        model = spec.model
        n = spec.connectome.regionCount
        coupling = DelayCoupling(connectome: spec.connectome, dt: spec.dt, speed: spec.conductionSpeed,
                                 weightPowers: Model.couplingWeightPowers)
        groups = (n + 3) / 4
        padded = groups * 4
        vars = Model.variables.count
        channels = spec.coupling.channels
        observableCount = max(Model.observables.count, 1)
        nodeParameterCount = max(Model.nodeParameterNames.count, 1)
        powers = Model.couplingWeightPowers.count
        sums = powers * channels
        localCount = Model.localDelayObservables.count
        localDelaySteps = spec.model.localDelaysMs.map { Int(($0 / spec.dt).rounded()) }
        rowLength = coupling.rowLength
        var owned: [UnsafeMutablePointer<Double>] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            owned.append(p)
            return p
        }
        let k = DelayCoupling.blockLength
        history = buffer(channels * n * rowLength)
        longAcc = buffer(sums * n * k)
        x = buffer(vars * padded); xStage = buffer(vars * padded)
        dx = buffer(vars * padded); dxSum = buffer(vars * padded)
        ou = buffer(vars * padded); observables = buffer(observableCount * padded)
        nodeParameters = buffer(nodeParameterCount * padded)
        noise = buffer(k * vars * padded)
        held = buffer(sums * padded); stageChannels = buffer(2 * padded)
        signal = buffer(padded); cIn = buffer(powers * padded); zSum = buffer(padded); checkSum = buffer(padded)
        firstObservables = buffer(observableCount * padded); localNow = buffer(max(localCount, 1) * padded)
        var rings: [UnsafeMutablePointer<Double>] = []
        for d in spec.model.localDelaysMs.map({ Int(($0 / spec.dt).rounded()) }) { rings.append(buffer((d + 2) * padded)) }
        localRings = rings
        balloonState = Array(repeating: BalloonWindkessel.State(), count: groups)
        allocations = owned
    }

    /// The coupled signal (a variable, or an observable of the first stage) for a state.
    @inline(__always)
    func storeSignal(_ state: UnsafeMutablePointer<Double>, group g: Int) {
        let value: Lanes
        if let o = Model.coupledObservable { value = block(firstObservables, g)[o] }
        else { value = model.couplingSignal(block(state, g)) }
        UnsafeMutableRawPointer(signal + 4 * g).storeBytes(of: value, as: Lanes.self)
    }

    deinit { for p in allocations { p.deallocate() } }

    static var initialStateCounter: UInt64 { CounterNoise.maxSteps - 1 }

    func block(_ p: UnsafeMutablePointer<Double>, _ g: Int) -> LaneBlock { LaneBlock(p + 4 * g, stride: padded) }

    func reset() {
        let generator = CounterNoise(seed: spec.seed)
        for v in 0..<vars {
            let range = Model.variables[v].initialRange
            for i in 0..<padded {
                x[v * padded + i] = i >= n ? 0 : spec.initialState?[v][i]
                    ?? range.lowerBound + (range.upperBound - range.lowerBound)
                        * generator.uniform(node: i, step: NetworkSimulator.initialStateCounter, variable: UInt64(v))
                ou[v * padded + i] = spec.noise.kind == .ou && Model.noiseVariables.contains(v) && i < n ? spec.noise.mean : 0
            }
        }
        for p in 0..<Model.nodeParameterNames.count {
            for i in 0..<n { nodeParameters[p * padded + i] = spec.nodeParameters[p][i] }
        }
        // Observables at the initial state without network or local input seed the histories
        // of observable-coupled and intra-node delayed quantities.
        cIn.initialize(repeating: 0, count: powers * padded)
        localNow.initialize(repeating: 0, count: max(localCount, 1) * padded)
        for g in 0..<groups {
            model.drift(block(x, g), coupling: block(cIn, g), local: block(localNow, g), node: block(nodeParameters, g),
                        input: block(ou, g), into: block(dx, g), observables: block(firstObservables, g))
        }
        for (k, ring) in localRings.enumerated() {
            let source = firstObservables + Model.localDelayObservables[k] * padded
            for slot in 0..<(localDelaySteps[k] + 2) { (ring + slot * padded).update(from: source, count: padded) }
        }
        cursor = coupling.maxDelay
        computeSignal(x)
        for ch in 0..<channels {
            for j in 0..<n {
                let value = spec.coupling.pre(signal[j], channel: ch)
                (history + (ch * n + j) * rowLength).initialize(repeating: value, count: cursor + 1)
            }
        }
        for k in 0..<padded { zSum[k] = 0; checkSum[k] = 0 }
        balloonState = Array(repeating: BalloonWindkessel.State(), count: groups)
    }

    /// The coupled signal of every node for a state buffer.
    @inline(__always)
    func computeSignal(_ state: UnsafeMutablePointer<Double>) {
        for g in 0..<groups { storeSignal(state, group: g) }
    }

    /// Moves the last maxDelay + 1 history values of every row to the row's start.
    func shiftHistory() {
        let keep = coupling.maxDelay + 1
        for row in 0..<(channels * n) {
            let r = history + row * rowLength
            r.update(from: r + (cursor - keep + 1), count: keep)
        }
        cursor = keep - 1
    }

    /// Long-edge sums for K steps from the block starting at `cursor`, for every
    /// (weight power, history channel).
    func accumulateLongEdges() {
        let k = DelayCoupling.blockLength
        coupling.longOffset.withUnsafeBufferPointer { off in
        coupling.longStart.withUnsafeBufferPointer { start in
            for p in 0..<powers {
                coupling.longWeights[p].withUnsafeBufferPointer { w in
                    for ch in 0..<channels {
                        let base = UnsafeRawPointer(history + ch * n * rowLength + cursor)
                        let acc = longAcc + (p * channels + ch) * n * k
                        for i in 0..<n {
                            var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
                            for e in start[i]..<start[i + 1] {
                                let q = base + Int(off[e]) * MemoryLayout<Double>.stride
                                let we = SIMD8<Double>(repeating: w[e])
                                a0.addProduct(we, q.loadUnaligned(as: SIMD8<Double>.self))
                                a1.addProduct(we, q.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self))
                            }
                            let out = UnsafeMutableRawPointer(acc + i * k)
                            out.storeBytes(of: a0, as: SIMD8<Double>.self)
                            out.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
                        }
                    }
                }
            }
        } }
    }

    /// Sums of delayed edges (long then short) at block step s, held over the step.
    @inline(never)
    func holdDelayedSums(step s: Int) {
        let k = DelayCoupling.blockLength
        coupling.shortStart.withUnsafeBufferPointer { start in
        coupling.shortOffset.withUnsafeBufferPointer { off in
            for p in 0..<powers {
                coupling.shortWeights[p].withUnsafeBufferPointer { w in
                    for ch in 0..<channels {
                        let now = history + ch * n * rowLength + cursor
                        let sum = p * channels + ch
                        for i in 0..<n {
                            // Two interleaved partial sums (even and odd edges) break the FMA
                            // latency chain; the order is still fixed by edge index.
                            var even = 0.0, odd = 0.0
                            var e = start[i]
                            let end = start[i + 1]
                            while e + 1 < end {
                                even = even.addingProduct(w[e], now[Int(off[e])])
                                odd = odd.addingProduct(w[e + 1], now[Int(off[e + 1])])
                                e += 2
                            }
                            if e < end { even = even.addingProduct(w[e], now[Int(off[e])]) }
                            held[sum * padded + i] = longAcc[(sum * n + i) * k + s] + (even + odd)
                        }
                    }
                }
            }
        } }
    }

    /// The network inputs c_i (one per weight power) for a stage state: held delayed sums
    /// plus zero-delay edges at the stage state, through the coupling's post step.
    @inline(__always)
    func computeCoupling(_ state: UnsafeMutablePointer<Double>) {
        let kind = spec.coupling
        let instant = coupling.instantEdgeCount > 0
        if kind == .linear && !instant {
            cIn.update(from: held, count: powers * padded)
            return
        }
        computeSignal(state)
        if instant {
            for ch in 0..<channels {
                for j in 0..<n { stageChannels[ch * padded + j] = kind.pre(signal[j], channel: ch) }
            }
        }
        coupling.instantStart.withUnsafeBufferPointer { start in
        coupling.instantSource.withUnsafeBufferPointer { src in
            for p in 0..<powers {
                coupling.instantWeights[p].withUnsafeBufferPointer { w in
                coupling.rowSums[p].withUnsafeBufferPointer { rowSum in
                    let base = p * channels
                    for i in 0..<n {
                        var s0 = held[base * padded + i], s1 = channels > 1 ? held[(base + 1) * padded + i] : 0
                        if instant {
                            var z0 = 0.0, z1 = 0.0
                            for e in start[i]..<start[i + 1] {
                                let j = Int(src[e])
                                z0 = z0.addingProduct(w[e], stageChannels[j])
                                if channels > 1 { z1 = z1.addingProduct(w[e], stageChannels[padded + j]) }
                            }
                            s0 += z0; s1 += z1
                        }
                        cIn[p * padded + i] = kind.post(sum0: s0, sum1: s1, local: signal[i], rowSum: rowSum[i])
                    }
                } }
            }
        } }
    }

    /// dx = f(state) for every group; the first stage of a step also keeps its observables.
    @inline(__always)
    func evaluateDrift(_ state: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>, firstStage: Bool) {
        computeCoupling(state)
        let obs = firstStage ? firstObservables : observables
        for g in 0..<groups {
            model.drift(block(state, g), coupling: block(cIn, g), local: block(localNow, g), node: block(nodeParameters, g),
                        input: block(ou, g), into: block(out, g), observables: block(obs, g))
        }
    }

    /// Loads the intra-node delayed observables for this step (written d + 1 steps ago).
    @inline(__always)
    func loadLocalDelays(step: Int) {
        for (k, ring) in localRings.enumerated() {
            let size = localDelaySteps[k] + 2
            let slot = ((step - localDelaySteps[k] - 1) % size + size) % size
            (localNow + k * padded).update(from: ring + slot * padded, count: padded)
        }
    }

    /// Stores this step's first-stage observables into the intra-node delay rings.
    @inline(__always)
    func storeLocalDelays(step: Int) {
        for (k, ring) in localRings.enumerated() {
            let size = localDelaySteps[k] + 2
            (ring + (step % size) * padded).update(from: firstObservables + Model.localDelayObservables[k] * padded, count: padded)
        }
    }

    /// Runs the whole simulation. `progress` receives the completed fraction now and then.
    public func run(progress: ((Double) -> Void)? = nil) throws -> SimulationResult {
        if Model.coupledObservable != nil && coupling.instantEdgeCount > 0 {
            throw WholeBrainError.badValue(source: "--speed", value: "\(spec.conductionSpeed)",
                                           expected: "a speed at which every connection has a delay of at least one step: \(Model.name) exchanges a quantity computed during the step")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        reset()
        let k = DelayCoupling.blockLength
        let total = spec.totalSteps
        let m = spec.boldSubsteps
        let transientSteps = spec.transientSteps
        let stepsPerTR = spec.stepsPerTR
        let sampleCount = spec.sampleCount
        let dt = spec.dt
        let noiseSpec = spec.noise
        let noisy = !noiseSpec.isSilent && noiseSpec.sigma != 0
        let whiteScale = noiseSpec.kind == .white ? noiseSpec.sigma * dt.squareRoot() : 0
        let ouScale = noiseSpec.kind == .ou ? noiseSpec.sigma * dt.squareRoot() : 0
        let ouDecay = dt / noiseSpec.tau
        let noiseVariables = Model.noiseVariables
        _ = noiseVariables
        let integrator = spec.integrator
        let hBold = Double(m) * dt / 1000       // haemodynamic step in seconds
        let balloon = spec.balloon
        var bold = Matrix(rows: spec.recordBold ? sampleCount : 0, columns: n)
        let recordBold = spec.recordBold
        var meanVars = [Double](repeating: 0, count: vars * padded)
        var meanObs = [Double](repeating: 0, count: observableCount * padded)
        var meanCount = 0
        let statePeriodSteps = spec.statePeriod.map { Int(($0 / dt).rounded()) }
        let stateSamples = statePeriodSteps.map { (total - transientSteps) / $0 } ?? 0
        var states: [Double]? = statePeriodSteps == nil ? nil : [Double](repeating: 0, count: stateSamples * vars * n)
        var stateAcc = [Double](repeating: 0, count: vars * n)
        var stateCount = 0, stateIndex = 0
        var substep = 0, recorded = 0
        var lastReport = -1
        let bounds = Model.variables.map(\.bounds)
        let generator = CounterNoise(seed: spec.seed)
        let boldFromVariable: Int? = { if case let .variable(v) = spec.boldInput { return v } else { return nil } }()
        let boldObservable: Int = { if case let .observable(o) = spec.boldInput { return o } else { return 0 } }()
        let count = vars * padded

        var step = 0
        while step < total {
            if cursor + k >= rowLength { shiftHistory() }
            accumulateLongEdges()
            let blockSteps = min(k, total - step)
            if noisy { generateNoise(firstStep: step, steps: blockSteps, generator: generator) }
            for s in 0..<blockSteps {
                holdDelayedSums(step: s)
                if localCount > 0 { loadLocalDelays(step: step) }
                let xi = noise + s * vars * padded
                switch integrator {
                case .euler:
                    eulerStep(noise: xi, scale: whiteScale, boldVariable: boldFromVariable, boldObservable: boldObservable)
                case .heun:
                    evaluateDrift(x, into: dx, firstStage: true)
                    for q in 0..<count { xStage[q] = x[q] + dt * dx[q] + whiteScale * xi[q] }
                    applyBounds(xStage, bounds)
                    evaluateDrift(xStage, into: dxSum, firstStage: false)
                    let half = 0.5 * dt
                    for q in 0..<count { x[q] = x[q] + half * (dx[q] + dxSum[q]) + whiteScale * xi[q] }
                case .rk4:
                    evaluateDrift(x, into: dx, firstStage: true)
                    for q in 0..<count { dxSum[q] = dx[q]; xStage[q] = x[q] + 0.5 * dt * dx[q] }
                    evaluateDrift(xStage, into: dx, firstStage: false)
                    for q in 0..<count { dxSum[q] += 2 * dx[q]; xStage[q] = x[q] + 0.5 * dt * dx[q] }
                    evaluateDrift(xStage, into: dx, firstStage: false)
                    for q in 0..<count { dxSum[q] += 2 * dx[q]; xStage[q] = x[q] + dt * dx[q] }
                    evaluateDrift(xStage, into: dx, firstStage: false)
                    let sixth = dt / 6
                    for q in 0..<count { x[q] = x[q] + sixth * (dxSum[q] + dx[q]) }
                }
                if integrator != .euler {
                    // Divergence shows in a running sum; bounds keep NaN (comparisons are false).
                    for v in 0..<vars { for i in 0..<n { checkSum[i] += x[v * padded + i] } }
                    applyBounds(x, bounds)
                    computeSignal(x)
                    let z = boldFromVariable.map { x + $0 * padded } ?? firstObservables + boldObservable * padded
                    for q in 0..<padded { zSum[q] += z[q] }
                }
                if localCount > 0 { storeLocalDelays(step: step) }
                if noiseSpec.kind == .ou {
                    for v in noiseVariables {
                        for i in 0..<n {
                            let q = v * padded + i
                            ou[q] = ou[q] + (noiseSpec.mean - ou[q]) * ouDecay + ouScale * xi[q]
                        }
                    }
                }
                // History: the new state's coupled signal, in every channel.
                for ch in 0..<channels {
                    let next = history + ch * n * rowLength + cursor + 1
                    if spec.coupling == .sine {
                        for j in 0..<n { next[j * rowLength] = spec.coupling.pre(signal[j], channel: ch) }
                    } else {
                        for j in 0..<n { next[j * rowLength] = signal[j] }
                    }
                }
                // (BOLD input, added above: a variable after the step, or an observable from the
                // first stage.)
                cursor += 1
                step += 1
                let recording = step > transientSteps
                if let period = statePeriodSteps, recording {
                    for v in 0..<vars { for i in 0..<n { stateAcc[v * n + i] += x[v * padded + i] } }
                    stateCount += 1
                    if stateCount == period, stateIndex < stateSamples {
                        let base = stateIndex * vars * n
                        for q in 0..<(vars * n) { states![base + q] = stateAcc[q] / Double(period); stateAcc[q] = 0 }
                        stateCount = 0; stateIndex += 1
                    }
                }
                substep += 1
                if substep == m {
                    substep = 0
                    let inv = 1 / Double(m)
                    for g in 0..<groups where recordBold {
                        let o = 4 * g
                        let zMean = UnsafeRawPointer(zSum + o).loadUnaligned(as: Lanes.self) * inv
                        UnsafeMutableRawPointer(zSum + o).storeBytes(of: Lanes(), as: Lanes.self)
                        balloon.rk4Step(&balloonState[g], z: zMean, h: hBold)
                    }
                    if recording {
                        for q in 0..<(vars * padded) { meanVars[q] += x[q] }
                        for q in 0..<(observableCount * padded) { meanObs[q] += firstObservables[q] }
                        meanCount += 1
                        if recordBold, (step - transientSteps) % stepsPerTR == 0, recorded < sampleCount {
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
            for i in 0..<n where !checkSum[i].isFinite {
                let v = (0..<vars).first { !x[$0 * padded + i].isFinite } ?? 0
                throw WholeBrainError.diverged(timeMs: Double(step) * dt, node: i, variable: Model.variables[v].name)
            }
            if let progress {
                let permille = step * 1000 / max(total, 1)
                if permille != lastReport { lastReport = permille; progress(Double(step) / Double(total)) }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let c = Double(max(meanCount, 1))
        return SimulationResult(
            bold: bold, states: states, stateSampleCount: stateSamples,
            meanVariables: (0..<vars).map { v in (0..<n).map { meanVars[v * padded + $0] / c } },
            meanObservables: (0..<Model.observables.count).map { o in (0..<n).map { meanObs[o * padded + $0] / c } },
            steps: total, wallSeconds: elapsed)
    }

    /// The block's normal numbers, node by node: noise[s][v][node].
    @inline(never)
    func generateNoise(firstStep: Int, steps: Int, generator: CounterNoise) {
        let zig = Ziggurat.tables
        let stride = vars * padded
        Model.noiseVariables.withUnsafeBufferPointer { noisy in
            for i in 0..<n {
                for v in noisy {
                    let base = noise + v * padded + i
                    for s in 0..<steps {
                        base[s * stride] = generator.normal(node: i, step: UInt64(firstStep + s), variable: UInt64(v), tables: zig)
                    }
                }
            }
        }
    }

    /// One Euler-Maruyama step in one fused pass per group: coupling, drift, update,
    /// divergence sum, bounds, BOLD input and the coupled signal for the history.
    @inline(never)
    func eulerStep(noise xi: UnsafeMutablePointer<Double>, scale: Double, boldVariable: Int?, boldObservable: Int) {
        computeCoupling(x)
        let dt = spec.dt
        lowerBounds.withUnsafeBufferPointer { lower in
        upperBounds.withUnsafeBufferPointer { upper in
            for g in 0..<groups {
                let xs = block(x, g), d = block(dx, g), noiseLanes = block(xi, g)
                model.drift(xs, coupling: block(cIn, g), local: block(localNow, g), node: block(nodeParameters, g),
                            input: block(ou, g), into: d, observables: block(firstObservables, g))
                var check = UnsafeRawPointer(checkSum + 4 * g).loadUnaligned(as: Lanes.self)
                for v in 0..<vars {
                    var next = xs[v] + dt * d[v] + scale * noiseLanes[v]
                    check += next
                    next.replace(with: lower[v], where: next .< lower[v])
                    next.replace(with: upper[v], where: next .> upper[v])
                    xs[v] = next
                }
                UnsafeMutableRawPointer(checkSum + 4 * g).storeBytes(of: check, as: Lanes.self)
                let z = boldVariable.map { xs[$0] } ?? block(firstObservables, g)[boldObservable]
                let zs = UnsafeRawPointer(zSum + 4 * g).loadUnaligned(as: Lanes.self)
                UnsafeMutableRawPointer(zSum + 4 * g).storeBytes(of: zs + z, as: Lanes.self)
                storeSignal(x, group: g)
            }
        } }
    }

    @inline(__always)
    func applyBounds(_ state: UnsafeMutablePointer<Double>, _ bounds: [ClosedRange<Double>?]) {
        for (v, b) in bounds.enumerated() {
            guard let b else { continue }
            let lo = b.lowerBound, hi = b.upperBound
            for i in 0..<padded {
                let q = v * padded + i
                if state[q] < lo { state[q] = lo } else if state[q] > hi { state[q] = hi }
            }
        }
    }
}
