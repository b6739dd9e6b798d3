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
        /// J_i, w_+ or I_0 of one node.
        case nodeJI(Int), nodeWPlus(Int), nodeI0(Int)
        /// The slope of w_+ or I_0 along regional map k (regional heterogeneity as a linear
        /// function of maps: w_+,i = w_+ + sum_k b_k m_k,i). A fit-level parameter: `GradientFit`
        /// holds the maps and takes it through the per-node derivatives; the adjoint does not.
        case wPlusSlope(Int), i0Slope(Int)

        /// True for one node's J_i.
        public var isNodeJI: Bool { if case .nodeJI = self { return true } else { return false } }

        /// True for a map slope (`GradientFit` holds the maps).
        public var isMapSlope: Bool {
            switch self {
            case .wPlusSlope, .i0Slope: return true
            default: return false
            }
        }

        /// True for what makes w_+ or I_0 differ between regions (per-node values or map slopes).
        public var isRegional: Bool {
            switch self {
            case .nodeWPlus, .nodeI0, .wPlusSlope, .i0Slope: return true
            default: return false
            }
        }

        public var description: String {
            switch self {
            case .g: return "G"
            case .wPlus: return "w_plus"
            case .jI: return "J_i"
            case .jNMDA: return "J_NMDA"
            case .i0: return "I_0"
            case .sigma: return "sigma"
            case let .nodeJI(i): return "J_i[\(i)]"
            case let .nodeWPlus(i): return "w_plus[\(i)]"
            case let .nodeI0(i): return "I_0[\(i)]"
            case let .wPlusSlope(k): return "w_plus_slope[\(k)]"
            case let .i0Slope(k): return "I_0_slope[\(k)]"
            }
        }
    }

    /// The loss terms (`FitObjective`; entropy and regime are this model's own).
    public typealias Objective = FitObjective

    public struct Result {
        /// The weighted sum of the terms.
        public let loss: Double
        /// Each switched-on term's unweighted value ("surprise", "entropy", "timeseries", "spectrum").
        public let terms: [String: Double]
        public let fcCorrelation: Double
        public let gradient: [Parameter: Double]
        /// dL/dW_ij for the connectome weights as simulated (nil unless asked for).
        public let weightGradient: Matrix?
        /// BOLD, samples x regions.
        public let bold: Matrix
        /// Where the run ended, to carry into the next window.
        public let end: State
        /// How many state updates hit a bound (where the gradient is cut).
        public let clampedUpdates: Int
    }

    /// The FC-surprise loss alone and its gradient over the whole run.
    public static func lossAndGradient(spec: SimulationSpec<ReducedWongWang>, empiricalFC: Matrix,
                                       parameters: [Parameter], checkpointEvery: Int? = nil) throws -> Result {
        try lossAndGradient(spec: spec, objective: Objective(empiricalFC: empiricalFC), parameters: parameters,
                            checkpointEvery: checkpointEvery)
    }

    /// The state at the start of the run (the engine's initial state).
    public static func initialState(spec: SimulationSpec<ReducedWongWang>) -> State {
        Problem(spec: spec).initialState()
    }

    /// Integrates forward without gradients (e.g. through the transient), from `start`
    /// (default: the run's beginning) for `steps` steps.
    public static func advance(spec: SimulationSpec<ReducedWongWang>, from start: State? = nil, steps: Int) -> State {
        let problem = Problem(spec: spec)
        return problem.forward(from: start ?? problem.initialState(), steps: steps).end
    }

    /// The loss and its gradient over `steps` steps from `start` (default: the whole run from
    /// its beginning). The objective sees the BOLD samples that fall inside; the gradient is
    /// that of this stretch with the starting state held fixed (truncated at `start`, as in
    /// the paper's windows). With `checkpointEvery` = K steps the forward pass keeps only
    /// checkpoints (state, Balloon state and the last maxDelay + 1 values of S_E every K
    /// steps) and the backward pass recomputes one segment at a time, so memory is
    /// O(N (T/K) maxDelay + N K) instead of O(N T); K is raised to at least maxDelay and to a
    /// whole number of haemodynamic steps. nil: one segment (the whole stretch).
    ///
    /// With a `communicator` of B ranks the network is split into B node blocks (as
    /// `NetworkSimulator` splits it): each rank integrates and differentiates its block,
    /// exchanging S_E forward and the coupling cotangents backward every few steps, and every
    /// rank returns the whole result, the same bits as the serial computation. A fit passes
    /// the same `workspace` to every call, so the recorded trajectory's memory is reused.
    public static func lossAndGradient(spec: SimulationSpec<ReducedWongWang>, objective: Objective, parameters: [Parameter],
                                       weightGradient wantWeights: Bool = false, checkpointEvery: Int? = nil,
                                       from start: State? = nil, steps: Int? = nil,
                                       communicator: Communicator = SerialCommunicator(),
                                       workspace: GradientWorkspace = GradientWorkspace()) throws -> Result {
        guard spec.integrator == .euler else {
            throw WholeBrainError.badValue(source: "--integrator", value: spec.integrator.rawValue, expected: "euler for gradients")
        }
        guard spec.noise.kind != .ou else {
            throw WholeBrainError.badValue(source: "--noise", value: "ou", expected: "white or none for gradients")
        }
        let problem = Problem(spec: spec, communicator: communicator, workspace: workspace)
        if communicator.size > 1 {
            guard communicator.size <= problem.n else {
                throw WholeBrainError.badValue(source: "node blocks", value: "\(communicator.size)", expected: "at most one block per node (\(problem.n) nodes)")
            }
            for (e, delay) in problem.edgeDelay.enumerated() where delay == 0 {
                let target = problem.edgeStart.lastIndex { $0 <= e }!
                if problem.blocks.first(where: { $0.contains(target) })?.contains(problem.edgeSource[e]) == false {
                    throw WholeBrainError.badValue(source: "node blocks", value: "\(communicator.size)",
                                                   expected: "zero-delay connections within a block (node \(target) receives one from node \(problem.edgeSource[e]))")
                }
            }
        }
        let first = start ?? problem.initialState()
        guard first.windowE.count == (problem.maxDelay + 1) * problem.n, first.step % problem.m == 0 else {
            throw WholeBrainError.badValue(source: "gradient start state", value: "step \(first.step)",
                                           expected: "a state of this network at a whole haemodynamic step")
        }
        let total = first.step + (steps ?? (spec.totalSteps - first.step)), m = problem.m, n = problem.n
        var k = checkpointEvery.map { max($0, problem.maxDelay, 1) } ?? (total - first.step)
        k = max(m, (k + m - 1) / m * m)
        // ---- forward: checkpoints and samples only.
        var checkpoints: [State] = [first]
        var samples: [Int: Sample] = [:]            // absolute step -> BOLD and states
        var clamps = 0
        var position = first.step
        var lastSegment: Segment?                   // recorded in this pass, not recomputed
        while position < total {
            let isLast = position + k >= total
            let segment = problem.forward(from: checkpoints.last!, steps: min(k, total - position), record: isLast)
            for (b, values) in segment.samples { samples[b] = values }
            clamps += segment.clamps
            if isLast { lastSegment = segment } else { checkpoints.append(segment.end) }
            position += k
        }
        let sampleSteps = samples.keys.sorted()
        guard sampleSteps.count >= 3 else {
            throw WholeBrainError.badValue(source: "fit window", value: "\(sampleSteps.count) BOLD samples",
                                           expected: "at least 3 samples to correlate (a longer window or duration)")
        }
        var bold = Matrix(rows: sampleSteps.count, columns: n)
        for (row, b) in sampleSteps.enumerated() { for i in 0..<n { bold[row, i] = samples[b]!.bold[i] } }
        // ---- the BOLD terms and dL/dBOLD.
        let evaluation = try objective.evaluate(bold: bold, tr: spec.tr, firstSample: (sampleSteps[0] - spec.transientSteps) / spec.stepsPerTR - 1)
        var loss = evaluation.loss, terms = evaluation.terms
        let cotangent = evaluation.cotangent
        var boldCotangent: [Int: [Double]] = [:]
        var stateCotangent: [Int: (e: [Double], i: [Double])] = [:]
        let count = Double(sampleSteps.count * n)
        var entropy = 0.0, regime = 0.0
        let target = objective.regimeTarget
        for (row, b) in sampleSteps.enumerated() {
            boldCotangent[b] = (0..<n).map { cotangent[$0, row] }
            if objective.entropy != 0 || objective.regime != 0 {
                var ge = [Double](repeating: 0, count: n), gi = ge
                for i in 0..<n {
                    if objective.entropy != 0 {
                        let he = BoldFitTerms.negativeEntropy(samples[b]!.sE[i]), hi = BoldFitTerms.negativeEntropy(samples[b]!.sI[i])
                        entropy += (he.value + 0.5 * hi.value) / count
                        ge[i] += objective.entropy * he.derivative / count
                        gi[i] += objective.entropy * 0.5 * hi.derivative / count
                    }
                    if objective.regime != 0 {
                        let d = (samples[b]!.sE[i] - target) / target
                        regime += d * d / count
                        ge[i] += objective.regime * 2 * d / target / count
                    }
                }
                stateCotangent[b] = (ge, gi)
            }
        }
        if objective.entropy != 0 { terms["entropy"] = entropy; loss += objective.entropy * entropy }
        if objective.regime != 0 { terms["regime"] = regime; loss += objective.regime * regime }
        if parameters.isEmpty && !wantWeights {
            // The loss alone: no backward pass.
            return Result(loss: loss, terms: terms, fcCorrelation: evaluation.fcCorrelation, gradient: [:], weightGradient: nil, bold: bold,
                          end: lastSegment!.end, clampedUpdates: clamps)
        }
        // ---- backward, segment by segment from the end.
        var accumulators = Accumulators(n: n, edges: problem.edgeSource.count)
        var carry = Carry(n: n, maxDelay: problem.maxDelay)
        for cp in checkpoints.reversed() {
            let steps = min(k, total - cp.step)
            let segment = cp.step + k >= total ? lastSegment! : problem.forward(from: cp, steps: steps, record: true)
            problem.backward(segment, boldCotangent: boldCotangent, stateCotangent: stateCotangent, carry: &carry,
                             into: &accumulators, weights: wantWeights, first: cp.step == checkpoints[0].step)
        }
        if communicator.size > 1 {
            // Each block's per-node sums and its sources' weight gradients, from every block.
            accumulators.coupling = problem.gatherNodes(accumulators.coupling, width: 1)
            accumulators.recurrent = problem.gatherNodes(accumulators.recurrent, width: 1)
            accumulators.inhibition = problem.gatherNodes(accumulators.inhibition, width: 1)
            accumulators.nmda = problem.gatherNodes(accumulators.nmda, width: 1)
            accumulators.drive = problem.gatherNodes(accumulators.drive, width: 1)
            accumulators.sigma = problem.gatherNodes(accumulators.sigma, width: 1)
            if wantWeights { accumulators.weight = communicator.sumInRankOrder(accumulators.weight) }
        }
        let gradient = accumulators.gradient(parameters, problem: problem)
        var weights: Matrix?
        if wantWeights {
            var w = Matrix(rows: n, columns: n)
            for i in 0..<n { for e in problem.edgeStart[i]..<problem.edgeStart[i + 1] { w[i, problem.edgeSource[e]] += accumulators.weight[e] } }
            weights = w
        }
        return Result(loss: loss, terms: terms, fcCorrelation: evaluation.fcCorrelation, gradient: gradient, weightGradient: weights, bold: bold,
                      end: lastSegment!.end, clampedUpdates: clamps)
    }

    /// What the forward pass keeps at a BOLD sample.
    struct Sample {
        let bold: [Double], sE: [Double], sI: [Double]
    }

    /// The state needed to restart the forward pass at `step`.
    public struct State: Codable, Equatable, Sendable {
        public let step: Int
        /// S_E at steps step - maxDelay ... step (earlier than 0: the initial state), [t][node].
        let windowE: [Double]
        let sI: [Double]
        let balloon: [BalloonWindkessel.Point]
    }

    /// dL/d(parameter) collected per node during the backward pass, combined at the end.
    struct Accumulators {
        /// Per node, sums over steps of dt lambda_E kE times c, S_E and -S_I, and the full
        /// J_NMDA and I_0 terms (with dt lambda_I kI).
        var coupling: [Double], recurrent: [Double], inhibition: [Double], nmda: [Double], drive: [Double]
        /// Per node: sqrt(dt) (lambda_E xi_E + lambda_I xi_I) summed over steps.
        var sigma: [Double]
        /// dL/dW per edge (in `Problem`'s edge order).
        var weight: [Double]
        init(n: Int, edges: Int) {
            coupling = [Double](repeating: 0, count: n)
            recurrent = coupling; inhibition = coupling; nmda = coupling; drive = coupling; sigma = coupling
            weight = [Double](repeating: 0, count: edges)
        }

        func gradient(_ parameters: [Parameter], problem: Problem) -> [Parameter: Double] {
            let p = problem.p
            func total(_ x: [Double]) -> Double { x.reduce(0, +) }
            var g: [Parameter: Double] = [:]
            for q in parameters {
                switch q {
                case .g: g[q] = p.jNMDA * total(coupling)
                case .wPlus: g[q] = p.jNMDA * total(recurrent)
                case .jI: g[q] = total(inhibition)
                case let .nodeJI(i): g[q] = inhibition[i]
                case let .nodeWPlus(i): g[q] = p.jNMDA * recurrent[i]
                case let .nodeI0(i): g[q] = drive[i]
                case .jNMDA: g[q] = total(nmda)
                case .i0: g[q] = total(drive)
                case .sigma: g[q] = total(sigma)
                case .wPlusSlope, .i0Slope: break       // GradientFit's (through the per-node ones)
                }
            }
            return g
        }
    }

    /// Cotangents handed from a segment to the one before it.
    struct Carry {
        /// dL/dS_E at steps start - maxDelay ... start of the segment just processed.
        var gE: [Double]
        var gI: [Double]
        var balloon: [BalloonWindkessel.Point]
        /// Coupling cotangents of the segment just processed at its steps 0 ..< maxDelay + K,
        /// [node][step] (what its long edges pull back into the segment before it).
        var lc: [Double]
        init(n: Int, maxDelay: Int) {
            lc = [Double](repeating: 0, count: (maxDelay + DelayCoupling.blockLength) * n)
            gE = [Double](repeating: 0, count: (maxDelay + 1) * n)
            gI = [Double](repeating: 0, count: n)
            balloon = [BalloonWindkessel.Point](repeating: .init(s: 0, f: 0, v: 0, q: 0), count: n)
        }
    }

    /// A recomputed stretch of the forward pass.
    struct Segment {
        let start: Int, steps: Int
        /// S_E at steps start - maxDelay ... start + steps, node-major (row length maxDelay + 1 +
        /// steps); S_I at start ... start + steps, [t][node].
        /// (In the problem's workspace: valid until the next segment is integrated.)
        let rows: UnsafeMutablePointer<Double>
        let sI: UnsafeMutablePointer<Double>
        let clampedE: UnsafeMutablePointer<Bool>, clampedI: UnsafeMutablePointer<Bool>
        let xiE: UnsafeMutablePointer<Double>, xiI: UnsafeMutablePointer<Double>, coupling: UnsafeMutablePointer<Double>
        /// 1 - exp(-d y) of the E and I transfer functions at each step, [t][node] (the adjoint's
        /// Jacobian reuses them).
        let emE: UnsafeMutablePointer<Double>, emI: UnsafeMutablePointer<Double>
        /// Balloon states at the segment's haemodynamic steps (first: at the start), and inputs.
        var balloon: [BalloonWindkessel.Point], zMeans: [Double]
        /// BOLD and states at the samples that fall inside, by absolute step.
        var samples: [Int: Sample]
        var clamps: Int
        var end: State
    }

    /// Everything fixed during a gradient computation.
    struct Problem {
        let spec: SimulationSpec<ReducedWongWang>
        let model: ReducedWongWang
        let p: ReducedWongWang.Parameters
        let n: Int, m: Int, maxDelay: Int
        let dt: Double, scale: Double, h: Double
        let balloon: BalloonWindkessel
        /// J_i, w_+ and I_0 per node.
        let ji: [Double], wPlus: [Double], i0: [Double]
        let generator: CounterNoise
        /// Incoming edges of each node in ascending source order: start[i] ..< start[i + 1]
        /// index `source` and `delay` (weights live in `long` and `short`).
        let edgeStart: [Int], edgeSource: [Int], edgeDelay: [Int]
        /// The edges split by delay against K = `DelayCoupling.blockLength`, as in the engine:
        /// long edges (delay >= K) are summed for K steps at once from time-contiguous rows
        /// of S_E (and their adjoint added back K steps at once), short ones step by step.
        let long: EdgeClass, short: EdgeClass
        /// The long and short edges again, grouped by source, for their adjoint.
        let longBySource: SourceEdges, shortBySource: SourceEdges
        /// The node blocks of `communicator` (one per rank) and this rank's; steps between
        /// exchanges: the shortest delay of any edge (1 at least, K at most), the same for every
        /// split so that sums are added in the same order whatever the number of blocks.
        let communicator: Communicator
        let blocks: [Range<Int>], own: Range<Int>
        let chunk: Int
        /// Send and receive buffers for at most K steps of every node, and the per-rank counts
        /// of an exchange of p steps (index p); nil for one block.
        let exchangeBuffers: (send: Buffer<Double>, receive: Buffer<Double>, counts: [[Int]])?
        /// Where segments and cotangents are kept.
        let workspace: GradientWorkspace

        init(spec: SimulationSpec<ReducedWongWang>, communicator: Communicator = SerialCommunicator(),
             workspace: GradientWorkspace = GradientWorkspace()) {
            self.spec = spec
            self.communicator = communicator
            self.workspace = workspace
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
            edgeStart = start; edgeSource = source; edgeDelay = delay
            let k = DelayCoupling.blockLength
            long = EdgeClass(start: start, source: source, weight: weight, delay: delay) { $0 >= k }
            short = EdgeClass(start: start, source: source, weight: weight, delay: delay) { $0 < k }
            longBySource = SourceEdges(long, nodes: n)
            shortBySource = SourceEdges(short, nodes: n)
            blocks = NetworkSimulator<ReducedWongWang>.blocks(nodes: c.rows, parts: communicator.size)
            own = blocks[communicator.rank]
            chunk = max(1, min(delay.min() ?? k, k))
            let parts = blocks, mine = own
            exchangeBuffers = communicator.size == 1 ? nil
                : (Buffer(count: mine.count * k, repeating: 0), Buffer(count: c.rows * k, repeating: 0),
                   (0...k).map { p in parts.map { $0.count * p } })
            ji = spec.nodeParameters[0]; wPlus = spec.nodeParameters[1]; i0 = spec.nodeParameters[2]
            generator = CounterNoise(seed: spec.seed)
        }

        func initialState() -> State {
            var e = [Double](repeating: 0, count: n), i = e
            for k in 0..<n {
                e[k] = spec.initialState?[0][k] ?? 0.2 * generator.uniform(node: k, step: CounterNoise.maxSteps - 1, variable: 0)
                i[k] = spec.initialState?[1][k] ?? 0.2 * generator.uniform(node: k, step: CounterNoise.maxSteps - 1, variable: 1)
            }
            var window = [Double](repeating: 0, count: (maxDelay + 1) * n)
            for t in 0...maxDelay { for k in 0..<n { window[t * n + k] = e[k] } }
            return State(step: 0, windowE: window, sI: i, balloon: [BalloonWindkessel.Point](repeating: .init(), count: n))
        }

        /// Integrates `steps` steps from a checkpoint (a whole number of haemodynamic steps
        /// unless it is the run's end), keeping everything the backward pass needs.
        func forward(from cp: State, steps: Int, record: Bool = false) -> Segment {
            let d = maxDelay, s0 = cp.step
            let sI = workspace.values(.inhibitory, count: (steps + 1) * n)
            for k in 0..<n { sI[k] = cp.sI[k] }
            let clampedE = workspace.flags(.clampedE, count: (steps + 1) * n), clampedI = workspace.flags(.clampedI, count: (steps + 1) * n)
            let xiE = workspace.values(.noiseE, count: steps * n), xiI = workspace.values(.noiseI, count: steps * n)
            let coupling = workspace.values(.networkInput, count: steps * n)
            let emE = workspace.values(.exponentialE, count: steps * n), emI = workspace.values(.exponentialI, count: steps * n)
            let boldSteps = steps / m
            var balloonStates = [BalloonWindkessel.Point](repeating: .init(), count: (boldSteps + 1) * n)
            for k in 0..<n { balloonStates[k] = cp.balloon[k] }
            var zMeans = [Double](repeating: 0, count: boldSteps * n)
            var samples: [Int: Sample] = [:]
            var clamps = 0
            // S_E node-major: row j holds steps s0 - d ... s0 + steps of node j (absolute step t
            // at index t - s0 + d). This rank integrates its own nodes; the other blocks' rows
            // arrive by exchange every `chunk` steps and at the end of every block of K.
            let rowLength = d + 1 + steps
            let rows = workspace.values(.excitatoryRows, count: rowLength * n)
            for t in 0...d { for j in 0..<n { rows[j * rowLength + t] = cp.windowE[t * n + j] } }
            let longRead = long.offsets(rowLength: rowLength, maxDelay: d), shortRead = short.offsets(rowLength: rowLength, maxDelay: d)
            let blockLength = DelayCoupling.blockLength
            let longSums = NodeRows(count: n * blockLength, repeating: 0)
            var driftE = [Double](repeating: 0, count: n), driftI = driftE
            var exchanged = 0                       // local steps whose new states every rank has
            for local in 0..<steps {
                let step = s0 + local
                // The network inputs of this rank's nodes at this step: long edges for K steps at
                // the start of each block of K (they read only states at least K steps old), then
                // the short edges of this step.
                if local % blockLength == 0 {
                    long.sumBlock(rows: rows + local, reads: longRead, into: longSums.pointer, targets: own)
                    if scale != 0 {
                        // This block's normals, [local step][node], as the engine draws them.
                        let count = min(blockLength, steps - local)
                        generator.normals(nodes: own, firstStep: UInt64(step), variable: 0, steps: count,
                                          into: xiE + local * n + own.lowerBound, stepStride: n)
                        generator.normals(nodes: own, firstStep: UInt64(step), variable: 1, steps: count,
                                          into: xiI + local * n + own.lowerBound, stepStride: n)
                    }
                }
                do {
                    let out = coupling, base = rows + local, w = short.weights.pointer, read = shortRead.pointer
                    for i in own {
                        var even = 0.0, odd = 0.0
                        var q = short.start[i]
                        let end = short.start[i + 1]
                        while q + 1 < end {
                            even += w[q] * base[read[q]]
                            odd += w[q + 1] * base[read[q + 1]]
                            q += 2
                        }
                        if q < end { even += w[q] * base[read[q]] }
                        out[local * n + i] = longSums.pointer[i * blockLength + local % blockLength] + (even + odd)
                    }
                }
                // Drifts four nodes at a time (lane for lane the same arithmetic as one at a time).
                var i4 = own.lowerBound
                while i4 + 4 <= own.upperBound {
                    let at = local * n + i4
                    let r = rows + i4 * rowLength + local + d
                    let f = model.driftKeepingExponentials(
                        sE: VectorMath.Lanes(r[0], r[rowLength], r[2 * rowLength], r[3 * rowLength]),
                        sI: VectorMath.Lanes(sI[at], sI[at + 1], sI[at + 2], sI[at + 3]),
                        coupling: VectorMath.Lanes(coupling[at], coupling[at + 1], coupling[at + 2], coupling[at + 3]),
                        node: model.terms(jI: VectorMath.Lanes(ji[i4], ji[i4 + 1], ji[i4 + 2], ji[i4 + 3]),
                                          wPlus: VectorMath.Lanes(wPlus[i4], wPlus[i4 + 1], wPlus[i4 + 2], wPlus[i4 + 3]),
                                          i0: VectorMath.Lanes(i0[i4], i0[i4 + 1], i0[i4 + 2], i0[i4 + 3])))
                    for q in 0..<4 { driftE[i4 + q] = f.dE[q]; driftI[i4 + q] = f.dI[q]; emE[at + q] = f.emE[q]; emI[at + q] = f.emI[q] }
                    i4 += 4
                }
                for i in i4..<own.upperBound {
                    let f = model.driftKeepingExponentials(sE: .init(repeating: rows[i * rowLength + local + d]), sI: .init(repeating: sI[local * n + i]),
                                                           coupling: .init(repeating: coupling[local * n + i]),
                                                           node: model.terms(jI: ji[i], wPlus: wPlus[i], i0: i0[i]))
                    driftE[i] = f.dE[0]; driftI[i] = f.dI[0]; emE[local * n + i] = f.emE[0]; emI[local * n + i] = f.emI[0]
                }
                for i in own {
                    let e0 = rows[i * rowLength + local + d], i0 = sI[local * n + i]
                    let f = (dE: driftE[i], dI: driftI[i])
                    let e1 = e0 + dt * f.dE + scale * xiE[local * n + i]
                    let i1 = i0 + dt * f.dI + scale * xiI[local * n + i]
                    clampedE[(local + 1) * n + i] = !(0...1).contains(e1)
                    clampedI[(local + 1) * n + i] = !(0...1).contains(i1)
                    if clampedE[(local + 1) * n + i] { clamps += 1 }
                    if clampedI[(local + 1) * n + i] { clamps += 1 }
                    rows[i * rowLength + local + 1 + d] = min(max(e1, 0), 1)
                    sI[(local + 1) * n + i] = min(max(i1, 0), 1)
                }
                if (local + 1) % chunk == 0 || (local + 1) % blockLength == 0 || local + 1 == steps {
                    exchangeRows(rows, rowLength: rowLength, first: exchanged + 1 + d, count: local + 1 - exchanged)
                    exchanged = local + 1
                }
                if (local + 1) % m == 0 {
                    let b = (local + 1) / m - 1
                    for i in own {
                        var z = 0.0
                        for t in (local + 1 - m + 1)...(local + 1) { z += rows[i * rowLength + t + d] }
                        zMeans[b * n + i] = z / Double(m)
                    }
                    // Four nodes per RK4 step (lane for lane the engine's arithmetic).
                    balloonStates.withUnsafeMutableBufferPointer { states in
                        for i in stride(from: own.lowerBound, to: own.upperBound, by: 4) {
                            let count = min(4, own.upperBound - i)
                            var x = balloon.lanes(states.baseAddress! + b * n + i, count: count)
                            var z = VectorMath.Lanes()
                            for l in 0..<4 { z[l] = zMeans[b * n + i + min(l, count - 1)] }
                            balloon.rk4Step(&x, z: z, h: h)
                            balloon.store(x, into: states.baseAddress! + (b + 1) * n + i, count: count)
                        }
                    }
                    let done = step + 1
                    if done > spec.transientSteps, (done - spec.transientSteps) % spec.stepsPerTR == 0,
                       (done - spec.transientSteps) / spec.stepsPerTR <= spec.sampleCount {
                        samples[done] = Sample(bold: (0..<n).map { own.contains($0) ? balloon.bold(balloonStates[(b + 1) * n + $0]) : 0 },
                                               sE: (0..<n).map { rows[$0 * rowLength + local + 1 + d] },
                                               sI: Array(UnsafeBufferPointer(start: sI + (local + 1) * n, count: n)))
                    }
                }
            }
            // Every rank ends with every node's samples, end state and clamp count.
            samples = gatherSamples(samples)
            let endI = gatherNodes(Array(UnsafeBufferPointer(start: sI + steps * n, count: n)), width: 1)
            let endBalloon = gatherNodes(balloonStates[(boldSteps * n)..<((boldSteps + 1) * n)].flatMap { [$0.s, $0.f, $0.v, $0.q] }, width: 4)
            clamps = Int(communicator.sumInRankOrder([Double(clamps)])[0])
            var window = [Double](repeating: 0, count: (d + 1) * n)
            for t in 0...d { for j in 0..<n { window[t * n + j] = rows[j * rowLength + steps + t] } }
            let end = State(step: s0 + steps, windowE: window, sI: endI,
                            balloon: (0..<n).map { BalloonWindkessel.Point(s: endBalloon[4 * $0], f: endBalloon[4 * $0 + 1],
                                                                           v: endBalloon[4 * $0 + 2], q: endBalloon[4 * $0 + 3]) })
            if !record {
                return Segment(start: s0, steps: steps, rows: rows, sI: sI, clampedE: clampedE, clampedI: clampedI, xiE: xiE, xiI: xiI,
                               coupling: coupling, emE: emE, emI: emI, balloon: [], zMeans: [], samples: samples, clamps: clamps, end: end)
            }
            return Segment(start: s0, steps: steps, rows: rows, sI: sI, clampedE: clampedE, clampedI: clampedI, xiE: xiE, xiI: xiI,
                           coupling: coupling, emE: emE, emI: emI, balloon: balloonStates, zMeans: zMeans, samples: samples, clamps: clamps, end: end)
        }

        /// Completes the coupling cotangents of block positions first ..< first + count
        /// ([node][K] layout) from every block.
        func exchangeCotangents(_ c: UnsafeMutablePointer<Double>, first: Int, count: Int) {
            exchange(c, stride: DelayCoupling.blockLength, first: first, count: count)
        }

        /// The values first ..< first + count of every node's row (rows `stride` apart): this
        /// rank sends its nodes', `allGather` brings the others' (buffers and counts made once).
        func exchange(_ rows: UnsafeMutablePointer<Double>, stride: Int, first: Int, count: Int) {
            guard communicator.size > 1, count > 0, let buffers = exchangeBuffers else { return }
            let send = buffers.send.pointer, receive = buffers.receive.pointer
            var q = 0
            for j in own { for t in 0..<count { send[q] = rows[j * stride + first + t]; q += 1 } }
            communicator.allGather(send, count: own.count * count, into: receive, counts: buffers.counts[count])
            q = 0
            for block in blocks { for j in block { for t in 0..<count { rows[j * stride + first + t] = receive[q]; q += 1 } } }
        }

        /// Fills the other blocks' rows at indices first ..< first + count from their owners.
        func exchangeRows(_ rows: UnsafeMutablePointer<Double>, rowLength: Int, first: Int, count: Int) {
            exchange(rows, stride: rowLength, first: first, count: count)
        }

        /// A per-node array (`width` values per node, this rank's nodes filled) completed from
        /// every block.
        func gatherNodes(_ values: [Double], width: Int) -> [Double] {
            guard communicator.size > 1 else { return values }
            let all = communicator.allGather(Array(values[(own.lowerBound * width)..<(own.upperBound * width)]),
                                             counts: blocks.map { $0.count * width })
            return all
        }

        /// Samples with every node's BOLD and states (each rank computed its own nodes').
        func gatherSamples(_ samples: [Int: Sample]) -> [Int: Sample] {
            guard communicator.size > 1 else { return samples }
            let keys = samples.keys.sorted()
            var send: [Double] = []
            for key in keys { let s = samples[key]!; for i in own { send += [s.bold[i], s.sE[i], s.sI[i]] } }
            let all = communicator.allGather(send, counts: blocks.map { $0.count * 3 * keys.count })
            var out: [Int: Sample] = [:]
            var bold = [[Double]](repeating: [Double](repeating: 0, count: n), count: keys.count), sE = bold, sI = bold
            var q = 0
            for block in blocks {
                for k in keys.indices { for i in block { bold[k][i] = all[q]; sE[k][i] = all[q + 1]; sI[k][i] = all[q + 2]; q += 3 } }
            }
            for (k, key) in keys.enumerated() { out[key] = Sample(bold: bold[k], sE: sE[k], sI: sI[k]) }
            return out
        }

        /// The adjoint of one recomputed segment; `carry` comes from the segment after it and
        /// leaves for the one before; the run's `first` segment also adds the weight gradient of
        /// the history before it.
        func backward(_ seg: Segment, boldCotangent: [Int: [Double]], stateCotangent: [Int: (e: [Double], i: [Double])],
                      carry: inout Carry, into acc: inout Accumulators, weights: Bool, first: Bool) {
            let d = maxDelay, steps = seg.steps, s0 = seg.start
            let rowLength = d + 1 + steps
            // dL/dS_E at steps s0 - d ... s0 + steps, node-major like `seg.rows`; the last d + 1
            // of each row come from the later segment.
            let gE = workspace.values(.gradientRows, count: rowLength * n)
            gE.update(repeating: 0, count: rowLength * n)
            for t in 0...d { for j in 0..<n { gE[j * rowLength + steps + t] += carry.gE[t * n + j] } }
            let gI = workspace.values(.gradientInhibitory, count: (steps + 1) * n)
            gI.update(repeating: 0, count: (steps + 1) * n)
            for k in 0..<n { gI[steps * n + k] = carry.gI[k] }
            // Terms on the states at the samples inside (s0, s0 + steps].
            for (step, g) in stateCotangent where step > s0 && step <= s0 + steps {
                for i in 0..<n { gE[i * rowLength + step - s0 + d] += g.e[i]; gI[(step - s0) * n + i] += g.i[i] }
            }
            var lambdaBalloon = carry.balloon
            let boldSteps = steps / m
            for b in stride(from: boldSteps - 1, through: 0, by: -1) {
                if let w = boldCotangent[s0 + (b + 1) * m] {
                    for i in own {
                        lambdaBalloon[i] = lambdaBalloon[i] + w[i] * balloon.boldGradient(seg.balloon[(b + 1) * n + i])
                    }
                }
                seg.balloon.withUnsafeBufferPointer { states in
                    lambdaBalloon.withUnsafeMutableBufferPointer { lambda in
                        for i in stride(from: own.lowerBound, to: own.upperBound, by: 4) {
                            let count = min(4, own.upperBound - i)
                            var z = VectorMath.Lanes()
                            for l in 0..<4 { z[l] = seg.zMeans[b * n + i + min(l, count - 1)] }
                            let (lx, lz) = balloon.rk4StepAdjoint(balloon.lanes(states.baseAddress! + b * n + i, count: count), z: z, h: h,
                                                                  balloon.lanes(lambda.baseAddress! + i, count: count))
                            balloon.store(lx, into: lambda.baseAddress! + i, count: count)
                            for l in 0..<count {
                                for t in (b * m + 1)...(b * m + m) { gE[(i + l) * rowLength + t + d] += lz[l] / Double(m) }
                            }
                        }
                    }
                }
            }
            let rootDt = dt.squareRoot()
            let blockLength = DelayCoupling.blockLength
            let history = seg.rows
            // Coupling cotangents lc_i of the current block of K steps (exchanged between node
            // blocks every `chunk` steps), copied into rows of the whole segment plus the next
            // segment's first maxDelay + K steps (from `carry`), from which short edges pull
            // them back a state at a time and long edges a block of K states at a time.
            let blockCotangents = NodeRows(count: n * blockLength, repeating: 0)
            let lcRowLength = steps + d + blockLength
            let lcRows = workspace.values(.couplingCotangents, count: n * lcRowLength)
            for j in 0..<n {
                for t in 0..<(d + blockLength) { lcRows[j * lcRowLength + steps + t] = carry.lc[j * (d + blockLength) + t] }
            }
            let pullReads = longBySource.offsets(rowLength: lcRowLength), shortPullReads = shortBySource.offsets(rowLength: lcRowLength)
            // Per group of four nodes (lanes; a last, shorter group repeats its last node in
            // lanes that carry zero cotangents): the parameter sums over this segment's steps.
            let groups = (own.count + 3) / 4
            typealias Lanes = VectorMath.Lanes
            var sumCoupling = [Lanes](repeating: Lanes(), count: groups), sumRecurrent = sumCoupling, sumInhibition = sumCoupling
            var sumNMDA = sumCoupling, sumDrive = sumCoupling, sumSigma = sumCoupling
            let sI = seg.sI, couplingIn = seg.coupling, clampedE = seg.clampedE, clampedI = seg.clampedI
            let xiE = seg.xiE, xiI = seg.xiI
            var applied = steps                     // steps whose coupling cotangents are in the rows
            // Pulls the rows' cotangents back over `edges` into states first ..< first + count,
            // with the weight gradient when it is asked for.
            func pull(_ edges: SourceEdges, _ reads: Buffer<Int>, first: Int, count: Int) {
                guard weights else {
                    edges.pullBlock(lcRows, reads: reads, first: first, count: count, into: gE, rowLength: rowLength, maxDelay: d,
                                    history: history, sources: own, weightGradient: nil)
                    return
                }
                acc.weight.withUnsafeMutableBufferPointer { g in
                    edges.pullBlock(lcRows, reads: reads, first: first, count: count, into: gE, rowLength: rowLength, maxDelay: d,
                                    history: history, sources: own, weightGradient: g.baseAddress!)
                }
            }
            for local in stride(from: steps - 1, through: 0, by: -1) {
                if local == steps - 1 || local % blockLength == blockLength - 1 {
                    blockCotangents.pointer.initialize(repeating: 0, count: n * blockLength)
                    // At the top of the block of states holding `local`: everything its long
                    // edges carry comes from K or more steps later, all processed already,
                    // g_E,j(t) += sum over j's targets i of C_ij lc_i(t + d_ij).
                    let first = local - local % blockLength
                    pull(longBySource, pullReads, first: first, count: local + 1 - first)
                }
                // Short edges, one state at a time: g_E,j(t) += sum over j's targets i of
                // C_ij lc_i(t + d_ij), all from steps at least `chunk` later, so exchanged.
                pull(shortBySource, shortPullReads, first: local, count: 1)
                for g in 0..<groups {
                    let i4 = own.lowerBound + 4 * g, count = min(4, own.upperBound - i4)
                    var lE = Lanes(), lI = Lanes(), e = Lanes(), inh = Lanes(), ci = Lanes(), jI = Lanes(), nE = Lanes(), nI = Lanes()
                    var nodeWPlus = Lanes(), nodeI0 = Lanes()
                    var exponentialE = Lanes(), exponentialI = Lanes()
                    for q in 0..<4 {
                        let i = i4 + min(q, count - 1), k = (local + 1) * n + i
                        if q < count {
                            lE[q] = clampedE[k] ? 0 : gE[i * rowLength + local + 1 + d]
                            lI[q] = clampedI[k] ? 0 : gI[k]
                        }
                        e[q] = history[i * rowLength + local + d]
                        inh[q] = sI[local * n + i]; ci[q] = couplingIn[local * n + i]; jI[q] = ji[i]
                        nodeWPlus[q] = wPlus[i]; nodeI0[q] = i0[i]
                        exponentialE[q] = seg.emE[local * n + i]; exponentialI[q] = seg.emI[local * n + i]
                        if scale != 0 { nE[q] = xiE[local * n + i]; nI[q] = xiI[local * n + i] }
                    }
                    let jac = model.jacobianEntries(sE: e, sI: inh, coupling: ci, node: model.terms(jI: jI, wPlus: nodeWPlus, i0: nodeI0),
                                                    emE: exponentialE, emI: exponentialI)
                    let toE = lE * (1 + dt * jac.ee) + lI * dt * jac.ie
                    let toI = lE * dt * jac.ei + lI * (1 + dt * jac.ii)
                    let lc = lE * dt * jac.ec
                    for q in 0..<count {
                        let i = i4 + q
                        gE[i * rowLength + local + d] += toE[q]
                        gI[local * n + i] += toI[q]
                        blockCotangents.pointer[i * blockLength + local % blockLength] = lc[q]
                    }
                    let a = dt * lE * jac.kE, bI = dt * lI * jac.kI
                    sumCoupling[g] += a * ci
                    sumRecurrent[g] += a * e
                    sumInhibition[g] -= a * inh
                    sumNMDA[g] += a * (nodeWPlus * e + p.g * ci) + bI * e
                    sumDrive[g] += a * p.wE + bI * p.wI
                    if scale != 0 { sumSigma[g] += rootDt * (lE * nE + lI * nI) }
                }
                // Every `chunk` steps and at each block's first step: the coupling cotangents
                // of every node since the last time, exchanged between node blocks, into the
                // rows the edges pull from.
                if local % chunk == 0 || local % blockLength == 0 {
                    exchangeCotangents(blockCotangents.pointer, first: local % blockLength, count: applied - local)
                    for i in 0..<n {
                        (lcRows + i * lcRowLength + local).update(from: blockCotangents.pointer + i * blockLength + local % blockLength,
                                                                  count: applied - local)
                    }
                    applied = local
                }
            }
            for g in 0..<groups {
                for q in 0..<min(4, own.upperBound - own.lowerBound - 4 * g) {
                    let i = own.lowerBound + 4 * g + q
                    acc.coupling[i] += sumCoupling[g][q]; acc.recurrent[i] += sumRecurrent[g][q]; acc.inhibition[i] += sumInhibition[g][q]
                    acc.nmda[i] += sumNMDA[g][q]; acc.drive[i] += sumDrive[g][q]; acc.sigma[i] += sumSigma[g][q]
                }
            }
            if first && weights {
                acc.weight.withUnsafeMutableBufferPointer { g in
                    longBySource.addInitialHistoryWeightGradient(lcRows, reads: pullReads, rowLength: rowLength, maxDelay: d,
                                                                 history: history, sources: own, weightGradient: g.baseAddress!)
                    shortBySource.addInitialHistoryWeightGradient(lcRows, reads: shortPullReads, rowLength: rowLength, maxDelay: d,
                                                                  history: history, sources: own, weightGradient: g.baseAddress!)
                }
            }
            carry.gE = [Double](repeating: 0, count: (d + 1) * n)
            for t in 0...d { for j in 0..<n { carry.gE[t * n + j] = gE[j * rowLength + t] } }
            carry.gI = Array(UnsafeBufferPointer(start: gI, count: n))
            for j in 0..<n {
                for t in 0..<(d + blockLength) { carry.lc[j * (d + blockLength) + t] = lcRows[j * lcRowLength + t] }
            }
            carry.balloon = lambdaBalloon
        }
    }

    /// Memory allocated once per segment and read without bounds checks in the hot loops.
    final class Buffer<Element>: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Element>
        init(count: Int, repeating value: Element) {
            pointer = .allocate(capacity: max(count, 1))
            pointer.initialize(repeating: value, count: max(count, 1))
        }
        deinit { pointer.deallocate() }
    }
    typealias NodeRows = Buffer<Double>

    /// One class of edges (long or short), grouped by target node in ascending source order:
    /// target i's edges are start[i] ..< start[i + 1]; `edge` is each one's index in the
    /// problem's edge list (for the weight gradient).
    struct EdgeClass {
        let start: [Int], edge: [Int], source: [Int], delay: [Int]
        let weights: Buffer<Double>

        init(start all: [Int], source: [Int], weight: [Double], delay: [Int], where keep: (Int) -> Bool) {
            var start = [0], edge: [Int] = []
            for i in 0..<(all.count - 1) {
                for e in all[i]..<all[i + 1] where keep(delay[e]) { edge.append(e) }
                start.append(edge.count)
            }
            self.start = start
            self.edge = edge
            self.source = edge.map { source[$0] }
            self.delay = edge.map { delay[$0] }
            weights = Buffer(count: edge.count, repeating: 0)
            for (q, e) in edge.enumerated() { weights.pointer[q] = weight[e] }
        }

        /// Where each edge reads in node-major rows of `rowLength` values whose index maxDelay
        /// is the segment's first step: source * rowLength + maxDelay - delay, plus the local step.
        func offsets(rowLength: Int, maxDelay: Int) -> Buffer<Int> {
            let r = Buffer<Int>(count: edge.count, repeating: 0)
            for q in edge.indices { r.pointer[q] = source[q] * rowLength + maxDelay - delay[q] }
            return r
        }

        /// sums[i][s] = sum over i's edges, in order, of w * S_E(source, t + s - delay), for the
        /// K = 16 steps s from `rows` (positioned at the block's first local step t).
        func sumBlock(rows: UnsafeMutablePointer<Double>, reads: Buffer<Int>, into sums: UnsafeMutablePointer<Double>, targets: Range<Int>) {
            let read = reads.pointer
            let base = UnsafeRawPointer(rows), w = weights.pointer
            for i in targets {
                var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
                for q in start[i]..<start[i + 1] {
                    let p = base + read[q] * MemoryLayout<Double>.stride
                    let we = SIMD8<Double>(repeating: w[q])
                    a0 += we * p.loadUnaligned(as: SIMD8<Double>.self)
                    a1 += we * p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                }
                let out = UnsafeMutableRawPointer(sums + i * 16)
                out.storeBytes(of: a0, as: SIMD8<Double>.self)
                out.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
            }
        }

    }
}

extension RWWGradient {
    /// Edges grouped by source (ascending target within each source) for the pull form of the
    /// long edges' adjoint: the cotangent of S_E,j at a block of K steps t is the sum over j's
    /// targets i of C_ij lc_i(t + d_ij), gathered in registers and added once, instead of
    /// each target adding into its sources' rows.
    struct SourceEdges {
        let start: [Int], target: [Int], delay: [Int], edge: [Int]
        let weights: Buffer<Double>

        init(_ edges: EdgeClass, nodes: Int) {
            var lists = [[Int]](repeating: [], count: nodes)
            var targetOf = [Int](repeating: 0, count: edges.edge.count)
            for i in 0..<nodes {
                for q in edges.start[i]..<edges.start[i + 1] { lists[edges.source[q]].append(q); targetOf[q] = i }
            }
            let order = lists.flatMap { $0 }
            var start = [0]
            for list in lists { start.append(start.last! + list.count) }
            self.start = start
            target = order.map { targetOf[$0] }
            delay = order.map { edges.delay[$0] }
            edge = order.map { edges.edge[$0] }
            weights = Buffer(count: order.count, repeating: 0)
            for (k, q) in order.enumerated() { weights.pointer[k] = edges.weights.pointer[q] }
        }

        /// Where each edge reads in rows of cotangents `rowLength` apart: target * rowLength + delay.
        func offsets(rowLength: Int) -> Buffer<Int> {
            let r = Buffer<Int>(count: target.count, repeating: 0)
            for q in target.indices { r.pointer[q] = target[q] * rowLength + delay[q] }
            return r
        }

        /// The weight gradient of the history before the run's first step (states at t < 0,
        /// which no later pull reaches): dL/dw_q += sum over t in -delay_q ..< 0 of
        /// lc(target_q, t + delay_q) S_E,j(t).
        func addInitialHistoryWeightGradient(_ cotangents: UnsafePointer<Double>, reads: Buffer<Int>, rowLength: Int, maxDelay: Int,
                                             history: UnsafePointer<Double>, sources: Range<Int>, weightGradient: UnsafeMutablePointer<Double>) {
            let read = reads.pointer
            for j in sources {
                for q in start[j]..<start[j + 1] {
                    var total = 0.0
                    for t in -delay[q]..<0 { total += cotangents[read[q] + t] * history[j * rowLength + maxDelay + t] }
                    weightGradient[edge[q]] += total
                }
            }
        }

        /// gradient_j(t) += sum_q w_q lc(target_q, t + delay_q) for t in first ..< first + count
        /// (count <= K) and each source j in `sources`; with `weightGradient`, dL/dw_q += sum_t
        /// lc(target_q, t + delay_q) S_E,j(t). `gradient` and `history` are node-major rows of
        /// `rowLength` whose index maxDelay is local step 0; `cotangents` rows start at step 0.
        func pullBlock(_ cotangents: UnsafePointer<Double>, reads: Buffer<Int>, first: Int, count: Int,
                       into gradient: UnsafeMutablePointer<Double>, rowLength: Int, maxDelay: Int,
                       history: UnsafePointer<Double>, sources: Range<Int>, weightGradient: UnsafeMutablePointer<Double>?) {
            let read = reads.pointer, w = weights.pointer
            let k = DelayCoupling.blockLength
            for j in sources where start[j] < start[j + 1] {
                let row = j * rowLength + maxDelay + first
                if count == k {
                    let h = UnsafeRawPointer(history + row)
                    let h0 = h.loadUnaligned(as: SIMD8<Double>.self), h1 = h.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                    // The source's gradient row is read before its edges (a different buffer from
                    // the cotangent rows), so a cache miss on it overlaps with their sums.
                    let g = UnsafeMutableRawPointer(gradient + row)
                    let g0 = g.loadUnaligned(as: SIMD8<Double>.self), g1 = g.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                    var a0 = SIMD8<Double>(), a1 = SIMD8<Double>()
                    for q in start[j]..<start[j + 1] {
                        let c = UnsafeRawPointer(cotangents + read[q] + first)
                        let c0 = c.loadUnaligned(as: SIMD8<Double>.self), c1 = c.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                        let we = SIMD8<Double>(repeating: w[q])
                        a0 += we * c0
                        a1 += we * c1
                        if let weightGradient { weightGradient[edge[q]] += (c0 * h0 + c1 * h1).sum() }
                    }
                    g.storeBytes(of: g0 + a0, as: SIMD8<Double>.self)
                    g.storeBytes(of: g1 + a1, toByteOffset: 64, as: SIMD8<Double>.self)
                } else {
                    for s in 0..<count {
                        var total = 0.0
                        for q in start[j]..<start[j + 1] {
                            let c = cotangents[read[q] + first + s]
                            total += w[q] * c
                            if let weightGradient { weightGradient[edge[q]] += c * history[row + s] }
                        }
                        gradient[row + s] += total
                    }
                }
            }
        }
    }
}
