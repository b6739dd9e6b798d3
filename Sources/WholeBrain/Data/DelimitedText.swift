import Foundation

/// Numeric tables in delimited text: comma, tab or whitespace separated (detected from the
/// first data line), `#` comments and blank lines skipped. Every row must have the same
/// number of columns; a cell that is not a number is reported with its line and column.
public enum DelimitedText {
    public static func readMatrix(path: String) throws -> Matrix {
        let bytes = try FileBytes.read(path: path, what: "a delimited text table")
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Matrix {
        var rows: [[Double]] = []
        var separator: Character?? = nil   // nil: not yet decided; .some(nil): whitespace
        for (lineIndex, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if separator == nil {
                separator = line.contains(",") ? .some(",") : line.contains("\t") ? .some("\t") : .some(nil)
            }
            let cells: [Substring]
            if let sep = separator!, sep != " " {
                cells = line.split(separator: sep, omittingEmptySubsequences: false)
            } else {
                cells = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            }
            var row: [Double] = []
            row.reserveCapacity(cells.count)
            for (col, cell) in cells.enumerated() {
                let t = cell.trimmingCharacters(in: .whitespaces)
                guard let v = Double(t) else {
                    throw WholeBrainError.badFile(path: path, problem: "line \(lineIndex + 1), column \(col + 1): '\(t)' is not a number")
                }
                row.append(v)
            }
            if let first = rows.first, first.count != row.count {
                throw WholeBrainError.badFile(path: path, problem: "line \(lineIndex + 1) has \(row.count) columns, earlier lines have \(first.count)")
            }
            rows.append(row)
        }
        guard let cols = rows.first?.count else {
            throw WholeBrainError.badFile(path: path, problem: "holds no numbers")
        }
        return Matrix(rows: rows.count, columns: cols, values: rows.flatMap { $0 })
    }

    /// Writes a matrix as CSV with full round-trip precision.
    public static func csv(_ m: Matrix, header: [String]? = nil) -> String {
        var s = header.map { $0.joined(separator: ",") + "\n" } ?? ""
        for r in 0..<m.rows {
            s += m.row(r).map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return s
    }
}
