import Foundation

/// Exact reverse-mode gradient of any loss on simulated BOLD with respect to a model's global
/// coupling and the noise amplitude, for every model whose network input is one linear sum of
/// an exchanged signal: the discrete adjoint of the engine's own steps, from the model's
/// analytic Jacobian (`NeuralMassModel.jacobian`) alone. The first step of one adjoint for
/// every model; `RWWGradient` still serves the reduced Wong-Wang fits and their other
/// parameters.
///
/// Forward: the engine itself (`NetworkSimulator`) records the state after every step
/// (`statePeriod` = dt, no transient; the trajectory is O(N T) in memory). With s = the
/// exchanged signal (`couplingSignal`, history s_j(m) = s_j(0) for m < 0), held delayed sums
/// h_i(n) = sum_{d_ij >= 1} C_ij s_j(n - d_ij) and zero-delay edges at the stage state y:
///   c_i(y) = post(h_i(n) + sum_{d_ij = 0} C_ij s_j(y), s_i(y))   (linear: the sum; diffusive: - s_i(y) sum_j C_ij)
///   Euler: x(n+1) = B(x + dt f(x, c(x)) + eta)
///   Heun:  x~ = B(x + dt f(x, c(x)) + eta), x(n+1) = B(x + dt/2 (f(x, c(x)) + f(x~, c(x~))) + eta)
/// with eta = sigma sqrt(dt) xi(n) on the model's noise variables (the engine's counter
/// normals, regenerated here) and B the variables' bounds (derivative zero where a bound
/// held). BOLD: the Balloon-Windkessel RK4 steps of the engine, driven by the mean over each
/// haemodynamic step of the BOLD input (a variable after each step, or an observable of the
/// step's first stage), sampled every TR after the transient.
///
/// Backward: the cotangent of BOLD (from the caller's loss) through `rk4StepAdjoint`, then
/// each step's vector-Jacobian products with the model's state and coupling Jacobians; the
/// cotangent of c_i flows to the delayed signals s_j(n - d_ij) through the same edge lists.
/// The global coupling p enters every model as p c (`globalCouplingParameter`), so
/// df/dp = c F_u(x, p c) with F_u the coupling Jacobian of the model at p = 1 (exact at p = 0
/// too); dL/dsigma = sum sqrt(dt) xi . (the state cotangents that eta reaches).
/// Not covered yet: sine coupling, several network sums or observable coupling (ALN),
/// intra-node delays, Ornstein-Uhlenbeck noise, RK4 (deterministic only), and any
/// dependence of per-node parameters on the coupling (feedback inhibition retuned with G).
public enum ModelAdjoint {
    public struct Result: Sendable {
        /// BOLD, samples x regions (the engine's, recomputed from its recorded states).
        public let bold: Matrix
        /// dL/d(global coupling) and dL/dsigma.
        public let coupling: Double, sigma: Double
    }

    /// The gradient of a loss L(BOLD) for `spec`; `cotangent` receives the run's BOLD (samples
    /// x regions) and returns dL/dBOLD of the same shape.
    public static func gradient<Model: NeuralMassModel>(spec: SimulationSpec<Model>,
                                                        cotangent: (Matrix) throws -> Matrix) throws -> Result {
        try check(spec)
        let n = spec.connectome.regionCount, vars = Model.variables.count, dt = spec.dt
        let steps = spec.totalSteps
        let trajectory = try record(spec)
        let model = spec.model
        let lanes = NodeLanes(model: model, regions: n, nodeParameters: spec.nodeParameters)
        let parameterCount = lanes.parameterCount, observableCount = lanes.observableCount
        // Node-major scratch (node i's variable q at [i vars + q]), allocated once.
        let width = n * vars
        let buffers = UnsafeMutablePointer<Double>.allocate(capacity: 12 * width + 6 * n + 2 * vars * vars + 2 * vars + n * observableCount)
        defer { buffers.deallocate() }
        buffers.initialize(repeating: 0, count: 12 * width + 6 * n + 2 * vars * vars + 2 * vars + n * observableCount)
        let xs = buffers, stage = xs + width, f1 = stage + width, f2 = f1 + width, mu = f2 + width, nu = mu + width
        let first = nu + width, back = first + width, xi = back + width, gradients = xi + width, gradientsNext = gradients + width
        let spare = gradientsNext + width
        let c1 = spare + width, c2 = c1 + n, stageSignals = c2 + n, spareNodes = stageSignals + n
        let js = spareNodes + 3 * n, jc = js + vars * vars, jsUnit = jc + vars, jcUnit = jsUnit + vars * vars
        let observables = jcUnit + vars
        /// x(k) node-major into `into` (the trajectory holds variable v of node i at [(k vars + v) n + i]).
        func gather(_ k: Int, into out: UnsafeMutablePointer<Double>) {
            for v in 0..<vars { for i in 0..<n { out[i * vars + v] = trajectory[(k * vars + v) * n + i] } }
        }
        var exchanged = [Double](repeating: 0, count: (steps + 1) * n)
        exchanged.withUnsafeMutableBufferPointer { s in
            for k in 0...steps { gather(k, into: xs); lanes.signals(xs, into: s.baseAddress! + k * n) }
        }
        let signals = exchanged

        // Edges by target, delayed (d >= 1 steps) and instantaneous (d = 0), as flat lists:
        // target i's edges at start[i] ..< start[i + 1].
        var delayedStart = [0], delayedSource: [Int] = [], delayedWeight: [Double] = [], delayedSteps: [Int] = []
        var instantStart = [0], instantSource: [Int] = [], instantWeight: [Double] = []
        var rowSums = [Double](repeating: 0, count: n)
        for i in 0..<n {
            for j in 0..<n where spec.connectome.weights[i, j] != 0 {
                let w = spec.connectome.weights[i, j]
                let d = DelayCoupling.delaySteps(length: spec.connectome.lengths[i, j], speed: spec.conductionSpeed, dt: dt)
                if d >= 1 {
                    delayedSource.append(j); delayedWeight.append(w); delayedSteps.append(d)
                } else {
                    instantSource.append(j); instantWeight.append(w)
                }
                rowSums[i] += w
            }
            delayedStart.append(delayedSource.count); instantStart.append(instantSource.count)
        }
        // Immutable from here (closures then read them without exclusivity checks).
        let (dStart, dSource, dWeight, dSteps) = (delayedStart, delayedSource, delayedWeight, delayedSteps)
        let (iStart, iSource, iWeight, sums) = (instantStart, instantSource, instantWeight, rowSums)
        /// The held delayed sums h_i(k) of every node into `held` (the same for both stages of step k).
        let held = spareNodes
        func holdSums(_ k: Int) {
            for i in 0..<n {
                var h = 0.0
                for e in dStart[i]..<dStart[i + 1] { h += dWeight[e] * signals[max(k - dSteps[e], 0) * n + dSource[e]] }
                held[i] = h
            }
        }
        /// c for every node at stage states `ys` (node-major) of step k, into `c` (after `holdSums(k)`).
        func inputs(_ ys: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>) {
            lanes.signals(ys, into: stageSignals)
            for i in 0..<n {
                var sum = held[i]
                for e in iStart[i]..<iStart[i + 1] { sum += iWeight[e] * stageSignals[iSource[e]] }
                c[i] = spec.coupling.post(sum0: sum, sum1: 0, local: stageSignals[i], rowSum: sums[i])
            }
        }

        // BOLD input per step and the haemodynamics, forward.
        let substeps = spec.boldSubsteps, hBold = Double(substeps) * dt / 1000
        var z = [Double](repeating: 0, count: steps * n)
        for k in 0..<steps {
            switch spec.boldInput {
            case let .variable(v):
                for i in 0..<n { z[k * n + i] = trajectory[((k + 1) * vars + v) * n + i] }
            case let .observable(o):
                // The observable of the step's first stage, at x(k) with its input.
                gather(k, into: xs)
                holdSums(k)
                inputs(xs, into: c1)
                lanes.drift(xs, coupling: c1, into: f1, observables: observables)
                for i in 0..<n { z[k * n + i] = observables[i * observableCount + o] }
            }
        }
        let haemodynamicSteps = steps / substeps
        var zMean = [Double](repeating: 0, count: haemodynamicSteps * n)
        var balloon = [BalloonWindkessel.Point](repeating: .init(), count: (haemodynamicSteps + 1) * n)
        let inverse = 1 / Double(substeps)
        for m in 0..<haemodynamicSteps {
            for i in 0..<n {
                var sum = 0.0
                for k in (m * substeps)..<((m + 1) * substeps) { sum += z[k * n + i] }
                zMean[m * n + i] = sum * inverse
                balloon[(m + 1) * n + i] = spec.balloon.rk4Step(balloon[m * n + i], z: zMean[m * n + i], h: hBold)
            }
        }
        // Sample r is taken after haemodynamic step m(r) = (transient + (r + 1) TR) / substeps.
        let samples = spec.sampleCount
        func sampleStep(_ r: Int) -> Int { (spec.transientSteps + (r + 1) * spec.stepsPerTR) / substeps }
        var bold = Matrix(rows: samples, columns: n)
        for r in 0..<samples { for i in 0..<n { bold[r, i] = spec.balloon.bold(balloon[sampleStep(r) * n + i]) } }
        let boldCotangent = try cotangent(bold)
        guard boldCotangent.rows == samples, boldCotangent.columns == n else {
            throw WholeBrainError.badValue(source: "BOLD cotangent", value: "\(boldCotangent.rows) x \(boldCotangent.columns)",
                                           expected: "\(samples) x \(n), the shape of the BOLD")
        }

        // Haemodynamics, backward: the cotangent of each step's BOLD input.
        var sampleAt = [Int: Int]()
        for r in 0..<samples { sampleAt[sampleStep(r)] = r }
        var zCotangent = [Double](repeating: 0, count: steps * n)
        for i in 0..<n {
            var lambda = BalloonWindkessel.Point(s: 0, f: 0, v: 0, q: 0)
            for m in stride(from: haemodynamicSteps - 1, through: 0, by: -1) {
                if let r = sampleAt[m + 1] {
                    let g = spec.balloon.boldGradient(balloon[(m + 1) * n + i])
                    lambda = lambda + boldCotangent[r, i] * g
                }
                let (previous, input) = spec.balloon.rk4StepAdjoint(balloon[m * n + i], z: zMean[m * n + i], h: hBold, lambda)
                lambda = previous
                for k in (m * substeps)..<((m + 1) * substeps) { zCotangent[k * n + i] = input * inverse }
            }
        }

        // The network, backward.
        let generator = CounterNoise(seed: spec.seed)
        let noisy = !spec.noise.isSilent && spec.noise.sigma != 0
        let noiseScale = noisy ? spec.noise.sigma * dt.squareRoot() : 0
        let lower = Model.variables.map { $0.bounds?.lowerBound ?? -.infinity }
        let upper = Model.variables.map { $0.bounds?.upperBound ?? .infinity }
        let couplingName = Model.globalCouplingParameter
        guard let couplingSpec = Model.parameterSpecs.first(where: { $0.name == couplingName }) else {
            throw WholeBrainError.badValue(source: "model \(Model.name)", value: couplingName, expected: "a parameter of the model")
        }
        let p = model.parameters[keyPath: couplingSpec.keyPath]
        var unitParameters = model.parameters
        unitParameters[keyPath: couplingSpec.keyPath] = 1
        let unitModel = Model(parameters: unitParameters)
        // The cotangent of x(k + 1) while step k is undone (node-major; only x(k) receives it,
        // at step k, so one buffer rolls back), and those of the delayed signals.
        let lambda = UnsafeMutablePointer<Double>.allocate(capacity: width)
        lambda.initialize(repeating: 0, count: width)
        defer { lambda.deallocate() }
        let signalCotangent = UnsafeMutablePointer<Double>.allocate(capacity: (steps + 1) * n)
        signalCotangent.initialize(repeating: 0, count: (steps + 1) * n)
        defer { signalCotangent.deallocate() }
        var dCoupling = 0.0, dSigma = 0.0
        let nodeParameters = lanes.nodeParameters
        let diffusive = spec.coupling == .diffusive

        /// Adds the cotangent of a stage's drift term (scale f(y, c(y)), with `mu` the cotangent
        /// of the result) to the stage states `y` (`into`: the state Jacobian, zero-delay edges
        /// and the diffusive term) and to the delayed signals of step k; the coupling's share
        /// to dCoupling. One Jacobian per node.
        func pullStage(_ k: Int, _ ys: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ mu: UnsafePointer<Double>, scale: Double,
                       into stateCotangent: UnsafeMutablePointer<Double>) -> Double {
            var dCoupling = 0.0
            for i in 0..<n { model.couplingSignalGradient(state: ys + i * vars, into: gradients + i * vars) }
            for i in 0..<n {
                let y = ys + i * vars, m = mu + i * vars
                model.jacobian(state: y, coupling: c[i], node: nodeParameters + i * parameterCount, stateJacobian: js, couplingJacobian: jc)
                var a = 0.0
                for q in 0..<vars {
                    var sum = 0.0
                    for r in 0..<vars { sum += js[r * vars + q] * m[r] }
                    stateCotangent[i * vars + q] += scale * sum
                    a += jc[q] * m[q]
                }
                a *= scale
                if p == 0 {
                    unitModel.jacobian(state: y, coupling: 0, node: nodeParameters + i * parameterCount, stateJacobian: jsUnit, couplingJacobian: jcUnit)
                    var b = 0.0
                    for q in 0..<vars { b += jcUnit[q] * m[q] }
                    dCoupling += scale * b * c[i]
                } else {
                    dCoupling += a * c[i] / p
                }
                guard a != 0 else { continue }
                for e in iStart[i]..<iStart[i + 1] {
                    let j = iSource[e], wa = iWeight[e] * a
                    for q in 0..<vars { stateCotangent[j * vars + q] += wa * gradients[j * vars + q] }
                }
                for e in dStart[i]..<dStart[i + 1] {
                    signalCotangent[max(k - dSteps[e], 0) * n + dSource[e]] += dWeight[e] * a
                }
                if diffusive {
                    for q in 0..<vars { stateCotangent[i * vars + q] -= sums[i] * a * gradients[i * vars + q] }
                }
            }
            return dCoupling
        }

        for k in stride(from: steps - 1, through: 0, by: -1) {
            gather(k, into: xs)
            // The cotangent of x(k + 1): from later steps, its own signal and its BOLD input.
            gather(k + 1, into: spare)
            for i in 0..<n { model.couplingSignalGradient(state: spare + i * vars, into: gradientsNext + i * vars) }
            for i in 0..<n {
                for q in 0..<vars {
                    mu[i * vars + q] = lambda[i * vars + q] + signalCotangent[(k + 1) * n + i] * gradientsNext[i * vars + q]
                }
                if case let .variable(v) = spec.boldInput { mu[i * vars + v] += zCotangent[k * n + i] }
            }
            xi.update(repeating: 0, count: width)
            if noisy {
                for v in Model.noiseVariables { for i in 0..<n { xi[i * vars + v] = generator.normal(node: i, step: UInt64(k), variable: UInt64(v)) } }
            }
            holdSums(k)
            inputs(xs, into: c1)
            lanes.drift(xs, coupling: c1, into: f1)
            back.update(repeating: 0, count: width)       // cotangent of x(k)
            switch spec.integrator {
            case .euler:
                for i in 0..<n {
                    for q in 0..<vars {
                        let a = i * vars + q
                        let next = xs[a] + dt * f1[a] + noiseScale * xi[a]
                        if next < lower[q] || next > upper[q] { mu[a] = 0 }
                        back[a] += mu[a]
                        dSigma += dt.squareRoot() * xi[a] * mu[a]
                    }
                }
                dCoupling += pullStage(k, xs, c1, mu, scale: dt, into: back)
            case .heun:
                for i in 0..<n {
                    for q in 0..<vars { let a = i * vars + q; stage[a] = min(max(xs[a] + dt * f1[a] + noiseScale * xi[a], lower[q]), upper[q]) }
                }
                inputs(stage, into: c2)
                lanes.drift(stage, coupling: c2, into: f2)
                for i in 0..<n {
                    for q in 0..<vars {
                        let a = i * vars + q
                        let next = xs[a] + 0.5 * dt * (f1[a] + f2[a]) + noiseScale * xi[a]
                        if next < lower[q] || next > upper[q] { mu[a] = 0 }
                    }
                }
                // x(k+1) = x + dt/2 f1 + dt/2 f2(stage) + eta.
                nu.update(repeating: 0, count: width)     // cotangent of the stage state
                dCoupling += pullStage(k, stage, c2, mu, scale: 0.5 * dt, into: nu)
                for i in 0..<n {
                    for q in 0..<vars {
                        let a = i * vars + q
                        let raw = xs[a] + dt * f1[a] + noiseScale * xi[a]
                        if raw < lower[q] || raw > upper[q] { nu[a] = 0 }
                        back[a] += mu[a] + nu[a]
                        dSigma += dt.squareRoot() * xi[a] * (mu[a] + nu[a])
                        // f1 enters with dt/2 (corrector) and dt (predictor): mu + 2 (masked) nu.
                        first[a] = mu[a] + 2 * nu[a]
                    }
                }
                dCoupling += pullStage(k, xs, c1, first, scale: 0.5 * dt, into: back)
            case .rk4:
                preconditionFailure("checked")
            }
            if case let .observable(o) = spec.boldInput {
                for i in 0..<n {
                    _ = model.observableGradient(o, state: xs + i * vars, node: nodeParameters + i * parameterCount, into: spare + i * vars)
                    for q in 0..<vars { back[i * vars + q] += zCotangent[k * n + i] * spare[i * vars + q] }
                }
            }
            lambda.update(from: back, count: width)
        }
        return Result(bold: bold, coupling: dCoupling, sigma: noisy ? dSigma : 0)
    }

    /// What the adjoint covers, as a clear error otherwise.
    static func check<Model: NeuralMassModel>(_ spec: SimulationSpec<Model>) throws {
        func refuse(_ what: String, _ value: String, _ expected: String) -> WholeBrainError {
            .badValue(source: what, value: value, expected: expected + " (the generic adjoint does not cover it yet)")
        }
        guard Model.coupledObservable == nil, Model.couplingWeightPowers == [1], Model.localDelayObservables.isEmpty else {
            throw refuse("--model", Model.name, "a model whose network input is one linear sum of its exchanged signal")
        }
        guard spec.coupling != .sine else { throw refuse("--coupling", "sine", "linear or diffusive coupling") }
        guard spec.integrator != .rk4 else { throw refuse("--integrator", "rk4", "euler or heun") }
        guard spec.noise.isSilent || spec.noise.sigma == 0 || spec.noise.kind == .white else {
            throw refuse("--noise", "\(spec.noise.kind)", "white noise (or none)")
        }
        guard spec.recordBold else { throw refuse("BOLD", "off", "a run that records BOLD") }
        if case let .observable(o) = spec.boldInput {
            let x = Model.variables.map { 0.5 * ($0.initialRange.lowerBound + $0.initialRange.upperBound) }
            guard spec.model.observableGradient(o, state: x, node: spec.model.nodeParameterDefaults) != nil else {
                throw refuse("--bold-input", Model.observables[o], "a variable, or an observable of the state alone with its gradient")
            }
        }
    }

    /// The engine's run of `spec` from t = 0 with the state after every step: x(k), k = 0 ...
    /// totalSteps, as [(k * variables + v) * regions + i].
    static func record<Model: NeuralMassModel>(_ spec: SimulationSpec<Model>) throws -> [Double] {
        let n = spec.connectome.regionCount, vars = Model.variables.count, steps = spec.totalSteps
        let trs = (steps + spec.stepsPerTR - 1) / spec.stepsPerTR
        let taping = try spec.with(duration: Double(trs) * spec.tr, transient: 0, statePeriod: .some(spec.dt), recordBold: false)
        let run = try NetworkSimulator(spec: taping).run()
        guard let states = run.states, run.stateSampleCount >= steps else {
            throw WholeBrainError.badValue(source: "adjoint", value: "no recorded states", expected: "the state after every step")
        }
        var x = [Double](repeating: 0, count: (steps + 1) * vars * n)
        // x(0): the spec's, or the engine's draw from the seed (`NodeBlockIntegrator.reset`).
        let generator = CounterNoise(seed: spec.seed)
        for v in 0..<vars { for i in 0..<n { x[v * n + i] = NodeBlockIntegrator<Model>.initialValue(spec, variable: v, node: i, generator: generator) } }
        x.replaceSubrange((vars * n)..<((steps + 1) * vars * n), with: states[0..<(steps * vars * n)])
        return x
    }
}
