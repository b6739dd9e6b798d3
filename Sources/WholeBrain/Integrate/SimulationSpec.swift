import Foundation

/// Everything that defines a simulation, as one immutable, self-checking value: the model
/// and its parameters, the prepared connectome, the integration step, the duration, the
/// observers and the seed. Build it, then hand it to `NetworkSimulator`.
public struct SimulationSpec: Sendable {
    /// What drives the haemodynamics.
    public enum BoldInput: String, CaseIterable, Sendable {
        /// The excitatory gating variable S_E (dimensionless).
        case gating = "S_E"
        /// The excitatory firing rate H(x_E) in Hz.
        case rate = "rate"
    }

    public let model: ReducedWongWang.Parameters
    /// J_i per node (nA); defaults to the model's J_i everywhere.
    public let inhibitoryCoupling: [Double]
    public let connectome: Connectome
    /// Integration step of the neural model, ms.
    public let dt: Double
    /// Recorded duration after the transient, s.
    public let duration: Double
    /// Simulated time discarded before recording, s (rounded up to whole haemodynamic steps).
    public let transient: Double
    /// BOLD sampling interval (repetition time), s.
    public let tr: Double
    /// Axonal conduction speed, m/s (= mm/ms); `.infinity` for no delays.
    public let conductionSpeed: Double
    public let seed: UInt64
    public let boldInput: BoldInput
    public let balloon: BalloonWindkessel
    /// Period of the temporally averaged S_E, S_I output, ms; nil for none.
    public let statePeriod: Double?

    public init(model: ReducedWongWang.Parameters = .init(), inhibitoryCoupling: [Double]? = nil,
                connectome: Connectome, dt: Double = 0.1, duration: Double, transient: Double = 0,
                tr: Double = 0.72, conductionSpeed: Double = 20, seed: UInt64 = 1,
                boldInput: BoldInput = .gating, balloon: BalloonWindkessel = .init(),
                statePeriod: Double? = nil) throws {
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
        if let statePeriod {
            let k = statePeriod / dt
            guard statePeriod > 0, abs(k - k.rounded()) <= 1e-9 * max(1, k), k.rounded() >= 1 else {
                throw bad("--save-states", statePeriod, "a positive multiple of dt = \(dt) ms")
            }
        }
        for spec in ReducedWongWang.parameterSpecs {
            let v = model[keyPath: spec.keyPath]
            guard v.isFinite, spec.range.contains(v) else {
                throw bad(spec.name, v, "a value in [\(spec.range.lowerBound), \(spec.range.upperBound)] \(spec.unit)")
            }
        }
        let n = connectome.regionCount
        let ji = inhibitoryCoupling ?? [Double](repeating: model.jI, count: n)
        guard ji.count == n else {
            throw WholeBrainError.badValue(source: "J_i per node", value: "\(ji.count) values", expected: "\(n), one per region")
        }
        if let k = ji.firstIndex(where: { !$0.isFinite || $0 < 0 }) { throw bad("J_i[\(k)]", ji[k], "a finite non-negative current in nA") }
        self.model = model
        self.inhibitoryCoupling = ji
        self.connectome = connectome
        self.dt = dt
        self.duration = duration
        self.transient = transient
        self.tr = tr
        self.conductionSpeed = conductionSpeed
        self.seed = seed
        self.boldInput = boldInput
        self.balloon = balloon
        self.statePeriod = statePeriod
    }

    /// Neural steps per TR.
    public var stepsPerTR: Int { Int((tr * 1000 / dt).rounded()) }

    /// Neural steps per haemodynamic step: the largest divisor of steps-per-TR whose span
    /// is at most 1 ms (so the Balloon model, with time constants of seconds, is integrated
    /// with RK4 at about 1 ms, from the mean of its input over that span).
    public var boldSubsteps: Int {
        let limit = max(1, Int((1.0 / dt + 1e-9).rounded(.down)))
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
}
