import Foundation

/// Per-connection gains on the structural connectivity (the "connection gains" of Griffiths
/// et al. 2022): W_ij = g_ij C_ij with g symmetric and positive, g_ij = softplus(u_ij) for
/// each connected pair i < j (C_ij or C_ji non-zero). dL/du_ij = softplus'(u_ij)
/// (dL/dW_ij C_ij + dL/dW_ji C_ji).
public struct ConnectionGains: Sendable {
    /// The connected pairs (i < j), in row-major order.
    public let pairs: [(i: Int, j: Int)]
    public let base: Matrix
    static let transform = ParameterTransform.positive

    public init(connectome weights: Matrix) {
        var pairs: [(Int, Int)] = []
        for i in 0..<weights.rows { for j in (i + 1)..<weights.columns where weights[i, j] != 0 || weights[j, i] != 0 { pairs.append((i, j)) } }
        self.pairs = pairs
        base = weights
    }

    /// Free coordinates of gains all equal to one.
    public var unitFree: [Double] { [Double](repeating: ConnectionGains.transform.inverse(1), count: pairs.count) }

    /// The gain matrix (ones where there is no connection) for free coordinates `u`.
    public func gains(_ u: [Double]) -> Matrix {
        var g = Matrix(rows: base.rows, columns: base.columns, values: [Double](repeating: 1, count: base.rows * base.columns))
        for (k, pair) in pairs.enumerated() {
            let value = ConnectionGains.transform.value(u[k])
            g[pair.i, pair.j] = value; g[pair.j, pair.i] = value
        }
        return g
    }

    /// The weights W = g C for free coordinates `u`.
    public func weights(_ u: [Double]) -> Matrix {
        let g = gains(u)
        return Matrix(rows: base.rows, columns: base.columns, values: zip(g.values, base.values).map { $0 * $1 })
    }

    /// dL/dg per pair from dL/dW.
    public func gainGradient(weightGradient dW: Matrix) -> [Double] {
        pairs.map { pair in dW[pair.i, pair.j] * base[pair.i, pair.j] + dW[pair.j, pair.i] * base[pair.j, pair.i] }
    }

    /// dL/du from dL/dg.
    public func freeGradient(_ u: [Double], gainGradient g: [Double]) -> [Double] {
        zip(u, g).map { ConnectionGains.transform.derivative($0) * $1 }
    }

    /// dL/du from dL/dW.
    public func freeGradient(_ u: [Double], weightGradient dW: Matrix) -> [Double] {
        freeGradient(u, gainGradient: gainGradient(weightGradient: dW))
    }

    /// The shrinkage of the gains toward 1: L_g = mean over pairs of (ln g_ij)^2 (a gain of 2
    /// or 1/2 costs 0.48), and dL_g/du. It keeps a fit from building its own connectome out
    /// of a few strong and many vanishing connections, where the network leaves the regime
    /// its expected FC describes.
    public func shrinkage(_ u: [Double]) -> (value: Double, freeGradient: [Double]) {
        guard !u.isEmpty else { return (0, []) }
        let k = Double(u.count)
        var value = 0.0, gradient = [Double](repeating: 0, count: u.count)
        for q in u.indices {
            let g = ConnectionGains.transform.value(u[q]), l = Foundation.log(g)
            value += l * l / k
            gradient[q] = 2 * l / (g * k) * ConnectionGains.transform.derivative(u[q])
        }
        return (value, gradient)
    }
}
