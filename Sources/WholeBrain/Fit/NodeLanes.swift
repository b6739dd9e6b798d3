import Foundation

/// A model's lane functions (`drift`, `couplingSignal`) over every node of a network, from and
/// into node-major scalars (node i's variable q at [i V + q]), four nodes per call, with one
/// scratch block allocated once: what the adjoint evaluates at every step without allocating.
/// The lanes compute what the engine computes for the same inputs.
final class NodeLanes<Model: NeuralMassModel> {
    let model: Model
    let n: Int, vars: Int, parameterCount: Int, observableCount: Int
    /// Node i's per-node parameters at [i P + p] (P at least 1).
    let nodeParameters: UnsafeMutablePointer<Double>
    private let scratch: UnsafeMutablePointer<Double>
    private let size: Int

    init(model: Model, regions n: Int, nodeParameters byParameter: [[Double]]) {
        self.model = model
        self.n = n
        vars = Model.variables.count
        parameterCount = max(byParameter.count, 1)
        observableCount = max(Model.observables.count, 1)
        nodeParameters = .allocate(capacity: n * parameterCount)
        nodeParameters.initialize(repeating: 0, count: n * parameterCount)
        for (p, values) in byParameter.enumerated() { for i in 0..<n { nodeParameters[i * parameterCount + p] = values[i] } }
        // xs, dx, input (V each), node (P), observables (O), coupling (1), local (1): 4 lanes each.
        size = 4 * (3 * vars + parameterCount + observableCount + 2)
        scratch = .allocate(capacity: size)
        scratch.initialize(repeating: 0, count: size)
    }

    deinit {
        nodeParameters.deallocate()
        scratch.deallocate()
    }

    private func block(_ offset: Int) -> LaneBlock { LaneBlock(scratch + 4 * offset, stride: 4) }

    /// Loads nodes first ..< first + 4 (the last node repeated past n) into the state lanes and,
    /// with `coupling`, the coupling and parameter lanes.
    private func load(_ ys: UnsafePointer<Double>, first: Int, coupling c: UnsafePointer<Double>?) {
        for l in 0..<4 {
            let i = min(first + l, n - 1)
            for q in 0..<vars { scratch[4 * q + l] = ys[i * vars + q] }
            if let c {
                scratch[4 * (3 * vars + parameterCount + observableCount) + l] = c[i]
                for p in 0..<parameterCount { scratch[4 * (3 * vars + p) + l] = nodeParameters[i * parameterCount + p] }
            }
        }
    }

    /// The drift of every node at states `ys` with network inputs `c` into `f` (node-major),
    /// and its observables into `observables` ([i O + o]) when given.
    func drift(_ ys: UnsafePointer<Double>, coupling c: UnsafePointer<Double>, into f: UnsafeMutablePointer<Double>,
               observables: UnsafeMutablePointer<Double>? = nil) {
        let xs = block(0), dx = block(vars), input = block(2 * vars), node = block(3 * vars)
        let obs = block(3 * vars + parameterCount), coupling = block(3 * vars + parameterCount + observableCount)
        let local = block(3 * vars + parameterCount + observableCount + 1)
        for first in stride(from: 0, to: n, by: 4) {
            load(ys, first: first, coupling: c)
            model.drift(xs, coupling: coupling, local: local, node: node, input: input, into: dx, observables: obs)
            for l in 0..<min(4, n - first) {
                for q in 0..<vars { f[(first + l) * vars + q] = scratch[4 * (vars + q) + l] }
                if let observables {
                    for o in 0..<Model.observables.count {
                        observables[(first + l) * observableCount + o] = scratch[4 * (3 * vars + parameterCount + o) + l]
                    }
                }
            }
        }
    }

    /// The exchanged signal of every node at states `ys` into `s`.
    func signals(_ ys: UnsafePointer<Double>, into s: UnsafeMutablePointer<Double>) {
        for first in stride(from: 0, to: n, by: 4) {
            load(ys, first: first, coupling: nil)
            let lanes = model.couplingSignal(block(0))
            for l in 0..<min(4, n - first) { s[first + l] = lanes[l] }
        }
    }
}
