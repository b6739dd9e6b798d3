// Writes the model catalogue from the files of Sources/WholeBrain/Models/: every type declared
// there as conforming to NeuralMassModel, in file-name order, so that adding a model is one
// file. Run by ModelCatalogPlugin at build time: ModelCatalogGenerator OUTPUT FILE...
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard let output = arguments.first else {
    FileHandle.standardError.write("usage: ModelCatalogGenerator OUTPUT SWIFT-FILE...\n".data(using: .utf8)!)
    exit(2)
}
// A declaration at the start of a line: `public struct Name: NeuralMassModel` (or a class,
// enum or extension, with NeuralMassModel anywhere in its conformance list).
let declaration = try NSRegularExpression(
    pattern: #"^(?:public\s+|final\s+)*(?:struct|class|enum|extension)\s+(\w+)\s*:[^{\n]*\bNeuralMassModel\b"#,
    options: [.anchorsMatchLines])
var types: [String] = []
for path in arguments.dropFirst().sorted(by: { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        if let range = Range(match.range(at: 1), in: text), !types.contains(String(text[range])) { types.append(String(text[range])) }
    }
}
let source = """
    // Generated at build time by ModelCatalogGenerator from Sources/WholeBrain/Models/; do not edit.
    extension ModelCatalog {
        /// Every type in Models/ that conforms to NeuralMassModel, in file-name order.
        static let declared: [any NeuralMassModel.Type] = [
    \(types.map { "        \($0).self," }.joined(separator: "\n"))
        ]
    }

    """
// Rewrite only on a change, so that an unchanged catalogue does not rebuild the library.
if (try? String(contentsOfFile: output, encoding: .utf8)) != source {
    try source.write(toFile: output, atomically: true, encoding: .utf8)
}
