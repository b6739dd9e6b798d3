import Dispatch
import Foundation
import WholeBrain

/// SIGINT (Ctrl-C) and SIGTERM (what Slurm sends at a time limit or preemption, and mpirun
/// passes on) end the command cleanly: staging folders of outputs not yet committed are
/// removed and the process exits with 128 + the signal's number, as a shell reports it. A
/// fit's per-epoch checkpoint and a sweep's finished runs stay, so the same command with
/// --resume continues.
enum SignalCleanup {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                StagingFolders.removeAll()
                FileHandle.standardError.write("wholebrain: stopped by signal \(number); unfinished outputs removed\n".data(using: .utf8)!)
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
