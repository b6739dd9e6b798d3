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

    /// The loss terms computed from the simulation, their weights, and the data they compare with.
    public struct Objective: Sendable {
        public var empiricalFC: Matrix
        /// Empirical BOLD, regions x samples, for the time-series and spectral terms: sample k
        /// of the run (counted from the end of the transient) is compared with column k.
        public var empiricalBold: Matrix?
        /// Weights of the FC surprise, the entropy of S_E and S_I, the time-series error and
        /// the spectral distance (`BoldFitTerms`); a zero weight switches a term off.
        public var surprise: Double, entropy: Double, timeSeries: Double, spectrum: Double
        /// Band-pass (Hz) applied to the simulated BOLD before the BOLD terms (the empirical
        /// data are expected filtered the same way); the gradient goes back through it.
        public var bandPass: (low: Double, high: Double)?

        public init(empiricalFC: Matrix, empiricalBold: Matrix? = nil, surprise: Double = 1, entropy: Double = 0,
                    timeSeries: Double = 0, spectrum: Double = 0) {
            self.empiricalFC = empiricalFC
            self.empiricalBold = empiricalBold
            self.surprise = surprise; self.entropy = entropy; self.timeSeries = timeSeries; self.spectrum = spectrum
        }
    }

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
    public static func lossAndGradient(spec: SimulationSpec<ReducedWongWang>, objective: Objective, parameters: [Parameter],
                                       weightGradient wantWeights: Bool = false, checkpointEvery: Int? = nil,
                                       from start: State? = nil, steps: Int? = nil) throws -> Result {
        guard spec.integrator == .euler else {
            throw WholeBrainError.badValue(source: "--integrator", value: spec.integrator.rawValue, expected: "euler for gradients")
        }
        guard spec.noise.kind != .ou else {
            throw WholeBrainError.badValue(source: "--noise", value: "ou", expected: "white or none for gradients")
        }
        let problem = Problem(spec: spec)
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
        let samplingRate = 1 / spec.tr
        let regionsByTime = objective.bandPass.map {
            BandPass.filter(regionsByTime: bold.transposed, fs: samplingRate, low: $0.low, high: $0.high)
        } ?? bold.transposed
        // ---- the terms and dL/dBOLD.
        var loss = 0.0
        var terms: [String: Double] = [:]
        var cotangent = Matrix(rows: n, columns: sampleSteps.count)
        func add(_ name: String, _ weight: Double, _ value: BoldFitTerms.Value) {
            terms[name] = value.loss
            loss += weight * value.loss
            for q in cotangent.values.indices { cotangent.values[q] += weight * value.gradient.values[q] }
        }
        let fit = FCObjective.surprise(regionsByTime: regionsByTime, empiricalFC: objective.empiricalFC)
        if objective.surprise != 0 { add("surprise", objective.surprise, BoldFitTerms.Value(loss: fit.loss, gradient: fit.gradient)) }
        if objective.timeSeries != 0 || objective.spectrum != 0 {
            let firstSample = (sampleSteps[0] - spec.transientSteps) / spec.stepsPerTR - 1
            guard let e = objective.empiricalBold, e.rows == n, firstSample + sampleSteps.count <= e.columns else {
                throw WholeBrainError.badValue(source: "--loss", value: "timeseries/spectrum",
                                               expected: "empirical BOLD of \(n) regions with at least \(firstSample + sampleSteps.count) samples")
            }
            var aligned = Matrix(rows: n, columns: sampleSteps.count)
            for i in 0..<n { for c in 0..<sampleSteps.count { aligned[i, c] = e[i, firstSample + c] } }
            if objective.timeSeries != 0 {
                add("timeseries", objective.timeSeries, BoldFitTerms.timeSeriesError(regionsByTime: regionsByTime, empirical: aligned))
            }
            if objective.spectrum != 0 {
                add("spectrum", objective.spectrum, BoldFitTerms.spectralDistance(regionsByTime: regionsByTime, empirical: aligned))
            }
        }
        if let band = objective.bandPass {
            cotangent = BandPass.transpose(regionsByTime: cotangent, fs: samplingRate, low: band.low, high: band.high)
        }
        var boldCotangent: [Int: [Double]] = [:]
        var stateCotangent: [Int: (e: [Double], i: [Double])] = [:]
        let count = Double(sampleSteps.count * n)
        var entropy = 0.0
        for (row, b) in sampleSteps.enumerated() {
            boldCotangent[b] = (0..<n).map { cotangent[$0, row] }
            if objective.entropy != 0 {
                var ge = [Double](repeating: 0, count: n), gi = ge
                for i in 0..<n {
                    let he = BoldFitTerms.negativeEntropy(samples[b]!.sE[i]), hi = BoldFitTerms.negativeEntropy(samples[b]!.sI[i])
                    entropy += (he.value + 0.5 * hi.value) / count
                    ge[i] = objective.entropy * he.derivative / count
                    gi[i] = objective.entropy * 0.5 * hi.derivative / count
                }
                stateCotangent[b] = (ge, gi)
            }
        }
        if objective.entropy != 0 { terms["entropy"] = entropy; loss += objective.entropy * entropy }
        // ---- backward, segment by segment from the end.
        var accumulators = Accumulators(n: n, edges: problem.edgeSource.count)
        var carry = Carry(n: n, maxDelay: problem.maxDelay)
        for cp in checkpoints.reversed() {
            let steps = min(k, total - cp.step)
            let segment = cp.step + k >= total ? lastSegment! : problem.forward(from: cp, steps: steps, record: true)
            problem.backward(segment, boldCotangent: boldCotangent, stateCotangent: stateCotangent, carry: &carry,
                             into: &accumulators, weights: wantWeights)
        }
        let gradient = accumulators.gradient(parameters, problem: problem)
        var weights: Matrix?
        if wantWeights {
            var w = Matrix(rows: n, columns: n)
            for i in 0..<n { for e in problem.edgeStart[i]..<problem.edgeStart[i + 1] { w[i, problem.edgeSource[e]] += accumulators.weight[e] } }
            weights = w
        }
        return Result(loss: loss, terms: terms, fcCorrelation: fit.correlation, gradient: gradient, weightGradient: weights, bold: bold,
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
        var sigma = 0.0
        /// dL/dW per edge (in `Problem`'s edge order).
        var weight: [Double]
        init(n: Int, edges: Int) {
            coupling = [Double](repeating: 0, count: n)
            recurrent = coupling; inhibition = coupling; nmda = coupling; drive = coupling
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
                case .jNMDA: g[q] = total(nmda)
                case .i0: g[q] = total(drive)
                case .sigma: g[q] = sigma
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
        let ji: [Double]
        let generator: CounterNoise
        /// Incoming edges of each node in ascending source order: start[i] ..< start[i + 1]
        /// index `source`, `weight` and `delay`.
        let edgeStart: [Int], edgeSource: [Int], edgeWeight: [Double], edgeDelay: [Int]
        /// Weights and read offsets ((maxDelay - delay) n + source: edge e reads S_E of local
        /// step t at t n + offset[e] of a segment's S_E array) for the hot loops.
        let edges: EdgeTable

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
            let window = maxDelay
            edges = EdgeTable(weights: weight, offsets: zip(source, delay).map { (window - $1) * c.rows + $0 })
            ji = spec.nodeParameters[0]
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
            var samples: [Int: Sample] = [:]
            var clamps = 0
            // Index of absolute step t in sE: t - s0 + d.
            let weightPointer = edges.weights, offsetPointer = edges.offsets
            var driftE = [Double](repeating: 0, count: n), driftI = driftE
            for local in 0..<steps {
                let step = s0 + local
                // The network inputs of every node at this step (plain loads: no bounds checks).
                sE.withUnsafeBufferPointer { history in
                    coupling.withUnsafeMutableBufferPointer { out in
                        let base = history.baseAddress! + local * n
                        for i in 0..<n {
                            var ci = 0.0
                            for e in edgeStart[i]..<edgeStart[i + 1] { ci += weightPointer[e] * base[offsetPointer[e]] }
                            out[local * n + i] = ci
                        }
                    }
                }
                // Drifts four nodes at a time (lane for lane the same arithmetic as one at a time).
                var i4 = 0
                while i4 + 4 <= n {
                    let at = local * n + i4, atE = (local + d) * n + i4
                    let f = model.drift(sE: VectorMath.Lanes(sE[atE], sE[atE + 1], sE[atE + 2], sE[atE + 3]),
                                        sI: VectorMath.Lanes(sI[at], sI[at + 1], sI[at + 2], sI[at + 3]),
                                        coupling: VectorMath.Lanes(coupling[at], coupling[at + 1], coupling[at + 2], coupling[at + 3]),
                                        jI: VectorMath.Lanes(ji[i4], ji[i4 + 1], ji[i4 + 2], ji[i4 + 3]))
                    for q in 0..<4 { driftE[i4 + q] = f.dE[q]; driftI[i4 + q] = f.dI[q] }
                    i4 += 4
                }
                for i in i4..<n {
                    let f = model.drift(sE: sE[(local + d) * n + i], sI: sI[local * n + i], coupling: coupling[local * n + i], jI: ji[i])
                    driftE[i] = f.dE; driftI[i] = f.dI
                }
                for i in 0..<n {
                    let e0 = sE[(local + d) * n + i], i0 = sI[local * n + i]
                    let f = (dE: driftE[i], dI: driftI[i])
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
                        samples[done] = Sample(bold: (0..<n).map { balloon.bold(balloonStates[(b + 1) * n + $0]) },
                                               sE: Array(sE[((local + 1 + d) * n)..<((local + 2 + d) * n)]),
                                               sI: Array(sI[((local + 1) * n)..<((local + 2) * n)]))
                    }
                }
            }
            var window = [Double](repeating: 0, count: (d + 1) * n)
            for q in 0..<((d + 1) * n) { window[q] = sE[steps * n + q] }
            let end = State(step: s0 + steps, windowE: window, sI: Array(sI[(steps * n)..<((steps + 1) * n)]),
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
        func backward(_ seg: Segment, boldCotangent: [Int: [Double]], stateCotangent: [Int: (e: [Double], i: [Double])],
                      carry: inout Carry, into acc: inout Accumulators, weights: Bool) {
            let d = maxDelay, steps = seg.steps, s0 = seg.start
            // dL/dS_E at steps s0 - d ... s0 + steps; the last d + 1 come from the later segment.
            var gE = [Double](repeating: 0, count: (d + 1 + steps) * n)
            for q in 0..<((d + 1) * n) { gE[steps * n + q] += carry.gE[q] }
            var gI = [Double](repeating: 0, count: (steps + 1) * n)
            for k in 0..<n { gI[steps * n + k] = carry.gI[k] }
            // Terms on the states at the samples inside (s0, s0 + steps].
            for (step, g) in stateCotangent where step > s0 && step <= s0 + steps {
                for i in 0..<n { gE[(step - s0 + d) * n + i] += g.e[i]; gI[(step - s0) * n + i] += g.i[i] }
            }
            var lambdaBalloon = carry.balloon
            let boldSteps = steps / m
            for b in stride(from: boldSteps - 1, through: 0, by: -1) {
                if let w = boldCotangent[s0 + (b + 1) * m] {
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
            let weightPointer = edges.weights, offsetPointer = edges.offsets
            // The Jacobian entries of every node at a step, four nodes at a time.
            var entries = [Double](repeating: 0, count: 7 * n)
            func jacobians(at local: Int) {
                var i4 = 0
                while i4 + 4 <= n {
                    let at = local * n + i4, atE = (local + d) * n + i4
                    let j = model.jacobianEntries(
                        sE: VectorMath.Lanes(seg.sE[atE], seg.sE[atE + 1], seg.sE[atE + 2], seg.sE[atE + 3]),
                        sI: VectorMath.Lanes(seg.sI[at], seg.sI[at + 1], seg.sI[at + 2], seg.sI[at + 3]),
                        coupling: VectorMath.Lanes(seg.coupling[at], seg.coupling[at + 1], seg.coupling[at + 2], seg.coupling[at + 3]),
                        jI: VectorMath.Lanes(ji[i4], ji[i4 + 1], ji[i4 + 2], ji[i4 + 3]))
                    for q in 0..<4 {
                        let o = 7 * (i4 + q)
                        entries[o] = j.ee[q]; entries[o + 1] = j.ei[q]; entries[o + 2] = j.ie[q]; entries[o + 3] = j.ii[q]
                        entries[o + 4] = j.ec[q]; entries[o + 5] = j.kE[q]; entries[o + 6] = j.kI[q]
                    }
                    i4 += 4
                }
                for i in i4..<n {
                    let j = model.jacobianEntries(sE: seg.sE[(local + d) * n + i], sI: seg.sI[local * n + i],
                                                  coupling: seg.coupling[local * n + i], jI: ji[i])
                    let o = 7 * i
                    entries[o] = j.ee; entries[o + 1] = j.ei; entries[o + 2] = j.ie; entries[o + 3] = j.ii
                    entries[o + 4] = j.ec; entries[o + 5] = j.kE; entries[o + 6] = j.kI
                }
            }
            for local in stride(from: steps - 1, through: 0, by: -1) {
                jacobians(at: local)
                for i in 0..<n {
                    let k = (local + 1) * n + i
                    let lE = seg.clampedE[k] ? 0 : gE[(local + 1 + d) * n + i], lI = seg.clampedI[k] ? 0 : gI[k]
                    if lE == 0 && lI == 0 { continue }
                    let e = seg.sE[(local + d) * n + i], inh = seg.sI[local * n + i], ci = seg.coupling[local * n + i]
                    let o = 7 * i
                    let jac = (ee: entries[o], ei: entries[o + 1], ie: entries[o + 2], ii: entries[o + 3], ec: entries[o + 4],
                               kE: entries[o + 5], kI: entries[o + 6])
                    gE[(local + d) * n + i] += lE * (1 + dt * jac.ee) + lI * dt * jac.ie
                    gI[local * n + i] += lE * dt * jac.ei + lI * (1 + dt * jac.ii)
                    let lc = lE * dt * jac.ec
                    if lc != 0 {
                        let range = edgeStart[i]..<edgeStart[i + 1]
                        gE.withUnsafeMutableBufferPointer { g in
                            let base = g.baseAddress! + local * n
                            for e in range { base[offsetPointer[e]] += weightPointer[e] * lc }
                        }
                        if weights {
                            seg.sE.withUnsafeBufferPointer { history in
                                acc.weight.withUnsafeMutableBufferPointer { w in
                                    let base = history.baseAddress! + local * n
                                    for e in range { w[e] += lc * base[offsetPointer[e]] }
                                }
                            }
                        }
                    }
                    let a = dt * lE * jac.kE, bI = dt * lI * jac.kI
                    acc.coupling[i] += a * ci
                    acc.recurrent[i] += a * e
                    acc.inhibition[i] -= a * inh
                    acc.nmda[i] += a * (p.wPlus * e + p.g * ci) + bI * e
                    acc.drive[i] += a * p.wE + bI * p.wI
                    if scale != 0 { acc.sigma += rootDt * (lE * seg.xiE[local * n + i] + lI * seg.xiI[local * n + i]) }
                }
            }
            carry.gE = Array(gE[0..<((d + 1) * n)])
            carry.gI = Array(gI[0..<n])
            carry.balloon = lambdaBalloon
        }
    }

    /// Edge weights and offsets in memory allocated once per gradient computation.
    final class EdgeTable {
        let weights: UnsafeMutablePointer<Double>
        let offsets: UnsafeMutablePointer<Int>
        init(weights w: [Double], offsets o: [Int]) {
            weights = .allocate(capacity: max(w.count, 1))
            offsets = .allocate(capacity: max(o.count, 1))
            weights.initialize(from: w, count: w.count)
            offsets.initialize(from: o, count: o.count)
        }
        deinit { weights.deallocate(); offsets.deallocate() }
    }
}
