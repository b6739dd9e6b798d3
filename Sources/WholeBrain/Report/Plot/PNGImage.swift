import CZlib
import Foundation

/// An 8-bit RGB PNG (ISO/IEC 15948) of a matrix drawn in a colour scale, one pixel per cell,
/// as a data URI for an SVG `<image>`: an 80 x 80 FC takes about 10 kB where one SVG
/// rectangle per cell took 600 kB. zlib (already linked for MATLAB files) compresses it.
enum PNGImage {
    static func dataURI(_ m: Matrix, scale: ColourScale) -> String {
        var raw = [UInt8]()
        raw.reserveCapacity(m.rows * (1 + 3 * m.columns))
        for r in 0..<m.rows {
            raw.append(0)  // filter: none
            for c in 0..<m.columns {
                let (red, green, blue) = scale.rgb(m[r, c])
                raw.append(red); raw.append(green); raw.append(blue)
            }
        }
        return "data:image/png;base64," + Data(encode(width: m.columns, height: m.rows, scanlines: raw)).base64EncodedString()
    }

    /// The PNG file of filtered scanlines (each row a filter byte then RGB triples).
    static func encode(width: Int, height: Int, scanlines: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) {
            let typed = Array(type.utf8) + body
            out += be32(UInt32(body.count)) + typed
            out += be32(typed.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) })
        }
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])  // 8-bit RGB, deflate, no interlace
        var size = compressBound(UInt(scanlines.count))
        var packed = [UInt8](repeating: 0, count: Int(size))
        let status = packed.withUnsafeMutableBufferPointer { dst in
            scanlines.withUnsafeBufferPointer { src in compress2(dst.baseAddress, &size, src.baseAddress, UInt(src.count), 9) }
        }
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        chunk("IDAT", Array(packed.prefix(Int(size))))
        chunk("IEND", [])
        return out
    }
}
