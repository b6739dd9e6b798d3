import ArgumentParser
import WholeBrain
import WholeBrainMPI

enum WholeBrainVersionText {
    static var value: String { WholeBrainVersion.string }
}

/// Prints versions of WholeBrain and the libraries it is linked against.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the WholeBrain version and the FFTW and MPI libraries it uses.")

    func run() throws {
        print("wholebrain \(WholeBrainVersion.string)")
        print("FFTW: \(FFTWInfo.version)")
        print("MPI: \(MPIInfo.libraryVersion) (MPI standard \(MPIInfo.standardVersion))")
    }
}
