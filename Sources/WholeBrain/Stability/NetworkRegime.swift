import Foundation

/// Where any model's noise-free network sits at its global coupling: its stable fixed points,
/// the leading eigenvalue of the lowest one, and the coupling K* where that state loses
/// stability (`NetworkStability.scanCoupling` from K = 0), so that a fit or a run can say
/// "fluctuating about a stable state at 0.8 K*" or "past K*: oscillating". The reduced
/// Wong-Wang model has its own, with feedback inhibition (`RWWOperatingPoint`).
public struct NetworkRegime: Sendable, Codable, Equatable {
    public let coupling: Double
    /// Stable fixed points of the noise-free network at `coupling`.
    public let stableFixedPoints: Int
    /// Real part of the leading eigenvalue (1/ms) of the stable point with the lowest mean
    /// coupled variable (nil: none stable).
    public let leadingEigenvalue: Double?
    /// The coupling where the state followed from K = 0 loses stability, and how ("Hopf", or
    /// "fold or branch point"); nil when it stays stable over the scan, or is unstable at 0.
    public let criticalCoupling: Double?, criticalKind: String?
    /// One sentence for a person.
    public let description: String

    enum CodingKeys: String, CodingKey {
        case coupling, stableFixedPoints = "stable_fixed_points", leadingEigenvalue = "leading_eigenvalue_per_ms"
        case criticalCoupling = "critical_coupling", criticalKind = "critical_kind", description
    }

    /// The regime of `spec`'s network (its model, connectome weights, coupling function and
    /// per-node parameters); K* is looked for up to twice the coupling (within the model's range).
    public static func of<Model: NeuralMassModel>(_ spec: SimulationSpec<Model>) throws -> NetworkRegime {
        let name = Model.globalCouplingParameter
        guard let parameter = Model.parameterSpecs.first(where: { $0.name == name }) else {
            throw WholeBrainError.badValue(source: "model \(Model.name)", value: name, expected: "a parameter of the model")
        }
        let k = spec.model.parameters[keyPath: parameter.keyPath]
        let perNode = spec.nodeParameters.isEmpty ? nil : spec.nodeParameters
        let stability = try NetworkStability(model: spec.model, weights: spec.connectome.weights, coupling: spec.coupling, nodeParameters: perNode)
        let stable = try stability.fixedPoints().filter(\.isStable)
        let leading = stable.first?.leading.real
        let upper = min(max(2 * k, parameter.range.lowerBound + 1e-9), parameter.range.upperBound)
        let (critical, reason) = try criticalCoupling(spec, upTo: upper)
        var text: String
        if let leading {
            text = String(format: "%d stable fixed point%@ at %@ = %.4g (leading eigenvalue %.3g /ms: fluctuations about it decay in %.0f ms)",
                          stable.count, stable.count == 1 ? "" : "s", name, k, leading, leading < 0 ? -1 / leading : .infinity)
        } else {
            text = String(format: "no stable fixed point at %@ = %.4g: the noise-free network oscillates (a limit cycle) or wanders", name, k)
        }
        if let critical {
            text += String(format: "; %.2f of %@* = %.4g, where the state followed from %@ = %g loses stability (%@)",
                           k / critical.value, name, critical.value, name, parameter.range.lowerBound, critical.kind)
        } else if let reason {
            text += "; no critical coupling: \(reason)"
        }
        return NetworkRegime(coupling: k, stableFixedPoints: stable.count, leadingEigenvalue: leading,
                             criticalCoupling: critical?.value, criticalKind: critical?.kind, description: text)
    }

    /// Where the stable state with the lowest mean coupled variable at the lowest coupling of
    /// the model's range loses stability as the coupling rises to `upper` (40 steps, then
    /// bisection to 1e-4 of `upper`); nil with the reason when it does not.
    public static func criticalCoupling<Model: NeuralMassModel>(_ spec: SimulationSpec<Model>, upTo upper: Double) throws -> (CriticalCoupling?, String?) {
        let name = Model.globalCouplingParameter
        guard let parameter = Model.parameterSpecs.first(where: { $0.name == name }) else {
            throw WholeBrainError.badValue(source: "model \(Model.name)", value: name, expected: "a parameter of the model")
        }
        var atZero = spec.model.parameters
        atZero[keyPath: parameter.keyPath] = parameter.range.lowerBound
        let base = try NetworkStability(model: Model(parameters: atZero), weights: spec.connectome.weights, coupling: spec.coupling,
                                        nodeParameters: spec.nodeParameters.isEmpty ? nil : spec.nodeParameters)
        guard let low = try base.fixedPoints().first(where: \.isStable) else {
            return (nil, "no stable fixed point at \(name) = \(parameter.range.lowerBound): the uncoupled nodes oscillate")
        }
        let scan = try base.scanCoupling(start: low.state, range: parameter.range.lowerBound...upper, steps: 40, tolerance: 1e-4 * max(upper, 1e-6))
        if scan.critical == nil && scan.reason?.contains("stays stable") == true {
            return (nil, String(format: "the state followed from %@ = %g stays stable up to %.4g", name, parameter.range.lowerBound, upper))
        }
        return (scan.critical, scan.reason)
    }

    /// `criticalCoupling` searched up to 2, 4, ... 64 times `from` (within the model's range).
    public static func findCriticalCoupling<Model: NeuralMassModel>(_ spec: SimulationSpec<Model>, from: Double) throws -> (CriticalCoupling?, String?) {
        let name = Model.globalCouplingParameter
        let top = Model.parameterSpecs.first { $0.name == name }?.range.upperBound ?? .infinity
        var upper = 2 * max(from, 1e-3), found: (CriticalCoupling?, String?) = (nil, nil)
        while true {
            found = try criticalCoupling(spec, upTo: min(upper, top))
            if found.0 != nil || upper >= min(64 * max(from, 1e-3), top) || found.1?.contains("stays stable") != true { return found }
            upper *= 2
        }
    }
}
