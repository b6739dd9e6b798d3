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
    public init(spec: SimulationSpec<Model>, blocks ranges: [Range<Int>]? = nil) throws {
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
        blocks = ranges.map { NodeBlockIntegrator(spec: spec, coupling: coupling, history: history, nodes: $0) }
    }

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
