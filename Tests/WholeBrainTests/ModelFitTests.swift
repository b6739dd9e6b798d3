import Foundation
import XCTest
import WholeBrain

/// `ModelFit` on a model other than the reduced Wong-Wang one. With the target's own noise
/// held fixed the loss is zero at the truth and smooth in the coupling, so the fit must land
/// on it: a check of the gradient and the optimiser together. (Recovery from other noise
/// seeds needs scan-length runs: at 20 s of BOLD on 6 regions the FC is mostly noise.)
final class ModelFitTests: XCTestCase {
    /// Six regions of subject 101309 (two pairs across hemispheres).
    static func network(subject: String = "101309") throws -> Connectome {
        let full = try ConnectomePreparation().apply(to: try HCPDataset(root: Fixtures.hcp).connectome(subject: subject))
        let keep = [0, 1, 2, 3, 40, 41]
        var w = Matrix(rows: keep.count, columns: keep.count), l = w
        for (a, i) in keep.enumerated() { for (b, j) in keep.enumerated() { w[a, b] = full.weights[i, j]; l[a, b] = full.lengths[i, j] } }
        return try Connectome(weights: w, lengths: l)
    }

    static func spec(_ k: Double, connectome: Connectome, sigma: Double = 0.05, seed: UInt64 = 3) throws -> SimulationSpec<WilsonCowan> {
        try SimulationSpec(model: WilsonCowan(parameters: try WilsonCowan.parameters(set: nil, assignments: [("K_gl", k)])), connectome: connectome,
                           integrator: .heun, noise: NoiseSpec(kind: .white, sigma: sigma), dt: 0.5, duration: 10, transient: 5, tr: 0.1,
                           conductionSpeed: 10, seed: seed)
    }

    func testWilsonCowanCouplingFoundWithTheTargetsNoise() throws {
        let connectome = try Self.network()
        func spec(_ k: Double) throws -> SimulationSpec<WilsonCowan> { try Self.spec(k, connectome: connectome) }
        let truth = 3.0
        let target = FunctionalConnectivity.pearson(regionsByTime: try NetworkSimulator(spec: try spec(truth)).run().bold.transposed)
        var options = ModelFit.Options()
        options.epochs = 40; options.learningRate = 0.05
        var lines: [String] = []
        let outcome = try ModelFit.fit(subjects: [(try spec(1.5), GradientFit.Target(fc: target))], options: options) {
            lines.append(String(format: "K_gl %.4f loss %.3e r %.3f", $0.values[0], $0.loss, $0.fcCorrelation))
        }
        XCTAssertEqual(outcome.values[0], truth, accuracy: 0.02 * truth, lines.joined(separator: "\n"))
        // ADAM's constant step keeps it circling the minimum; the best epoch is near zero loss.
        XCTAssertLessThan(outcome.history.map(\.loss).min()!, 1e-3 * outcome.history.first!.loss, lines.joined(separator: "\n"))
    }
}

extension ModelFitTests {
    /// A fit stopped after two epochs and resumed from its state takes the same steps as one
    /// that ran straight through; two subjects and sigma too.
    func testResumedFitIsTheSameFit() throws {
        let a = try Self.network(), b = try Self.network(subject: "102311")
        let subjects = try [(a, UInt64(3)), (b, UInt64(4))].map { connectome, seed -> (spec: SimulationSpec<WilsonCowan>, target: GradientFit.Target) in
            let truth = try Self.spec(3, connectome: connectome, seed: seed &+ 10)
            let bold = try NetworkSimulator(spec: truth).run().bold.transposed
            return (try Self.spec(2, connectome: connectome, sigma: 0.04, seed: seed), GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: bold)))
        }
        var options = ModelFit.Options()
        options.parameters = [.coupling, .sigma]
        options.weights = ["fc-mean": 25, "surprise": 1]
        options.epochs = 4
        let straight = try ModelFit.fit(subjects: subjects, options: options)
        var saved: [ModelFit.State] = []
        options.epochs = 2
        _ = try ModelFit.fit(subjects: subjects, options: options, onEpoch: { saved.append($0) })
        let restored = try JSONDecoder().decode(ModelFit.State.self, from: try JSONEncoder().encode(saved.last!))
        options.epochs = 4
        let resumed = try ModelFit.fit(subjects: subjects, options: options, resume: restored)
        XCTAssertEqual(resumed.history, straight.history)
        XCTAssertEqual(resumed.values, straight.values)
        XCTAssertEqual(straight.history.count, 4)
        XCTAssertNotEqual(straight.history[3].values, straight.history[0].values, "the fit moved")
        XCTAssertEqual(Set(straight.history[0].terms.keys), ["fc_mean", "surprise"])
        // Another fit's state is refused, by name.
        options.parameters = [.coupling]
        XCTAssertThrowsError(try ModelFit.fit(subjects: subjects, options: options, resume: restored)) { XCTAssert("\($0)".contains("checkpoint"), "\($0)") }
    }

    /// The regime (80 regions): Wilson-Cowan's low state loses stability at a K* that the doubling search
    /// finds from any start below it; below K* the network has a stable state whose leading
    /// eigenvalue approaches zero as K nears K*, and the description says where it sits.
    func testNetworkRegimeOfWilsonCowan() throws {
        let connectome = try ConnectomePreparation().apply(to: try HCPDataset(root: Fixtures.hcp).connectome(subject: "101309"))
        let (found, reason) = try NetworkRegime.findCriticalCoupling(try Self.spec(1, connectome: connectome), from: 1)
        let critical = try XCTUnwrap(found, reason ?? "")
        let (again, _) = try NetworkRegime.findCriticalCoupling(try Self.spec(3, connectome: connectome), from: 3)
        XCTAssertEqual(again?.value ?? 0, critical.value, accuracy: 1e-3 * critical.value)
        let far = try NetworkRegime.of(try Self.spec(0.5 * critical.value, connectome: connectome))
        let near = try NetworkRegime.of(try Self.spec(0.99 * critical.value, connectome: connectome))
        XCTAssertEqual(far.stableFixedPoints, 1)
        let (l1, l2) = (try XCTUnwrap(far.leadingEigenvalue), try XCTUnwrap(near.leadingEigenvalue))
        XCTAssert(l1 < l2 && l2 < 0, "\(l1) \(l2)")
        XCTAssertEqual(near.criticalCoupling ?? 0, critical.value, accuracy: 1e-3 * critical.value)
        XCTAssert(near.description.contains("0.99 of K_gl*"), near.description)
    }
}

extension ModelFitTests {
    /// `fit --model` says what it cannot do: rww's options, rww's loss terms and parameters,
    /// and a fit without noise, each by name, before any output exists.
    func testFitModelRefusesWhatItDoesNotCover() throws {
        let out = NSTemporaryDirectory() + "wholebrain-modelfit-\(getpid())"
        let base = ["fit", "--model", "wc", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "7.2", "--out", out]
        for (extra, words) in [(["--sigma", "0.05", "--window", "5"], ["--window", "rww"]),
                               (["--sigma", "0.05", "--loss", "entropy"], ["--loss", "entropy", "fc-mean"]),
                               (["--sigma", "0.05", "--fit", "w_plus"], ["--fit", "K_gl", "sigma"]),
                               ([], ["--sigma", "noise amplitude"])] {
            let r = try CommandLineTests.launch(base + extra)
            XCTAssertNotEqual(r.status, 0, "\(extra)")
            for w in words { XCTAssert(r.err.contains(w), "\(extra): \(r.err)") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(extra)")
        }
    }
}
