/// Time-stepping schemes, all working with delays and noise where it makes sense.
///
/// - `euler`: Euler-Maruyama, x' = x + dt f(x, c) + sigma sqrt(dt) xi (strong order 1/2 with
///   noise, order 1 without).
/// - `heun`: stochastic Heun for additive noise (as TVB's HeunStochastic): predictor
///   x~ = x + dt f(x) + eta, corrector x' = x + dt/2 (f(x) + f(x~)) + eta with one noise
///   increment eta per step (order 2 without noise).
/// - `rk4`: classical Runge-Kutta, deterministic runs only (order 4).
/// Delayed inputs (delay >= 1 step) are held at their value for the step, as in TVB;
/// zero-delay connections are evaluated at every stage, so without delays each scheme
/// keeps its full order.
public enum IntegratorKind: String, CaseIterable, Sendable {
    case euler
    case heun
    case rk4

    public var stages: Int {
        switch self {
        case .euler: return 1
        case .heun: return 2
        case .rk4: return 4
        }
    }
}
