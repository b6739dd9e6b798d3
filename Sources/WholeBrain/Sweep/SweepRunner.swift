import Foundation

/// Runs a `SweepSpec`: one simulation per grid point and seed, its metrics appended as one
/// JSON line to `results.jsonl` as soon as it is done (one `write` of a whole line, then
/// `fsync`), and its FC saved as `points/point-NNNNN_fc.npy` (written to a temporary file and
/// renamed). A sweep killed at any moment and started again with `resume` reads the lines
/// (dropping a torn last line) and computes only the missing points. Under MPI the points
/// are dealt round-robin to the ranks in rounds; after each round rank 0 appends the round's
/// lines in point order, so the file is the same for any number of ranks except wall times.
public struct SweepRunner {
    public let spec: SweepSpec
    public let folder: String
    public let communicator: Communicator

    public init(spec: SweepSpec, folder: String, communicator: Communicator = SerialCommunicator()) {
        self.spec = spec; self.folder = folder; self.communicator = communicator
    }

    var resultsPath: String { folder + "/results.jsonl" }

    /// Point indices already in results.jsonl (a torn last line is cut off the file).
    public func completedPoints() throws -> Set<Int> {
        guard let data = FileManager.default.contents(atPath: resultsPath) else { return [] }
        var done = Set<Int>()
        var goodLength = 0
        var offset = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let end = offset + line.count
            defer { offset = end + 1 }
            if line.isEmpty { continue }
            guard end < data.count,                                    // a line without its newline is torn
                  let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let point = object["point"] as? Int else { break }
            done.insert(point)
            goodLength = end + 1
        }
        if goodLength < data.count, communicator.rank == 0 {
            guard truncate(resultsPath, off_t(goodLength)) == 0 else {
                throw WholeBrainError.writeFailed(path: resultsPath, problem: "could not cut a torn last line")
            }
        }
        return done
    }

    /// Runs every missing point; `progress` gets (done, total) on rank 0.
    public func run(inputs: SimulationInputs, progress: ((Int, Int) -> Void)? = nil) throws {
        let points = spec.points
        let done = try communicator.collectively { try completedPoints() }
        let pending = points.indices.filter { !done.contains($0) }
        let modelType = try ModelCatalog.named(spec.model)
        var options = AnalysisOptions(tr: spec.tr)
        options.bandPass = spec.bandpass
        let samples = Int((spec.duration / spec.tr + 1e-9).rounded(.down))
        options.fcdWindow = min(options.fcdWindow, max(samples / 4, 3))
        options.fcdStep = max(1, min(options.fcdStep, options.fcdWindow / 2))
        options.welch.segmentLength = min(options.welch.segmentLength, samples)
        options.welch.overlap = min(options.welch.overlap, options.welch.segmentLength / 2)
        let empirical = try inputs.empiricalBold.map { try BoldAnalysis.analyze(regionsByTime: $0, source: spec.subject, options: options) }
        try FileManager.default.createDirectory(atPath: folder + "/points", withIntermediateDirectories: true)
        let ranks = communicator.size
        var completed = done.count
        for round in stride(from: 0, to: pending.count, by: ranks) {
            let mine = round + communicator.rank < pending.count ? pending[round + communicator.rank] : nil
            var values = [Double](repeating: .nan, count: spec.metrics.count + 1)
            let outcome: Void? = try communicator.collectively {
                guard let index = mine else { return () }
                let started = Date()
                let metrics = try evaluate(point: index, modelType: modelType, inputs: inputs, options: options, empirical: empirical)
                for (k, name) in spec.metrics.enumerated() { values[k] = metrics[name] ?? .nan }
                values[spec.metrics.count] = Date().timeIntervalSince(started)
                return ()
            }
            _ = outcome
            let counts = (0..<ranks).map { r in round + r < pending.count ? spec.metrics.count + 1 : 0 }
            let all = communicator.allGather(mine == nil ? [] : values, counts: counts)
            if communicator.rank == 0 {
                var text = ""
                for r in 0..<ranks where round + r < pending.count {
                    let index = pending[round + r]
                    let row = Array(all[(r * (spec.metrics.count + 1))..<((r + 1) * (spec.metrics.count + 1))])
                    text += try line(point: index, metrics: row)
                }
                try append(text)
            }
            completed += counts.filter { $0 > 0 }.count
            if communicator.rank == 0 { progress?(completed, points.count) }
        }
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
    func append(_ text: String) throws {
        let fd = open(resultsPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw WholeBrainError.writeFailed(path: resultsPath, problem: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw WholeBrainError.writeFailed(path: resultsPath, problem: "short write")
        }
    }

    /// Simulates one point and computes its metrics.
    func evaluate(point index: Int, modelType: any NeuralMassModel.Type, inputs: SimulationInputs, options: AnalysisOptions,
                  empirical: BoldMetrics?) throws -> [String: Double] {
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
        var rww: SimulationSpec<ReducedWongWang>?
        if modelType.name == ReducedWongWang.name {
            rww = try ReducedWongWang.makeSpec(request)
            if let fic = spec.fic {
                request.nodeParameters["J_i"] = try FeedbackInhibition.localInhibition(parameters: rww!.model.parameters,
                                                                                       weights: inputs.connectome.weights, targetRate: fic)
            }
        }
        let run = try modelType.simulate(request, communicator: SerialCommunicator(), progress: nil)
        let bold = run.result.bold.transposed
        let metrics = try BoldAnalysis.analyze(regionsByTime: bold, source: "point \(index)", options: options)
        let fcPath = folder + String(format: "/points/point-%05d_fc.npy", index)
        let temporary = fcPath + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(NumpyFile.encode(metrics.fc))),
              rename(temporary, fcPath) == 0 else {
            throw WholeBrainError.writeFailed(path: fcPath, problem: "could not save the point's FC")
        }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }
        var out: [String: Double] = [
            "metastability": metrics.metastability, "synchrony": metrics.synchrony,
            "peak_frequency": mean(metrics.peakFrequency),
            "rate_E": mean(run.result.meanObservables.first ?? []),
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
        if spec.metrics.contains("leading_eigenvalue"), var s = rww {
            s = try ReducedWongWang.makeSpec(request)
            let analysis = RWWStability(parameters: s.model.parameters, weights: inputs.connectome.weights,
                                        nodeJI: request.nodeParameters["J_i"])
            out["leading_eigenvalue"] = try analysis.lowState()?.leading.real
        }
        return out
    }
}
