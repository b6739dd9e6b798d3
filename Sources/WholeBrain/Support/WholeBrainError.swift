/// Errors at the edges of the library: data, configuration and runs that cannot go on.
///
/// Every message names the file or option, says what is wrong and what would be right.
/// The numeric core does not throw; programmer errors are preconditions.
public enum WholeBrainError: Error, CustomStringConvertible, Equatable {
    /// A file that should exist does not.
    case missingFile(path: String, what: String)
    /// A file exists but cannot be read as the format it claims (corrupt, truncated, wrong type).
    case badFile(path: String, problem: String)
    /// A value (from a file field or an option) is out of its valid range.
    case badValue(source: String, value: String, expected: String)
    /// A subject that the dataset does not hold.
    case unknownSubject(String, dataset: String, known: [String])
    /// A state became NaN or infinite during integration.
    case diverged(timeMs: Double, node: Int, variable: String)
    /// An output location that would overwrite earlier results.
    case outputExists(path: String)
    /// Writing an output failed.
    case writeFailed(path: String, problem: String)
    /// An error raised on one MPI rank, reported on every rank.
    case onRank(rank: Int, message: String)

    public var description: String {
        switch self {
        case let .missingFile(path, what):
            return "\(path): file not found (expected \(what))"
        case let .badFile(path, problem):
            return "\(path): \(problem)"
        case let .badValue(source, value, expected):
            return "\(source) = \(value) is invalid: expected \(expected)"
        case let .unknownSubject(subject, dataset, known):
            return "subject '\(subject)' is not in \(dataset); known subjects: \(known.joined(separator: ", "))"
        case let .diverged(time, node, variable):
            return "simulation diverged: \(variable) of node \(node) became NaN or infinite at t = \(time) ms; lower dt, G or sigma"
        case let .outputExists(path):
            return "\(path) exists and is not empty: choose another --out or pass --force to replace it"
        case let .writeFailed(path, problem):
            return "\(path): cannot write (\(problem))"
        case let .onRank(rank, message):
            return "rank \(rank): \(message)"
        }
    }
}
