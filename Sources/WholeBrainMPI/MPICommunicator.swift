import CMPI
import Foundation
import WholeBrain

/// `Communicator` over Open MPI. `MPICommunicator.world()` initialises MPI once per process
/// (finalised at exit); sub-communicators come from `MPI_Comm_split`.
public final class MPICommunicator: Communicator {
    let comm: MPI_Comm
    public let rank: Int
    public let size: Int

    init(_ comm: MPI_Comm) {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r); size = Int(s)
    }

    nonisolated(unsafe) static var initialised = false

    /// MPI_COMM_WORLD, initialising MPI on first use (and finalising it at exit).
    public static func world() -> MPICommunicator {
        if !initialised {
            MPI_Init(nil, nil)
            initialised = true
            atexit { MPI_Finalize() }
        }
        return MPICommunicator(wb_mpi_comm_world())
    }

    /// True when this process was started by mpirun/mpiexec or srun with PMIx (their
    /// variables are in the environment); a plain start stays serial and skips MPI_Init.
    public static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil || environment["PMI_RANK"] != nil
    }

    /// The layouts of recent exchanges (counts, MPI counts, displacements): the simulator
    /// alternates between a few, so the exchange itself allocates nothing.
    var layouts: [(counts: [Int], counts32: [Int32], displacements: [Int32])] = []

    public func allGather(_ send: UnsafePointer<Double>, count: Int, into receive: UnsafeMutablePointer<Double>, counts: [Int]) {
        let index: Int
        if let found = layouts.firstIndex(where: { $0.counts == counts }) {
            index = found
        } else {
            let counts32 = counts.map { Int32($0) }
            var displacements = [Int32](repeating: 0, count: counts.count)
            for r in 1..<max(counts.count, 1) { displacements[r] = displacements[r - 1] + counts32[r - 1] }
            if layouts.count >= 8 { layouts.removeFirst() }
            layouts.append((counts, counts32, displacements))
            index = layouts.count - 1
        }
        let layout = layouts[index]            // shares the arrays' storage, copies nothing
        layout.counts32.withUnsafeBufferPointer { c in
            layout.displacements.withUnsafeBufferPointer { d in
                _ = MPI_Allgatherv(send, Int32(count), wb_mpi_double(), receive, c.baseAddress, d.baseAddress, wb_mpi_double(), comm)
            }
        }
    }

    public func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] {
        var length = Int32(bytes.count)
        MPI_Bcast(&length, 1, wb_mpi_int(), Int32(root), comm)
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        if length > 0 { MPI_Bcast(&buffer, length, wb_mpi_uint8(), Int32(root), comm) }
        return buffer
    }

    public func maximum(_ value: Int) -> Int {
        var x = Int32(clamping: value), y: Int32 = 0
        MPI_Allreduce(&x, &y, 1, wb_mpi_int(), wb_mpi_max(), comm)
        return Int(y)
    }

    public func split(color: Int, key: Int) -> Communicator {
        var sub: MPI_Comm?
        MPI_Comm_split(comm, Int32(color), Int32(key), &sub)
        return MPICommunicator(sub!)
    }

    public func makeCounter() -> SharedCounter { MPICounter(comm: comm, rank: rank) }

    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }
}

/// A counter held by rank 0 in an MPI window and incremented with `MPI_Fetch_and_op` under a
/// shared lock: an atomic fetch-and-add that needs no rank to serve requests.
final class MPICounter: SharedCounter {
    var window: MPI_Win?
    let storage: UnsafeMutablePointer<Int64>

    init(comm: MPI_Comm, rank: Int) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: 0)
        MPI_Win_create(storage, MPI_Aint(rank == 0 ? MemoryLayout<Int64>.size : 0), Int32(MemoryLayout<Int64>.size),
                       wb_mpi_info_null(), comm, &window)
    }

    func next() -> Int {
        var one: Int64 = 1, previous: Int64 = 0
        MPI_Win_lock(Int32(MPI_LOCK_SHARED), 0, 0, window)
        MPI_Fetch_and_op(&one, &previous, wb_mpi_int64(), 0, 0, wb_mpi_sum(), window)
        MPI_Win_unlock(0, window)
        return Int(previous)
    }

    // The window is not freed: MPI_Win_free is collective, and a rank leaving early with an
    // error must not wait in it for the others (MPI_Finalize releases it).
}
