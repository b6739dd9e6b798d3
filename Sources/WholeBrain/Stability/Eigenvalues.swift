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
}
