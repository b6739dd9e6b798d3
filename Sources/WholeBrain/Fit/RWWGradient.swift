import Foundation

/// Exact reverse-mode gradient of the FC-surprise loss through the discretised reduced
/// Wong-Wang network with delays, noise held fixed, and Balloon-Windkessel BOLD: the discrete
/// adjoint of Euler-Maruyama (Griffiths et al. 2022 fit the same model with truncated
/// backpropagation; this is the whole-run gradient).
///
/// Forward (as the engine, with plain loops; the two agree to about 1e-12):
/// S(n+1) = clamp(S(n) + dt f(S(n), c(n)) + sigma sqrt(dt) xi(n)), c_i(n) = sum_j C_ij S_E,j(n - d_ij),
/// BOLD from RK4 steps driven by the mean of S_E over each haemodynamic step.
/// Backward: with g(n) = dL/dS(n),
/// g(n) += (I + dt df/dS)^T g(n+1) (zero where the clamp was active),
/// g_E,j(n - d_ij) += C_ij dt (df_i/dc)^T g_i(n+1), and dL/dtheta += dt (df/dtheta)^T g(n+1),
/// dL/dsigma += sqrt(dt) xi(n) . g(n+1); the BOLD part comes from `rk4StepAdjoint`, and
/// the model's analytic Jacobian supplies df/dS and df/dc. This first version keeps the
/// trajectory in memory (O(N T)); checkpointing comes with the fitting loop.
public enum RWWGradient {
    public enum Parameter: Hashable, Sendable, CustomStringConvertible {
        case g, wPlus, jI, jNMDA, i0, sigma
        /// J_i of one node.
        case nodeJI(Int)

        public var description: String {
            switch self {
            case .g: return "G"
            case .wPlus: return "w_plus"
            case .jI: return "J_i"
            case .jNMDA: return "J_NMDA"
            case .i0: return "I_0"
            case .sigma: return "sigma"
            case let .nodeJI(i): return "J_i[\(i)]"
            }
        }
    }

    public struct Result {
        public let loss: Double
        public let fcCorrelation: Double
        public let gradient: [Parameter: Double]
        /// BOLD, samples x regions.
        public let bold: Matrix
        /// How many state updates hit a bound (where the gradient is cut).
        public let clampedUpdates: Int
    }

    /// The loss and its gradient. With `checkpointEvery` = K steps the forward pass keeps
    /// only checkpoints (state, Balloon state and the last maxDelay + 1 values of S_E every
    /// K steps) and the backward pass recomputes one segment at a time, so memory is
    /// O(N (T/K) maxDelay + N K) instead of O(N T); K is raised to at least maxDelay and to a
    /// whole number of haemodynamic steps. nil: one segment (the whole trajectory).
    public static func lossAndGradient(spec: SimulationSpec<ReducedWongWang>, empiricalFC: Matrix,
                                       parameters: [Parameter], checkpointEvery: Int? = nil) throws -> Result {
        guard spec.integrator == .euler else {
            throw WholeBrainError.badValue(source: "--integrator", value: spec.integrator.rawValue, expected: "euler for gradients")
        }
        guard spec.noise.kind != .ou else {
            throw WholeBrainError.badValue(source: "--noise", value: "ou", expected: "white or none for gradients")
        }
        let problem = Problem(spec: spec)
        let total = spec.totalSteps, m = problem.m, n = problem.n
        var k = checkpointEvery.map { max($0, problem.maxDelay, 1) } ?? total
        k = (k + m - 1) / m * m
        // ---- forward: checkpoints and BOLD samples only.
        var checkpoints: [Checkpoint] = [problem.initialCheckpoint()]
        var samples: [Int: [Double]] = [:]          // BOLD step -> BOLD of every node
        var clamps = 0
        var start = 0
        var lastSegment: Segment?                   // recorded in this pass, not recomputed
        while start < total {
            let isLast = start + k >= total
            let segment = problem.forward(from: checkpoints.last!, steps: min(k, total - start), record: isLast)
            for (b, values) in segment.samples { samples[b] = values }
            clamps += segment.clamps
            if isLast { lastSegment = segment } else { checkpoints.append(segment.end) }
            start += k
        }
        let sampleSteps = samples.keys.sorted()
        var bold = Matrix(rows: sampleSteps.count, columns: n)
        for (row, b) in sampleSteps.enumerated() { for i in 0..<n { bold[row, i] = samples[b]![i] } }
        let objective = FCObjective.surprise(regionsByTime: bold.transposed, empiricalFC: empiricalFC)
        var boldCotangent: [Int: [Double]] = [:]
        for (row, b) in sampleSteps.enumerated() { boldCotangent[b] = (0..<n).map { objective.gradient[$0, row] } }
        // ---- backward, segment by segment from the end.
        var grad: [Parameter: Double] = [:]
        for q in parameters { grad[q] = 0 }
        var carry = Carry(n: n, maxDelay: problem.maxDelay)
        for cp in checkpoints.reversed() {
            let steps = min(k, total - cp.step)
            let segment = cp.step + k >= total ? lastSegment! : problem.forward(from: cp, steps: steps, record: true)
            problem.backward(segment, boldCotangent: boldCotangent, carry: &carry, gradient: &grad)
        }
        return Result(loss: objective.loss, fcCorrelation: objective.correlation, gradient: grad, bold: bold, clampedUpdates: clamps)
    }

    /// The state needed to restart the forward pass at `step`.
    struct Checkpoint {
        let step: Int
        /// S_E at steps step - maxDelay ... step (earlier than 0: the initial state), [t][node].
        let windowE: [Double]
        let sI: [Double]
        let balloon: [BalloonWindkessel.Point]
    }

    /// Cotangents handed from a segment to the one before it.
    struct Carry {
        /// dL/dS_E at steps start - maxDelay ... start of the segment just processed.
        var gE: [Double]
        var gI: [Double]
        var balloon: [BalloonWindkessel.Point]
        init(n: Int, maxDelay: Int) {
            gE = [Double](repeating: 0, count: (maxDelay + 1) * n)
            gI = [Double](repeating: 0, count: n)
            balloon = [BalloonWindkessel.Point](repeating: .init(s: 0, f: 0, v: 0, q: 0), count: n)
        }
    }

    /// A recomputed stretch of the forward pass.
    struct Segment {
        let start: Int, steps: Int
        /// S_E at steps start - maxDelay ... start + steps, [t][node]; S_I at start ... start + steps.
        var sE: [Double], sI: [Double]
        var clampedE: [Bool], clampedI: [Bool]
        var xiE: [Double], xiI: [Double], coupling: [Double]
        /// Balloon states at the segment's haemodynamic steps (first: at the start), and inputs.
        var balloon: [BalloonWindkessel.Point], zMeans: [Double]
        var samples: [Int: [Double]]
        var clamps: Int
        var end: Checkpoint
    }

    /// Everything fixed during a gradient computation.
    struct Problem {
        let spec: SimulationSpec<ReducedWongWang>
        let model: ReducedWongWang
        let p: ReducedWongWang.Parameters
        let n: Int, m: Int, maxDelay: Int
        let dt: Double, scale: Double, h: Double
        let balloon: BalloonWindkessel
        let ji: [Double]
        let generator: CounterNoise
        /// Incoming edges of each node in ascending source order: start[i] ..< start[i + 1]
        /// index `source`, `weight` and `delay`.
        let edgeStart: [Int], edgeSource: [Int], edgeWeight: [Double], edgeDelay: [Int]

        init(spec: SimulationSpec<ReducedWongWang>) {
            self.spec = spec
            model = spec.model
            p = spec.model.parameters
            let c = spec.connectome.weights
            n = c.rows
            m = spec.boldSubsteps
            dt = spec.dt
            scale = (spec.noise.isSilent ? 0 : spec.noise.sigma) * spec.dt.squareRoot()
            h = Double(m) * dt / 1000
            balloon = spec.balloon
            var d = [Int](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n where c[i, j] != 0 {
                d[i * n + j] = DelayCoupling.delaySteps(length: spec.connectome.lengths[i, j], speed: spec.conductionSpeed, dt: dt)
            } }
            maxDelay = d.max() ?? 0
            var start = [0], source: [Int] = [], weight: [Double] = [], delay: [Int] = []
            for i in 0..<n {
                for j in 0..<n where c[i, j] != 0 { source.append(j); weight.append(c[i, j]); delay.append(d[i * n + j]) }
                start.append(source.count)
            }
            edgeStart = start; edgeSource = source; edgeWeight = weight; edgeDelay = delay
            ji = spec.nodeParameters[0]
            generator = CounterNoise(seed: spec.seed)
        }

        func initialCheckpoint() -> Checkpoint {
            var e = [Double](repeating: 0, count: n), i = e
            for k in 0..<n {
                e[k] = spec.initialState?[0][k] ?? 0.2 * generator.uniform(node: k, step: CounterNoise.maxSteps - 1, variable: 0)
                i[k] = spec.initialState?[1][k] ?? 0.2 * generator.uniform(node: k, step: CounterNoise.maxSteps - 1, variable: 1)
            }
            var window = [Double](repeating: 0, count: (maxDelay + 1) * n)
            for t in 0...maxDelay { for k in 0..<n { window[t * n + k] = e[k] } }
            return Checkpoint(step: 0, windowE: window, sI: i, balloon: [BalloonWindkessel.Point](repeating: .init(), count: n))
        }

        /// Integrates `steps` steps from a checkpoint (a whole number of haemodynamic steps
        /// unless it is the run's end), keeping everything the backward pass needs.
        func forward(from cp: Checkpoint, steps: Int, record: Bool = false) -> Segment {
            let d = maxDelay, s0 = cp.step
            var sE = [Double](repeating: 0, count: (d + 1 + steps) * n)
            for q in 0..<((d + 1) * n) { sE[q] = cp.windowE[q] }
            var sI = [Double](repeating: 0, count: (steps + 1) * n)
            for k in 0..<n { sI[k] = cp.sI[k] }
            var clampedE = [Bool](repeating: false, count: (steps + 1) * n), clampedI = clampedE
            var xiE = [Double](repeating: 0, count: steps * n), xiI = xiE, coupling = xiE
            let boldSteps = steps / m
            var balloonStates = [BalloonWindkessel.Point](repeating: .init(), count: (boldSteps + 1) * n)
            for k in 0..<n { balloonStates[k] = cp.balloon[k] }
            var zMeans = [Double](repeating: 0, count: boldSteps * n)
            var samples: [Int: [Double]] = [:]
            var clamps = 0
            // Index of absolute step t in sE: t - s0 + d.
            for local in 0..<steps {
                let step = s0 + local
                for i in 0..<n {
                    var ci = 0.0
                    for e in edgeStart[i]..<edgeStart[i + 1] { ci += edgeWeight[e] * sE[(local - edgeDelay[e] + d) * n + edgeSource[e]] }
                    coupling[local * n + i] = ci
                    let e0 = sE[(local + d) * n + i], i0 = sI[local * n + i]
                    let f = model.drift(sE: e0, sI: i0, coupling: ci, jI: ji[i])
                    if scale != 0 {
                        xiE[local * n + i] = generator.normal(node: i, step: UInt64(step), variable: 0)
                        xiI[local * n + i] = generator.normal(node: i, step: UInt64(step), variable: 1)
                    }
                    let e1 = e0 + dt * f.dE + scale * xiE[local * n + i]
                    let i1 = i0 + dt * f.dI + scale * xiI[local * n + i]
                    clampedE[(local + 1) * n + i] = !(0...1).contains(e1)
                    clampedI[(local + 1) * n + i] = !(0...1).contains(i1)
                    if clampedE[(local + 1) * n + i] { clamps += 1 }
                    if clampedI[(local + 1) * n + i] { clamps += 1 }
                    sE[(local + 1 + d) * n + i] = min(max(e1, 0), 1)
                    sI[(local + 1) * n + i] = min(max(i1, 0), 1)
                }
                if (local + 1) % m == 0 {
                    let b = (local + 1) / m - 1
                    for i in 0..<n {
                        var z = 0.0
                        for t in (local + 1 - m + 1)...(local + 1) { z += sE[(t + d) * n + i] }
                        zMeans[b * n + i] = z / Double(m)
                        balloonStates[(b + 1) * n + i] = balloon.rk4Step(balloonStates[b * n + i], z: zMeans[b * n + i], h: h)
                    }
                    let done = step + 1
                    if done > spec.transientSteps, (done - spec.transientSteps) % spec.stepsPerTR == 0,
                       (done - spec.transientSteps) / spec.stepsPerTR <= spec.sampleCount {
                        samples[done / m] = (0..<n).map { balloon.bold(balloonStates[(b + 1) * n + $0]) }
                    }
                }
            }
            var window = [Double](repeating: 0, count: (d + 1) * n)
            for q in 0..<((d + 1) * n) { window[q] = sE[steps * n + q] }
            let end = Checkpoint(step: s0 + steps, windowE: window, sI: Array(sI[(steps * n)..<((steps + 1) * n)]),
                                 balloon: Array(balloonStates[(boldSteps * n)..<((boldSteps + 1) * n)]))
            if !record {
                return Segment(start: s0, steps: steps, sE: [], sI: [], clampedE: [], clampedI: [], xiE: [], xiI: [], coupling: [],
                               balloon: [], zMeans: [], samples: samples, clamps: clamps, end: end)
            }
            return Segment(start: s0, steps: steps, sE: sE, sI: sI, clampedE: clampedE, clampedI: clampedI, xiE: xiE, xiI: xiI,
                           coupling: coupling, balloon: balloonStates, zMeans: zMeans, samples: samples, clamps: clamps, end: end)
        }

        /// The adjoint of one recomputed segment; `carry` comes from the segment after it and
        /// leaves for the one before.
        func backward(_ seg: Segment, boldCotangent: [Int: [Double]], carry: inout Carry,
                      gradient grad: inout [Parameter: Double]) {
            let d = maxDelay, steps = seg.steps, s0 = seg.start
            let parameters = Array(grad.keys)
            // dL/dS_E at steps s0 - d ... s0 + steps; the last d + 1 come from the later segment.
            var gE = [Double](repeating: 0, count: (d + 1 + steps) * n)
            for q in 0..<((d + 1) * n) { gE[steps * n + q] += carry.gE[q] }
            var gI = [Double](repeating: 0, count: (steps + 1) * n)
            for k in 0..<n { gI[steps * n + k] = carry.gI[k] }
            var lambdaBalloon = carry.balloon
            let boldSteps = steps / m
            for b in stride(from: boldSteps - 1, through: 0, by: -1) {
                if let w = boldCotangent[(s0 + (b + 1) * m) / m] {
                    for i in 0..<n {
                        let gb = balloon.boldGradient(seg.balloon[(b + 1) * n + i])
                        lambdaBalloon[i] = BalloonWindkessel.Point(s: lambdaBalloon[i].s + w[i] * gb.s, f: lambdaBalloon[i].f + w[i] * gb.f,
                                                                  v: lambdaBalloon[i].v + w[i] * gb.v, q: lambdaBalloon[i].q + w[i] * gb.q)
                    }
                }
                for i in 0..<n {
                    let (lx, lz) = balloon.rk4StepAdjoint(seg.balloon[b * n + i], z: seg.zMeans[b * n + i], h: h, lambdaBalloon[i])
                    lambdaBalloon[i] = lx
                    for t in (b * m + 1)...(b * m + m) { gE[(t + d) * n + i] += lz / Double(m) }
                }
            }
            let rootDt = dt.squareRoot()
            // Accumulate in an array (not the dictionary) in the hot loop.
            var acc = [Double](repeating: 0, count: parameters.count)
            for local in stride(from: steps - 1, through: 0, by: -1) {
                for i in 0..<n {
                    let k = (local + 1) * n + i
                    let lE = seg.clampedE[k] ? 0 : gE[(local + 1 + d) * n + i], lI = seg.clampedI[k] ? 0 : gI[k]
                    if lE == 0 && lI == 0 { continue }
                    let e = seg.sE[(local + d) * n + i], inh = seg.sI[local * n + i], ci = seg.coupling[local * n + i]
                    let jac = model.jacobianEntries(sE: e, sI: inh, coupling: ci, jI: ji[i])
                    gE[(local + d) * n + i] += lE * (1 + dt * jac.ee) + lI * dt * jac.ie
                    gI[local * n + i] += lE * dt * jac.ei + lI * (1 + dt * jac.ii)
                    let lc = lE * dt * jac.ec
                    if lc != 0 {
                        for e in edgeStart[i]..<edgeStart[i + 1] { gE[(local - edgeDelay[e] + d) * n + edgeSource[e]] += edgeWeight[e] * lc }
                    }
                    let a = dt * lE * jac.kE, bI = dt * lI * jac.kI
                    for (k, q) in parameters.enumerated() {
                        switch q {
                        case .g: acc[k] += a * p.jNMDA * ci
                        case .wPlus: acc[k] += a * p.jNMDA * e
                        case .jI: acc[k] += a * (-inh)
                        case let .nodeJI(node) where node == i: acc[k] += a * (-inh)
                        case .nodeJI: break
                        case .jNMDA: acc[k] += a * (p.wPlus * e + p.g * ci) + bI * e
                        case .i0: acc[k] += a * p.wE + bI * p.wI
                        case .sigma: acc[k] += rootDt * (lE * seg.xiE[local * n + i] + lI * seg.xiI[local * n + i])
                        }
                    }
                }
            }
            for (k, q) in parameters.enumerated() { grad[q]! += acc[k] }
            carry.gE = Array(gE[0..<((d + 1) * n)])
            carry.gI = Array(gI[0..<n])
            carry.balloon = lambdaBalloon
        }
    }
}
