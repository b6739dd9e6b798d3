import Foundation

/// Smooth maps from an unconstrained value u (what the optimiser moves) to a parameter that
/// must stay inside bounds, with their derivatives for the chain rule.
///
/// - `positive`: p = softplus(u) = log(1 + e^u) (> 0), dp/du = 1 / (1 + e^-u);
/// - `bounded(lo, hi)`: p = lo + (hi - lo) / (1 + e^-u), dp/du = (hi - lo) s (1 - s);
/// - `steepBounded(lo, hi, gain)`: `bounded` of gain u. ADAM moves u by about its learning
///   rate per step whatever the gradient's scale, so a parameter moves by about
///   rate gain (hi - lo) / 4 per step near the middle of its range: a gain above 1 lets a
///   narrow range (a map slope) be crossed in a few epochs;
/// - `logarithmic`: p = e^u (> 0; ADAM's steps are then relative changes of p, whatever its scale);
/// - `free`: p = u.
public enum ParameterTransform: Sendable, Equatable {
    case free
    case logarithmic
    case positive
    case bounded(Double, Double)
    case steepBounded(Double, Double, gain: Double)

    public func value(_ u: Double) -> Double {
        switch self {
        case .free: return u
        case .logarithmic: return Foundation.exp(u)
        case .positive: return u > 30 ? u + Foundation.log1p(Foundation.exp(-u)) : Foundation.log1p(Foundation.exp(u))
        case let .bounded(lo, hi): return lo + (hi - lo) / (1 + Foundation.exp(-u))
        case let .steepBounded(lo, hi, gain): return ParameterTransform.bounded(lo, hi).value(gain * u)
        }
    }

    public func derivative(_ u: Double) -> Double {
        switch self {
        case .free: return 1
        case .logarithmic: return Foundation.exp(u)
        case .positive: return 1 / (1 + Foundation.exp(-u))
        case let .bounded(lo, hi):
            let s = 1 / (1 + Foundation.exp(-u))
            return (hi - lo) * s * (1 - s)
        case let .steepBounded(lo, hi, gain): return gain * ParameterTransform.bounded(lo, hi).derivative(gain * u)
        }
    }

    /// The unconstrained value for a parameter value strictly inside the bounds.
    public func inverse(_ p: Double) -> Double {
        switch self {
        case .free: return p
        case .logarithmic: return Foundation.log(p)
        case .positive: return p > 30 ? p + Foundation.log(-Foundation.expm1(-p)) : Foundation.log(Foundation.expm1(p))
        case let .bounded(lo, hi):
            let s = (p - lo) / (hi - lo)
            return Foundation.log(s / (1 - s))
        case let .steepBounded(lo, hi, gain): return ParameterTransform.bounded(lo, hi).inverse(p) / gain
        }
    }
}
