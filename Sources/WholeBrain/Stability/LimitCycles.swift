import Foundation

/// Limit cycles of one uncoupled, noise-free node, found by simulation (as BrainPy's
/// Bifurcation2D finds them for its maps): four trajectories at once, one per lane, from
/// starts uniform over each variable's initial range (from the seed), classical RK4 with step `dt` ms and the variables' bounds,
/// for `duration` ms. Over the last `window` ms the observed variable (default: the coupled
/// one) is a limit cycle when its peak-to-peak range exceeds `tolerance` and it crosses its
/// window mean upwards at least three times: amplitude = half the range, period = mean
/// interval between upward crossings (linearly interpolated), in ms, provided both halves of
/// the window span the same range to 1% (a trajectory still spiralling in is not a cycle).
/// Otherwise the trajectory has settled (on a fixed point, up to `tolerance`).
///
/// Models whose drift reads its own delayed observables (ALN) are not supported here.
public enum LimitCycles {
    public struct Cycle: Sendable, Equatable {
        public let amplitude: Double
        /// ms.
        public let period: Double
    }

    public static func find<Model: NeuralMassModel>(model: Model, nodeParameters: [Double]? = nil, dt: Double = 0.05,
                                                    duration: Double = 3000, window: Double = 1000, variable: Int? = nil,
                                                    tolerance: Double = 1e-6, seed: UInt64 = 1) throws -> [Cycle?] {
        guard Model.localDelayObservables.isEmpty else {
            throw WholeBrainError.badValue(source: "--model", value: Model.name,
                                           expected: "a model without intra-node delays for limit cycles by simulation")
        }
        guard dt > 0, window > 0, duration > window else {
            throw WholeBrainError.badValue(source: "limit cycles", value: "dt \(dt), duration \(duration), window \(window)",
                                           expected: "dt > 0 and duration > window > 0 (ms)")
        }
        let vars = Model.variables.count
        let observed = variable ?? Model.coupledVariable
        let node = nodeParameters ?? model.nodeParameterDefaults
        // Buffers of four lanes per quantity: state, stages, drift, inputs.
        let quantities = 5 * vars + max(node.count, 1) + max(Model.observables.count, 1) + max(Model.couplingWeightPowers.count, 1) + 1
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 4 * quantities)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: 4 * quantities)
        var offset = 0
        func take(_ count: Int) -> LaneBlock { defer { offset += 4 * max(count, 1) }; return LaneBlock(buffer + offset, stride: 4) }
        let x = take(vars), stage = take(vars), k = take(vars), sum = take(vars), input = take(vars)
        let nodes = take(node.count), observables = take(Model.observables.count), coupling = take(Model.couplingWeightPowers.count)
        let local = take(1)
        let generator = CounterNoise(seed: seed)
        for v in 0..<vars {
            let r = Model.variables[v].initialRange
            var lanes = VectorMath.Lanes()
            for l in 0..<4 { lanes[l] = r.lowerBound + (r.upperBound - r.lowerBound) * generator.uniform(node: l, step: 0, variable: UInt64(v)) }
            x[v] = lanes
        }
        for q in node.indices { nodes[q] = VectorMath.Lanes(repeating: node[q]) }
        let lower = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.lowerBound ?? -.infinity) }
        let upper = Model.variables.map { VectorMath.Lanes(repeating: $0.bounds?.upperBound ?? .infinity) }
        func drift(_ from: LaneBlock) {
            model.drift(from, coupling: coupling, local: local, node: nodes, input: input, into: k, observables: observables)
        }
        let steps = Int((duration / dt).rounded()), recorded = Int((window / dt).rounded())
        var trace = [VectorMath.Lanes](repeating: VectorMath.Lanes(), count: recorded)
        for step in 0..<steps {
            // Classical RK4: sum = k1 + 2 k2 + 2 k3 + k4.
            drift(x)
            for v in 0..<vars { sum[v] = k[v]; stage[v] = x[v] + 0.5 * dt * k[v] }
            drift(stage)
            for v in 0..<vars { sum[v] += 2 * k[v]; stage[v] = x[v] + 0.5 * dt * k[v] }
            drift(stage)
            for v in 0..<vars { sum[v] += 2 * k[v]; stage[v] = x[v] + dt * k[v] }
            drift(stage)
            for v in 0..<vars {
                var next = x[v] + (dt / 6) * (sum[v] + k[v])
                next.replace(with: lower[v], where: next .< lower[v])
                next.replace(with: upper[v], where: next .> upper[v])
                x[v] = next
            }
            if step >= steps - recorded { trace[step - (steps - recorded)] = x[observed] }
        }
        return (0..<4).map { l in
            let values = trace.map { $0[l] }
            guard values.allSatisfy(\.isFinite), let lo = values.min(), let hi = values.max(), hi - lo > tolerance else { return nil }
            let mean = values.reduce(0, +) / Double(values.count)
            var crossings: [Double] = []
            for t in 1..<values.count where values[t - 1] < mean && values[t] >= mean {
                crossings.append(Double(t - 1) + (mean - values[t - 1]) / (values[t] - values[t - 1]))
            }
            guard crossings.count >= 3 else { return nil }
            // A cycle repeats: both halves of the window span the same range (a trajectory
            // still spiralling in, as at a Hopf point itself, does not).
            let half = values.count / 2
            let first = values[..<half], second = values[half...]
            let ranges = (first.max()! - first.min()!, second.max()! - second.min()!)
            guard abs(ranges.0 - ranges.1) <= 0.01 * max(ranges.0, ranges.1) else { return nil }
            let period = (crossings.last! - crossings.first!) / Double(crossings.count - 1) * dt
            return Cycle(amplitude: 0.5 * (hi - lo), period: period)
        }
    }
}
