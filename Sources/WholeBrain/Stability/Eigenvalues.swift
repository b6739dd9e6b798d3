import CLAPACKE
import Foundation

/// Eigenvalues of a real square matrix by LAPACK's `dgeev` (Debian's liblapacke-dev).
public enum Eigenvalues {
    public struct Value: Equatable, Sendable {
        public let real: Double, imaginary: Double
    }

    /// All eigenvalues of `m`, sorted by real part, largest first.
    public static func of(_ m: Matrix) throws -> [Value] {
        precondition(m.rows == m.columns, "Eigenvalues.of: matrix is not square")
        let n = Int32(m.rows)
        guard n > 0 else { return [] }
        var a = m.values                       // row-major copy (dgeev overwrites it)
        var wr = [Double](repeating: 0, count: m.rows), wi = wr
        var left = 0.0, right = 0.0          // no eigenvectors asked for
        let info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")), n, &a, n, &wr, &wi,
                                 &left, 1, &right, 1)
        guard info == 0 else {
            throw WholeBrainError.badValue(source: "eigenvalues", value: "LAPACK dgeev info \(info)",
                                           expected: "a matrix whose QR iteration converges (finite entries)")
        }
        return zip(wr, wi).map { Value(real: $0, imaginary: $1) }.sorted { $0.real > $1.real }
    }

    /// The eigenvalue with the largest real part and its right and left eigenvectors
    /// (A v = lambda v, w^H A = lambda w^H), each as real and imaginary parts (zero for a real
    /// eigenvalue), from `dgeev`.
    public struct Leading: Sendable {
        public let value: Value
        public let right: (real: [Double], imaginary: [Double])
        public let left: (real: [Double], imaginary: [Double])
    }

    public static func leading(_ m: Matrix) throws -> Leading {
        precondition(m.rows == m.columns && m.rows > 0, "Eigenvalues.leading: matrix is not square")
        let count = m.rows, n = Int32(count)
        var a = m.values
        var wr = [Double](repeating: 0, count: count), wi = wr
        var vl = [Double](repeating: 0, count: count * count), vr = vl
        let info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "V")), n, &a, n, &wr, &wi,
                                 &vl, n, &vr, n)
        guard info == 0 else {
            throw WholeBrainError.badValue(source: "eigenvalues", value: "LAPACK dgeev info \(info)",
                                           expected: "a matrix whose QR iteration converges (finite entries)")
        }
        // Largest real part; of a conjugate pair, the one with positive imaginary part.
        var best = 0
        for k in 1..<count where wr[k] > wr[best] || (wr[k] == wr[best] && wi[k] > wi[best]) { best = k }
        // Column k of a row-major n x n matrix; a pair stores (re, im) in columns j, j + 1 for
        // the eigenvalue with positive imaginary part at j.
        func vector(_ v: [Double]) -> (real: [Double], imaginary: [Double]) {
            let column = { (c: Int) in (0..<count).map { v[$0 * count + c] } }
            if wi[best] == 0 { return (column(best), [Double](repeating: 0, count: count)) }
            return wi[best] > 0 ? (column(best), column(best + 1)) : (column(best - 1), column(best).map { -$0 })
        }
        return Leading(value: Value(real: wr[best], imaginary: wi[best]), right: vector(vr), left: vector(vl))
    }
}

/// A fixed point's linear stability, read from its eigenvalues (largest real part first, 1/ms).
public protocol LinearisedPoint {
    var eigenvalues: [Eigenvalues.Value] { get }
}

extension LinearisedPoint {
    public var leading: Eigenvalues.Value { eigenvalues[0] }
    public var isStable: Bool { leading.real < 0 }
    /// "stable node", "stable focus", "saddle" or "unstable".
    public var kind: String {
        let unstable = eigenvalues.filter { $0.real >= 0 }.count
        if unstable == 0 { return leading.imaginary != 0 ? "stable focus" : "stable node" }
        return unstable < eigenvalues.count ? "saddle" : "unstable"
    }
}
