/// Minimal reader of zip archives (PKWARE APPNOTE 6.3): the central directory, stored
/// and deflated members, CRC-32 checked. Enough for NumPy `.npz` files and The Virtual
/// Brain's connectivity zips; zip64 and encrypted archives are rejected with a message.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let compressedSize: Int
        let uncompressedSize: Int
        let crc32: UInt32
        let localHeaderOffset: Int
    }

    let path: String
    let bytes: [UInt8]
    let entries: [Entry]

    init(path: String) throws {
        self.path = path
        bytes = try FileBytes.read(path: path, what: "a zip archive")
        entries = try ZipArchive.centralDirectory(bytes, path: path)
    }

    var names: [String] { entries.map(\.name) }

    /// The uncompressed bytes of one member.
    func contents(of entry: Entry) throws -> [UInt8] {
        var c = ByteCursor(bytes, path: path, offset: entry.localHeaderOffset)
        guard try c.uint32("a local file header") == 0x0403_4b50 else {
            throw WholeBrainError.badFile(path: path, problem: "corrupt zip: no local header for '\(entry.name)'")
        }
        try c.skip(22, "local header of '\(entry.name)'")
        let nameLength = Int(try c.uint16("name length")), extraLength = Int(try c.uint16("extra length"))
        try c.skip(nameLength + extraLength, "local header of '\(entry.name)'")
        let data = try c.take(entry.compressedSize, "member '\(entry.name)'")
        let out: [UInt8]
        switch entry.method {
        case 0: out = Array(data)
        case 8:
            out = try Inflate.decompress(data, framing: .raw, expectedSize: entry.uncompressedSize,
                                         path: path, what: "zip member '\(entry.name)'")
        default:
            throw WholeBrainError.badFile(path: path, problem: "zip member '\(entry.name)' uses compression method \(entry.method); only stored (0) and deflate (8) are supported")
        }
        guard out.count == entry.uncompressedSize, Inflate.crc32(out) == entry.crc32 else {
            throw WholeBrainError.badFile(path: path, problem: "zip member '\(entry.name)' fails its CRC-32 or size check: corrupt archive")
        }
        return out
    }

    private static func centralDirectory(_ bytes: [UInt8], path: String) throws -> [Entry] {
        // The end-of-central-directory record sits in the last 22 + 65535 bytes.
        var eocd = -1
        var k = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while k >= lowest {
            if bytes[k] == 0x50, bytes[k + 1] == 0x4b, bytes[k + 2] == 0x05, bytes[k + 3] == 0x06 { eocd = k; break }
            k -= 1
        }
        guard eocd >= 0 else {
            throw WholeBrainError.badFile(path: path, problem: "not a zip archive, or truncated (no end-of-central-directory record)")
        }
        var c = ByteCursor(bytes, path: path, offset: eocd + 10)
        let count = Int(try c.uint16("entry count"))
        let size = Int(try c.uint32("central directory size"))
        let start = Int(try c.uint32("central directory offset"))
        if count == 0xffff || start == 0xffff_ffff {
            throw WholeBrainError.badFile(path: path, problem: "is a zip64 archive, which is not supported")
        }
        guard start + size <= eocd else {
            throw WholeBrainError.badFile(path: path, problem: "truncated or corrupt zip (central directory past its end)")
        }
        c.offset = start
        var entries: [Entry] = []
        for _ in 0..<count {
            guard try c.uint32("a central directory header") == 0x0201_4b50 else {
                throw WholeBrainError.badFile(path: path, problem: "corrupt zip central directory")
            }
            try c.skip(4, "central header")
            let flags = try c.uint16("flags")
            let method = try c.uint16("method")
            try c.skip(4, "time and date")
            let crc = try c.uint32("crc")
            let compressed = Int(try c.uint32("compressed size"))
            let uncompressed = Int(try c.uint32("uncompressed size"))
            let nameLength = Int(try c.uint16("name length"))
            let extraLength = Int(try c.uint16("extra length"))
            let commentLength = Int(try c.uint16("comment length"))
            try c.skip(8, "central header")
            let local = Int(try c.uint32("local header offset"))
            let name = String(decoding: try c.take(nameLength, "member name"), as: UTF8.self)
            try c.skip(extraLength + commentLength, "central header extra fields")
            if flags & 1 != 0 {
                throw WholeBrainError.badFile(path: path, problem: "zip member '\(name)' is encrypted")
            }
            entries.append(Entry(name: name, method: method, compressedSize: compressed,
                                 uncompressedSize: uncompressed, crc32: crc, localHeaderOffset: local))
        }
        return entries
    }
}
