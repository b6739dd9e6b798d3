/// A dense row-major matrix of `Double`, the interchange type of the data layer.
///
/// Element (r, c) is `values[r * columns + c]`. Readers of column-major formats
/// (MATLAB, Fortran-ordered `.npy`) transpose into this layout.
public struct Matrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                     "Matrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, values: [Double](repeating: value, count: rows * columns))
    }

    /// Builds from a column-major buffer (MATLAB, Fortran order).
    public init(rows: Int, columns: Int, columnMajor: [Double]) {
        precondition(columnMajor.count == rows * columns)
        var v = [Double](repeating: 0, count: rows * columns)
        for c in 0..<columns {
            for r in 0..<rows { v[r * columns + c] = columnMajor[c * rows + r] }
        }
        self.init(rows: rows, columns: columns, values: v)
    }

    public subscript(r: Int, c: Int) -> Double {
        get { values[r * columns + c] }
        set { values[r * columns + c] = newValue }
    }

    public var isSquare: Bool { rows == columns }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for r in 0..<rows { for c in 0..<columns { t[c, r] = self[r, c] } }
        return t
    }

    /// Rows and columns kept in the order given (a sub-matrix).
    public func selecting(rows keepRows: [Int], columns keepColumns: [Int]) -> Matrix {
        var out = Matrix(rows: keepRows.count, columns: keepColumns.count)
        for (i, r) in keepRows.enumerated() {
            for (j, c) in keepColumns.enumerated() { out[i, j] = self[r, c] }
        }
        return out
    }

    public func row(_ r: Int) -> ArraySlice<Double> { values[(r * columns)..<((r + 1) * columns)] }

    /// The first (row, column) holding NaN or an infinity, if any.
    public var firstNonFinite: (row: Int, column: Int)? {
        for (k, v) in values.enumerated() where !v.isFinite { return (k / max(columns, 1), k % max(columns, 1)) }
        return nil
    }

    public var shapeDescription: String { "\(rows)x\(columns)" }
}
