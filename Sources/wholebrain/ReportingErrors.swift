import ArgumentParser
import Foundation
import WholeBrain

/// Runs a subcommand's body; a `WholeBrainError` (bad input, failed run) becomes one line on
/// stderr, "wholebrain NAME: error: ...", and exit status 1.
func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as WholeBrainError {
        FileHandle.standardError.write("wholebrain \(command): error: \(error)\n".data(using: .utf8)!)
        throw ExitCode(1)
    }
}
