/// Reads little- or big-endian fields from a byte buffer; running past the end throws
/// `badFile(path, "truncated ...")` instead of trapping.
struct ByteCursor {
    let bytes: [UInt8]
    let path: String
    var offset: Int
    var bigEndian: Bool

    init(_ bytes: [UInt8], path: String, offset: Int = 0, bigEndian: Bool = false) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
        self.bigEndian = bigEndian
    }

    var remaining: Int { bytes.count - offset }

    func need(_ n: Int, _ what: String) throws {
        if n < 0 || offset + n > bytes.count {
            throw WholeBrainError.badFile(
                path: path,
                problem: "truncated or corrupt: \(what) needs \(n) bytes at offset \(offset), file has \(bytes.count)")
        }
    }

    mutating func skip(_ n: Int, _ what: String) throws {
        try need(n, what)
        offset += n
    }

    mutating func take(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
        try need(n, what)
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func uint16(_ what: String) throws -> UInt16 {
        try need(2, what)
        let b0 = UInt16(bytes[offset]), b1 = UInt16(bytes[offset + 1])
        offset += 2
        return bigEndian ? (b0 << 8 | b1) : (b1 << 8 | b0)
    }

    mutating func uint32(_ what: String) throws -> UInt32 {
        try need(4, what)
        var v: UInt32 = 0
        for k in 0..<4 {
            let b = UInt32(bytes[offset + k])
            v |= bigEndian ? b << UInt32(8 * (3 - k)) : b << UInt32(8 * k)
        }
        offset += 4
        return v
    }

    mutating func uint64(_ what: String) throws -> UInt64 {
        try need(8, what)
        var v: UInt64 = 0
        for k in 0..<8 {
            let b = UInt64(bytes[offset + k])
            v |= bigEndian ? b << UInt64(8 * (7 - k)) : b << UInt64(8 * k)
        }
        offset += 8
        return v
    }
}

/// Converts a packed little/big-endian numeric array to `Double`s.
enum NumericDecoding {
    enum Kind { case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64 }

    static func width(_ kind: Kind) -> Int {
        switch kind {
        case .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    static func decode(_ bytes: ArraySlice<UInt8>, kind: Kind, bigEndian: Bool) -> [Double] {
        let w = width(kind)
        let n = bytes.count / w
        var out = [Double](repeating: 0, count: n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                var bits: UInt64 = 0
                for k in 0..<w {
                    let b = UInt64(raw[i * w + k])
                    bits |= bigEndian ? b << UInt64(8 * (w - 1 - k)) : b << UInt64(8 * k)
                }
                switch kind {
                case .int8: out[i] = Double(Int8(truncatingIfNeeded: bits))
                case .uint8: out[i] = Double(UInt8(truncatingIfNeeded: bits))
                case .int16: out[i] = Double(Int16(truncatingIfNeeded: bits))
                case .uint16: out[i] = Double(UInt16(truncatingIfNeeded: bits))
                case .int32: out[i] = Double(Int32(truncatingIfNeeded: bits))
                case .uint32: out[i] = Double(UInt32(truncatingIfNeeded: bits))
                case .int64: out[i] = Double(Int64(bitPattern: bits))
                case .uint64: out[i] = Double(bits)
                case .float32: out[i] = Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
                case .float64: out[i] = Double(bitPattern: bits)
                }
            }
        }
        return out
    }
}
