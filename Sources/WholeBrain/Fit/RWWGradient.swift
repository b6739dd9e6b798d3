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

    public static func lossAndGradient(spec: SimulationSpec<ReducedWongWang>, empiricalFC: Matrix,
                                       parameters: [Parameter]) throws -> Result {
        guard spec.integrator == .euler else {
            throw WholeBrainError.badValue(source: "--integrator", value: spec.integrator.rawValue, expected: "euler for gradients")
        }
        guard spec.noise.kind != .ou else {
            throw WholeBrainError.badValue(source: "--noise", value: "ou", expected: "white or none for gradients")
        }
        let p = spec.model.parameters
        let model = spec.model
        let c = spec.connectome.weights
        let n = c.rows
        let dt = spec.dt, total = spec.totalSteps, m = spec.boldSubsteps
        let sigma = spec.noise.isSilent ? 0 : spec.noise.sigma
        let scale = sigma * dt.squareRoot()
        let h = Double(m) * dt / 1000
        let balloon = spec.balloon
        var delays = [Int](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n where c[i, j] != 0 {
            delays[i * n + j] = DelayCoupling.delaySteps(length: spec.connectome.lengths[i, j], speed: spec.conductionSpeed, dt: dt)
        } }
        let ji = spec.nodeParameters[0]
        // ---- forward, keeping what the backward pass needs
        let generator = CounterNoise(seed: spec.seed)
        var sE = [Double](repeating: 0, count: (total + 1) * n), sI = sE
        var clampedE = [Bool](repeating: false, count: (total + 1) * n), clampedI = clampedE
        var xiE = [Double](repeating: 0, count: total * n), xiI = xiE
        var coupling = [Double](repeating: 0, count: total * n)
        for i in 0..<n {
            sE[i] = spec.initialState?[0][i] ?? 0.2 * generator.uniform(node: i, step: CounterNoise.maxSteps - 1, variable: 0)
            sI[i] = spec.initialState?[1][i] ?? 0.2 * generator.uniform(node: i, step: CounterNoise.maxSteps - 1, variable: 1)
        }
        let boldSteps = total / m
        var balloonStates = [BalloonWindkessel.Point](repeating: .init(), count: (boldSteps + 1) * n)
        var zMeans = [Double](repeating: 0, count: boldSteps * n)
        var samples: [(boldStep: Int, row: Int)] = []
        for step in 0..<total {
            for i in 0..<n {
                var ci = 0.0
                for j in 0..<n where c[i, j] != 0 { ci += c[i, j] * sE[max(step - delays[i * n + j], 0) * n + j] }
                coupling[step * n + i] = ci
                let d = model.drift(sE: sE[step * n + i], sI: sI[step * n + i], coupling: ci, jI: ji[i])
                if scale != 0 {
                    xiE[step * n + i] = generator.normal(node: i, step: UInt64(step), variable: 0)
                    xiI[step * n + i] = generator.normal(node: i, step: UInt64(step), variable: 1)
                }
                let e1 = sE[step * n + i] + dt * d.dE + scale * xiE[step * n + i]
                let i1 = sI[step * n + i] + dt * d.dI + scale * xiI[step * n + i]
                clampedE[(step + 1) * n + i] = !(0...1).contains(e1)
                clampedI[(step + 1) * n + i] = !(0...1).contains(i1)
                sE[(step + 1) * n + i] = min(max(e1, 0), 1)
                sI[(step + 1) * n + i] = min(max(i1, 0), 1)
            }
            if (step + 1) % m == 0 {
                let b = (step + 1) / m - 1
                for i in 0..<n {
                    var z = 0.0
                    for s in (step + 1 - m + 1)...(step + 1) { z += sE[s * n + i] }
                    zMeans[b * n + i] = z / Double(m)
                    balloonStates[(b + 1) * n + i] = balloon.rk4Step(balloonStates[b * n + i], z: zMeans[b * n + i], h: h)
                }
                let done = step + 1
                if done > spec.transientSteps, (done - spec.transientSteps) % spec.stepsPerTR == 0, samples.count < spec.sampleCount {
                    samples.append((b + 1, samples.count))
                }
            }
        }
        var bold = Matrix(rows: samples.count, columns: n)
        for (b, row) in samples { for i in 0..<n { bold[row, i] = balloon.bold(balloonStates[b * n + i]) } }
        let objective = FCObjective.surprise(regionsByTime: bold.transposed, empiricalFC: empiricalFC)
        // ---- backward
        var lambdaBalloon = [BalloonWindkessel.Point](repeating: .init(s: 0, f: 0, v: 0, q: 0), count: n)
        var gE = [Double](repeating: 0, count: (total + 1) * n), gI = gE
        var grad: [Parameter: Double] = [:]
        for q in parameters { grad[q] = 0 }
        let sampleAt = Dictionary(uniqueKeysWithValues: samples.map { ($0.boldStep, $0.row) })
        for b in stride(from: boldSteps - 1, through: 0, by: -1) {
            if let row = sampleAt[b + 1] {
                for i in 0..<n {
                    let w = objective.gradient[i, row]
                    let gb = balloon.boldGradient(balloonStates[(b + 1) * n + i])
                    lambdaBalloon[i] = BalloonWindkessel.Point(s: lambdaBalloon[i].s + w * gb.s, f: lambdaBalloon[i].f + w * gb.f,
                                                              v: lambdaBalloon[i].v + w * gb.v, q: lambdaBalloon[i].q + w * gb.q)
                }
            }
            for i in 0..<n {
                let (lx, lz) = balloon.rk4StepAdjoint(balloonStates[b * n + i], z: zMeans[b * n + i], h: h, lambdaBalloon[i])
                lambdaBalloon[i] = lx
                let first = b * m + 1
                for s in first...(first + m - 1) { gE[s * n + i] += lz / Double(m) }
            }
        }
        let rootDt = dt.squareRoot()
        for step in stride(from: total - 1, through: 0, by: -1) {
            for i in 0..<n {
                let k = (step + 1) * n + i
                let lE = clampedE[k] ? 0 : gE[k], lI = clampedI[k] ? 0 : gI[k]
                if lE == 0 && lI == 0 { continue }
                let e = sE[step * n + i], inh = sI[step * n + i], ci = coupling[step * n + i]
                let jac = model.jacobianEntries(sE: e, sI: inh, coupling: ci, jI: ji[i])
                gE[step * n + i] += lE * (1 + dt * jac.ee) + lI * dt * jac.ie
                gI[step * n + i] += lE * dt * jac.ei + lI * (1 + dt * jac.ii)
                let lc = lE * dt * jac.ec
                if lc != 0 {
                    for j in 0..<n where c[i, j] != 0 { gE[max(step - delays[i * n + j], 0) * n + j] += c[i, j] * lc }
                }
                // Parameter partials of the drift.
                let a = dt * lE * jac.kE, bI = dt * lI * jac.kI
                for q in parameters {
                    switch q {
                    case .g: grad[q]! += a * p.jNMDA * ci
                    case .wPlus: grad[q]! += a * p.jNMDA * e
                    case .jI: grad[q]! += a * (-inh)
                    case let .nodeJI(node) where node == i: grad[q]! += a * (-inh)
                    case .nodeJI: break
                    case .jNMDA: grad[q]! += a * (p.wPlus * e + p.g * ci) + bI * e
                    case .i0: grad[q]! += a * p.wE + bI * p.wI
                    case .sigma: grad[q]! += rootDt * (lE * xiE[step * n + i] + lI * xiI[step * n + i])
                    }
                }
            }
        }
        let clamps = clampedE.filter { $0 }.count + clampedI.filter { $0 }.count
        return Result(loss: objective.loss, fcCorrelation: objective.correlation, gradient: grad, bold: bold, clampedUpdates: clamps)
    }
}
