import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain stability`: fixed points of the noise-free RWW network and the critical coupling.
struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "Fixed points, eigenvalues and the critical coupling G* of the reduced Wong-Wang network.",
        discussion: """
        Follows the low-activity fixed point of the noise-free network (Newton with the model's \
        analytic Jacobian; eigenvalues of the 2N x 2N network Jacobian by LAPACK dgeev) as --param \
        (G, w_plus, J_i, J_NMDA, I_0 or I_ext) rises over --range, and locates where that state \
        ends (fold) or loses stability (G* for G). \
        Also lists the fixed points found from several starts at the start of the range.
        Writes branch.json (G, mean S_E, leading eigenvalue, classification per point), \
        branch_state.npy (points x 2N: S_E then S_I), eigenvalues.npy (points x 2N x 2: real, \
        imaginary; 1/ms), bifurcations.json (G* and its kind) and report.html.

        With the defaults (w_plus 1.4, J_i 1) the low state of the bundled connectomes rises \
        smoothly into the high one: there is no G*. Stronger inhibition shows the fold:
          wholebrain stability --subject 101309 --param G --range 0:4 --set J_i=2 --out runs/stab
        """)

    @Option(help: "Dataset folder.") var data: String = "data/hcp"
    @Option(help: "Subject whose connectome is used.") var subject: String?
    @Option(help: "The parameter continued: G, w_plus, J_i, J_NMDA, I_0 or I_ext.") var param: String = "G"
    @Option(help: ArgumentHelp("Range of the continued parameter, LO:HI.", valueName: "lo:hi")) var range: String = "0:4"
    @Option(help: "Continuation steps across the range (halved near G* as needed).") var steps: Int = 80
    @Option(name: .customLong("set"), help: ArgumentHelp("Model parameter, name=value (repeatable): w_plus, J_i, J_NMDA, I_0, ...", valueName: "name=value"))
    var assignments: [String] = []
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Replace an existing non-empty --out.") var force = false

    func run() throws { try reportingErrors("stability", stability) }

    func stability() throws {
        try OutputFolder.checkDestination(out, force: force)
        let continuable = ["G", "w_plus", "J_i", "J_NMDA", "I_0", "I_ext"]
        guard continuable.contains(param), let continued = ReducedWongWang.parameterSpecs.first(where: { $0.name == param }) else {
            throw WholeBrainError.badValue(source: "--param", value: param, expected: "one of \(continuable.joined(separator: ", "))")
        }
        let bounds = range.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo >= 0, hi > lo else {
            throw WholeBrainError.badValue(source: "--range", value: range, expected: "LO:HI with 0 <= LO < HI, e.g. 0:4")
        }
        var parameters = ReducedWongWang.Parameters()
        let pairs = try assignments.map { text -> (name: String, value: Double) in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let v = Double(parts[1]) else {
                throw WholeBrainError.badValue(source: "--set", value: text, expected: "name=value with a number, e.g. J_i=2")
            }
            return (parts[0], v)
        }
        try ReducedWongWang.parameterSpecs.apply(pairs, to: &parameters, model: ReducedWongWang.name)
        let dataset = try HCPDataset(root: data)
        let chosen = subject ?? dataset.subjects[0]
        let connectome = try ConnectomePreparation().apply(to: try dataset.connectome(subject: chosen))
        parameters[keyPath: continued.keyPath] = lo
        let analysis = RWWStability(parameters: parameters, weights: connectome.weights)
        let folder = try OutputFolder(path: out, force: force)
        let began = Date()
        let result = try analysis.continueLowState(over: lo...hi, parameter: continued.keyPath, steps: steps)
        let points = try analysis.fixedPoints()
        let n = connectome.regionCount
        let branch = result.branch
        try folder.write("branch.json", bytes: try SimulationOutputs.json(branch.map { b -> [String: Any] in
            [param: b.value, "mean_S_E": b.point.meanSE, "leading_real": b.point.leading.real,
             "leading_imaginary": b.point.leading.imaginary, "kind": b.point.kind]
        }))
        try folder.write("branch_state.npy", bytes: NumpyFile.encode(values: branch.flatMap { $0.point.state }, shape: [branch.count, 2 * n]))
        try folder.write("eigenvalues.npy", bytes: NumpyFile.encode(values: branch.flatMap { $0.point.eigenvalues.flatMap { [$0.real, $0.imaginary] } },
                                                                     shape: [branch.count, 2 * n, 2]))
        var bifurcations: [String: Any] = ["subject": chosen, "parameter": param, "range": [lo, hi],
                                           "fixed_points_at_start": points.map { ["mean_S_E": $0.meanSE, "kind": $0.kind, "leading_real": $0.leading.real] },
                                           "wall_time_s": Date().timeIntervalSince(began)]
        if let critical = result.critical {
            bifurcations["critical_value"] = critical; bifurcations["kind"] = result.kind ?? ""
            if param == "G" { bifurcations["G_star"] = critical }
        }
        try folder.write("bifurcations.json", bytes: try SimulationOutputs.json(bifurcations))
        let gs = branch.map(\.value)
        let name = param == "G" ? "G*" : "critical \(param)"
        let summary = result.critical.map { String(format: "%@ = %.5f: %@.", name, $0, result.kind ?? "") }
            ?? "The low state stays stable over the whole range: no \(name)."
        let body = "<p>\(summary) Subject \(chosen), \(n) regions; \(points.count) fixed point(s) at G = \(lo).</p>"
            + SVG.linePlot(title: "mean S_E of the low state", xLabel: param, series: [("mean S_E", branch.map(\.point.meanSE))], x: gs)
            + SVG.linePlot(title: "leading eigenvalue (real part, 1/ms)", xLabel: param, series: [("Re lambda_max", branch.map(\.point.leading.real))], x: gs)
        try folder.write("report.html", text: SVG.page(title: "WholeBrain stability: \(chosen)", sections: [("Continuation in \(param)", body)]))
        try folder.commit()
        print(summary + " Outputs in \(out)")
    }
}
