/// Four nodes' values of several quantities, stored structure-of-arrays: quantity q of
/// lane l sits at `base[q * stride + l]`. Models read and write their state through it.
public struct LaneBlock {
    public let base: UnsafeMutablePointer<Double>
    public let stride: Int

    @inlinable @inline(__always)
    public init(_ base: UnsafeMutablePointer<Double>, stride: Int) {
        self.base = base
        self.stride = stride
    }

    @inlinable
    public subscript(q: Int) -> VectorMath.Lanes {
        @inline(__always) get { UnsafeRawPointer(base + q * stride).loadUnaligned(as: VectorMath.Lanes.self) }
        @inline(__always) nonmutating set { UnsafeMutableRawPointer(base + q * stride).storeBytes(of: newValue, as: VectorMath.Lanes.self) }
    }
}

/// A state variable of a model.
public struct StateVariable: Sendable {
    public let name: String
    public let unit: String
    /// Initial values are drawn uniformly from this range, per node, from the seed.
    public let initialRange: ClosedRange<Double>
    /// Values are kept inside these bounds after every step (nil: unbounded).
    public let bounds: ClosedRange<Double>?

    public init(_ name: String, unit: String, initial: ClosedRange<Double>, bounds: ClosedRange<Double>? = nil) {
        self.name = name
        self.unit = unit
        initialRange = initial
        self.bounds = bounds
    }
}

/// A neural mass model of one brain region, written once and used by every integrator,
/// coupling, observer and analysis. A conforming type is one file: its equations, units and
/// reference in the doc comment, its parameters (with units, defaults and ranges), its
/// state variables, which variable couples to other regions and which drives BOLD, its
/// drift for four nodes at a time, and the drift's analytic Jacobian.
///
/// Time is in ms throughout. The network input `c` reaching a node is the output of the
/// coupling function (e.g. `sum_j C_ij x_j(t - tau_ij)`); the model scales it by its own
/// global coupling parameter.
public protocol NeuralMassModel: Sendable {
    associatedtype Parameters: Sendable

    /// Short name used on the command line (`--model`).
    static var name: String { get }
    static var title: String { get }
    /// The paper the equations come from.
    static var reference: String { get }
    static var variables: [StateVariable] { get }
    /// Index of the variable sent to other regions.
    static var coupledVariable: Int { get }
    /// Index of the variable that drives BOLD by default.
    static var boldVariable: Int { get }
    /// What drives BOLD by default (the BOLD variable unless a model says otherwise).
    static var defaultBoldInput: BoldSource { get }
    /// Extra per-node quantities the drift computes (e.g. firing rates), usable as BOLD input.
    static var observables: [String] { get }
    static var parameterSpecs: [ParameterSpec<Parameters>] { get }
    /// The parameter that scales the network input: what `--G` sets and a coupling sweep moves.
    static var globalCouplingParameter: String { get }
    /// Named alternative parameter sets (e.g. another package's defaults).
    static var parameterSets: [String: [(name: String, value: Double)]] { get }
    /// Other names users know a parameter by (e.g. another package's), mapped to ours.
    static var parameterAliases: [String: String] { get }
    /// Parameters that may differ between nodes; their per-node values reach `drift` as `node`.
    static var nodeParameterNames: [String] { get }
    /// The coupling the model's reference uses.
    static var defaultCoupling: CouplingKind { get }
    /// Variables that receive noise, and the default noise.
    static var noiseVariables: [Int] { get }
    static var defaultNoise: NoiseSpec { get }

    static var defaultParameters: Parameters { get }

    /// Throws when something the model needs at run time is missing (default: nothing).
    static func checkAvailable() throws

    var parameters: Parameters { get }
    init(parameters: Parameters)

    /// The uniform value of each node parameter (nodes may then be set one by one).
    var nodeParameterDefaults: [Double] { get }

    /// What the model sends to other regions when it is an observable rather than a variable
    /// (e.g. a firing rate computed from the state); nil: `couplingSignal`.
    static var coupledObservable: Int? { get }
    /// The network sums the model receives: one per power p, sum_j C_ij^p s_j(t - tau_ij)
    /// (default [1]; ALN's input variance also needs p = 2).
    static var couplingWeightPowers: [Int] { get }
    /// Observables the model reads back after an intra-node delay, and the delays in ms.
    static var localDelayObservables: [Int] { get }
    var localDelaysMs: [Double] { get }

    /// dx/dt (per ms) for four nodes. `coupling[k]` is the network input for weight power k
    /// after the coupling function; `local[k]` the k-th intra-node delayed observable;
    /// `input` holds, per variable, the Ornstein-Uhlenbeck noise (0 without it), which the
    /// model adds where its reference does. `observables` receives the model's observables.
    func drift(_ x: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
               into dx: LaneBlock, observables: LaneBlock)

    /// Runs a simulation (provided; a requirement so that each model's witness is a copy of
    /// the engine specialised for that model, with its drift inlined).
    static func simulate(_ request: SimulationRequest, communicator: Communicator, progress: ((Double) -> Void)?) throws -> SimulationRun

    /// The value sent to other regions (default: the coupled variable).
    func couplingSignal(_ x: LaneBlock) -> VectorMath.Lanes

    /// d(drift)/d(state) (rows: equations, columns: variables) and, per network sum k,
    /// d(drift)/d(c_k) (`coupling[k][row]`), at one node with its local delayed inputs at 0.
    /// A model implements this or the flat form below (each has a default from the other).
    func jacobian(state x: [Double], coupling c: [Double], node: [Double]) -> (state: [[Double]], coupling: [[Double]])

    /// The same for one network sum, without allocating (the adjoint's hot loop): V x V
    /// row-major into `stateJacobian` (row: equation) and d(drift)/dc into `couplingJacobian`
    /// (V values), at state `x` (V values), input `c` and per-node parameters `node`.
    func jacobian(state x: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                  stateJacobian: UnsafeMutablePointer<Double>, couplingJacobian: UnsafeMutablePointer<Double>)

    /// d(couplingSignal)/d(state) at one node into `gradient` (V values; default: the unit
    /// vector of the coupled variable).
    func couplingSignalGradient(state x: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>)

    /// d(observable o)/d(state) at one node into `gradient` (V values), for observables that
    /// depend on the state alone; false: not provided, or the observable also depends on the
    /// network input (default).
    func observableGradient(_ o: Int, state x: UnsafePointer<Double>, node: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) -> Bool
}

extension NeuralMassModel {
    @inlinable @inline(__always)
    public func couplingSignal(_ x: LaneBlock) -> VectorMath.Lanes { x[Self.coupledVariable] }
    public func couplingSignalGradient(state x: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) {
        for q in 0..<Self.variables.count { gradient[q] = q == Self.coupledVariable ? 1 : 0 }
    }

    /// d(couplingSignal)/d(state) at one node (`couplingSignalGradient(state:into:)`).
    public func couplingSignalGradient(state x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: Self.variables.count)
        x.withUnsafeBufferPointer { xs in g.withUnsafeMutableBufferPointer { couplingSignalGradient(state: xs.baseAddress!, into: $0.baseAddress!) } }
        return g
    }

    public func jacobian(state x: [Double], coupling c: [Double], node: [Double]) -> (state: [[Double]], coupling: [[Double]]) {
        let v = Self.variables.count
        var js = [Double](repeating: 0, count: v * v), jc = [Double](repeating: 0, count: v)
        // Per-node parameters not given take the model's values (and one slot when it has none).
        let parameters = node.count >= nodeParameterDefaults.count ? (node.isEmpty ? [0.0] : node)
            : node + nodeParameterDefaults.dropFirst(node.count)
        x.withUnsafeBufferPointer { xs in parameters.withUnsafeBufferPointer { ps in
            js.withUnsafeMutableBufferPointer { a in jc.withUnsafeMutableBufferPointer { b in
                jacobian(state: xs.baseAddress!, coupling: c.first ?? 0, node: ps.baseAddress!, stateJacobian: a.baseAddress!, couplingJacobian: b.baseAddress!)
            } }
        } }
        return ((0..<v).map { Array(js[($0 * v)..<(($0 + 1) * v)]) }, [jc])
    }

    public func jacobian(state x: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian: UnsafeMutablePointer<Double>, couplingJacobian: UnsafeMutablePointer<Double>) {
        let v = Self.variables.count
        let (js, jc) = jacobian(state: Array(UnsafeBufferPointer(start: x, count: v)), coupling: [c],
                                node: Array(UnsafeBufferPointer(start: node, count: Self.nodeParameterNames.count)))
        for r in 0..<v {
            for q in 0..<v { stateJacobian[r * v + q] = js[r][q] }
            couplingJacobian[r] = jc[0][r]
        }
    }
    public func observableGradient(_ o: Int, state x: UnsafePointer<Double>, node: UnsafePointer<Double>,
                                   into gradient: UnsafeMutablePointer<Double>) -> Bool { false }

    /// `observableGradient(_:state:node:into:)` as an array (nil: not provided).
    public func observableGradient(_ o: Int, state x: [Double], node: [Double]) -> [Double]? {
        var g = [Double](repeating: 0, count: Self.variables.count)
        let parameters = node.count >= nodeParameterDefaults.count ? (node.isEmpty ? [0.0] : node) : node + nodeParameterDefaults.dropFirst(node.count)
        let provided = x.withUnsafeBufferPointer { xs in parameters.withUnsafeBufferPointer { ps in
            g.withUnsafeMutableBufferPointer { observableGradient(o, state: xs.baseAddress!, node: ps.baseAddress!, into: $0.baseAddress!) }
        } }
        return provided ? g : nil
    }
    public static var observables: [String] { [] }
    public static var parameterAliases: [String: String] { [:] }
    public static func checkAvailable() throws {}
    public static var coupledObservable: Int? { nil }
    public static var couplingWeightPowers: [Int] { [1] }
    public static var localDelayObservables: [Int] { [] }
    public var localDelaysMs: [Double] { [] }
    public static var defaultBoldInput: BoldSource { .variable(boldVariable) }
    public static var parameterSets: [String: [(name: String, value: Double)]] { [:] }
    public static var nodeParameterNames: [String] { [] }
    public var nodeParameterDefaults: [Double] { [] }
    public static var variableCount: Int { variables.count }

    /// Evaluates the lane drift for one node given scalars; returns (dx, observables).
    func evaluate(state x: [Double], coupling c: [Double], local: [Double], node: [Double], input: [Double]?) -> ([Double], [Double]) {
        let v = Self.variables.count, o = max(Self.observables.count, 1)
        let k = max(Self.couplingWeightPowers.count, c.count, 1), l = max(Self.localDelayObservables.count, local.count, 1)
        let p = max(node.count, 1)
        let size = 4 * (3 * v + p + o + k + l)
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: size)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: size)
        var offset = 0
        func take(_ count: Int) -> LaneBlock { defer { offset += 4 * count }; return LaneBlock(buffer + offset, stride: 4) }
        let xs = take(v), dx = take(v), inp = take(v), nodes = take(p), obs = take(o), cs = take(k), ls = take(l)
        for q in 0..<v { xs[q] = VectorMath.Lanes(repeating: x[q]); inp[q] = VectorMath.Lanes(repeating: input?[q] ?? 0) }
        for q in 0..<node.count { nodes[q] = VectorMath.Lanes(repeating: node[q]) }
        for q in 0..<c.count { cs[q] = VectorMath.Lanes(repeating: c[q]) }
        for q in 0..<local.count { ls[q] = VectorMath.Lanes(repeating: local[q]) }
        drift(xs, coupling: cs, local: ls, node: nodes, input: inp, into: dx, observables: obs)
        return ((0..<v).map { dx[$0][0] }, (0..<Self.observables.count).map { obs[$0][0] })
    }

    /// The coupled signal of one node with scalars.
    public func couplingSignal(state x: [Double]) -> Double {
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 4 * Self.variables.count)
        defer { buffer.deallocate() }
        for (q, value) in x.enumerated() { for l in 0..<4 { buffer[4 * q + l] = value } }
        return couplingSignal(LaneBlock(buffer, stride: 4))[0]
    }

    /// The drift of one node with scalars (tests, fixed points, stability).
    public func drift(state x: [Double], coupling c: [Double] = [0], local: [Double] = [], node: [Double] = [],
                      input: [Double]? = nil) -> [Double] {
        evaluate(state: x, coupling: c, local: local, node: node, input: input).0
    }

    /// The observables of one node.
    public func observables(state x: [Double], coupling c: [Double] = [0], local: [Double] = [], node: [Double] = []) -> [Double] {
        evaluate(state: x, coupling: c, local: local, node: node, input: nil).1
    }

    /// Parameters after `name=value` assignments and an optional named set (applied first).
    public static func parameters(set: String?, assignments: [(name: String, value: Double)]) throws -> Parameters {
        var p = defaultParameters
        if let set {
            guard let values = parameterSets[set] else {
                throw WholeBrainError.badValue(source: "--parameter-set", value: set,
                                               expected: "one of \(name)'s sets: \(parameterSets.keys.sorted().joined(separator: ", "))")
            }
            try parameterSpecs.apply(values, to: &p, model: name)
        }
        try parameterSpecs.apply(assignments.map { (parameterAliases[$0.name] ?? $0.name, $0.value) }, to: &p, model: name)
        return p
    }
}
