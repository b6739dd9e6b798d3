/// A simulation described without naming the model's Swift type: what the command line and
/// job specs build. `NeuralMassModel.simulate` turns it into a checked `SimulationSpec`.
public struct SimulationRequest: Sendable {
    public var connectome: Connectome
    public var parameterSet: String?
    public var assignments: [(name: String, value: Double)] = []
    public var nodeParameters: [String: [Double]] = [:]
    public var coupling: CouplingKind?
    public var integrator: IntegratorKind = .euler
    public var noiseKind: NoiseSpec.Kind?
    public var sigma: Double?
    public var noiseTau: Double?
    public var noiseMean: Double?
    public var dt = 0.1
    public var duration: Double
    public var transient = 0.0
    public var tr = 0.72
    /// Longest haemodynamic step, ms.
    public var boldStep = 10.0
    public var conductionSpeed = 20.0
    public var seed: UInt64 = 1
    public var boldInput: String?
    public var statePeriod: Double?

    public init(connectome: Connectome, duration: Double) {
        self.connectome = connectome
        self.duration = duration
    }
}

/// A finished run with everything a summary needs, independent of the model's Swift type.
public struct SimulationRun: Sendable {
    public let result: SimulationResult
    public let model: String
    public let parameters: [String: Double]
    public let variables: [String]
    public let observables: [String]
    public let boldInput: String
    public let coupling: CouplingKind
    public let integrator: IntegratorKind
    public let noise: NoiseSpec
    public let dt: Double, duration: Double, transientSeconds: Double, tr: Double, conductionSpeed: Double
    public let seed: UInt64
    public let boldStepMs: Double
    public let delaySteps: (min: Int, max: Int)
    public let regionLabels: [String]
}

extension NeuralMassModel {
    /// Builds the spec for this model from a request and runs it, serially.
    public static func simulate(_ request: SimulationRequest, progress: ((Double) -> Void)? = nil) throws -> SimulationRun {
        try simulate(request, communicator: SerialCommunicator(), progress: progress)
    }

    /// Builds the spec for this model from a request and runs it over the ranks of
    /// `communicator` (one contiguous node block each; every rank gets the whole result).
    /// Each model's witness is specialised for that model, so the hot loop calls its drift directly.
    public static func simulate(_ request: SimulationRequest, communicator: Communicator,
                                progress: ((Double) -> Void)? = nil) throws -> SimulationRun {
        // Set-up failures (the same on every rank) are agreed before the first exchange.
        let (spec, simulator) = try communicator.collectively { () throws -> (SimulationSpec<Self>, NetworkSimulator<Self>) in
            let spec = try makeSpec(request)
            let n = spec.connectome.regionCount
            guard communicator.size <= n else {
                throw WholeBrainError.badValue(source: "ranks", value: "\(communicator.size)", expected: "at most one rank per node (\(n) nodes)")
            }
            return (spec, try NetworkSimulator(spec: spec, blocks: NetworkSimulator<Self>.blocks(nodes: n, parts: communicator.size)))
        }
        let result = try simulator.run(communicator: communicator, progress: progress)
        var parameters: [String: Double] = [:]
        for p in parameterSpecs { parameters[p.name] = spec.model.parameters[keyPath: p.keyPath] }
        return SimulationRun(
            result: result, model: name, parameters: parameters, variables: variables.map(\.name),
            observables: observables, boldInput: spec.boldInput.name(for: Self.self), coupling: spec.coupling,
            integrator: spec.integrator, noise: spec.noise, dt: spec.dt, duration: spec.duration,
            transientSeconds: Double(spec.transientSteps) * spec.dt / 1000, tr: spec.tr,
            conductionSpeed: spec.conductionSpeed, seed: spec.seed, boldStepMs: Double(spec.boldSubsteps) * spec.dt,
            delaySteps: (simulator.coupling.minDelay, simulator.coupling.maxDelay), regionLabels: spec.connectome.labels)
    }

    /// Checks a request without running it; returns the number of integration steps.
    public static func validate(_ request: SimulationRequest) throws -> Int { try makeSpec(request).totalSteps }

    public static var parameterNames: [String] { parameterSpecs.map(\.name) }
    /// Each parameter's unit, by name.
    public static var parameterUnits: [String: String] { Dictionary(uniqueKeysWithValues: parameterSpecs.map { ($0.name, $0.unit) }) }

    public static func makeSpec(_ r: SimulationRequest) throws -> SimulationSpec<Self> {
        try checkAvailable()
        let parameters = try Self.parameters(set: r.parameterSet, assignments: r.assignments)
        var noise = defaultNoise
        if let kind = r.noiseKind { noise.kind = kind }
        if let sigma = r.sigma { noise.sigma = sigma }
        if let tau = r.noiseTau { noise.tau = tau }
        if let mean = r.noiseMean { noise.mean = mean }
        return try SimulationSpec(
            model: Self(parameters: parameters), nodeParameters: r.nodeParameters, connectome: r.connectome,
            coupling: r.coupling, integrator: r.integrator, noise: noise, dt: r.dt, duration: r.duration,
            transient: r.transient, tr: r.tr, boldStep: r.boldStep, conductionSpeed: r.conductionSpeed, seed: r.seed,
            boldInput: try r.boldInput.map { try BoldSource.named($0, for: Self.self) }, statePeriod: r.statePeriod)
    }
}

/// The models WholeBrain offers, by command-line name: every type in Models/ that conforms to
/// `NeuralMassModel` (`declared`, written at build time by ModelCatalogPlugin), the default
/// model first. A new model is one file in Models/; nothing here changes.
public enum ModelCatalog {
    /// The model `--model` means when it is not given.
    public static let defaultModel: any NeuralMassModel.Type = ReducedWongWang.self

    public static let all: [any NeuralMassModel.Type] =
        [defaultModel] + declared.filter { ObjectIdentifier($0) != ObjectIdentifier(defaultModel) }

    public static func named(_ name: String) throws -> any NeuralMassModel.Type {
        guard let m = all.first(where: { $0.name == name }) else {
            throw WholeBrainError.badValue(source: "--model", value: name, expected: "one of \(all.map { $0.name }.joined(separator: ", "))")
        }
        return m
    }
}

extension NeuralMassModel {
    /// A readable description: equations' source, variables, coupling, noise and parameters.
    public static func describe() -> String {
        var lines = ["\(name): \(title)", "reference: \(reference)", ""]
        lines.append("state variables (initial range; bounds):")
        for (k, v) in variables.enumerated() {
            let marks = [k == coupledVariable ? "coupled" : nil, k == boldVariable ? "drives BOLD" : nil].compactMap { $0 }
            lines.append("  \(v.name) [\(v.unit)]  initial \(v.initialRange.lowerBound)...\(v.initialRange.upperBound)"
                         + (v.bounds.map { "; kept in \($0.lowerBound)...\($0.upperBound)" } ?? "")
                         + (marks.isEmpty ? "" : "  (\(marks.joined(separator: ", ")))"))
        }
        if !observables.isEmpty { lines.append("observables: \(observables.joined(separator: ", "))") }
        lines.append("default coupling: \(defaultCoupling.rawValue); default noise: \(defaultNoise.kind.rawValue), sigma \(defaultNoise.sigma)"
                     + " on \(noiseVariables.map { variables[$0].name }.joined(separator: ", "))")
        lines.append("global coupling (--G): \(globalCouplingParameter)")
        if !nodeParameterNames.isEmpty { lines.append("per-node parameters: \(nodeParameterNames.joined(separator: ", "))") }
        lines.append("")
        lines.append("parameters (--set name=value):")
        let width = parameterSpecs.map(\.name.count).max() ?? 8
        for p in parameterSpecs {
            lines.append("  \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  default \(p.defaultValue) \(p.unit), range \(p.range.lowerBound)...\(p.range.upperBound): \(p.doc)")
        }
        if !parameterAliases.isEmpty {
            lines.append("")
            lines.append("also accepted by --set: " + parameterAliases.sorted(by: { $0.key < $1.key }).map { "\($0.key) (= \($0.value))" }.joined(separator: ", "))
        }
        if !parameterSets.isEmpty {
            lines.append("")
            lines.append("parameter sets (--parameter-set name):")
            for (set, values) in parameterSets.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(set): " + values.map { "\($0.name)=\($0.value)" }.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
