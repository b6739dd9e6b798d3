import ArgumentParser
import Foundation
import WholeBrain

/// Runs a subcommand's body; a `WholeBrainError` (bad input, failed run) becomes one line on
/// stderr, "wholebrain NAME: error: ...", and exit status 1. Under MPI an error every rank
/// agreed on (`.onRank`) is printed once, by rank 0; any other error ends the whole job
/// (`MPI_Abort`) after its rank has printed it, so no rank waits forever.
func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as WholeBrainError {
        let world = Cluster.world
        if case .onRank = error, world.size > 1 {
            if world.rank == 0 { FileHandle.standardError.write("wholebrain \(command): error: \(error)\n".data(using: .utf8)!) }
            throw ExitCode(1)
        }
        let prefix = world.size > 1 ? "rank \(world.rank): " : ""
        FileHandle.standardError.write("wholebrain \(command): error: \(prefix)\(error)\n".data(using: .utf8)!)
        if world.size > 1 { world.abort(code: 1) }
        throw ExitCode(1)
    }
}

/// One line on stderr (regimes, choices and warnings: what a user must see even when stdout
/// is redirected).
func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}
