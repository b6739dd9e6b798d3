import Foundation

/// What drives the haemodynamics: a state variable or an observable of the model.
public enum BoldSource: Sendable, Equatable {
    case variable(Int)
    case observable(Int)

    /// Resolves a name (a variable or observable of the model, or "rate" for the first
    /// observable whose name starts with "rate").
    public static func named<M: NeuralMassModel>(_ name: String, for _: M.Type) throws -> BoldSource {
        if let v = M.variables.firstIndex(where: { $0.name == name }) { return .variable(v) }
        if let o = M.observables.firstIndex(of: name) { return .observable(o) }
        if name == "rate", let o = M.observables.firstIndex(where: { $0.hasPrefix("rate") }) { return .observable(o) }
        throw WholeBrainError.badValue(source: "--bold-input", value: name,
                                       expected: "a variable or observable of \(M.name): \((M.variables.map(\.name) + M.observables).joined(separator: ", "))")
    }

    public func name<M: NeuralMassModel>(for _: M.Type) -> String {
        switch self {
        case let .variable(v): return M.variables[v].name
        case let .observable(o): return M.observables[o]
        }
    }
}

/// Everything that defines a simulation, as one immutable, self-checking value: the model
/// and its parameters, per-node parameters, the prepared connectome, coupling, integrator,
/// noise, the step, the duration, the observers and the seed. Build it, then hand it to
/// `NetworkSimulator`.
public struct SimulationSpec<Model: NeuralMassModel>: Sendable {
    public let model: Model
    /// Per-node values of the model's node parameters, [parameter][node].
    public let nodeParameters: [[Double]]
    public let connectome: Connectome
    public let coupling: CouplingKind
    public let integrator: IntegratorKind
    public let noise: NoiseSpec
    /// Integration step of the neural model, ms.
    public let dt: Double
    /// Recorded duration after the transient, s.
    public let duration: Double
    /// Simulated time discarded before recording, s (rounded up to whole haemodynamic steps).
    public let transient: Double
    /// BOLD sampling interval (repetition time), s.
    public let tr: Double
    /// Longest haemodynamic step, ms: the Balloon model is integrated with RK4 at the largest
    /// whole number of neural steps dividing the TR that fits in it (see `boldSubsteps`).
    public let boldStep: Double
    /// Axonal conduction speed, m/s (= mm/ms); `.infinity` for no delays.
    public let conductionSpeed: Double
    public let seed: UInt64
    public let boldInput: BoldSource
    public let balloon: BalloonWindkessel
    /// Period of the temporally averaged state output, ms; nil for none.
    public let statePeriod: Double?
    /// Initial state, [variable][node]; nil draws it from the seed.
    public let initialState: [[Double]]?
    /// Whether to integrate the haemodynamics and record BOLD (off for analyses of the
    /// neural dynamics alone, whose variables need not be sensible BOLD inputs).
    public let recordBold: Bool

    public init(model: Model, nodeParameters: [String: [Double]] = [:], connectome: Connectome,
                coupling: CouplingKind? = nil, integrator: IntegratorKind = .euler, noise: NoiseSpec? = nil,
                dt: Double = 0.1, duration: Double, transient: Double = 0, tr: Double = 0.72, boldStep: Double = 10,
                conductionSpeed: Double = 20, seed: UInt64 = 1, boldInput: BoldSource? = nil,
                balloon: BalloonWindkessel = .init(), statePeriod: Double? = nil,
                initialState: [[Double]]? = nil, recordBold: Bool = true) throws {
        func bad(_ name: String, _ value: Double, _ expected: String) -> WholeBrainError {
            .badValue(source: name, value: "\(value)", expected: expected)
        }
        guard dt.isFinite, dt > 0 else { throw bad("--dt", dt, "a positive step in ms (e.g. 0.1)") }
        guard duration.isFinite, duration > 0 else { throw bad("--duration", duration, "a positive duration in s") }
        guard tr.isFinite, tr > 0 else { throw bad("--tr", tr, "a positive repetition time in s (e.g. 0.72)") }
        guard transient.isFinite, transient >= 0 else { throw bad("--transient", transient, "a non-negative time in s") }
        guard conductionSpeed > 0, !conductionSpeed.isNaN else {
            throw bad("--speed", conductionSpeed, "a positive conduction speed in m/s (or inf for no delays)")
        }
        let trSteps = tr * 1000 / dt
        guard abs(trSteps - trSteps.rounded()) <= 1e-9 * max(1, trSteps), trSteps.rounded() >= 1 else {
            throw bad("--tr", tr, "a whole multiple of dt = \(dt) ms (TR / dt = \(trSteps))")
        }
        guard duration >= tr else { throw bad("--duration", duration, "at least one TR (\(tr) s)") }
        guard boldStep.isFinite, boldStep >= dt else { throw bad("--bold-step", boldStep, "a haemodynamic step in ms of at least dt = \(dt) ms (default 10)") }
        if let statePeriod {
            let k = statePeriod / dt
            guard statePeriod > 0, abs(k - k.rounded()) <= 1e-9 * max(1, k), k.rounded() >= 1 else {
                throw bad("--save-states", statePeriod, "a positive multiple of dt = \(dt) ms")
            }
        }
        for spec in Model.parameterSpecs {
            let v = model.parameters[keyPath: spec.keyPath]
            guard v.isFinite, spec.range.contains(v) else {
                throw bad(spec.name, v, "a value in [\(spec.range.lowerBound), \(spec.range.upperBound)] \(spec.unit)")
            }
        }
        let noise = noise ?? Model.defaultNoise
        guard noise.sigma.isFinite, noise.sigma >= 0 else { throw bad("--sigma", noise.sigma, "a non-negative noise amplitude") }
        guard noise.tau.isFinite, noise.tau > 0 else { throw bad("--noise-tau", noise.tau, "a positive OU time constant in ms") }
        guard noise.mean.isFinite else { throw bad("--noise-mean", noise.mean, "a finite OU mean") }
        if integrator == .rk4 && noise.kind == .white && noise.sigma != 0 {
            throw WholeBrainError.badValue(source: "--integrator", value: "rk4",
                                           expected: "a deterministic run (--sigma 0 or --noise none), or --integrator heun/euler with noise")
        }
        let n = connectome.regionCount
        var perNode: [[Double]] = []
        for (k, name) in Model.nodeParameterNames.enumerated() {
            let values = nodeParameters[name] ?? [Double](repeating: model.nodeParameterDefaults[k], count: n)
            guard values.count == n else {
                throw WholeBrainError.badValue(source: "\(name) per node", value: "\(values.count) values", expected: "\(n), one per region")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) { throw bad("\(name)[\(i)]", values[i], "a finite value") }
            perNode.append(values)
        }
        if let unknown = nodeParameters.keys.first(where: { !Model.nodeParameterNames.contains($0) }) {
            throw WholeBrainError.badValue(source: "per-node parameter", value: unknown,
                                           expected: "one of \(Model.name)'s node parameters: \(Model.nodeParameterNames.joined(separator: ", "))")
        }
        self.model = model
        self.nodeParameters = perNode
        self.connectome = connectome
        self.coupling = coupling ?? Model.defaultCoupling
        self.integrator = integrator
        self.noise = noise
        self.dt = dt
        self.duration = duration
        self.transient = transient
        self.tr = tr
        self.boldStep = boldStep
        self.conductionSpeed = conductionSpeed
        self.seed = seed
        self.boldInput = boldInput ?? Model.defaultBoldInput
        self.balloon = balloon
        self.statePeriod = statePeriod
        if let initialState {
            guard initialState.count == Model.variables.count, initialState.allSatisfy({ $0.count == n }),
                  initialState.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
                throw WholeBrainError.badValue(source: "initial state", value: "\(initialState.count) variables",
                                               expected: "\(Model.variables.count) variables x \(n) finite values")
            }
        }
        self.initialState = initialState
        self.recordBold = recordBold
        guard UInt64(totalSteps) < CounterNoise.maxSteps - 1 else {
            throw bad("--duration", duration, "fewer than 2^32 - 1 integration steps")
        }
    }

    /// Neural steps per TR.
    public var stepsPerTR: Int { Int((tr * 1000 / dt).rounded()) }

    /// Neural steps per haemodynamic step: the largest divisor of steps-per-TR whose span
    /// is at most `boldStep` (default 10 ms). The Balloon model (time constants of seconds)
    /// is integrated with RK4 over that span from the mean of its input over it; holding the
    /// input at its mean makes the error second order in the step. Measured on subject
    /// 101309 (300 s, G 2, seed 1) against 0.5 ms: worst BOLD difference 5.7e-4 of the
    /// region's spread at 10 ms, 1.4e-4 at 5 ms, 6e-6 at 1 ms; FC similarity 1 - 1e-9.
    /// `BalloonTests` checks the order and the size.
    public var boldSubsteps: Int {
        let limit = max(1, Int((boldStep / dt + 1e-9).rounded(.down)))
        return (1...min(limit, stepsPerTR)).last { stepsPerTR % $0 == 0 } ?? 1
    }

    /// Number of BOLD samples recorded: floor(duration / TR).
    public var sampleCount: Int { Int((duration / tr + 1e-9).rounded(.down)) }

    /// Neural steps discarded before recording (a whole number of haemodynamic steps).
    public var transientSteps: Int {
        let m = boldSubsteps
        return Int((transient * 1000 / dt / Double(m) - 1e-9).rounded(.up)) * m
    }

    public var totalSteps: Int { transientSteps + sampleCount * stepsPerTR }

    /// This spec with some of its settings changed (nil: kept), checked as a new one: what a
    /// fit, an adjoint or a test run changes without naming the model's parameters.
    /// `statePeriod` and `initialState` are replaced when given (`.some(nil)` clears them).
    public func with(model: Model? = nil, connectome: Connectome? = nil, noise: NoiseSpec? = nil, duration: Double? = nil,
                     transient: Double? = nil, seed: UInt64? = nil, statePeriod: Double?? = nil,
                     initialState: [[Double]]?? = nil, recordBold: Bool? = nil) throws -> SimulationSpec {
        try SimulationSpec(model: model ?? self.model, nodeParameters: Dictionary(uniqueKeysWithValues: zip(Model.nodeParameterNames, nodeParameters)),
                           connectome: connectome ?? self.connectome, coupling: coupling, integrator: integrator, noise: noise ?? self.noise,
                           dt: dt, duration: duration ?? self.duration, transient: transient ?? self.transient, tr: tr, boldStep: boldStep,
                           conductionSpeed: conductionSpeed, seed: seed ?? self.seed, boldInput: boldInput, balloon: balloon,
                           statePeriod: statePeriod ?? self.statePeriod, initialState: initialState ?? self.initialState,
                           recordBold: recordBold ?? self.recordBold)
    }
}
