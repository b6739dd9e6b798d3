import CZlib

/// zlib decompression for MATLAB `miCOMPRESSED` elements (zlib streams) and deflated
/// zip members (raw deflate).
enum Inflate {
    enum Framing {
        case zlib   // RFC 1950 header and Adler-32 trailer
        case raw    // RFC 1951 deflate data, as stored in zip archives
    }

    /// Decompresses `input` completely. `expectedSize` is a hint (zip stores it exactly).
    static func decompress(_ input: ArraySlice<UInt8>, framing: Framing, expectedSize: Int? = nil,
                           path: String, what: String) throws -> [UInt8] {
        var stream = z_stream()
        let windowBits: Int32 = framing == .zlib ? 15 : -15
        guard wb_inflate_init2(&stream, windowBits) == Z_OK else {
            throw WholeBrainError.badFile(path: path, problem: "zlib could not start inflating \(what)")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(expectedSize ?? input.count * 4, 64))
        var produced = 0
        var status: Int32 = Z_OK
        var input = Array(input)
        let inputCount = input.count
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inputCount)
            while true {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: output.count)) }
                let room = output.count - produced
                status = output.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                    stream.next_out = outBuf.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let s = inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return s
                }
                if status == Z_STREAM_END { break }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw WholeBrainError.badFile(path: path, problem: "truncated compressed data in \(what)")
                }
                if status != Z_BUF_ERROR {
                    throw WholeBrainError.badFile(path: path, problem: "corrupt compressed data in \(what) (zlib error \(status))")
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// CRC-32 as used by zip archives.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buf in
            UInt32(CZlib.crc32(0, buf.baseAddress, UInt32(buf.count)))
        }
    }
}
