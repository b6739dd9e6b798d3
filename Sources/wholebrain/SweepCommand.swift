import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain sweep JOB.toml --out DIR`: a grid of simulations with metrics, resumable.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a parameter sweep from a TOML job spec; resumable, serial or under MPI.",
        discussion: """
        The job spec (see jobs/sweep-hcp.toml) names the model, data and subject, the axes \
        (linear, log, list, or for G of rww "critical": centred on G* from the stability \
        analysis, denser near it), seeds, duration, band-pass and metrics (fc_r, fc_r_group, \
        fcd_ks, metastability, synchrony, rate_E, peak_frequency, slow4_power, slow5_power, \
        leading_eigenvalue). Each finished run is appended at once to DIR/results.jsonl (one \
        JSON line: point, seed, values, metrics, wall time) with its FC in DIR/points/. A killed \
        sweep continues with --resume and computes only the missing runs. Under mpirun/srun the \
        runs are handed out dynamically (each rank takes the next one when it is free) and the \
        lines merged, sorted by point, at the end. Ends by writing results.csv and report.html \
        (also `wholebrain report DIR`).

        Example:
          wholebrain sweep jobs/sweep-hcp.toml --out runs/sweep-hcp
        """)

    @Argument(help: "The TOML job spec.") var job: String
    @Option(help: "Output folder (kept between runs for --resume).") var out: String
    @Option(help: ArgumentHelp("Runs handed out together; rww runs of one batch are integrated together as SIMD lanes (1: one at a time). Results are the same bits either way. Default 4, or 1 on CPUs with AVX-512, where one run at a time is faster.", valueName: "1-4")) var batch: Int?
    @Option(help: ArgumentHelp("Under MPI: ranks per run (node blocks); the ranks form groups of B, each integrating one run at a time split into B blocks. Default 1.", valueName: "B")) var nodeBlocks: Int?
    @Flag(help: "Continue a sweep in --out, computing only the missing runs.") var resume = false
    @Flag(help: "Start afresh, deleting an existing --out.") var force = false
    @Flag(help: "No progress lines.") var quiet = false

    func run() throws { try reportingErrors("sweep", sweep) }

    static func load(job: String) throws -> SweepSpec {
        try SweepSpec(path: job) { fixed, data, subject, fic in
            // G* for "critical" axes: where the low-activity (with FIC: the FIC) state of the
            // job's connectome loses stability.
            let inputs = try SimulationInputs.load(.dataset(root: data, subject: subject), preparation: ConnectomePreparation())
            var p = ReducedWongWang.Parameters()
            try ReducedWongWang.parameterSpecs.apply(fixed.filter { $0.name != "G" }, to: &p, model: ReducedWongWang.name)
            let gStar: Double?
            if let fic {
                gStar = try FeedbackInhibition.criticalCoupling(parameters: p, weights: inputs.connectome.weights, rate: fic, range: 0...20)?.value
            } else {
                gStar = try RWWContinuation(parameters: p, weights: inputs.connectome.weights).diagram(over: 0...10, highBranch: false).critical?.value
            }
            guard let gStar else {
                throw WholeBrainError.badValue(source: "\(job): axes.kind", value: "critical",
                                               expected: "parameters with a bifurcation in G (none on 0...10; try a larger J_i)")
            }
            return gStar
        }
    }

    func sweep() throws {
        let world = Cluster.world
        let lead = world.rank == 0
        let (spec, inputs) = try world.collectively { () throws -> (SweepSpec, SimulationInputs) in
            let spec = try SweepCommand.load(job: job)
            let inputs = try SimulationInputs.load(.dataset(root: spec.data, subject: spec.subject), preparation: ConnectomePreparation())
            if let batch, !(1...4).contains(batch) {
                throw WholeBrainError.badValue(source: "--batch", value: "\(batch)", expected: "1 to 4 runs per batch")
            }
            if let nodeBlocks, nodeBlocks < 1 || world.size % nodeBlocks != 0 {
                throw WholeBrainError.badValue(source: "--node-blocks", value: "\(nodeBlocks)",
                                               expected: "a divisor of the number of ranks (\(world.size)): the ranks form groups of that many")
            }
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            if !existing.isEmpty && !resume && !force {
                throw WholeBrainError.outputExists(path: out)
            }
            return (spec, inputs)
        }
        // Every rank has checked the folder; now rank 0 prepares it, before any rank writes into it.
        try world.collectively {
            guard lead else { return }
            let fm = FileManager.default
            if force && !resume { try? fm.removeItem(atPath: out) }
            try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
            let copy = out + "/job.toml"
            if !fm.fileExists(atPath: copy) { try fm.copyItem(atPath: job, toPath: copy) }
        }
        let blocks = nodeBlocks ?? 1
        let runner = try world.collectively { try SweepRunner(spec: spec, folder: out, communicator: world, batchSize: batch ?? SweepRunner.defaultBatchSize, nodeBlocks: blocks) }
        if lead && world.size > 1 && !quiet {
            print("sweep: \(world.size) ranks as \(world.size / blocks) groups of \(blocks) node block\(blocks == 1 ? "" : "s") (--node-blocks \(blocks)\(nodeBlocks == nil ? ", the default: runs are independent, so one rank per run scales best" : ""))")
        }
        let began = Date()
        try runner.run(inputs: inputs, onNote: { printError($0) }) { done, total in
            if !quiet { print(String(format: "sweep: %d of %d runs done (%.0f s)", done, total, Date().timeIntervalSince(began))) }
        }
        guard lead else { return }
        try ReportCommand.write(folder: out, spec: spec)
        print("results in \(out)/results.jsonl, results.csv and report.html")
    }
}

/// `wholebrain report DIR`: rebuilds a sweep's results.csv and report.html.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report",
                                                    abstract: "Rebuild report.html of a simulate, analyze, sweep (and its results.csv), fit or stability folder from its files.")
    @Argument(help: "A folder written by `wholebrain simulate`, `analyze`, `sweep`, `fit` or `stability`.") var folder: String
    @Flag(help: "Print nothing on success.") var quiet = false

    func run() throws {
        try reportingErrors("report") {
            if FileManager.default.fileExists(atPath: folder + "/job.toml") {
                try ReportCommand.write(folder: folder, spec: try SweepCommand.load(job: folder + "/job.toml"))
            } else {
                try SlurmCommand.write(try FolderReport.html(folder: folder), to: folder + "/report.html")
            }
            if !quiet { print("wrote \(folder)/report.html") }
        }
    }

    static func write(folder: String, spec: SweepSpec) throws {
        let html = try SweepReport.html(folder: folder, spec: spec)
        // results.csv: one row per run, the same content as results.jsonl.
        let data = FileManager.default.contents(atPath: folder + "/results.jsonl") ?? Data()
        var csv = (["point", "seed"] + spec.axes.map(\.parameter) + spec.metrics + ["wall_s"]).joined(separator: ",") + "\n"
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            let values = o["values"] as? [String: Double] ?? [:], metrics = o["metrics"] as? [String: Any] ?? [:]
            let fields = ["\(o["point"] ?? "")", "\(o["seed"] ?? "")"] + spec.axes.map { values[$0.parameter].map { "\($0)" } ?? "" }
                + spec.metrics.map { (metrics[$0] as? Double).map { "\($0)" } ?? "" } + ["\(o["wall_s"] ?? "")"]
            csv += fields.joined(separator: ",") + "\n"
        }
        try SlurmCommand.write(csv, to: folder + "/results.csv")
        try SlurmCommand.write(html, to: folder + "/report.html")
        try SlurmCommand.write(String(decoding: try manifest(folder: folder, spec: spec).encoded(), as: UTF8.self), to: folder + "/manifest.json")
    }

    /// A sweep folder's manifest: results.csv's columns with units, the per-point arrays.
    static func manifest(folder: String, spec: SweepSpec) throws -> RunManifest {
        var m = RunManifest(command: "sweep")
        if let labels = try? HCPDataset(root: spec.data).regionLabels, !labels.isEmpty {
            m.addRegions(labels)
        }
        var columns = ["point": "run index, one per grid point and seed (points/point-NNNNN_*.npy)", "seed": "noise seed of the run", "wall_s": "wall time of the run (s)"]
        for axis in spec.axes { columns[axis.parameter] = "swept parameter \(axis.parameter)" }
        for metric in spec.metrics { columns[metric] = SweepSpec.metricDescriptions[metric] ?? metric }
        m.files["results.csv"] = .init(kind: .table, description: "one row per run (point and seed): the swept values and the metrics", columns: columns)
        m.files["results.jsonl"] = .init(kind: .json, description: "the same runs as JSON lines (point, seed, values, metrics, wall_s), appended as they finish")
        m.files["job.toml"] = .init(kind: .text, description: "the sweep's job spec (TOML), as given")
        m.files["points/point-NNNNN_fc.npy"] = .init(kind: .array, description: "FC of each run; NNNNN is its point in results.csv (5 digits)",
                                                      dims: ["region", "region_to"], units: "Pearson r")
        m.files["points/point-NNNNN_psd.npy"] = .init(kind: .array, description: "row 0: frequencies (Hz); row 1: the region-mean Welch PSD of BOLD (signal^2 / Hz)",
                                                       dims: ["row", "frequency_index"], units: "Hz / signal^2 per Hz")
        m.files["report.html"] = .init(kind: .report, description: "the sweep's maps, best point and its FC and spectrum")
        return m
    }
}
