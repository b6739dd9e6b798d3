import Foundation

/// A reader for the TOML that job specs use: `key = value` with strings ("..."), numbers,
/// booleans and one-line arrays of those; `[table]` and `[[array of tables]]` headers;
/// `#` comments. Anything else is an error naming the file and line (multi-line strings,
/// inline tables, dates and dotted keys are not part of job specs).
public enum JobFile {
    public indirect enum Value: Equatable, Sendable {
        case string(String), number(Double), bool(Bool), array([Value])
        case table([String: Value])
        case tables([[String: Value]])

        public var number: Double? { if case let .number(x) = self { return x } else { return nil } }
        public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    }

    public static func read(path: String) throws -> [String: Value] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WholeBrainError.missingFile(path: path, what: "a TOML job spec")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    public static func parse(_ text: String, source: String) throws -> [String: Value] {
        var root: [String: Value] = [:]
        var current: (name: String, array: Bool)?
        var table: [String: Value] = [:]
        func flush() {
            guard let current else { return }
            if current.array {
                if case let .tables(list)? = root[current.name] { root[current.name] = .tables(list + [table]) } else { root[current.name] = .tables([table]) }
            } else {
                root[current.name] = .table(table)
            }
        }
        for (index, raw) in text.components(separatedBy: "\n").enumerated() {
            let where_ = "\(source):\(index + 1)"
            let line = stripComment(raw).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                let array = line.hasPrefix("[[")
                guard line.hasSuffix(array ? "]]" : "]") else { throw bad(where_, raw, "a header like [name] or [[name]]") }
                let name = line.dropFirst(array ? 2 : 1).dropLast(array ? 2 : 1).trimmingCharacters(in: .whitespaces)
                guard isBareKey(name) else { throw bad(where_, raw, "a table name of letters, digits, _ and -") }
                flush()
                if !array, root[name] != nil { throw bad(where_, raw, "each table once ([\(name)] appears again)") }
                current = (name, array)
                table = [:]
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw bad(where_, raw, "key = value") }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard isBareKey(key) else { throw bad(where_, raw, "a key of letters, digits, _ and -") }
            var rest = Substring(line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces))
            let value = try parseValue(&rest, where_, raw)
            guard rest.trimmingCharacters(in: .whitespaces).isEmpty else { throw bad(where_, raw, "one value per line") }
            if current == nil {
                guard root[key] == nil else { throw bad(where_, raw, "each key once (\(key) appears again)") }
                root[key] = value
            } else {
                guard table[key] == nil else { throw bad(where_, raw, "each key once (\(key) appears again)") }
                table[key] = value
            }
        }
        flush()
        return root
    }

    static func isBareKey(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }

    static func stripComment(_ line: String) -> String {
        var inString = false
        for (k, c) in line.enumerated() {
            if c == "\"" { inString.toggle() }
            if c == "#" && !inString { return String(line.prefix(k)) }
        }
        return line
    }

    static func bad(_ where_: String, _ line: String, _ expected: String) -> WholeBrainError {
        .badValue(source: where_, value: line.trimmingCharacters(in: .whitespaces), expected: expected)
    }

    static func parseValue(_ s: inout Substring, _ where_: String, _ raw: String) throws -> Value {
        s = s.drop { $0 == " " || $0 == "\t" }
        guard let first = s.first else { throw bad(where_, raw, "a value after =") }
        if first == "\"" {
            s = s.dropFirst()
            guard let end = s.firstIndex(of: "\"") else { throw bad(where_, raw, "a closing quote") }
            let text = String(s[..<end])
            s = s[s.index(after: end)...]
            return .string(text)
        }
        if first == "[" {
            s = s.dropFirst()
            var items: [Value] = []
            while true {
                s = s.drop { $0 == " " || $0 == "\t" }
                if s.first == "]" { s = s.dropFirst(); break }
                items.append(try parseValue(&s, where_, raw))
                s = s.drop { $0 == " " || $0 == "\t" }
                if s.first == "," { s = s.dropFirst(); continue }
                if s.first == "]" { s = s.dropFirst(); break }
                throw bad(where_, raw, "an array on one line: [a, b, ...]")
            }
            return .array(items)
        }
        let token = s.prefix { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" }
        s = s.dropFirst(token.count)
        if token == "true" { return .bool(true) }
        if token == "false" { return .bool(false) }
        if let x = Double(token.replacingOccurrences(of: "_", with: "")) { return .number(x) }
        throw bad(where_, raw, "a string in quotes, a number, true/false or an array")
    }
}
