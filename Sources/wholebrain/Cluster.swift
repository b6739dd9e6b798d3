import Foundation
import WholeBrain
import WholeBrainMPI

/// The job's ranks: MPI_COMM_WORLD when started by mpirun/mpiexec or `srun --mpi=pmix`, else
/// one serial process (no MPI_Init, which would cost a singleton start-up).
enum Cluster {
    nonisolated(unsafe) static let world: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator.world() : SerialCommunicator()

    /// Only rank 0 prints results and writes outputs.
    static var isLead: Bool { world.rank == 0 }
}
