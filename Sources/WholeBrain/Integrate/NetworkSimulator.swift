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
/// The nodes are split into contiguous blocks (one by default) that advance in lockstep over
/// one shared delay history: per block of K = `DelayCoupling.blockLength` steps, every node
/// block computes its long-delay sums and normal numbers, then each step every block
/// integrates its nodes and writes its rows of the history, and only then does the shared time
/// cursor move. Every number a node gets depends only on (seed, node, step) and on the
/// history, and every node's coupling sums run over its edges in a fixed order, so the result
/// is the same bits for any split into blocks (checked by the tests); MPI ranks use the same
/// steps with the other blocks' rows arriving by exchange. Zero-delay connections must stay
/// within a block.
public final class NetworkSimulator<Model: NeuralMassModel> {
    public let spec: SimulationSpec<Model>
    public let coupling: DelayCoupling
    let history: DelayHistory
    let blocks: [NodeBlockIntegrator<Model>]

    /// `blocks`: the node ranges to integrate as separate blocks (default: all nodes at once).
    /// `vectorKernels`: use the C kernels where the CPU has them (the same bits; tests compare).
    public init(spec: SimulationSpec<Model>, blocks ranges: [Range<Int>]? = nil, vectorKernels: Bool = true) throws {
        self.spec = spec
        let n = spec.connectome.regionCount
        coupling = DelayCoupling(connectome: spec.connectome, dt: spec.dt, speed: spec.conductionSpeed,
                                 weightPowers: Model.couplingWeightPowers)
        let ranges = ranges ?? [0..<n]
        guard ranges.first?.lowerBound == 0, ranges.last?.upperBound == n,
              zip(ranges, ranges.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound }), ranges.allSatisfy({ !$0.isEmpty }) else {
            throw WholeBrainError.badValue(source: "node blocks", value: "\(ranges)", expected: "contiguous, non-empty ranges covering 0..<\(n)")
        }
        let coupling = self.coupling
        if ranges.count > 1 {
            for r in ranges {
                for i in r {
                    for e in coupling.instantStart[i]..<coupling.instantStart[i + 1] where !r.contains(Int(coupling.instantSource[e])) {
                        throw WholeBrainError.badValue(source: "node blocks", value: "\(ranges)",
                                                       expected: "zero-delay connections within a block (node \(i) receives one from node \(coupling.instantSource[e]))")
                    }
                }
            }
        }
        let history = DelayHistory(channels: spec.coupling.channels, nodes: n, coupling: coupling)
        self.history = history
        blocks = ranges.map { NodeBlockIntegrator(spec: spec, coupling: coupling, history: history, nodes: $0, vectorKernels: vectorKernels) }
    }

    /// Whether the last run stepped the model in a C vector kernel (reduced Wong-Wang with
    /// Euler on an AVX-512 CPU).
    public var ranVectorKernel: Bool { blocks.contains { $0.rwwKernel != nil } }

    /// Runs the whole simulation. `progress` receives the completed fraction now and then.
    public func run(progress: ((Double) -> Void)? = nil) throws -> SimulationResult {
        let start = DispatchTime.now().uptimeNanoseconds
        history.cursor = history.maxDelay
        for b in blocks { try b.begin() }
        let k = DelayCoupling.blockLength
        let total = spec.totalSteps
        var step = 0, lastReport = -1
        while step < total {
            history.ensureRoom(for: k)
            let steps = min(k, total - step)
            for b in blocks { b.beginBlock(step: step, steps: steps) }
            for s in 0..<steps {
                for b in blocks { try b.advance(s: s, step: step) }
                history.cursor += 1
                step += 1
            }
            for b in blocks { try b.checkBlock(stepsDone: step) }
            if let progress {
                let permille = step * 1000 / max(total, 1)
                if permille != lastReport { lastReport = permille; progress(Double(step) / Double(total)) }
            }
        }
        return assemble(wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Runs the simulation split over the ranks of `communicator`: rank r integrates node
    /// block r (there must be one block per rank) and the ranks exchange their blocks' coupled
    /// signals (`allGather`) into the delay history each of them keeps. A value sent at step
    /// t is first read by another block at t + d, d the shortest delay of a short edge between
    /// blocks, so the exchange carries `exchangeInterval` steps at a time (see there; it
    /// always completes before the next chunk or block reads its medium or long delays).
    /// A failure on any rank (divergence) is agreed on every K steps, so all ranks stop with
    /// its message. Every rank returns the whole result, bit-identical to a serial run.
    public func run(communicator: Communicator, progress: ((Double) -> Void)? = nil) throws -> SimulationResult {
        if communicator.size == 1 && blocks.count == 1 { return try run(progress: progress) }
        guard blocks.count == communicator.size else {
            throw WholeBrainError.badValue(source: "node blocks", value: "\(blocks.count)",
                                           expected: "one block per rank (\(communicator.size) ranks)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let mine = blocks[communicator.rank]
        history.cursor = history.maxDelay
        try communicator.collectively { for b in blocks { try b.begin() } }
        let channels = spec.coupling.channels
        let counts = blocks.map { channels * $0.local }
        let k = DelayCoupling.blockLength
        let interval = exchangeInterval
        // Values per rank for an exchange of p steps, made once (no allocation per exchange).
        let countsFor = (0...k).map { p in counts.map { $0 * p } }
        let send = UnsafeMutablePointer<Double>.allocate(capacity: max(counts[communicator.rank] * k, 1))
        let receive = UnsafeMutablePointer<Double>.allocate(capacity: max(counts.reduce(0, +) * k, 1))
        defer { send.deallocate(); receive.deallocate() }
        // Sends the rows of the last `pending` steps (positions cursor - pending + 1 ... cursor).
        func exchange(_ pending: Int) {
            let first = history.cursor - pending + 1
            var q = 0
            for c in 0..<channels {
                for node in mine.lo..<(mine.lo + mine.local) {
                    let row = history.row(channel: c, node: node) + first
                    for t in 0..<pending { send[q] = row[t]; q += 1 }
                }
            }
            communicator.allGather(send, count: counts[communicator.rank] * pending, into: receive, counts: countsFor[pending])
            q = 0
            for b in blocks {
                for c in 0..<channels {
                    for node in b.lo..<(b.lo + b.local) {
                        let row = history.row(channel: c, node: node) + first
                        for t in 0..<pending { row[t] = receive[q]; q += 1 }
                    }
                }
            }
        }
        let total = spec.totalSteps
        var step = 0, lastReport = -1
        while step < total {
            history.ensureRoom(for: k)
            let steps = min(k, total - step)
            mine.beginBlock(step: step, steps: steps)
            var failure: Error?
            var pending = 0
            for s in 0..<steps {
                do { try mine.advance(s: s, step: step) } catch { failure = failure ?? error }
                history.cursor += 1
                step += 1
                pending += 1
                if pending == interval || s == steps - 1 { exchange(pending); pending = 0 }
            }
            do { try mine.checkBlock(stepsDone: step) } catch { failure = failure ?? error }
            try communicator.agree(failure)
            if let progress {
                let permille = step * 1000 / max(total, 1)
                if permille != lastReport { lastReport = permille; progress(Double(step) / Double(total)) }
            }
        }
        return gather(mine: mine, communicator: communicator,
                      wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Steps between exchanges: at most K (long edges, d >= K, are read only at the start of
    /// a K-step block), at most the shortest delay of a short edge (d < L) from one block into
    /// another (read step by step), and a divisor of L if a medium edge (L <= d < K) crosses
    /// blocks (read at the start of every L-step chunk, which then follows an exchange).
    public var exchangeInterval: Int {
        let k = DelayCoupling.blockLength, chunk = DelayCoupling.chunkLength, coupling = self.coupling
        var interval = k, mediumCrosses = false
        for b in blocks {
            let inside = b.lo..<(b.lo + b.local)
            for i in inside {
                for e in coupling.shortStart[i]..<coupling.shortStart[i + 1] {
                    let (j, delay) = coupling.source(ofOffset: coupling.shortOffset[e])
                    if !inside.contains(j) { interval = min(interval, delay) }
                }
                for e in coupling.mediumStart[i]..<coupling.mediumStart[i + 1] where !inside.contains(coupling.source(ofOffset: coupling.mediumOffset[e]).node) {
                    mediumCrosses = true
                }
            }
        }
        interval = max(interval, 1)
        if mediumCrosses { interval = min(interval, chunk); while chunk % interval != 0 { interval -= 1 } }
        return interval
    }

    /// Every block's observers on every rank: each rank packs its block's BOLD, state
    /// samples and means, and `allGather` puts them in block order.
    func gather(mine: NodeBlockIntegrator<Model>, communicator: Communicator, wallSeconds: Double) -> SimulationResult {
        let n = spec.connectome.regionCount, vars = Model.variables.count, observables = Model.observables.count
        let rows = mine.bold.rows, samples = mine.stateSamples, hasStates = mine.states != nil
        func size(_ local: Int) -> Int { local * (rows + (hasStates ? samples * vars : 0) + vars + observables) }
        var packed: [Double] = []
        packed.reserveCapacity(size(mine.local))
        packed += mine.bold.values
        if let s = mine.states { packed += s }
        for v in 0..<vars { for i in 0..<mine.local { packed.append(mine.mean(variable: v, node: i)) } }
        for o in 0..<observables { for i in 0..<mine.local { packed.append(mine.mean(observable: o, node: i)) } }
        let all = communicator.allGather(packed, counts: blocks.map { size($0.local) })
        var bold = Matrix(rows: rows, columns: n)
        var states: [Double]? = hasStates ? [Double](repeating: 0, count: samples * vars * n) : nil
        var meanVariables = [[Double]](repeating: [Double](repeating: 0, count: n), count: vars)
        var meanObservables = [[Double]](repeating: [Double](repeating: 0, count: n), count: observables)
        var q = 0
        for b in blocks {
            let local = b.local
            for r in 0..<rows { for i in 0..<local { bold[r, b.lo + i] = all[q]; q += 1 } }
            if hasStates {
                for sample in 0..<samples { for v in 0..<vars { for i in 0..<local {
                    states![(sample * vars + v) * n + b.lo + i] = all[q]; q += 1
                } } }
            }
            for v in 0..<vars { for i in 0..<local { meanVariables[v][b.lo + i] = all[q]; q += 1 } }
            for o in 0..<observables { for i in 0..<local { meanObservables[o][b.lo + i] = all[q]; q += 1 } }
        }
        return SimulationResult(bold: bold, states: states, stateSampleCount: samples, meanVariables: meanVariables,
                                meanObservables: meanObservables, steps: spec.totalSteps, wallSeconds: wallSeconds)
    }

    /// Contiguous node ranges for `parts` blocks, sizes differing by at most one.
    public static func blocks(nodes n: Int, parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, n))
        return (0..<parts).map { p in (p * n / parts)..<((p + 1) * n / parts) }
    }

    /// Puts the blocks' observers together by global node.
    func assemble(wallSeconds: Double) -> SimulationResult {
        let n = spec.connectome.regionCount
        let vars = Model.variables.count
        let first = blocks[0]
        var bold = Matrix(rows: first.bold.rows, columns: n)
        var states: [Double]? = first.states == nil ? nil : [Double](repeating: 0, count: first.stateSamples * vars * n)
        var meanVariables = [[Double]](repeating: [Double](repeating: 0, count: n), count: vars)
        var meanObservables = [[Double]](repeating: [Double](repeating: 0, count: n), count: Model.observables.count)
        for b in blocks {
            for i in 0..<b.local {
                let node = b.lo + i
                for r in 0..<bold.rows { bold[r, node] = b.bold[r, i] }
                if let s = b.states {
                    for sample in 0..<b.stateSamples {
                        for v in 0..<vars { states![(sample * vars + v) * n + node] = s[(sample * vars + v) * b.local + i] }
                    }
                }
                for v in 0..<vars { meanVariables[v][node] = b.mean(variable: v, node: i) }
                for o in 0..<Model.observables.count { meanObservables[o][node] = b.mean(observable: o, node: i) }
            }
        }
        return SimulationResult(bold: bold, states: states, stateSampleCount: first.stateSamples,
                                meanVariables: meanVariables, meanObservables: meanObservables,
                                steps: spec.totalSteps, wallSeconds: wallSeconds)
    }
}
