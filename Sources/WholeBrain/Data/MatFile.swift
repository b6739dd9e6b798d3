import Foundation

/// Reader for MATLAB level-5 MAT-files (the `-v6`/`-v7` format written by MATLAB and
/// `scipy.io.savemat`): numeric real matrices of every class, including elements compressed
/// with zlib (`miCOMPRESSED`, the v7 default). HDF5-based `-v7.3` files are recognised and
/// rejected with a message saying how to re-save them.
///
/// Format: MathWorks, "MAT-File Format", level 5: a 128-byte header (text, subsystem
/// offset, version 0x0100, endian indicator "IM"/"MI") then tagged data elements, each
/// padded to 8 bytes; a matrix element holds array flags, dimensions, name and real data
/// stored column-major.
public enum MatFile {
    /// One variable of a MAT-file.
    public enum Variable {
        /// A real numeric array with its dimensions (column-major values as `Double`).
        case numeric(dimensions: [Int], columnMajor: [Double])
        /// Anything else: cell, struct, char, sparse, complex, object; `kind` says which.
        case unsupported(kind: String)
    }

    /// All top-level variables of the file by name.
    public static func read(path: String) throws -> [String: Variable] {
        let bytes = try FileBytes.read(path: path, what: "a MATLAB .mat file")
        if bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] {
            throw WholeBrainError.badFile(path: path, problem: "is an HDF5 (-v7.3) MAT-file; re-save it with save(..., '-v7') or convert it to .npy")
        }
        var cursor = ByteCursor(bytes, path: path)
        try cursor.need(128, "the MAT-file header")
        let text = String(decoding: bytes[0..<116], as: UTF8.self)
        guard text.hasPrefix("MATLAB 5.0 MAT-file") else {
            throw WholeBrainError.badFile(path: path, problem: "not a MATLAB 5 MAT-file (header does not start with 'MATLAB 5.0 MAT-file')")
        }
        switch (bytes[126], bytes[127]) {
        case (0x49, 0x4d): cursor.bigEndian = false  // "IM" read little-endian
        case (0x4d, 0x49): cursor.bigEndian = true
        default:
            throw WholeBrainError.badFile(path: path, problem: "MAT-file endian indicator is neither 'IM' nor 'MI'")
        }
        cursor.offset = 128
        var variables: [String: Variable] = [:]
        while cursor.remaining > 0 {
            if cursor.remaining < 8 { break }  // trailing padding
            let (type, size, small) = try readTag(&cursor)
            if small != nil { continue }
            let body = try cursor.take(size, "a data element of \(size) bytes")
            if type == miCOMPRESSED {
                let inflated = try Inflate.decompress(body, framing: .zlib, path: path, what: "a compressed MAT-file element")
                var inner = ByteCursor(inflated, path: path, bigEndian: cursor.bigEndian)
                let (innerType, innerSize, _) = try readTag(&inner)
                guard innerType == miMATRIX else { continue }
                let innerBody = try inner.take(innerSize, "a compressed matrix element")
                let (name, value) = try parseMatrix(innerBody, path: path, bigEndian: cursor.bigEndian)
                variables[name] = value
            } else {
                if type == miMATRIX {
                    let (name, value) = try parseMatrix(body, path: path, bigEndian: cursor.bigEndian)
                    variables[name] = value
                }
                try cursor.skip(padding(size), "element padding")
            }
        }
        return variables
    }

    /// The named 2-D real variable as a row-major `Matrix`. With `variable == nil` the
    /// file must hold exactly one variable.
    public static func matrix(path: String, variable: String?) throws -> Matrix {
        let vars = try read(path: path)
        let name: String
        if let variable {
            guard vars[variable] != nil else {
                throw WholeBrainError.badFile(path: path, problem: "has no variable '\(variable)'; it holds: \(vars.keys.sorted().joined(separator: ", "))")
            }
            name = variable
        } else {
            guard vars.count == 1, let only = vars.keys.first else {
                throw WholeBrainError.badFile(path: path, problem: "holds \(vars.count) variables (\(vars.keys.sorted().joined(separator: ", "))); name the one to use")
            }
            name = only
        }
        switch vars[name]! {
        case let .unsupported(kind):
            throw WholeBrainError.badFile(path: path, problem: "variable '\(name)' is a \(kind), expected a real numeric matrix")
        case let .numeric(dims, values):
            let extra = dims.dropFirst(2).reduce(1, *)
            guard dims.count >= 2, extra == 1 else {
                throw WholeBrainError.badFile(path: path, problem: "variable '\(name)' has dimensions \(dims.map(String.init).joined(separator: "x")), expected a 2-D matrix")
            }
            return Matrix(rows: dims[0], columns: dims[1], columnMajor: values)
        }
    }

    // MARK: - Element layer

    static let miINT8: UInt32 = 1, miUINT8: UInt32 = 2, miINT16: UInt32 = 3, miUINT16: UInt32 = 4
    static let miINT32: UInt32 = 5, miUINT32: UInt32 = 6, miSINGLE: UInt32 = 7, miDOUBLE: UInt32 = 9
    static let miINT64: UInt32 = 12, miUINT64: UInt32 = 13, miMATRIX: UInt32 = 14, miCOMPRESSED: UInt32 = 15

    static func padding(_ size: Int) -> Int { (8 - size % 8) % 8 }

    /// Reads a tag; for the small-element format (data packed in the tag) returns the data.
    static func readTag(_ c: inout ByteCursor) throws -> (type: UInt32, size: Int, small: ArraySlice<UInt8>?) {
        let first = try c.uint32("a data element tag")
        if first >> 16 != 0 {
            let size = Int(first >> 16), type = first & 0xffff
            guard size <= 4 else {
                throw WholeBrainError.badFile(path: c.path, problem: "corrupt small data element (size \(size) > 4) at offset \(c.offset - 4)")
            }
            let data = try c.take(4, "a small data element")
            return (type, size, data.prefix(size))
        }
        let size = Int(try c.uint32("a data element size"))
        return (first, size, nil)
    }

    /// Reads one sub-element (tag plus padded data) of a matrix.
    static func subElement(_ c: inout ByteCursor, _ what: String) throws -> (type: UInt32, data: ArraySlice<UInt8>) {
        let (type, size, small) = try readTag(&c)
        if let small { return (type, small) }
        let data = try c.take(size, what)
        try c.skip(min(padding(size), c.remaining), "padding of \(what)")
        return (type, data)
    }

    static func numericKind(_ type: UInt32) -> NumericDecoding.Kind? {
        switch type {
        case miINT8: return .int8
        case miUINT8: return .uint8
        case miINT16: return .int16
        case miUINT16: return .uint16
        case miINT32: return .int32
        case miUINT32: return .uint32
        case miINT64: return .int64
        case miUINT64: return .uint64
        case miSINGLE: return .float32
        case miDOUBLE: return .float64
        default: return nil
        }
    }

    static let classNames: [UInt8: String] = [
        1: "cell array", 2: "struct", 3: "object", 4: "char array", 5: "sparse matrix",
        6: "double", 7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16",
        12: "int32", 13: "uint32", 14: "int64", 15: "uint64",
    ]

    static func parseMatrix(_ body: ArraySlice<UInt8>, path: String, bigEndian: Bool) throws -> (String, Variable) {
        var c = ByteCursor(Array(body), path: path, bigEndian: bigEndian)
        if body.isEmpty { return ("", .unsupported(kind: "empty element")) }
        let flags = try subElement(&c, "array flags")
        guard flags.data.count >= 4 else {
            throw WholeBrainError.badFile(path: path, problem: "corrupt matrix element: array flags too short")
        }
        var fc = ByteCursor(Array(flags.data), path: path, bigEndian: bigEndian)
        let flagWord = try fc.uint32("array flags")
        let mxClass = UInt8(flagWord & 0xff)
        let isComplex = flagWord & 0x800 != 0
        let dimsElement = try subElement(&c, "dimensions")
        guard dimsElement.type == miINT32 else {
            throw WholeBrainError.badFile(path: path, problem: "corrupt matrix element: dimensions are not int32")
        }
        let dims = NumericDecoding.decode(dimsElement.data, kind: .int32, bigEndian: bigEndian).map { Int($0) }
        let nameElement = try subElement(&c, "array name")
        let name = String(decoding: nameElement.data, as: UTF8.self)
        guard (6...15).contains(mxClass) else {
            return (name, .unsupported(kind: classNames[mxClass] ?? "class \(mxClass)"))
        }
        if isComplex { return (name, .unsupported(kind: "complex \(classNames[mxClass]!) matrix")) }
        if dims.contains(where: { $0 < 0 }) {
            throw WholeBrainError.badFile(path: path, problem: "variable '\(name)' has negative dimensions")
        }
        let count = dims.reduce(1, *)
        let real = try subElement(&c, "real part of '\(name)'")
        guard let kind = numericKind(real.type) else {
            throw WholeBrainError.badFile(path: path, problem: "variable '\(name)' stores its data with unknown type code \(real.type)")
        }
        let values = NumericDecoding.decode(real.data, kind: kind, bigEndian: bigEndian)
        guard values.count == count else {
            throw WholeBrainError.badFile(path: path, problem: "variable '\(name)' declares \(count) elements but stores \(values.count): truncated or corrupt")
        }
        return (name, .numeric(dimensions: dims, columnMajor: values))
    }
}

/// Whole-file reads with a clear error when the file is missing or unreadable.
enum FileBytes {
    static func read(path: String, what: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw WholeBrainError.missingFile(path: path, what: what)
        }
        if isDir.boolValue {
            throw WholeBrainError.badFile(path: path, problem: "is a directory, expected \(what)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WholeBrainError.badFile(path: path, problem: "cannot be read (permissions?)")
        }
        return [UInt8](data)
    }
}
