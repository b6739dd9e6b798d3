// `mpirun -np 2 WholeBrainBench --mpi [--append BENCHMARKS.md]`: what distribution costs and
// gains on this machine. Every figure compares like with like: "serial" runs the same network
// on one rank while the other rank runs its own copy (so both cores are busy in both cases).
import Foundation
import WholeBrain
import WholeBrainMPI

func runMPIBench(appendTo path: String?) throws {
    let world = MPICommunicator.world()
    guard world.size == 2 else {
        if world.rank == 0 { print("run with mpirun -np 2") }
        return
    }
    let alone = world.split(color: world.rank, key: 0)
    var lines: [String] = []
    func say(_ name: String, _ value: String, _ note: String) {
        if world.rank == 0 {
            print(name.padding(toLength: 58, withPad: " ", startingAt: 0), value, " ", note)
            lines.append("| \(name) | \(value) | \(note) |")
        }
    }
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        _ = world.maximum(0)                                   // start together
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        _ = world.maximum(0)
        return t
    }
    // Latency and bandwidth of the exchange.
    var small = [Double](repeating: 1, count: 1), large = [Double](repeating: 1, count: 1 << 17)
    var ts: [Double] = []
    for _ in 0..<2000 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        small = world.allGather(small, counts: [1, 1]).prefix(1).map { $0 }
        ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
    }
    ts.sort()
    let alpha = ts[ts.count / 2]
    var tl: [Double] = []
    for _ in 0..<20 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        large = Array(world.allGather(large, counts: [1 << 17, 1 << 17]).prefix(1 << 17))
        tl.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    tl.sort()
    let beta = Double((1 << 17) * 8) / tl[tl.count / 2] / 1e9        // GB/s received per rank
    say("allGather latency, 1 double per rank", String(format: "%.2f us", alpha), "(median of 2000; alpha of the model below)")
    say("allGather bandwidth, 1 MiB per rank", String(format: "%.2f GB/s", beta), "(median of 20; beta)")

    func compare(_ label: String, _ spec: SimulationSpec<ReducedWongWang>, repeats: Int) throws {
        let n = spec.connectome.regionCount
        let serialSim = try NetworkSimulator(spec: spec)
        let split = try NetworkSimulator(spec: spec, blocks: NetworkSimulator<ReducedWongWang>.blocks(nodes: n, parts: 2))
        var serial = Double.infinity, parallel = Double.infinity
        for _ in 0..<repeats {
            serial = min(serial, try seconds { _ = try serialSim.run(communicator: alone) })
            parallel = min(parallel, try seconds { _ = try split.run(communicator: world) })
        }
        let steps = Double(spec.totalSteps)
        let overhead = (parallel - serial / 2) / steps * 1e6
        say("node blocks, \(label): speed-up on 2 ranks", String(format: "%.2f", serial / parallel),
            String(format: "(serial %.1f, 2 ranks %.1f ns per node-step; %.2f us per step over half the serial time; exchange every %d steps)",
                   serial * 1e9 / steps / Double(n), parallel * 1e9 / steps / Double(n), overhead, split.exchangeInterval))
    }
    let hcp = try HCPDataset(root: dataRoot)
    let sc = try ConnectomePreparation().apply(to: try hcp.connectome(subject: "101309"))
    for speed in [20.0, 3.0] {
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: ReducedWongWang.Parameters()), connectome: sc, duration: 30, transient: 0, conductionSpeed: speed, seed: 1)
        try compare(String(format: "N=80 HCP, %.0f m/s, 30 s", speed), spec, repeats: 3)
    }
    // The synthetic connectome with fibres of at least 2 mm, so no edge between the two blocks
    // has a zero-step delay at 5 m/s (zero-delay edges must stay inside a block).
    let raw = try synthetic(1000, density: 1, seed: 11)
    let big = try Connectome(weights: raw.weights, lengths: Matrix(rows: 1000, columns: 1000, values: raw.lengths.values.map { max($0, 2) }))
    let bigSpec = try SimulationSpec(model: ReducedWongWang(parameters: ReducedWongWang.Parameters()), connectome: big, duration: 1.44, transient: 0, conductionSpeed: 5, seed: 1)
    try compare("N=1000 synthetic dense, 5 m/s, 1.44 s", bigSpec, repeats: 2)

    // One subject's gradient split into two node blocks (N = 80, 5 s, whole trajectory kept).
    do {
        var p = ReducedWongWang.Parameters()
        p.g = 0.5
        let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: sc, duration: 5, transient: 0, seed: 1)
        let empirical = try hcp.empiricalFC(subject: "101309")
        var serial = Double.infinity, parallel = Double.infinity
        for _ in 0..<2 {
            serial = min(serial, try seconds { _ = try RWWGradient.lossAndGradient(spec: spec, empiricalFC: empirical, parameters: [.g, .sigma]) })
            parallel = min(parallel, try seconds {
                _ = try RWWGradient.lossAndGradient(spec: spec, objective: .init(empiricalFC: empirical), parameters: [.g, .sigma], communicator: world)
            })
        }
        let perNodeStep = 1e9 / Double(spec.totalSteps * 80)
        say("gradient in node blocks, N=80 HCP, 5 s: speed-up on 2 ranks", String(format: "%.2f", serial / parallel),
            String(format: "(serial %.0f, 2 ranks %.0f ns per node-step; S_E forward and coupling cotangents backward exchanged every %d steps)",
                   serial * perNodeStep, parallel * perNodeStep, min(DelayCoupling(connectome: sc, dt: 0.1, speed: 20).minDelay, 16)))
    }

    // Weak scaling of subject groups: one subject per rank, against one subject on a quiet machine.
    let subjects = ["101309", "102311"]
    let mine = try ConnectomePreparation().apply(to: try hcp.connectome(subject: subjects[world.rank]))
    let mySpec = try SimulationSpec(model: ReducedWongWang(parameters: ReducedWongWang.Parameters()), connectome: mine, duration: 30, transient: 0, seed: 1)
    let simulator = try NetworkSimulator(spec: mySpec)
    var single = Double.infinity, both = Double.infinity
    for _ in 0..<3 {
        single = min(single, try seconds { if world.rank == 0 { _ = try simulator.run() } })
        both = min(both, try seconds { _ = try simulator.run() })
    }
    say("subject groups: weak-scaling efficiency, 2 ranks", String(format: "%.0f%%", 100 * single / both),
        String(format: "(one subject alone %.2f s, one per rank %.2f s; N=80, 30 s; goal >= 90%%)", single, both))

    if world.rank == 0, let path {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if let cut = text.range(of: "\n## MPI") { text = String(text[..<cut.lowerBound]) + "\n" }
        text += """

        ## MPI (2 ranks)

        Measured by `make bench` with `mpirun -np 2 WholeBrainBench --mpi` on the same machine, \(ISO8601DateFormatter().string(from: Date())).
        "Serial" runs the same network on one rank while the other rank runs its own copy, so both
        cores are busy in both cases.

        | figure | value | note |
        |---|---:|---|
        \(lines.joined(separator: "\n"))

        Cost model. Per step a rank computes its N/P nodes (c N/P, c the serial ns per node-step)
        and, every k steps (k = shortest delay between blocks in steps, at most 16), exchanges
        its block: t_step = c N / P + o + (alpha log2 P + 8 N C / beta) / k, C coupled channels
        (1 for RWW), o a per-step synchronisation cost. The message term alone (alpha and beta
        above) would be about 0.25 us per step at N = 80, k = 4; the measured overhead (the
        "us per step over half the serial time" column) is 0.4-1 us at N = 80 whether k is 4
        or 16, so o dominates here: ranks wait for the slower one at every exchange, and on
        this shared 2-core machine the two cores' speeds jitter. Splitting pays when
        c N (1 - 1/P) > o, about N > 2 x 0.4 us / 19 ns = 40 nodes here; at N = 80 the gain is
        small (1.2-1.3x). At N = 1000 it has been 1.7-2.3x: above 2 (a negative overhead), most likely because
        each rank's half of the targets keeps its long-edge sums and history bands in its own
        core's L2. Across a cluster network alpha is typically 1-5 us and o grows with it, so
        the crossover rises roughly in proportion (a few hundred nodes); subject groups, which
        exchange only gradients, scale almost perfectly.
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        print("appended to \(path)")
    }
}
