import WholeBrain

/// `--set name=value` options as (name, value) pairs; whitespace around either side is ignored.
func parseAssignments(_ texts: [String]) throws -> [(name: String, value: Double)] {
    try texts.map { text in
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let v = Double(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw WholeBrainError.badValue(source: "--set", value: text, expected: "name=value with a number, e.g. w_plus=1.4")
        }
        return (parts[0].trimmingCharacters(in: .whitespaces), v)
    }
}
