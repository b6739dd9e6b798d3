import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain stability`: fixed points of the noise-free RWW network and the critical coupling.
struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "Fixed points, eigenvalues and the critical coupling G* of the network (rww's continuation; any model's low state).",
        discussion: """
        Follows every branch of fixed points of the noise-free network as --param (G, w_plus, \
        J_NMDA, I_0 or I_ext; J_i without feedback inhibition) rises over --range, by \
        pseudo-arclength continuation with the model's analytic Jacobian: the low-activity \
        branch from the start of the range (through folds, onto the unstable middle branch and \
        the high branch when they connect) and the high branch from the end of the range. \
        Eigenvalues of the 2N x 2N network Jacobian by LAPACK dgeev (1/ms) at every point; \
        folds, branch points and Hopf points located by bisection. G* (for G) is where the \
        low-activity state at the start of the range first loses stability inside the range; \
        when it does not, the output says "no G* in range" and why.

        Feedback inhibition control is on by default (--fic 3): J_i per region is retuned at every \
        value so that every excitatory population sits at 3 Hz at the fixed point (Deco et al. \
        2014); that state exists for every G and loses stability at G*. --no-fic keeps a uniform \
        J_i (--set J_i=...).

        Writes branch.json (per point: the value, curve, branch low/high/unstable, mean S_E, mean \
        E rate, leading eigenvalue, unstable count), branch_state.npy (points x 2N: S_E then S_I), \
        eigenvalues.npy (points x 2N x 2: real, imaginary; 1/ms), bifurcations.json (G* or why \
        there is none, every fold/branch/Hopf point) and report.html with the bifurcation \
        diagram (stable solid, unstable dashed, G* marked).

        Examples:
          wholebrain stability --subject 101309 --range 0:1 --out runs/stab
          wholebrain stability --subject 101309 --no-fic --set J_i=2 --range 0:1 \\
              --out runs/stab-ji2

        Another --model (except aln) follows its low state over its own global coupling (--param G means it: K_gl for wc, \
        fhn and hopf) with the model's analytic Jacobian and its default coupling function: \
        the stable fixed point with the lowest mean coupled variable at the start of --range, \
        continued by Newton to where its leading eigenvalue crosses zero (fold or branch point, \
        or Hopf), bisected; the same files (the mean of the coupled variable in place of S_E). \
        At their defaults wc, ww and mpr have such a state; jr, fhn and hopf oscillate (no \
        stable fixed point, which the output says; --map finds their cycles).
          wholebrain stability --model wc --range 0:20 --steps 100 --out runs/stab-wc

        --map X:LO:HI:N,Y:LO:HI:N maps a single uncoupled node over two parameters instead \
        (like BrainPy's Bifurcation2D): limit cycles by simulation for any --model (amplitude and \
        period per grid point: map_cycle_amplitude.npy, map_cycle_period_ms.npy) and, for rww, \
        every fixed point and how many are stable (map_fixed_points.npy, map_stable_points.npy, \
        map_high_S_E.npy); map_axes.json and report.html with a heatmap of each.
          wholebrain stability --map w_plus:1:4:30,J_i:0.5:3:30 --out runs/map
          wholebrain stability --model hopf --map a:-0.5:0.5:21,omega:0.1:0.5:9 \\
              --out runs/hopf-map
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Subject whose connectome is used.") var subject: String?
    @Option(help: "The parameter continued: G, w_plus, J_i, J_NMDA, I_0 or I_ext.") var param: String = "G"
    @Option(help: ArgumentHelp("Range of the continued parameter, LO:HI.", valueName: "lo:hi")) var range: String = "0:4"
    @Option(help: "Continuation steps across the range at most (smaller where Newton needs them).") var steps: Int = 80
    @Option(help: ArgumentHelp("Feedback inhibition control: J_i per region retuned at every value for this excitatory rate (Hz) at the fixed point; on by default at 3 Hz.", valueName: "Hz")) var fic: Double?
    @Flag(help: "Uniform J_i (the model's, or --set J_i=...) instead of feedback inhibition control.") var noFic = false
    @Option(name: .customLong("set"), help: ArgumentHelp("Model parameter, name=value (repeatable): w_plus, J_i, J_NMDA, I_0, ...", valueName: "name=value"))
    var assignments: [String] = []
    @Option(help: ArgumentHelp("Instead of the network continuation: a single node's two-parameter map, NAME:LO:HI:COUNT,NAME:LO:HI:COUNT (e.g. w_plus:1:4:30,J_i:0.5:3:30).", valueName: "spec"))
    var map: String?
    @Option(help: ArgumentHelp("Model (see `wholebrain models`): rww's full continuation, another model's low state over its coupling, or any model's single-node --map.", valueName: "name")) var model: String = ReducedWongWang.name
    @Option(help: ArgumentHelp("Simulated ms per grid point when --map looks for limit cycles (the last 1000 ms are examined).", valueName: "ms")) var cycleDuration: Double = 3000
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func run() throws { try reportingErrors("stability", stability) }

    /// --range as (LO, HI), checked.
    func continuedRange() throws -> (Double, Double) {
        let bounds = range.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo >= 0, hi > lo else {
            throw WholeBrainError.badValue(source: "--range", value: range, expected: "LO:HI with 0 <= LO < HI, e.g. 0:4")
        }
        return (lo, hi)
    }

    /// The subject (--subject, or the dataset's first) and its prepared connectome.
    func subjectConnectome() throws -> (String, Connectome) {
        let dataset = try HCPDataset(root: data)
        let chosen = subject ?? dataset.subjects[0]
        return (chosen, try ConnectomePreparation().apply(to: try dataset.connectome(subject: chosen)))
    }

    /// The defaults with every --set applied.
    func setParameters() throws -> ReducedWongWang.Parameters {
        var parameters = ReducedWongWang.Parameters()
        try ReducedWongWang.parameterSpecs.apply(try parseAssignments(assignments), to: &parameters, model: ReducedWongWang.name)
        return parameters
    }

    func stability() throws {
        try OutputFolder.checkDestination(out, force: force)
        if let map { return try nodeMap(map) }
        guard model == ReducedWongWang.name else { return try networkScan(try ModelCatalog.named(model)) }
        let continuable = ["G", "w_plus", "J_i", "J_NMDA", "I_0", "I_ext"]
        guard continuable.contains(param), let continued = ReducedWongWang.parameterSpecs.first(where: { $0.name == param }) else {
            throw WholeBrainError.badValue(source: "--param", value: param, expected: "one of \(continuable.joined(separator: ", "))")
        }
        let (lo, hi) = try continuedRange()
        let ficRate = try feedbackInhibitionRate(fic: fic, noFic: noFic, assignments: try parseAssignments(assignments))
        if ficRate != nil, param == "J_i" {
            throw WholeBrainError.badValue(source: "--param", value: param, expected: "another parameter: feedback inhibition sets J_i (add --no-fic to continue a uniform J_i)")
        }
        var parameters = try setParameters()
        let (chosen, connectome) = try subjectConnectome()
        parameters[keyPath: continued.keyPath] = lo
        let continuation = RWWContinuation(parameters: parameters, weights: connectome.weights, parameter: continued.keyPath,
                                           inhibition: ficRate.map { .feedback(rate: $0) } ?? .fixed(nil))
        let folder = try OutputFolder(path: out, force: force)
        let began = Date()
        let diagram = try continuation.diagram(over: lo...hi, steps: steps)
        let start = try continuation.system(at: lo)
        let points = try start.fixedPoints()
        let n = connectome.regionCount
        let all = diagram.curves.enumerated().flatMap { c, curve in curve.points.map { (c, $0) } }
        try folder.write("branch.json", bytes: try SimulationOutputs.json(all.map { c, b -> [String: Any] in
            [param: b.value, "curve": c, "branch": b.branch, "mean_S_E": b.meanSE, "mean_rate_E_hz": b.meanRate,
             "leading_real": b.leading.real, "leading_imaginary": b.leading.imaginary, "unstable_eigenvalues": b.unstableCount]
        }))
        folder.record("branch.json", .init(kind: .json, description: "every continuation point: \(param), curve, branch, mean S_E, mean excitatory rate (Hz), leading eigenvalue (1/ms), unstable eigenvalues"))
        let unit = ReducedWongWang.parameterUnits[ReducedWongWang.parameterAliases[param] ?? param] ?? ""
        folder.describeRun(command: "stability") { m in
            m.coordinates["point"] = .values(all.map { $0.1.value }, units: unit, description: "\(param) at each continuation point (branch.json, in order)")
            m.coordinates["state"] = .labels(connectome.labels.map { "S_E \($0)" } + connectome.labels.map { "S_I \($0)" },
                                             description: "S_E of every region, then S_I")
            m.coordinates["eigenvalue"] = .labels((0..<(2 * n)).map { "lambda\($0)" }, description: "eigenvalues of the Jacobian, largest real part first")
            m.coordinates["part"] = .labels(["real", "imaginary"], description: "real and imaginary parts")
        }
        try folder.write("branch_state.npy", values: all.flatMap { $0.1.state }, shape: [all.count, 2 * n], dims: ["point", "state"],
                         units: "dimensionless (synaptic gating)", description: "the fixed point at each continuation point")
        try folder.write("eigenvalues.npy", values: all.flatMap { $0.1.eigenvalues.flatMap { [$0.real, $0.imaginary] } },
                         shape: [all.count, 2 * n, 2], dims: ["point", "eigenvalue", "part"], units: "1/ms",
                         description: "Jacobian eigenvalues at each continuation point")
        var bifurcations: [String: Any] = [
            "subject": chosen, "parameter": param, "range": [lo, hi],
            "inhibition": ficRate.map { "feedback inhibition control at \($0) Hz (J_i per region retuned at every value)" } ?? "uniform J_i = \(parameters.jI) nA",
            "fixed_points_at_start": points.map { ["mean_S_E": $0.meanSE, "kind": $0.kind, "leading_real": $0.leading.real] },
            "bifurcations": diagram.curves.enumerated().flatMap { c, curve in curve.bifurcations.map { b -> [String: Any] in
                [param: b.value, "curve": c, "kind": b.kind, "mean_S_E": b.meanSE, "loses_stability": b.losesStability] } },
            "curves": diagram.curves.map { ["points": $0.points.count, "ended": $0.ended] },
            "wall_time_s": Date().timeIntervalSince(began),
        ]
        let name = param == "G" ? "G*" : "critical \(param)"
        if let critical = diagram.critical {
            bifurcations["critical_value"] = critical.value; bifurcations["kind"] = critical.kind
            if param == "G" { bifurcations["G_star"] = critical.value }
        } else {
            bifurcations["critical_value"] = NSNull()
            bifurcations["no_critical_reason"] = diagram.reason ?? ""
            if param == "G" { bifurcations["G_star"] = NSNull() }
        }
        try folder.write("bifurcations.json", bytes: try SimulationOutputs.json(bifurcations))
        folder.record("bifurcations.json", .init(kind: .json, description: "bifurcations found, the critical value (G* for G) and the fixed points at the start"))
        folder.record("report.html", .init(kind: .report, description: "the bifurcation diagram and its eigenvalues"))
        let summary = diagram.critical.map { String(format: "%@ = %.5f: the low-activity state loses stability (%@).", name, $0.value, $0.kind) }
            ?? "No \(name) in range: \(diagram.reason ?? "")."
        try folder.write("report.html", text: try FolderReport.html(folder: folder.stagingPath))
        try folder.commit()
        print(summary + " Outputs in \(out)")
    }

    /// Another model than rww: its low state followed over its global coupling
    /// (`NeuralMassModel.scanCoupling`), with the same files as the rww continuation.
    func networkScan<Model: NeuralMassModel>(_ type: Model.Type) throws {
        let coupling = Model.globalCouplingParameter
        guard param == "G" || param == coupling else {
            throw WholeBrainError.badValue(source: "--param", value: param, expected: "\(coupling), \(Model.name)'s global coupling (other models than rww follow their coupling only)")
        }
        guard fic == nil, !noFic else {
            throw WholeBrainError.badValue(source: fic != nil ? "--fic" : "--no-fic", value: Model.name, expected: "rww: feedback inhibition is the reduced Wong-Wang model's")
        }
        let (lo, hi) = try continuedRange()
        let (chosen, connectome) = try subjectConnectome()
        let folder = try OutputFolder(path: out, force: force)
        let began = Date()
        let (scan, atStart) = try Model.scanCoupling(assignments: try parseAssignments(assignments), weights: connectome.weights,
                                                     range: lo...hi, steps: steps)
        let n = connectome.regionCount, v = Model.variables.count, cv = Model.coupledVariable
        let variable = Model.variables[cv]
        let meanKey = "mean_\(variable.name)"
        func mean(_ state: [Double]) -> Double { state[(cv * n)..<((cv + 1) * n)].reduce(0, +) / Double(n) }
        try folder.write("branch.json", bytes: try SimulationOutputs.json(scan.points.map { point -> [String: Any] in
            let e = point.fixedPoint.eigenvalues
            return [coupling: point.coupling, "curve": 0, "branch": e[0].real < 0 ? "low" : "unstable", meanKey: mean(point.fixedPoint.state),
                    "leading_real": e[0].real, "leading_imaginary": e[0].imaginary, "unstable_eigenvalues": e.filter { $0.real >= 0 }.count]
        }))
        folder.record("branch.json", .init(kind: .json, description: "every point of the followed low state: \(coupling), branch (low or unstable), mean \(variable.name), leading eigenvalue (1/ms), unstable eigenvalues"))
        folder.describeRun(command: "stability") { m in
            m.coordinates["point"] = .values(scan.points.map(\.coupling), units: Model.parameterUnits[coupling] ?? "", description: "\(coupling) at each point (branch.json, in order)")
            m.coordinates["state"] = .labels(Model.variables.flatMap { v in connectome.labels.map { "\(v.name) \($0)" } }, description: "each variable of every region")
            m.coordinates["eigenvalue"] = .labels((0..<(v * n)).map { "lambda\($0)" }, description: "eigenvalues of the Jacobian, largest real part first")
            m.coordinates["part"] = .labels(["real", "imaginary"], description: "real and imaginary parts")
        }
        try folder.write("branch_state.npy", values: scan.points.flatMap(\.fixedPoint.state), shape: [scan.points.count, v * n], dims: ["point", "state"],
                         units: Model.variables.map { "\($0.name): \($0.unit)" }.joined(separator: "; "), description: "the fixed point at each point")
        try folder.write("eigenvalues.npy", values: scan.points.flatMap { $0.fixedPoint.eigenvalues.flatMap { [$0.real, $0.imaginary] } },
                         shape: [scan.points.count, v * n, 2], dims: ["point", "eigenvalue", "part"], units: "1/ms",
                         description: "Jacobian eigenvalues at each point")
        var bifurcations: [String: Any] = [
            "model": Model.name, "subject": chosen, "parameter": coupling, "range": [lo, hi], "mean_variable": variable.name,
            "mean_variable_unit": variable.unit, "coupling": Model.defaultCoupling.rawValue,
            "inhibition": "\(Model.name): no feedback inhibition (rww's)",
            "fixed_points_at_start": atStart.map { [meanKey: mean($0.state), "leading_real": $0.eigenvalues[0].real, "stable": $0.eigenvalues[0].real < 0] },
            "bifurcations": scan.critical.map { [[coupling: $0.value, "curve": 0, "kind": $0.kind, "loses_stability": true]] } ?? [],
            "wall_time_s": Date().timeIntervalSince(began),
        ]
        if let critical = scan.critical {
            bifurcations["critical_value"] = critical.value; bifurcations["kind"] = critical.kind
        } else {
            bifurcations["critical_value"] = NSNull(); bifurcations["no_critical_reason"] = scan.reason ?? ""
        }
        try folder.write("bifurcations.json", bytes: try SimulationOutputs.json(bifurcations))
        folder.record("bifurcations.json", .init(kind: .json, description: "the critical coupling (or why there is none) and the fixed points at the start"))
        folder.record("report.html", .init(kind: .report, description: "the followed fixed point and its leading eigenvalue"))
        try folder.write("report.html", text: try FolderReport.html(folder: folder.stagingPath))
        try folder.commit()
        print((scan.critical.map { String(format: "critical %@ = %.5f: the low state of %@ loses stability (%@).", coupling, $0.value, Model.name, $0.kind) }
               ?? "No critical \(coupling) in range: \(scan.reason ?? "").") + " Outputs in \(out)")
    }

    /// `--map`: one node over a two-parameter grid: limit cycles by simulation for any
    /// --model, and for rww also every fixed point and its stability.
    func nodeMap(_ text: String) throws {
        let modelType = try ModelCatalog.named(model)
        let names = modelType.parameterNames + modelType.parameterAliases.keys.sorted()
        let axes = try text.split(separator: ",").map { part -> (name: String, values: [Double]) in
            let f = part.split(separator: ":").map(String.init)
            guard f.count == 4, names.contains(f[0]), let lo = Double(f[1]), let hi = Double(f[2]), let n = Int(f[3]), hi > lo, n >= 2, n <= 400 else {
                throw WholeBrainError.badValue(source: "--map", value: String(part),
                                               expected: "NAME:LO:HI:COUNT with a parameter of \(model) (\(names.joined(separator: ", "))), LO < HI, 2 <= COUNT <= 400")
            }
            return (f[0], (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) })
        }
        guard axes.count == 2 else {
            throw WholeBrainError.badValue(source: "--map", value: text, expected: "two axes separated by a comma")
        }
        guard cycleDuration > 1000 else {
            throw WholeBrainError.badValue(source: "--cycle-duration", value: "\(cycleDuration)", expected: "more than 1000 ms (the last 1000 ms are examined)")
        }
        let assigned = try parseAssignments(assignments)
        let folder = try OutputFolder(path: out, force: force)
        let (x, y) = (axes[0], axes[1])
        var summary: [String] = []
        func unit(_ name: String) -> String {
            modelType.parameterUnits[modelType.parameterAliases[name] ?? name] ?? ""
        }
        folder.describeRun(command: "stability") { m in
            m.coordinates[y.name] = .values(y.values, units: unit(y.name), description: "grid rows")
            m.coordinates[x.name] = .values(x.values, units: unit(x.name), description: "grid columns")
        }
        if modelType.name == ReducedWongWang.name {
            let parameters = try setParameters()
            let path = { (name: String) in ReducedWongWang.parameterSpecs.first { $0.name == (ReducedWongWang.parameterAliases[name] ?? name) }!.keyPath }
            let result = try NodeMap.map(parameters: parameters, x: (path(x.name), x.values), y: (path(y.name), y.values))
            try folder.write("map_fixed_points.npy", matrix: result.fixedPoints, dims: [y.name, x.name], units: "count", description: "fixed points of one node")
            try folder.write("map_stable_points.npy", matrix: result.stablePoints, dims: [y.name, x.name], units: "count", description: "stable fixed points (2: bistable)")
            try folder.write("map_high_S_E.npy", matrix: result.highestStableSE, dims: [y.name, x.name], units: "dimensionless (synaptic gating)",
                             description: "S_E of the highest stable fixed point")
            let bistable = result.stablePoints.values.filter { $0 >= 2 }.count
            summary.append("\(bistable) of \(result.stablePoints.values.count) grid points bistable")
        }
        // A line per grid row on stderr (the search for cycles simulates every point four times).
        let began = Date()
        let cycles = try modelType.cycleMap(assignments: assigned, x: x, y: y, duration: cycleDuration) { done, rows in
            guard !quiet else { return }
            let elapsed = Date().timeIntervalSince(began)
            printError(String(format: "stability --map: limit cycles, row %d of %d (%@ = %g), %.0f s elapsed, about %.0f s to go",
                              done, rows, y.name, y.values[done - 1], elapsed, elapsed / Double(done) * Double(rows - done)))
        }
        try folder.write("map_cycle_amplitude.npy", matrix: cycles.amplitude, dims: [y.name, x.name], units: "the observed variable's units",
                         description: "largest limit-cycle amplitude (half the range of the observed variable; NaN: every trajectory settles)")
        try folder.write("map_cycle_period_ms.npy", matrix: cycles.period, dims: [y.name, x.name], units: "ms", description: "that cycle's period")
        try folder.write("map_axes.json", bytes: try SimulationOutputs.json([x.name: x.values, y.name: y.values, "rows": y.name, "columns": x.name,
                                                                            "model": model]))
        folder.record("map_axes.json", .init(kind: .json, description: "the grid's axes: parameter values of the rows and columns"))
        folder.record("report.html", .init(kind: .report, description: "the maps as heatmaps"))
        let oscillating = cycles.oscillating.values.filter { $0 > 0 }.count
        summary.append("\(oscillating) of \(cycles.oscillating.values.count) with a limit cycle")
        try folder.write("report.html", text: try FolderReport.html(folder: folder.stagingPath))
        try folder.commit()
        print(summary.joined(separator: "; ") + "; outputs in \(out)")
    }
}
