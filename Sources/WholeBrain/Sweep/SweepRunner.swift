import Foundation

/// Runs a `SweepSpec`: one simulation per grid point and seed, its metrics appended as one
/// JSON line as soon as it is done (one `write` of a whole line, then `fsync`) and its FC
/// saved as `points/point-NNNNN_fc.npy` (written to a temporary file and renamed). Under MPI
/// the runs are handed out dynamically: each rank takes the next pending run from a job-wide
/// counter (an atomic fetch-and-add in an MPI window) when it is free, and appends its lines
/// to `parts/rank-R.jsonl`; at the end (and at the start of a resumed sweep) rank 0 merges every
/// complete line into `results.jsonl`, sorted by point, so the file is the same whatever the
/// number of ranks or the order runs finished in (wall times aside). A sweep killed at any
/// moment and started again with `resume` computes only the missing runs; a torn last line
/// is dropped. Runs are handed out in batches (default four, or one where `RWWEnsemble.pays`
/// is false): rww runs that can share SIMD lanes are integrated together by `RWWEnsemble`,
/// whose lanes give each run's own bits, so results do not depend on batching, ranks or
/// resumption; `wall_s` is then the batch's time divided among its runs.
public struct SweepRunner {
    public let spec: SweepSpec
    public let folder: String
    public let communicator: Communicator
    /// Pending runs per hand-out; rww runs of one batch share SIMD lanes when they can (1: one at a time).
    public let batchSize: Int
    /// Ranks per run: the P ranks form P / B groups of B ranks; each group takes runs from the
    /// job-wide counter and integrates each run split into B node blocks (`NetworkSimulator`
    /// over the group's communicator); its first rank analyses and writes the run.
    public let nodeBlocks: Int

    /// Four runs per batch where lanes pay on this CPU, else one.
    public static let defaultBatchSize = RWWEnsemble.pays ? 4 : 1

    public init(spec: SweepSpec, folder: String, communicator: Communicator = SerialCommunicator(),
                batchSize: Int = SweepRunner.defaultBatchSize,
                nodeBlocks: Int = 1) throws {
        guard nodeBlocks >= 1, communicator.size % nodeBlocks == 0 else {
            throw WholeBrainError.badValue(source: "--node-blocks", value: "\(nodeBlocks)",
                                           expected: "a divisor of the number of ranks (\(communicator.size)): the ranks form groups of that many")
        }
        self.spec = spec; self.folder = folder; self.communicator = communicator; self.batchSize = max(1, min(batchSize, 4))
        self.nodeBlocks = nodeBlocks
    }

    var resultsPath: String { folder + "/results.jsonl" }
    var partsFolder: String { folder + "/parts" }

    /// Complete, parseable lines of a file by point (a line without its newline is torn).
    public static func lines(of path: String) -> [Int: Data] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var out: [Int: Data] = [:]
        var offset = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let end = offset + line.count
            defer { offset = end + 1 }
            guard !line.isEmpty, end < data.count,
                  let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let point = object["point"] as? Int else { continue }
            out[point] = Data(line)
        }
        return out
    }

    /// Rank 0 merges results.jsonl and every part file into results.jsonl (sorted by point,
    /// written to a temporary file and renamed) and removes the parts.
    func consolidate() throws {
        guard communicator.rank == 0 else { return }
        let fm = FileManager.default
        var all = SweepRunner.lines(of: resultsPath)
        let parts = ((try? fm.contentsOfDirectory(atPath: partsFolder)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
        for part in parts { for (point, line) in SweepRunner.lines(of: partsFolder + "/" + part) where all[point] == nil { all[point] = line } }
        var text = Data()
        for point in all.keys.sorted() { text.append(all[point]!); text.append(UInt8(ascii: "\n")) }
        let temporary = resultsPath + ".tmp"
        guard fm.createFile(atPath: temporary, contents: text), rename(temporary, resultsPath) == 0 else {
            throw WholeBrainError.writeFailed(path: resultsPath, problem: "could not merge the results")
        }
        for part in parts { try? fm.removeItem(atPath: partsFolder + "/" + part) }
    }

    /// Point indices already done (after merging what a killed run left).
    public func completedPoints() throws -> Set<Int> {
        try communicator.collectively { try consolidate() }
        return Set(SweepRunner.lines(of: resultsPath).keys)
    }

    /// Runs every missing point; `progress` gets (runs started, total) on rank 0.
    /// Runs every pending point; `progress` gets (runs done or handed out, total), `onNote`
    /// the lines a user should see (e.g. analysis windows shrunk to fit the runs).
    public func run(inputs: SimulationInputs, onNote: ((String) -> Void)? = nil, progress: ((Int, Int) -> Void)? = nil) throws {
        let points = spec.points
        try FileManager.default.createDirectory(atPath: folder + "/points", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: partsFolder, withIntermediateDirectories: true)
        let done = try completedPoints()
        let pending = points.indices.filter { !done.contains($0) }
        let modelType = try ModelCatalog.named(spec.model)
        var base = AnalysisOptions(tr: spec.tr)
        base.bandPass = spec.bandpass
        let samples = Int((spec.duration / spec.tr + 1e-9).rounded(.down))
        // The rule simulate and analyze follow: default windows shrink to fit, and say so.
        let (options, notes) = try base.fitted(toSamples: samples, source: "each run's BOLD")
        if communicator.rank == 0 { for note in notes { onNote?("note: " + note) } }
        let empirical = try inputs.empiricalBold.map { try BoldAnalysis.analyze(regionsByTime: $0, source: spec.subject, options: options) }
        if let empirical, communicator.rank == 0 {
            try SweepRunner.writeAtomically(SweepRunner.spectrum(empirical), to: folder + "/empirical_psd.npy")
        }
        let counter = communicator.makeCounter()
        let part = partsFolder + "/rank-\(communicator.rank).jsonl"
        // Groups of `nodeBlocks` consecutive ranks; the group's first rank draws the tickets.
        let group = nodeBlocks == 1 ? SerialCommunicator() : communicator.split(color: communicator.rank / nodeBlocks, key: communicator.rank)
        let leads = group.rank == 0
        // Runs are handed out in batches of `batchSize` pending points; rww points that can
        // share SIMD lanes are integrated together (`RWWEnsemble`), the others one by one.
        let batches = stride(from: 0, to: pending.count, by: batchSize).map { Array(pending[$0..<min($0 + batchSize, pending.count)]) }
        var failure: Error?
        while failure == nil {
            var ticket = leads ? counter.next() : 0
            if nodeBlocks > 1 {
                let bytes = withUnsafeBytes(of: Int64(ticket)) { Array($0) }
                ticket = Int(group.broadcast(bytes, root: 0).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
            }
            guard ticket < batches.count else { break }
            if communicator.rank == 0 { progress?(done.count + min((ticket + 1) * batchSize, pending.count), points.count) }
            do {
                let batch = batches[ticket]
                let started = Date()
                let requests = try batch.map { try request(point: $0, inputs: inputs, modelType: modelType) }
                var results: [SimulationResult]
                // rww runs' specs, built once: for the lanes and for the leading eigenvalue.
                let rww = modelType.name == ReducedWongWang.name ? try requests.map { try ReducedWongWang.makeSpec($0) } : nil
                if let rww, rww.count > 1, nodeBlocks == 1, RWWEnsemble.incompatibility(rww) == nil {
                    results = try RWWEnsemble.run(rww)
                } else {
                    results = try requests.map { try modelType.simulate($0, communicator: group, progress: nil).result }
                }
                let wall = Date().timeIntervalSince(started) / Double(batch.count)
                for (k, index) in batch.enumerated() where leads {
                    let metrics = try evaluate(point: index, result: results[k], rwwSpec: rww?[k], inputs: inputs, options: options, empirical: empirical)
                    var row = spec.metrics.map { metrics[$0] ?? .nan }
                    row.append(wall)
                    try append(try line(point: index, metrics: row), to: part)
                }
            } catch { failure = error }
            // A failure anywhere in a group (e.g. while its first rank writes) stops the whole group.
            if nodeBlocks > 1 { do { try group.agree(failure) } catch { failure = failure ?? error } }
        }
        try communicator.agree(failure)
        try communicator.collectively { try consolidate() }
    }

    /// One result line.
    func line(point index: Int, metrics row: [Double]) throws -> String {
        let (values, seed) = spec.points[index]
        var metrics: [String: Any] = [:]
        for (k, name) in spec.metrics.enumerated() { metrics[name] = row[k].isFinite ? row[k] : NSNull() }
        let object: [String: Any] = [
            "point": index, "seed": seed, "wall_s": row[spec.metrics.count],
            "values": Dictionary(uniqueKeysWithValues: zip(spec.axes.map(\.parameter), values)), "metrics": metrics,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Appends whole lines with one write and syncs them to disk.
    func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw WholeBrainError.writeFailed(path: path, problem: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw WholeBrainError.writeFailed(path: path, problem: "short write")
        }
    }

    /// The simulation of one point (with feedback inhibition control applied).
    func request(point index: Int, inputs: SimulationInputs, modelType: any NeuralMassModel.Type) throws -> SimulationRequest {
        let (values, seed) = spec.points[index]
        var request = SimulationRequest(connectome: inputs.connectome, duration: spec.duration)
        var assignments = spec.fixed
        var sigma = spec.sigma
        for (axis, value) in zip(spec.axes, values) {
            if axis.parameter == "sigma" { sigma = value } else { assignments.append((axis.parameter, value)) }
        }
        request.assignments = assignments
        request.sigma = sigma
        request.transient = spec.transient
        request.tr = spec.tr
        request.dt = spec.dt
        request.conductionSpeed = spec.speed
        request.seed = seed
        if modelType.name == ReducedWongWang.name, let fic = spec.fic {
            let rww = try ReducedWongWang.makeSpec(request)
            request.nodeParameters["J_i"] = try FeedbackInhibition.localInhibition(parameters: rww.model.parameters,
                                                                                   weights: inputs.connectome.weights, targetRate: fic)
        }
        return request
    }

    /// A point's metrics from its simulation.
    func evaluate(point index: Int, result: SimulationResult, rwwSpec: SimulationSpec<ReducedWongWang>?, inputs: SimulationInputs,
                  options: AnalysisOptions, empirical: BoldMetrics?) throws -> [String: Double] {
        let bold = result.bold.transposed
        let metrics = try BoldAnalysis.analyze(regionsByTime: bold, source: "point \(index)", options: options)
        try SweepRunner.writeAtomically(metrics.fc, to: folder + String(format: "/points/point-%05d_fc.npy", index))
        try SweepRunner.writeAtomically(SweepRunner.spectrum(metrics), to: folder + String(format: "/points/point-%05d_psd.npy", index))
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }
        var out: [String: Double] = [
            "metastability": metrics.metastability, "synchrony": metrics.synchrony,
            "peak_frequency": mean(metrics.peakFrequency),
            "rate_E": mean(result.meanObservables.first ?? []),
        ]
        for (band, perRegion) in metrics.bandPower {
            if band.name == "slow-4" { out["slow4_power"] = mean(perRegion) }
            if band.name == "slow-5" { out["slow5_power"] = mean(perRegion) }
        }
        if let empirical {
            let c = BoldAnalysis.compare(metrics, to: empirical)
            out["fc_r"] = c["fc_correlation"] as? Double
            out["fcd_ks"] = c["fcd_ks_distance"] as? Double
        }
        if let group = inputs.groupFC { out["fc_r_group"] = FunctionalConnectivity.similarity(metrics.fc, group) }
        if spec.metrics.contains(where: { $0.hasPrefix("leading_eigenvalue") }), let s = rwwSpec {
            // Each branch's own eigenvalue: the stable low- and high-activity states (absent where they do not exist).
            let (_, states) = try RWWOperatingPoint.classify(parameters: s.model.parameters, weights: inputs.connectome.weights,
                                                             nodeJI: s.nodeParameters[0], ficRate: spec.fic)
            out["leading_eigenvalue_low"] = states.first { $0.meanRate <= RWWOperatingPoint.highRate }?.leading.real
            out["leading_eigenvalue_high"] = states.last { $0.meanRate > RWWOperatingPoint.highRate }?.leading.real
        }
        return out
    }

    /// Frequencies (Hz, row 0) and the Welch power spectrum averaged over regions (row 1).
    static func spectrum(_ m: BoldMetrics) -> Matrix {
        let f = m.frequencies.count, regions = Double(max(m.psd.rows, 1))
        var out = Matrix(rows: 2, columns: f)
        for k in 0..<f {
            out[0, k] = m.frequencies[k]
            for r in 0..<m.psd.rows { out[1, k] += m.psd[r, k] }
            out[1, k] /= regions
        }
        return out
    }

    /// Writes an array to a temporary file beside `path` and renames it into place.
    static func writeAtomically(_ m: Matrix, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(NumpyFile.encode(m))), rename(temporary, path) == 0 else {
            throw WholeBrainError.writeFailed(path: path, problem: "could not save \((path as NSString).lastPathComponent)")
        }
    }
}
