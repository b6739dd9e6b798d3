import CLAPACKE
import Foundation

/// The FC an infinitely long run would show: the stationary BOLD covariance of the reduced
/// Wong-Wang network linearised at a stable fixed point, without the seed-to-seed noise of a
/// finite run.
///
/// With additive white noise sigma dW on S_E and S_I (per sqrt(ms)), the network near its
/// fixed point is dz = A z dt + B dW, where A joins the 2N x 2N Jacobian of the noise-free
/// network (`RWWStability`, 1/ms; delays neglected, as they are in the stability analysis)
/// to the Balloon-Windkessel model (Friston et al. 2000; Stephan et al. 2007) linearised at
/// rest and driven by S_E, per region (rates in 1/s divided by 1000):
///
///     ds/dt = S_E - kappa s - gamma f,   df/dt = s,   tau dv/dt = f - v / alpha,
///     tau dq/dt = c_f f - (1/alpha - 1) v - q,   c_f = (rho + (1 - rho) ln(1 - rho)) / rho,
///     y = V0 ((k2 - k3) v - (k1 + k2) q)     (f, v, q: deviations from 1)
///
/// The stationary covariance P of z solves the Lyapunov equation A P + P A^T + B B^T = 0
/// (Bartels-Stewart: LAPACK's real Schur form, dgees, then the quasi-triangular Sylvester
/// solve, dtrsyl); the BOLD covariance is L P L^T and its correlation the linearised FC.
/// Checked against scipy's solve_continuous_lyapunov (`Tests/Reference/linearised_fc.py`);
/// for subject 101309 at 0.9 G* it matches a 300-s simulation's FC at r = 0.94.
public struct LinearisedFC: Sendable {
    /// BOLD FC (Pearson r), regions x regions.
    public let fc: Matrix
    /// BOLD covariance (signal^2), regions x regions.
    public let boldCovariance: Matrix
    /// FC of S_E (Pearson r).
    public let neuralFC: Matrix
    /// The linear system: A (6N x 6N, 1/ms), its stationary covariance P, and A's real Schur
    /// form A = U T U^T, kept for the adjoint (`jacobianGradient`).
    public let system: Matrix, covariance: Matrix
    let schur: Schur
    /// BOLD as L z: y_i = readout.v v_i + readout.q q_i.
    public let readout: (v: Double, q: Double)

    struct Schur { let t: [Double], u: [Double] }

    /// At the fixed point `state` (S_E then S_I) of `stability`'s network, which must be
    /// stable, with noise amplitude `sigma` on S_E and S_I.
    public init(stability: RWWStability, state: [Double], sigma: Double, balloon b: BalloonWindkessel = BalloonWindkessel()) throws {
        let n = stability.weights.rows, m = 6 * n
        let neural = stability.residualAndJacobian(state).j
        var a = Matrix(rows: m, columns: m)
        for r in 0..<(2 * n) { for c in 0..<(2 * n) { a[r, c] = neural[r, c] } }
        let k = 1e-3  // Balloon rates are per s; the network's time is in ms.
        let cf = (b.rho + (1 - b.rho) * Foundation.log(1 - b.rho)) / b.rho
        for i in 0..<n {
            let (s, f, v, q) = (2 * n + i, 3 * n + i, 4 * n + i, 5 * n + i)
            a[s, i] = k; a[s, s] = -b.kappa * k; a[s, f] = -b.gamma * k
            a[f, s] = k
            a[v, f] = k / b.tau; a[v, v] = -k / (b.tau * b.alpha)
            a[q, f] = k * cf / b.tau; a[q, v] = -k * (1 / b.alpha - 1) / b.tau; a[q, q] = -k / b.tau
        }
        let schur = try LinearisedFC.schur(a)
        let p = try LinearisedFC.lyapunov(schur, LinearisedFC.noise(regions: n, sigma: sigma), transposed: false)
        let cv = b.v0 * (b.k2 - b.k3), cq = -b.v0 * (b.k1 + b.k2)
        boldCovariance = LinearisedFC.boldCovariance(p, regions: n, readout: (cv, cq))
        fc = LinearisedFC.correlation(boldCovariance)
        var se = Matrix(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { se[i, j] = p[i, j] } }
        neuralFC = LinearisedFC.correlation(se)
        system = a; covariance = p; self.schur = schur; readout = (cv, cq)
    }

    /// dPhi/dJ (2N x 2N) for a quantity Phi of the FC, given dPhi/dFC (n x n, each entry taken
    /// as its own variable). Through the correlation: with C the BOLD covariance,
    /// dFC_ij/dC_ij = 1 / sqrt(C_ii C_jj) and dFC_ij/dC_ii = -FC_ij / (2 C_ii) (i != j); through
    /// the readout, Pbar = L^T Cbar L; through the Lyapunov equation, the adjoint one
    /// A^T Lambda + Lambda A + Pbar = 0 (same Schur form) gives dPhi/dA = 2 Lambda P, whose
    /// neural block is dPhi/dJ (only J depends on the network's parameters).
    public func jacobianGradient(fcGradient g: Matrix) throws -> Matrix {
        let n = fc.rows, m = 6 * n
        let c = boldCovariance
        var cBar = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in 0..<n where j != i {
                let gij = 0.5 * (g[i, j] + g[j, i])
                cBar[i, j] += gij / (c[i, i] * c[j, j]).squareRoot()
                cBar[i, i] -= gij * fc[i, j] / (2 * c[i, i])
                cBar[j, j] -= gij * fc[i, j] / (2 * c[j, j])
            }
        }
        var pBar = Matrix(rows: m, columns: m)
        let (cv, cq) = readout
        for i in 0..<n {
            for j in 0..<n {
                let (vi, qi, vj, qj) = (4 * n + i, 5 * n + i, 4 * n + j, 5 * n + j)
                pBar[vi, vj] = cv * cv * cBar[i, j]; pBar[vi, qj] = cv * cq * cBar[i, j]
                pBar[qi, vj] = cq * cv * cBar[i, j]; pBar[qi, qj] = cq * cq * cBar[i, j]
            }
        }
        let lambda = try LinearisedFC.lyapunov(schur, pBar, transposed: true)
        // dPhi/dJ_ab = 2 sum_c Lambda_ac P_cb for a, b < 2N.
        let k = 2 * n
        var out = Matrix(rows: k, columns: k)
        lambda.values.withUnsafeBufferPointer { l in
            covariance.values.withUnsafeBufferPointer { p in
                out.values.withUnsafeMutableBufferPointer { o in
                    for a in 0..<k {
                        for cc in 0..<m {
                            let lac = 2 * l[a * m + cc]
                            if lac == 0 { continue }
                            for b in 0..<k { o[a * k + b] += lac * p[cc * m + b] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// B B^T: sigma^2 on S_E and S_I, zero on the haemodynamic states.
    public static func noise(regions n: Int, sigma: Double) -> Matrix {
        var q = Matrix(rows: 6 * n, columns: 6 * n)
        for r in 0..<(2 * n) { q[r, r] = sigma * sigma }
        return q
    }

    /// L P L^T: the BOLD covariance of the state covariance P.
    public static func boldCovariance(_ p: Matrix, regions n: Int, readout: (v: Double, q: Double)) -> Matrix {
        let (cv, cq) = readout
        var bold = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in 0..<n {
                let (vi, qi, vj, qj) = (4 * n + i, 5 * n + i, 4 * n + j, 5 * n + j)
                bold[i, j] = cv * cv * p[vi, vj] + cv * cq * (p[vi, qj] + p[qi, vj]) + cq * cq * p[qi, qj]
            }
        }
        return bold
    }

    /// The BOLD FC of the state covariance P.
    public static func boldFC(_ p: Matrix, regions n: Int, readout: (v: Double, q: Double)) -> Matrix {
        correlation(boldCovariance(p, regions: n, readout: readout))
    }

    static func correlation(_ c: Matrix) -> Matrix {
        var r = Matrix(rows: c.rows, columns: c.columns)
        for i in 0..<c.rows { for j in 0..<c.columns { r[i, j] = c[i, j] / (c[i, i] * c[j, j]).squareRoot() } }
        return r
    }

    /// X with A X + X A^T + Q = 0, for A with every eigenvalue's real part negative (throws
    /// otherwise: no stationary covariance exists).
    public static func lyapunov(_ a: Matrix, _ q: Matrix) throws -> Matrix {
        try lyapunov(try schur(a), q, transposed: false)
    }

    /// The real Schur form of A (LAPACK dgees); throws unless every eigenvalue's real part is negative.
    static func schur(_ a: Matrix) throws -> Schur {
        let m = a.rows
        var t = a.values, u = [Double](repeating: 0, count: m * m)
        var wr = [Double](repeating: 0, count: m), wi = wr
        var sdim: Int32 = 0
        let info = LAPACKE_dgees(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "N")), nil, Int32(m), &t, Int32(m), &sdim,
                                 &wr, &wi, &u, Int32(m))
        guard info == 0 else { throw WholeBrainError.badValue(source: "linearised FC", value: "dgees info \(info)", expected: "a real Schur form") }
        guard let leading = wr.max(), leading < 0 else {
            throw WholeBrainError.badValue(source: "linearised FC", value: String(format: "leading eigenvalue %.3g", wr.max() ?? .nan),
                                           expected: "a stable fixed point (every eigenvalue's real part negative)")
        }
        return Schur(t: t, u: u)
    }

    /// With A = U T U^T: X with A X + X A^T + Q = 0 (T Y + Y T^T = -U^T Q U, X = U Y U^T), or
    /// `transposed`, A^T X + X A + Q = 0 (T^T Y + Y T = -U^T Q U).
    static func lyapunov(_ f: Schur, _ q: Matrix, transposed: Bool) throws -> Matrix {
        let m = q.rows
        let u = f.u, ut = Matrix(rows: m, columns: m, values: u).transposed.values
        var c = product(ut, product(q.values, u, m), m).map { -$0 }
        var t = f.t, tb = f.t, scale = 1.0
        let (left, right): (Unicode.Scalar, Unicode.Scalar) = transposed ? ("T", "N") : ("N", "T")
        let sylvester = LAPACKE_dtrsyl(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: left)), CChar(UInt8(ascii: right)), 1, Int32(m), Int32(m),
                                       &t, Int32(m), &tb, Int32(m), &c, Int32(m), &scale)
        guard sylvester >= 0 else { throw WholeBrainError.badValue(source: "linearised FC", value: "dtrsyl info \(sylvester)", expected: "a solution") }
        let y = c.map { $0 / scale }
        var x = product(u, product(y, ut, m), m)
        // Symmetric by construction (for symmetric Q); average out the rounding.
        for i in 0..<m { for j in (i + 1)..<m { let s = 0.5 * (x[i * m + j] + x[j * m + i]); x[i * m + j] = s; x[j * m + i] = s } }
        return Matrix(rows: m, columns: m, values: x)
    }

    /// Row-major m x m product, i-k-j order (the inner loop runs along rows of both).
    static func product(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * m)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        for k in 0..<m {
                            let aik = pa[i * m + k]
                            if aik == 0 { continue }
                            let row = k * m, out = i * m
                            for j in 0..<m { pc[out + j] += aik * pb[row + j] }
                        }
                    }
                }
            }
        }
        return c
    }
}
