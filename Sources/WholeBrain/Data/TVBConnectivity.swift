/// The Virtual Brain's connectivity zip: `weights.txt` (N x N), `tract_lengths.txt`
/// (N x N, mm) and optionally `centres.txt` (one region a line: label x y z). Members may
/// sit in a sub-folder of the archive and may be gzip-free deflated text.
public enum TVBConnectivity {
    public struct Contents {
        public let weights: Matrix
        public let tractLengths: Matrix
        public let labels: [String]?
    }

    public static func read(path: String) throws -> Contents {
        let zip = try ZipArchive(path: path)
        func member(_ base: String) -> ZipArchive.Entry? {
            zip.entries.first { $0.name == base || $0.name.hasSuffix("/" + base) }
        }
        guard let w = member("weights.txt") else {
            throw WholeBrainError.badFile(path: path, problem: "TVB connectivity zip has no weights.txt; it holds: \(zip.names.joined(separator: ", "))")
        }
        guard let l = member("tract_lengths.txt") else {
            throw WholeBrainError.badFile(path: path, problem: "TVB connectivity zip has no tract_lengths.txt; it holds: \(zip.names.joined(separator: ", "))")
        }
        let weights = try DelimitedText.parse(String(decoding: try zip.contents(of: w), as: UTF8.self), path: "\(path)[\(w.name)]")
        let lengths = try DelimitedText.parse(String(decoding: try zip.contents(of: l), as: UTF8.self), path: "\(path)[\(l.name)]")
        var labels: [String]?
        if let c = member("centres.txt") {
            let text = String(decoding: try zip.contents(of: c), as: UTF8.self)
            labels = text.split(whereSeparator: \.isNewline).compactMap { line in
                line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)
            }
        }
        return Contents(weights: weights, tractLengths: lengths, labels: labels)
    }
}
