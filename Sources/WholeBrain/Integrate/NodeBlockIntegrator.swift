import CKernels

/// Integrates one contiguous block of nodes of a network, given the delayed history of all
/// nodes (a `DelayHistory` shared with the other blocks); the serial run is the one-block case.
///
/// Before t = 0 every node's history equals its initial state. Initial states are given in
/// the spec, or uniform in each variable's initial range, per node, from the counter
/// generator (step counter 2^32 - 1, which no integration step reaches), so the seed fixes
/// them too.
///
/// Work is done in blocks of K = `DelayCoupling.blockLength` steps: long-delay sums for
/// the whole block and the block's normal numbers first, then K steps; every L =
/// `DelayCoupling.chunkLength` steps the medium-delay sums for the next L steps. Per step: the
/// sums of delayed edges (held over the step), then the integrator's stages, each with the
/// zero-delay edges evaluated at the stage state, the coupling function's post step and the
/// model's drift for four nodes at a time; then noise, bounds, history and observers. All
/// buffers are allocated once; the step loop allocates nothing. Where the CPU has AVX-512, the
/// reduced Wong-Wang model's Euler step runs in a C kernel (`wb_rww_euler`, eight nodes per
/// vector, the same operations and bits as the Swift path).
final class NodeBlockIntegrator<Model: NeuralMassModel> {
    public typealias Lanes = VectorMath.Lanes
    let spec: SimulationSpec<Model>
    let coupling: DelayCoupling
    let model: Model
    /// n: all nodes; the block is nodes lo ..< lo + local, stored in local lanes.
    let n: Int, lo: Int, local: Int, groups: Int, padded: Int
    let vars: Int, channels: Int, observableCount: Int, nodeParameterCount: Int
    /// Network sums: one per (weight power, history channel); inputs: one per weight power.
    let powers: Int, sums: Int
    let localCount: Int, localDelaySteps: [Int]
    let rowLength: Int
    let store: DelayHistory
    let history: UnsafeMutablePointer<Double>       // channel-major: [channel][node][rowLength]
    let longAcc: UnsafeMutablePointer<Double>       // [sum][local node][K]
    let chunkSums: UnsafeMutablePointer<Double>     // long + medium sums, [sum][L][node]
    /// Local nodes with short edges (d < L), which add them step by step.
    let shortTargets: [Int]
    /// Long edges in source bands whose history windows fit in L1 (small networks): band b of
    /// local node li is edges longBands[li * (bands + 1) + b] ..< [... + b + 1].
    let bandCount: Int, longBands: [Int]
    let x, xStage, dx, dxSum, ou, observables, nodeParameters, noise: UnsafeMutablePointer<Double>
    let held, stageChannels, signal, cIn, zSum, checkSum: UnsafeMutablePointer<Double>
    let firstObservables, localNow: UnsafeMutablePointer<Double>
    /// Running sums of every variable and observable over the recorded steps.
    let meanVars, meanObs: UnsafeMutablePointer<Double>
    /// Ring buffers of the intra-node delayed observables, [k][slot][node].
    let localRings: [UnsafeMutablePointer<Double>]
    var balloonState: [BalloonWindkessel.State]
    var cursor: Int { store.cursor }
    let lowerBounds = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.lowerBound ?? -.infinity) }
    let upperBounds = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.upperBound ?? .infinity) }
    private var allocations: [UnsafeMutableRawPointer] = []

    /// Whether `begin` may choose a vector kernel (tests turn it off to compare).
    let vectorKernels: Bool
    /// The reduced Wong-Wang Euler kernel's constants, when this run uses it.
    var rwwKernel: wb_rww_constants?
    /// Every node of the block has the model's own w_+ and I_0: the kernel uses the uniform terms.
    var rwwUniform = true
    var kernelBoldFromRate: Int32 = 0

    init(spec: SimulationSpec<Model>, coupling: DelayCoupling, history: DelayHistory, nodes: Range<Int>, vectorKernels: Bool = true) {
        self.spec = spec
        self.vectorKernels = vectorKernels
        model = spec.model
        n = spec.connectome.regionCount
        self.coupling = coupling
        store = history
        lo = nodes.lowerBound
        local = nodes.count
        groups = (local + 3) / 4
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
        var owned: [UnsafeMutableRawPointer] = []
        // Cache-line aligned, so vector loads and stores split no more lines than they must
        // (and the speed does not depend on where the allocator happened to put a buffer).
        func buffer(_ count: Int) -> UnsafeMutablePointer<Double> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Double>.stride, alignment: 64)
            let p = raw.bindMemory(to: Double.self, capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            owned.append(raw)
            return p
        }
        let k = DelayCoupling.blockLength
        self.history = history.buffer
        longAcc = buffer(sums * local * k)
        chunkSums = buffer(sums * DelayCoupling.chunkLength * padded)
        // Bands of about 24 KiB of history windows each, when the K-step sums of every local
        // node (local x 128 bytes) stay in L1 too and at most 8 bands do (more reload the sums
        // too often: slower at 3 m/s, measured); otherwise bands of about 512 KiB, which stay
        // in L2 while every target passes over them (N = 1000 dense at 5 m/s, 6 bands: 160-190
        // ns per node-step against 205-225 with one, in alternating runs; 2 to 22 bands alike).
        let window = (coupling.maxDelay + k) * MemoryLayout<Double>.stride, regions = spec.connectome.regionCount
        let wanted = max(1, regions * window / (24 << 10))
        let l2Wanted = max(1, regions * window / (512 << 10))
        let bands = nodes.count * k * MemoryLayout<Double>.stride <= 16 << 10 && wanted <= 8 ? min(regions, wanted) : min(regions, l2Wanted)
        bandCount = bands
        // A target's edges are in source order, so each band starts where the previous one stopped.
        var bandEdges: [Int] = []
        for i in nodes {
            var e = coupling.longStart[i]
            for b in 0..<bands {
                let firstSource = b * regions / bands
                while e < coupling.longStart[i + 1] && coupling.source(ofOffset: coupling.longOffset[e]).node < firstSource { e += 1 }
                bandEdges.append(e)
            }
            bandEdges.append(coupling.longStart[i + 1])
        }
        longBands = bandEdges
        let first = nodes.lowerBound, shortStart = coupling.shortStart
        shortTargets = nodes.indices.filter { shortStart[$0] < shortStart[$0 + 1] }.map { $0 - first }
        x = buffer(vars * padded); xStage = buffer(vars * padded)
        dx = buffer(vars * padded); dxSum = buffer(vars * padded)
        ou = buffer(vars * padded); observables = buffer(observableCount * padded)
        nodeParameters = buffer(nodeParameterCount * padded)
        noise = buffer(k * vars * padded)
        held = buffer(sums * padded); stageChannels = buffer(2 * padded)
        signal = buffer(padded); zSum = buffer(padded); checkSum = buffer(padded)
        // Linear coupling without zero-delay edges takes the held sums as they are: one buffer.
        cIn = spec.coupling == .linear && coupling.instantEdgeCount == 0 && channels == 1 ? held : buffer(powers * padded)
        firstObservables = buffer(observableCount * padded); localNow = buffer(max(localCount, 1) * padded)
        meanVars = buffer(vars * padded); meanObs = buffer(observableCount * padded)
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

    /// x_v(0) of a node: the spec's, or uniform in the variable's initial range from the seed.
    static func initialValue(_ spec: SimulationSpec<Model>, variable v: Int, node i: Int, generator: CounterNoise) -> Double {
        let range = Model.variables[v].initialRange
        return spec.initialState?[v][i]
            ?? range.lowerBound + (range.upperBound - range.lowerBound) * generator.uniform(node: i, step: initialStateCounter, variable: UInt64(v))
    }

    func block(_ p: UnsafeMutablePointer<Double>, _ g: Int) -> LaneBlock { LaneBlock(p + 4 * g, stride: padded) }

    private func reset() {
        let generator = CounterNoise(seed: spec.seed)
        for v in 0..<vars {
            for i in 0..<padded {
                x[v * padded + i] = i >= local ? 0 : NodeBlockIntegrator.initialValue(spec, variable: v, node: lo + i, generator: generator)
                ou[v * padded + i] = spec.noise.kind == .ou && Model.noiseVariables.contains(v) && i < local ? spec.noise.mean : 0
            }
        }
        for p in 0..<Model.nodeParameterNames.count {
            for i in 0..<local { nodeParameters[p * padded + i] = spec.nodeParameters[p][lo + i] }
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
        computeSignal(x)
        for ch in 0..<channels {
            for j in 0..<local {
                let value = spec.coupling.pre(signal[j], channel: ch)
                store.row(channel: ch, node: lo + j).update(repeating: value, count: cursor + 1)
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

    /// Long-edge sums for K steps from the block starting at `cursor`, for every
    /// (weight power, history channel): source band by source band (the windows of a band's
    /// rows stay in L1, or in L2 for large networks, for every target), each target's sum one
    /// chain of fused multiply-adds in ascending edge order whatever the bands. Two targets'
    /// chains advance together, so the multiply-adds of different targets overlap instead of
    /// waiting on one another; the order within each chain, and so the bits, are those of one
    /// target at a time.
    func accumulateLongEdges() {
        let k = DelayCoupling.blockLength, bands = bandCount
        coupling.longOffset.withUnsafeBufferPointer { off in
        longBands.withUnsafeBufferPointer { band in
            for p in 0..<powers {
                coupling.longWeights[p].withUnsafeBufferPointer { w in
                    for ch in 0..<channels {
                        let base = UnsafeRawPointer(history + ch * n * rowLength + cursor)
                        let acc = longAcc + (p * channels + ch) * local * k
                        for b in 0..<bands {
                            var li = 0
                            while li + 2 <= local {
                                LongEdgeSums.two(targets: li, band: b, bands: bands, edges: band, offsets: off, weights: w,
                                                  window: base, sums: acc, continuing: b > 0)
                                li += 2
                            }
                            if li < local {
                                LongEdgeSums.one(target: li, band: b, bands: bands, edges: band, offsets: off, weights: w,
                                                 window: base, sums: acc, continuing: b > 0)
                            }
                        }
                    }
                }
            }
        } }
    }

    /// Long + medium sums for the L steps of the chunk starting at block step s (cursor at
    /// that step): medium edges read h_j(t_s + r - d) for r < L <= d, all in the past.
    @inline(never)
    func accumulateChunk(step s: Int) {
        let k = DelayCoupling.blockLength, chunk = DelayCoupling.chunkLength
        coupling.mediumStart.withUnsafeBufferPointer { start in
        coupling.mediumOffset.withUnsafeBufferPointer { off in
            for p in 0..<powers {
                coupling.mediumWeights[p].withUnsafeBufferPointer { w in
                    for ch in 0..<channels {
                        let now = UnsafeRawPointer(history + ch * n * rowLength + cursor)
                        let sum = p * channels + ch
                        let out = chunkSums + sum * chunk * padded
                        @inline(__always) func add(_ e: Int, _ m: inout SIMD4<Double>) {
                            m.addProduct(SIMD4(repeating: w[e]), (now + Int(off[e]) * MemoryLayout<Double>.stride).loadUnaligned(as: SIMD4<Double>.self))
                        }
                        @inline(__always) func finish(_ li: Int, _ m: SIMD4<Double>) {
                            let total = UnsafeRawPointer(longAcc + (sum * local + li) * k + s).loadUnaligned(as: SIMD4<Double>.self) + m
                            for r in 0..<chunk { out[r * padded + li] = total[r] }
                        }
                        // Two targets' chains in step (each still in ascending edge order).
                        var li = 0
                        while li + 2 <= local {
                            let i = lo + li
                            let r0 = start[i]..<start[i + 1], r1 = start[i + 1]..<start[i + 2]
                            let common = min(r0.count, r1.count)
                            var m0 = SIMD4<Double>(), m1 = SIMD4<Double>()
                            for t in 0..<common { add(r0.lowerBound + t, &m0); add(r1.lowerBound + t, &m1) }
                            for e in (r0.lowerBound + common)..<r0.upperBound { add(e, &m0) }
                            for e in (r1.lowerBound + common)..<r1.upperBound { add(e, &m1) }
                            finish(li, m0); finish(li + 1, m1)
                            li += 2
                        }
                        if li < local {
                            var m = SIMD4<Double>()
                            for e in start[lo + li]..<start[lo + li + 1] { add(e, &m) }
                            finish(li, m)
                        }
                    }
                }
            }
        } }
    }

    /// Sums of delayed edges at block step s, held over the step: the chunk's long + medium
    /// sums, plus the short edges of the nodes that have them.
    @inline(never)
    func holdDelayedSums(step s: Int) {
        let chunk = DelayCoupling.chunkLength
        if s % chunk == 0 { accumulateChunk(step: s) }
        let r = s % chunk
        for sum in 0..<sums { (held + sum * padded).update(from: chunkSums + (sum * chunk + r) * padded, count: padded) }
        guard !shortTargets.isEmpty else { return }
        coupling.shortStart.withUnsafeBufferPointer { start in
        coupling.shortOffset.withUnsafeBufferPointer { off in
        shortTargets.withUnsafeBufferPointer { targets in
            for p in 0..<powers {
                coupling.shortWeights[p].withUnsafeBufferPointer { w in
                    for ch in 0..<channels {
                        let now = history + ch * n * rowLength + cursor
                        let sum = p * channels + ch
                        for li in targets {
                            let i = lo + li
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
                            held[sum * padded + li] += even + odd
                        }
                    }
                }
            }
        } } }
    }

    /// The network inputs c_i (one per weight power) for a stage state: held delayed sums
    /// plus zero-delay edges at the stage state, through the coupling's post step.
    @inline(__always)
    func computeCoupling(_ state: UnsafeMutablePointer<Double>) {
        let kind = spec.coupling
        let instant = coupling.instantEdgeCount > 0
        if kind == .linear && !instant {
            if cIn != held { cIn.update(from: held, count: powers * padded) }
            return
        }
        computeSignal(state)
        if instant {
            for ch in 0..<channels {
                for j in 0..<local { stageChannels[ch * padded + j] = kind.pre(signal[j], channel: ch) }
            }
        }
        coupling.instantStart.withUnsafeBufferPointer { start in
        coupling.instantSource.withUnsafeBufferPointer { src in
            for p in 0..<powers {
                coupling.instantWeights[p].withUnsafeBufferPointer { w in
                coupling.rowSums[p].withUnsafeBufferPointer { rowSum in
                    let base = p * channels
                    for li in 0..<local {
                        let i = lo + li
                        var s0 = held[base * padded + li], s1 = channels > 1 ? held[(base + 1) * padded + li] : 0
                        if instant {
                            var z0 = 0.0, z1 = 0.0
                            for e in start[i]..<start[i + 1] {
                                let j = Int(src[e]) - lo     // zero-delay sources lie in the block
                                z0 = z0.addingProduct(w[e], stageChannels[j])
                                if channels > 1 { z1 = z1.addingProduct(w[e], stageChannels[padded + j]) }
                            }
                            s0 += z0; s1 += z1
                        }
                        cIn[p * padded + li] = kind.post(sum0: s0, sum1: s1, local: signal[li], rowSum: rowSum[i])
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

    // Per-run constants and observers (set by `begin`).
    var total = 0, substeps = 1, transientSteps = 0, stepsPerTR = 1, sampleCount = 0
    var noisy = false, whiteScale = 0.0, ouScale = 0.0, ouDecay = 0.0, hBold = 0.0
    var boldFromVariable: Int?, boldObservable = 0
    var bold = Matrix(rows: 0, columns: 0)
    var meanCount = 0
    var statePeriodSteps: Int?, stateSamples = 0
    var states: [Double]?, stateAcc: [Double] = []
    var stateCount = 0, stateIndex = 0, substep = 0, recorded = 0
    var generator = CounterNoise(seed: 0)

    /// Resets the block's state and observers and writes its rows of the initial history.
    func begin() throws {
        if Model.coupledObservable != nil && coupling.instantEdgeCount > 0 {
            throw WholeBrainError.badValue(source: "--speed", value: "\(spec.conductionSpeed)",
                                           expected: "a speed at which every connection has a delay of at least one step: \(Model.name) exchanges a quantity computed during the step")
        }
        reset()
        total = spec.totalSteps
        substeps = spec.boldSubsteps
        transientSteps = spec.transientSteps
        stepsPerTR = spec.stepsPerTR
        sampleCount = spec.sampleCount
        let dt = spec.dt
        noisy = !spec.noise.isSilent && spec.noise.sigma != 0
        whiteScale = spec.noise.kind == .white ? spec.noise.sigma * dt.squareRoot() : 0
        ouScale = spec.noise.kind == .ou ? spec.noise.sigma * dt.squareRoot() : 0
        ouDecay = dt / spec.noise.tau
        hBold = Double(substeps) * dt / 1000       // haemodynamic step in seconds
        bold = Matrix(rows: spec.recordBold ? sampleCount : 0, columns: local)
        meanVars.update(repeating: 0, count: vars * padded)
        meanObs.update(repeating: 0, count: observableCount * padded)
        meanCount = 0
        statePeriodSteps = spec.statePeriod.map { Int(($0 / dt).rounded()) }
        stateSamples = statePeriodSteps.map { (total - transientSteps) / $0 } ?? 0
        states = statePeriodSteps == nil ? nil : [Double](repeating: 0, count: stateSamples * vars * local)
        stateAcc = [Double](repeating: 0, count: vars * local)
        stateCount = 0; stateIndex = 0; substep = 0; recorded = 0
        generator = CounterNoise(seed: spec.seed)
        if case let .variable(v) = spec.boldInput { boldFromVariable = v } else { boldFromVariable = nil }
        if case let .observable(o) = spec.boldInput { boldObservable = o } else { boldObservable = 0 }
        rwwKernel = nil
        if vectorKernels, CounterNoise.hasVectorKernel, spec.integrator == .euler, let m = model as? ReducedWongWang,
           boldFromVariable == 0 || (boldFromVariable == nil && boldObservable == 0) {
            let p = m.parameters
            rwwKernel = wb_rww_constants(excitatory_drive: m.excitatoryDrive, recurrence: m.recurrence, inhibitory_drive: m.inhibitoryDrive,
                                         w_e: p.wE, i_ext: p.iExt, global_gain: m.globalGain, w_i: p.wI, j_nmda: p.jNMDA, a_e: p.aE, b_e: p.bE, d_e: p.dE,
                                         a_i: p.aI, b_i: p.bI, d_i: p.dI, gamma_e: p.gammaE, gamma_i: p.gammaI,
                                         inv_tau_e: m.invTauE, inv_tau_i: m.invTauI)
            kernelBoldFromRate = boldFromVariable == nil ? 1 : 0
            rwwUniform = spec.nodeParameters[1][lo..<(lo + local)].allSatisfy { $0 == p.wPlus } && spec.nodeParameters[2][lo..<(lo + local)].allSatisfy { $0 == p.i0 }
        }
    }

    /// Long-delay sums and normal numbers for the K-step block starting at `step`.
    func beginBlock(step: Int, steps: Int) {
        accumulateLongEdges()
        if noisy { generateNoise(firstStep: step, steps: steps, generator: generator) }
    }

    /// Integration step `step` (block step s): state at t_step to t_step+1, this block's history
    /// rows written at cursor + 1, observers fed. The caller advances the shared cursor.
    func advance(s: Int, step: Int) throws {
        let dt = spec.dt
        let count = vars * padded
        holdDelayedSums(step: s)
        if localCount > 0 { loadLocalDelays(step: step) }
        let xi = noise + s * vars * padded
        switch spec.integrator {
        case .euler:
            eulerStep(noise: xi, scale: whiteScale, boldVariable: boldFromVariable, boldObservable: boldObservable,
                      recording: step + 1 > transientSteps)
        case .heun:
            evaluateDrift(x, into: dx, firstStage: true)
            for q in 0..<count { xStage[q] = x[q] + dt * dx[q] + whiteScale * xi[q] }
            applyBounds(xStage)
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
        if spec.integrator != .euler {
            // Divergence shows in a running sum; bounds keep NaN (comparisons are false).
            for v in 0..<vars { for i in 0..<local { checkSum[i] += x[v * padded + i] } }
            applyBounds(x)
            computeSignal(x)
            let z = boldFromVariable.map { x + $0 * padded } ?? firstObservables + boldObservable * padded
            for q in 0..<padded { zSum[q] += z[q] }
        }
        if localCount > 0 { storeLocalDelays(step: step) }
        if spec.noise.kind == .ou {
            for v in Model.noiseVariables {
                for i in 0..<local {
                    let q = v * padded + i
                    ou[q] = ou[q] + (spec.noise.mean - ou[q]) * ouDecay + ouScale * xi[q]
                }
            }
        }
        // History: the new state's coupled signal, in every channel, in this block's rows.
        for ch in 0..<channels {
            let next = history + (ch * n + lo) * rowLength + cursor + 1
            if spec.coupling == .sine {
                for j in 0..<local { next[j * rowLength] = spec.coupling.pre(signal[j], channel: ch) }
            } else {
                for j in 0..<local { next[j * rowLength] = signal[j] }
            }
        }
        try observe(stepsDone: step + 1)
    }

    /// Temporal averages, means and BOLD after a step.
    @inline(__always)
    func observe(stepsDone: Int) throws {
        let recording = stepsDone > transientSteps
        if let period = statePeriodSteps, recording {
            for v in 0..<vars { for i in 0..<local { stateAcc[v * local + i] += x[v * padded + i] } }
            stateCount += 1
            if stateCount == period, stateIndex < stateSamples {
                let base = stateIndex * vars * local
                for q in 0..<(vars * local) { states![base + q] = stateAcc[q] / Double(period); stateAcc[q] = 0 }
                stateCount = 0; stateIndex += 1
            }
        }
        if recording {
            // Temporal means over every recorded step (the kernel step adds them itself).
            if rwwKernel == nil {
                for q in 0..<(vars * padded) { meanVars[q] += x[q] }
                for q in 0..<(observableCount * padded) { meanObs[q] += firstObservables[q] }
            }
            meanCount += 1
        }
        substep += 1
        guard substep == substeps else { return }
        substep = 0
        let inv = 1 / Double(substeps)
        for g in 0..<groups where spec.recordBold {
            let o = 4 * g
            let zMean = UnsafeRawPointer(zSum + o).loadUnaligned(as: Lanes.self) * inv
            UnsafeMutableRawPointer(zSum + o).storeBytes(of: Lanes(), as: Lanes.self)
            spec.balloon.rk4Step(&balloonState[g], z: zMean, h: hBold)
        }
        guard recording else { return }
        if spec.recordBold, (stepsDone - transientSteps) % stepsPerTR == 0, recorded < sampleCount {
            for g in 0..<groups {
                let y = spec.balloon.bold(balloonState[g])
                for l in 0..<4 where 4 * g + l < local {
                    guard y[l].isFinite else {
                        throw WholeBrainError.diverged(timeMs: Double(stepsDone) * spec.dt, node: lo + 4 * g + l, variable: "BOLD")
                    }
                    bold[recorded, 4 * g + l] = y[l]
                }
            }
            recorded += 1
        }
    }

    /// Any NaN or infinity in the block so far shows in the running sums.
    func checkBlock(stepsDone: Int) throws {
        for i in 0..<local where !checkSum[i].isFinite {
            let v = (0..<vars).first { !x[$0 * padded + i].isFinite } ?? 0
            throw WholeBrainError.diverged(timeMs: Double(stepsDone) * spec.dt, node: lo + i, variable: Model.variables[v].name)
        }
    }

    /// Mean of variable v (or observable, with `observable`) at local node i.
    func mean(variable v: Int, node i: Int) -> Double { meanVars[v * padded + i] / Double(max(meanCount, 1)) }
    func mean(observable o: Int, node i: Int) -> Double { meanObs[o * padded + i] / Double(max(meanCount, 1)) }

    /// The block's normal numbers: noise[s][v][node].
    @inline(never)
    func generateNoise(firstStep: Int, steps: Int, generator: CounterNoise) {
        for v in Model.noiseVariables {
            generator.normals(nodes: lo..<(lo + local), firstStep: UInt64(firstStep), variable: UInt64(v), steps: steps,
                              into: noise + v * padded, stepStride: vars * padded)
        }
    }

    /// One Euler-Maruyama step in one fused pass per group: coupling, drift, update,
    /// divergence sum, bounds, BOLD input and the coupled signal for the history.
    @inline(never)
    func eulerStep(noise xi: UnsafeMutablePointer<Double>, scale: Double, boldVariable: Int?, boldObservable: Int, recording: Bool) {
        computeCoupling(x)
        let dt = spec.dt
        if var constants = rwwKernel {
            wb_rww_euler(&constants, padded, dt, scale, x, x + padded, cIn, nodeParameters, rwwUniform ? nil : nodeParameters + padded,
                         rwwUniform ? nil : nodeParameters + 2 * padded, ou, ou + padded, xi, xi + padded,
                         firstObservables, firstObservables + padded, checkSum, zSum, kernelBoldFromRate, signal,
                         recording ? meanVars : nil, recording ? meanObs : nil)
            return
        }
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
    /// Keeps every variable inside its bounds, with the lane bounds the Euler pass uses (NaN
    /// stays NaN: both comparisons are false).
    func applyBounds(_ state: UnsafeMutablePointer<Double>) {
        lowerBounds.withUnsafeBufferPointer { lower in
        upperBounds.withUnsafeBufferPointer { upper in
            for g in 0..<groups {
                let xs = block(state, g)
                for v in 0..<vars {
                    var value = xs[v]
                    value.replace(with: lower[v], where: value .< lower[v])
                    value.replace(with: upper[v], where: value .> upper[v])
                    xs[v] = value
                }
            }
        } }
    }
}
