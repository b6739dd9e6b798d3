import Foundation

/// NumPy `.npy` (format versions 1.0-3.0) and `.npz` reading, and `.npy` writing.
///
/// Format: NumPy Enhancement Proposal 1 ("A simple file format for NumPy arrays"): the magic
/// `\x93NUMPY`, a version, a little-endian header length, and a Python-literal dict with
/// `descr`, `fortran_order` and `shape`, padded so the data starts on a 64-byte boundary.
/// Reading accepts little/big-endian float, signed and unsigned integer and bool dtypes
/// (converted to `Double`); writing always produces `<f8` in C order, version 1.0.
public enum NumpyFile {
    /// Reads a 1-D or 2-D array (1-D arrays become a single row).
    public static func readMatrix(path: String) throws -> Matrix {
        let bytes = try FileBytes.read(path: path, what: "a NumPy .npy file")
        return try parse(bytes, path: path)
    }

    /// Reads an array member of a `.npz` archive; with `member == nil` the archive must
    /// hold exactly one array.
    public static func readMatrix(npz path: String, member: String?) throws -> Matrix {
        let zip = try ZipArchive(path: path)
        let arrays = zip.entries.filter { $0.name.hasSuffix(".npy") }
        let names = arrays.map { String($0.name.dropLast(4)) }
        let chosen: ZipArchive.Entry
        if let member {
            guard let i = names.firstIndex(of: member) else {
                throw WholeBrainError.badFile(path: path, problem: "has no array '\(member)'; it holds: \(names.joined(separator: ", "))")
            }
            chosen = arrays[i]
        } else {
            guard arrays.count == 1 else {
                throw WholeBrainError.badFile(path: path, problem: "holds \(arrays.count) arrays (\(names.joined(separator: ", "))); name the one to use")
            }
            chosen = arrays[0]
        }
        return try parse(try zip.contents(of: chosen), path: "\(path)[\(chosen.name)]")
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Matrix {
        var c = ByteCursor(bytes, path: path)
        let magic = try c.take(6, "the .npy magic string")
        guard Array(magic) == [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] else {
            throw WholeBrainError.badFile(path: path, problem: "not a NumPy .npy file (bad magic string)")
        }
        let major = try c.take(2, "the .npy version").first!
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try c.uint16("the .npy header length"))
        case 2, 3: headerLength = Int(try c.uint32("the .npy header length"))
        default: throw WholeBrainError.badFile(path: path, problem: ".npy format version \(major) is not supported (1-3 are)")
        }
        let header = String(decoding: try c.take(headerLength, "the .npy header"), as: UTF8.self)
        guard let descr = field(header, "descr"), let fortran = field(header, "fortran_order"),
              let shapeText = field(header, "shape") else {
            throw WholeBrainError.badFile(path: path, problem: "corrupt .npy header: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard let (kind, bigEndian) = decodeDtype(dtype) else {
            throw WholeBrainError.badFile(path: path, problem: "dtype '\(dtype)' is not supported; expected a real float, integer or bool array")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count <= 2 else {
            throw WholeBrainError.badFile(path: path, problem: "array has shape \(shapeText), expected 1-D or 2-D")
        }
        let rows = dims.count == 2 ? dims[0] : 1
        let cols = dims.count == 2 ? dims[1] : (dims.first ?? 1)
        let count = rows * cols
        let data = try c.take(count * NumericDecoding.width(kind), "\(count) array elements")
        let values = NumericDecoding.decode(data, kind: kind, bigEndian: bigEndian)
        let isFortran = fortran.trimmingCharacters(in: .whitespaces).hasPrefix("True")
        return isFortran ? Matrix(rows: rows, columns: cols, columnMajor: values)
                         : Matrix(rows: rows, columns: cols, values: values)
    }

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        let rest = header[r.upperBound...].drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        guard let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) else { return nil }
        return String(rest[..<end])
    }

    private static func decodeDtype(_ d: String) -> (NumericDecoding.Kind, Bool)? {
        guard d.count >= 2 else { return nil }
        let order = d.first!
        let big = order == ">"
        let code = String(d.dropFirst())
        let table: [String: NumericDecoding.Kind] = [
            "f8": .float64, "f4": .float32, "i8": .int64, "i4": .int32, "i2": .int16, "i1": .int8,
            "u8": .uint64, "u4": .uint32, "u2": .uint16, "u1": .uint8, "b1": .uint8,
        ]
        guard "<>|=".contains(order), let kind = table[code] else { return nil }
        return (kind, big)
    }

    /// Encodes a matrix as `.npy` bytes (`<f8`, C order, version 1.0).
    public static func encode(_ m: Matrix, oneDimensional: Bool = false) -> [UInt8] {
        let shape = oneDimensional ? "(\(m.values.count),)" : "(\(m.rows), \(m.columns))"
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]
        let len = UInt16(header.utf8.count)
        out += [UInt8(len & 0xff), UInt8(len >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + 8 * m.values.count)
        for v in m.values {
            let bits = v.bitPattern
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * k))) }
        }
        return out
    }
}
