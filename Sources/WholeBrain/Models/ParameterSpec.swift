/// One model parameter: its name on the command line, unit, default, sensible range and
/// meaning, declared once next to the equations that use it.
public struct ParameterSpec<Parameters>: Sendable {
    public let name: String
    public let unit: String
    public let defaultValue: Double
    public let range: ClosedRange<Double>
    public let doc: String
    public let keyPath: WritableKeyPath<Parameters, Double> & Sendable

    public init(_ name: String, _ keyPath: WritableKeyPath<Parameters, Double> & Sendable, default value: Double,
                unit: String, range: ClosedRange<Double>, _ doc: String) {
        self.name = name
        self.keyPath = keyPath
        defaultValue = value
        self.unit = unit
        self.range = range
        self.doc = doc
    }
}

extension Array {
    /// Sets `name=value` pairs, rejecting unknown names (listing the known ones) and
    /// values outside the parameter's range.
    public func apply<P>(_ assignments: [(name: String, value: Double)], to parameters: inout P,
                         model: String) throws where Element == ParameterSpec<P> {
        for (name, value) in assignments {
            guard let spec = first(where: { $0.name == name }) else {
                throw WholeBrainError.badValue(source: "--set \(name)", value: "\(value)",
                                               expected: "a parameter of \(model): \(map(\.name).joined(separator: ", "))")
            }
            guard value.isFinite, spec.range.contains(value) else {
                throw WholeBrainError.badValue(source: "--set \(name)", value: "\(value)",
                                               expected: "a value in [\(spec.range.lowerBound), \(spec.range.upperBound)] \(spec.unit)")
            }
            parameters[keyPath: spec.keyPath] = value
        }
    }
}
