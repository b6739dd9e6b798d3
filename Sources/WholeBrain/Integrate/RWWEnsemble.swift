import Foundation

/// Up to four reduced Wong-Wang simulations of one connectome integrated together, one per
/// SIMD lane: the points of a sweep that differ only in model parameters (G, w_plus, J_i, ...,
/// per-node J_i), noise amplitude and seed. Each edge's delayed sum then serves four points
/// with one vector load and fused multiply-add, and the drift, bounds and Balloon-Windkessel
/// steps run on four points at once.
///
/// Every lane does exactly the arithmetic of `NetworkSimulator` for its own spec (the same
/// long/short edge split and summation order, fused multiply-adds where the engine uses them,
/// the same drift, Euler-Maruyama update, bounds, BOLD steps and means), so each point's
/// result is the same bits as its own run (checked by the tests). Supported: Euler-Maruyama,
/// white noise (or none), linear coupling, BOLD from S_E, no zero-delay connections, no state
/// samples; `incompatibility` says why a set of specs does not qualify (nil when it does).
public enum RWWEnsemble {
    public typealias Lanes = VectorMath.Lanes

    /// Whether four points as lanes beat four runs one at a time on this CPU. Not where the
    /// single run has its AVX-512 kernels (the Euler step and the normals, eight nodes per
    /// vector): `make bench` there gave 0.98x the throughput with one seed and 0.84x with four.
    public static let pays = !CounterNoise.hasVectorKernel

    /// nil when the specs can share lanes, else why not.
    public static func incompatibility(_ specs: [SimulationSpec<ReducedWongWang>]) -> String? {
        guard let first = specs.first else { return "no points" }
        guard specs.count <= 4 else { return "more than four points" }
        for s in specs {
            if s.integrator != .euler { return "integrator \(s.integrator.rawValue) (Euler only)" }
            if s.noise.kind == .ou { return "OU noise" }
            if s.coupling != .linear { return "coupling \(s.coupling.rawValue)" }
            if s.statePeriod != nil { return "state samples" }
            if s.initialState != nil { return "given initial states" }
            if case .variable(0) = s.boldInput {} else { return "BOLD input other than S_E" }
            if s.connectome.weights != first.connectome.weights || s.connectome.lengths != first.connectome.lengths {
                return "different connectomes"
            }
            if s.dt != first.dt || s.duration != first.duration || s.transient != first.transient || s.tr != first.tr
                || s.conductionSpeed != first.conductionSpeed || s.recordBold != first.recordBold || s.balloon != first.balloon {
                return "different time grids, speeds or observers"
            }
        }
        let c = first.connectome
        for i in 0..<c.regionCount {
            for j in 0..<c.regionCount where c.weights[i, j] != 0
                && DelayCoupling.delaySteps(length: c.lengths[i, j], speed: first.conductionSpeed, dt: first.dt) == 0 {
                return "zero-delay connections (node \(i) from node \(j))"
            }
        }
        return nil
    }

    /// Runs the specs (one to four) together; result k is spec k's, as `NetworkSimulator` gives it.
    public static func run(_ specs: [SimulationSpec<ReducedWongWang>]) throws -> [SimulationResult] {
        if let reason = incompatibility(specs) {
            throw WholeBrainError.badValue(source: "ensemble", value: reason, expected: "points that differ only in parameters, noise amplitude and seed")
        }
        let coupling = DelayCoupling(connectome: specs[0].connectome, dt: specs[0].dt, speed: specs[0].conductionSpeed)
        let integrator = Integrator(specs: specs, coupling: coupling)
        return try integrator.run()
    }

    /// The lanes' state and buffers, allocated once.
    final class Integrator {
        let specs: [SimulationSpec<ReducedWongWang>]
        let lanes: Int, n: Int, k = DelayCoupling.blockLength
        let coupling: DelayCoupling
        let rowLength: Int, maxDelay: Int
        /// [node][time][lane], rows of rowLength * 4.
        let history: UnsafeMutablePointer<Double>
        /// [node][K][lane] long-edge sums of the current block; [K][variable][node][lane] normals.
        let longAcc: UnsafeMutablePointer<Double>, noise: UnsafeMutablePointer<Double>
        /// [node][L][lane] long + medium sums of the current chunk.
        let chunkSums: UnsafeMutablePointer<Double>
        var cursor: Int
        /// Where each edge reads, in doubles from `history` at cursor 0: (j rowLength - d) 4.
        let longRead: [Int], mediumRead: [Int], shortRead: [Int]

        init(specs: [SimulationSpec<ReducedWongWang>], coupling: DelayCoupling) {
            // Lanes past the last spec repeat it (their results are dropped).
            self.specs = (0..<4).map { specs[min($0, specs.count - 1)] }
            lanes = specs.count
            n = specs[0].connectome.regionCount
            self.coupling = coupling
            rowLength = coupling.rowLength
            maxDelay = coupling.maxDelay
            history = .allocate(capacity: max(n * rowLength * 4, 4))
            history.initialize(repeating: 0, count: max(n * rowLength * 4, 4))
            longAcc = .allocate(capacity: n * k * 4)
            longAcc.initialize(repeating: 0, count: n * k * 4)
            noise = .allocate(capacity: k * 2 * n * 4)
            noise.initialize(repeating: 0, count: k * 2 * n * 4)
            chunkSums = .allocate(capacity: n * DelayCoupling.chunkLength * 4)
            chunkSums.initialize(repeating: 0, count: n * DelayCoupling.chunkLength * 4)
            cursor = maxDelay
            let rowLength = coupling.rowLength
            func read(_ offset: Int32) -> Int {
                // The engine's offset j rowLength - d (row j, d steps back), four lanes per step.
                let (j, d) = coupling.source(ofOffset: offset)
                return (j * rowLength - d) * 4
            }
            longRead = coupling.longOffset.map(read)
            mediumRead = coupling.mediumOffset.map(read)
            shortRead = coupling.shortOffset.map(read)
        }

        deinit { history.deallocate(); longAcc.deallocate(); noise.deallocate(); chunkSums.deallocate() }

        func perLane(_ f: (SimulationSpec<ReducedWongWang>) -> Double) -> Lanes {
            Lanes(f(specs[0]), f(specs[1]), f(specs[2]), f(specs[3]))
        }

        @inline(__always) func load(_ p: UnsafeMutablePointer<Double>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        @inline(__always) func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

        /// The last maxDelay + 1 values of every row move to its start when a block would run past its end.
        func ensureRoom() {
            guard cursor + k >= rowLength else { return }
            let keep = maxDelay + 1
            for j in 0..<n {
                let row = history + j * rowLength * 4
                row.update(from: row + (cursor - keep + 1) * 4, count: keep * 4)
            }
            cursor = keep - 1
        }

        /// Long-edge sums for the K steps of a block (the engine's order: ascending edges,
        /// fused multiply-add, from zero).
        func accumulateLongEdges() {
            let start = coupling.longStart, w = coupling.longWeights[0]
            let now = history + cursor * 4
            longRead.withUnsafeBufferPointer { read in
            for i in 0..<n {
                for half in 0..<2 {
                    var a0 = SIMD8<Double>(), a1 = SIMD8<Double>(), a2 = SIMD8<Double>(), a3 = SIMD8<Double>()
                    for e in start[i]..<start[i + 1] {
                        // Row j at time cursor - d (+ 8 for the second half), lanes interleaved.
                        let q = UnsafeRawPointer(now + read[e] + 32 * half)
                        let we = SIMD8<Double>(repeating: w[e])
                        a0.addProduct(we, q.loadUnaligned(as: SIMD8<Double>.self))
                        a1.addProduct(we, q.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self))
                        a2.addProduct(we, q.loadUnaligned(fromByteOffset: 128, as: SIMD8<Double>.self))
                        a3.addProduct(we, q.loadUnaligned(fromByteOffset: 192, as: SIMD8<Double>.self))
                    }
                    let out = UnsafeMutableRawPointer(longAcc + (i * k + 8 * half) * 4)
                    out.storeBytes(of: a0, as: SIMD8<Double>.self)
                    out.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
                    out.storeBytes(of: a2, toByteOffset: 128, as: SIMD8<Double>.self)
                    out.storeBytes(of: a3, toByteOffset: 192, as: SIMD8<Double>.self)
                }
            }
            }
        }

        /// Long + medium sums for the L steps of the chunk starting at block step s (the
        /// engine's order: medium edges ascending, fused multiply-add from zero, then long + medium).
        func accumulateChunk(step s: Int) {
            let start = coupling.mediumStart, w = coupling.mediumWeights[0], chunk = DelayCoupling.chunkLength
            let now = history + cursor * 4
            mediumRead.withUnsafeBufferPointer { read in
                for i in 0..<n {
                    var m0 = Lanes(), m1 = Lanes(), m2 = Lanes(), m3 = Lanes()
                    for e in start[i]..<start[i + 1] {
                        let q = now + read[e], we = Lanes(repeating: w[e])
                        m0.addProduct(we, load(q)); m1.addProduct(we, load(q + 4))
                        m2.addProduct(we, load(q + 8)); m3.addProduct(we, load(q + 12))
                    }
                    let long = longAcc + (i * k + s) * 4, out = chunkSums + i * chunk * 4
                    store(load(long) + m0, out); store(load(long + 4) + m1, out + 4)
                    store(load(long + 8) + m2, out + 8); store(load(long + 12) + m3, out + 12)
                }
            }
        }

        /// The block's normal numbers, each lane from its own seed (computed once when the
        /// seeds agree).
        func generateNoise(firstStep: Int, steps: Int, generators: [CounterNoise], noisy: [Bool]) {
            let shared = generators.allSatisfy { $0.seed == generators[0].seed } && !noisy.contains(false)
            let stride = 2 * n * 4     // noise[s][v][node][lane]
            for v in 0..<2 {
                let at = noise + v * n * 4
                for l in 0..<(shared ? 1 : 4) {
                    if noisy[l] {
                        generators[l].normals(nodes: 0..<n, firstStep: UInt64(firstStep), variable: UInt64(v), steps: steps,
                                              into: at + l, stepStride: stride, nodeStride: 4)
                    } else {
                        for s in 0..<steps { for i in 0..<n { at[s * stride + i * 4 + l] = 0 } }
                    }
                }
                if shared {
                    for s in 0..<steps { for i in 0..<n { store(Lanes(repeating: at[s * stride + i * 4]), at + s * stride + i * 4) } }
                }
            }
        }

        func run() throws -> [SimulationResult] {
            let start = DispatchTime.now().uptimeNanoseconds
            let first = specs[0], dt = first.dt
            let p = specs.map(\.model.parameters)
            func param(_ f: (ReducedWongWang.Parameters) -> Double) -> Lanes { Lanes(f(p[0]), f(p[1]), f(p[2]), f(p[3])) }
            // The model's combinations, per lane, computed as `ReducedWongWang.init` and `terms` do
            // (w_+ and I_0 per node).
            let models = specs.map(\.model)
            let globalGain = Lanes(models[0].globalGain, models[1].globalGain, models[2].globalGain, models[3].globalGain)
            let recurrence = (0..<n).map { i in perLane { $0.nodeParameters[1][i] * $0.model.parameters.jNMDA } }
            let excitatoryDrive = (0..<n).map { i in perLane { $0.model.parameters.wE * $0.nodeParameters[2][i] + $0.model.parameters.iExt } }
            let inhibitoryDrive = (0..<n).map { i in perLane { $0.model.parameters.wI * $0.nodeParameters[2][i] } }
            let invTauE = Lanes(models[0].invTauE, models[1].invTauE, models[2].invTauE, models[3].invTauE)
            let invTauI = Lanes(models[0].invTauI, models[1].invTauI, models[2].invTauI, models[3].invTauI)
            let jNMDA = param(\.jNMDA), gammaE = param(\.gammaE), gammaI = param(\.gammaI)
            let aE = param(\.aE), bE = param(\.bE), dE = param(\.dE), aI = param(\.aI), bI = param(\.bI), dI = param(\.dI)
            let jI = (0..<n).map { i in perLane { $0.nodeParameters[0][i] } }
            let noisy = specs.map { !$0.noise.isSilent && $0.noise.sigma != 0 }
            let scale = perLane { $0.noise.kind == .white ? $0.noise.sigma * $0.dt.squareRoot() : 0 }
            let generators = specs.map { CounterNoise(seed: $0.seed) }
            // State [variable][node] lanes; initial state as the engine draws it.
            var x = [Lanes](repeating: Lanes(), count: 2 * n)
            for v in 0..<2 {
                let range = ReducedWongWang.variables[v].initialRange
                for i in 0..<n {
                    x[v * n + i] = Lanes((0..<4).map { l in
                        range.lowerBound + (range.upperBound - range.lowerBound)
                            * generators[l].uniform(node: i, step: NodeBlockIntegrator<ReducedWongWang>.initialStateCounter, variable: UInt64(v))
                    })
                }
            }
            cursor = maxDelay
            for j in 0..<n { for t in 0...cursor { store(x[j], history + (j * rowLength + t) * 4) } }
            let total = first.totalSteps, substeps = first.boldSubsteps, transientSteps = first.transientSteps
            let stepsPerTR = first.stepsPerTR, sampleCount = first.sampleCount
            let hBold = Double(substeps) * dt / 1000, inv = 1 / Double(substeps)
            let balloon = first.balloon
            var balloonState = [BalloonWindkessel.State](repeating: .init(), count: n)
            var zSum = [Lanes](repeating: Lanes(), count: n), checkSum = zSum
            var meanVars = [Lanes](repeating: Lanes(), count: 2 * n), meanObs = meanVars
            var rates = [Lanes](repeating: Lanes(), count: 2 * n)
            var meanCount = 0, recorded = 0, substep = 0
            var bold = [Matrix](repeating: Matrix(rows: first.recordBold ? sampleCount : 0, columns: n), count: 4)
            let zero = Lanes(), lower = Lanes(repeating: 0), upper = Lanes(repeating: 1)
            let shortStart = coupling.shortStart, shortWeight = coupling.shortWeights[0], chunk = DelayCoupling.chunkLength
            var step = 0
            while step < total {
                ensureRoom()
                let steps = min(k, total - step)
                accumulateLongEdges()
                if noisy.contains(true) { generateNoise(firstStep: step, steps: steps, generators: generators, noisy: noisy) }
                for s in 0..<steps {
                    let now = history + cursor * 4
                    if s % chunk == 0 { accumulateChunk(step: s) }
                    let r = s % chunk
                    for i in 0..<n {
                        // Held delayed sum: long + medium, + (even + odd) if the node has short edges, as the engine.
                        var c = load(chunkSums + (i * chunk + r) * 4)
                        var e = shortStart[i]
                        let end = shortStart[i + 1]
                        if e < end {
                            var even = zero, odd = zero
                            while e + 1 < end {
                                even.addProduct(Lanes(repeating: shortWeight[e]), load(now + shortRead[e]))
                                odd.addProduct(Lanes(repeating: shortWeight[e + 1]), load(now + shortRead[e + 1]))
                                e += 2
                            }
                            if e < end { even.addProduct(Lanes(repeating: shortWeight[e]), load(now + shortRead[e])) }
                            c += even + odd
                        }
                        // The drift (ReducedWongWang.drift, lane for lane).
                        let e0 = x[i], i0 = x[n + i]
                        let xE = excitatoryDrive[i] + recurrence[i] * e0 + globalGain * c - jI[i] * i0
                        let xI = inhibitoryDrive[i] + jNMDA * e0 - i0
                        let rE = ReducedWongWang.transfer(xE, a: aE, b: bE, d: dE)
                        let rI = ReducedWongWang.transfer(xI, a: aI, b: bI, d: dI)
                        let dSE = ((1 - e0) * (gammaE * rE) - e0 * invTauE) + zero
                        let dSI = (gammaI * rI - i0 * invTauI) + zero
                        rates[i] = rE; rates[n + i] = rI
                        var nextE = e0 + dt * dSE + scale * load(noise + ((s * 2) * n + i) * 4)
                        var nextI = i0 + dt * dSI + scale * load(noise + ((s * 2 + 1) * n + i) * 4)
                        var check = checkSum[i]
                        check += nextE
                        nextE.replace(with: lower, where: nextE .< lower)
                        nextE.replace(with: upper, where: nextE .> upper)
                        check += nextI
                        nextI.replace(with: lower, where: nextI .< lower)
                        nextI.replace(with: upper, where: nextI .> upper)
                        checkSum[i] = check
                        x[i] = nextE; x[n + i] = nextI
                        zSum[i] += nextE
                    }
                    for j in 0..<n { store(x[j], history + (j * rowLength + cursor + 1) * 4) }
                    cursor += 1
                    step += 1
                    // Observers, as `NodeBlockIntegrator.observe`.
                    if step > transientSteps {
                        for q in 0..<(2 * n) { meanVars[q] += x[q]; meanObs[q] += rates[q] }
                        meanCount += 1
                    }
                    substep += 1
                    if substep == substeps {
                        substep = 0
                        for i in 0..<n {
                            let zMean = zSum[i] * inv
                            zSum[i] = Lanes()
                            balloon.rk4Step(&balloonState[i], z: zMean, h: hBold)
                        }
                        if step > transientSteps {
                            if first.recordBold, (step - transientSteps) % stepsPerTR == 0, recorded < sampleCount {
                                for i in 0..<n {
                                    let y = balloon.bold(balloonState[i])
                                    for l in 0..<4 {
                                        guard y[l].isFinite else {
                                            throw WholeBrainError.diverged(timeMs: Double(step) * dt, node: i, variable: "BOLD")
                                        }
                                        bold[l][recorded, i] = y[l]
                                    }
                                }
                                recorded += 1
                            }
                        }
                    }
                }
                for i in 0..<n {
                    for l in 0..<lanes where !checkSum[i][l].isFinite {
                        let variable = x[i][l].isFinite ? "S_I" : "S_E"
                        throw WholeBrainError.diverged(timeMs: Double(step) * dt, node: i, variable: variable)
                    }
                }
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let count = Double(max(meanCount, 1))
            return (0..<lanes).map { l in
                SimulationResult(bold: bold[l], states: nil, stateSampleCount: 0,
                                 meanVariables: (0..<2).map { v in (0..<n).map { meanVars[v * n + $0][l] / count } },
                                 meanObservables: (0..<2).map { o in (0..<n).map { meanObs[o * n + $0][l] / count } },
                                 steps: total, wallSeconds: wall)
            }
        }
    }
}
