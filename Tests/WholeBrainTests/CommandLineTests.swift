import Foundation
import XCTest
import WholeBrain

/// Runs the built `wholebrain` binary end to end.
final class CommandLineTests: XCTestCase {
    static let binary: String = {
        let products = Bundle.module.bundleURL.deletingLastPathComponent()
        return products.appendingPathComponent("wholebrain").path
    }()

    var scratch: String!

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "wholebrain-cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "build the wholebrain product first")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    @discardableResult
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) { try Self.launch(arguments) }

    /// Runs the built binary (or `executable`) in the repository folder; its status and output.
    static func launch(_ arguments: [String], executable: String = binary, environment: [String: String]? = nil,
                       folder: String = Fixtures.repository) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Runs a command line as a user types it (bash, with the built `wholebrain` first on the PATH) in `folder`.
    static func shell(_ command: String, in folder: String) throws -> (status: Int32, out: String, err: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (binary as NSString).deletingLastPathComponent + ":" + (environment["PATH"] ?? "")
        return try launch(["-c", command], executable: "/bin/bash", environment: environment, folder: folder)
    }

    func path(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) -> String {
        FileManager.default.createFile(atPath: path(name), contents: Data(text.utf8))
        return path(name)
    }

    func testSimulateBundledSubjectWritesEverything() throws {
        let out = path("sim")
        let r = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "7.2", "--transient", "1",
                         "--G", "0.5", "--seed", "3", "--save-states", "100", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("FC correlation"), r.out)
        let bold = try NumpyFile.readMatrix(path: out + "/bold.npy")
        XCTAssertEqual(bold.rows, 10); XCTAssertEqual(bold.columns, 80)
        XCTAssert(bold.values.allSatisfy(\.isFinite))
        let fc = try NumpyFile.readMatrix(path: out + "/fc.npy")
        XCTAssertEqual(fc.rows, 80)
        let states = try FileManager.default.contents(atPath: out + "/states.npy")!
        XCTAssert(String(decoding: states.prefix(128), as: UTF8.self).contains("(72, 2, 80)"))
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        for key in ["parameters", "seed", "versions", "wall_time_s", "fc_correlation", "ns_per_node_step", "region_labels"] {
            XCTAssertNotNil(summary[key], key)
        }
        let fcr = summary["fc_correlation"] as! [String: Any]
        XCTAssertNotNil(fcr["101309"] as? Double); XCTAssertNotNil(fcr["group"] as? Double)
        XCTAssertEqual((summary["parameters"] as! [String: Double])["G"], 0.5)
        XCTAssertEqual(summary["seed"] as? Int, 3)
        // The same command again gives the same bits.
        let again = path("again")
        XCTAssertEqual(try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "7.2", "--transient", "1",
                                "--G", "0.5", "--seed", "3", "--out", again, "--quiet"]).status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/bold.npy"), FileManager.default.contents(atPath: again + "/bold.npy"))
    }

    /// The default rww run: feedback inhibition at 3 Hz, G = 0.9 G* from the stability analysis,
    /// in the low-activity state, and it says so (summary.json and stderr). The old defaults
    /// (--no-fic: uniform J_i, G = 2) land in the saturated high state and warn.
    func testDefaultRunIsInTheLowActivityRegimeAndSaysSo() throws {
        let out = path("default")
        let r = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "60", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.err.contains("regime: bistable") && r.err.contains("G* = 0.5780") && r.err.contains("run: low activity"), r.err)
        XCTAssertFalse(r.err.contains("warning"), r.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        let regime = try XCTUnwrap(summary["regime"] as? [String: Any])
        let run = try XCTUnwrap(regime["run"] as? [String: Any])
        let rate = try XCTUnwrap(run["mean_rate_E_hz"] as? Double)
        XCTAssert((1...10).contains(rate), "mean E rate \(rate) Hz")
        XCTAssertEqual(run["state"] as? String, "low")
        XCTAssertEqual(regime["G_over_G_star"] as? Double ?? 0, 0.9, accuracy: 1e-9)
        XCTAssertEqual(regime["G_star"] as? Double ?? 0, 0.578048, accuracy: 1e-5)
        XCTAssertEqual((summary["parameters"] as? [String: Any])?["G"] as? Double ?? 0, 0.9 * 0.578048, accuracy: 1e-5)
        let ji = try NumpyFile.readMatrix(path: out + "/fic_J_i.npy")
        XCTAssertEqual(ji.values.count, 80)
        XCTAssertGreaterThan(ji.values.max()! - ji.values.min()!, 0.5, "J_i differs between regions")
        // One flag away: the old behaviour, which warns.
        let old = try self.run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "14.4", "--no-fic", "--out", path("old")])
        XCTAssertEqual(old.status, 0, old.err)
        XCTAssert(old.err.contains("warning: the run sits in the high-activity state"), old.err)
        XCTAssert(old.err.contains("regime: high"), old.err)
        // J_i set by hand while FIC is on is refused with the way out.
        let conflict = try self.run(["simulate", "--data", Fixtures.hcp, "--set", "J_i=2", "--duration", "14.4", "--out", path("bad")])
        XCTAssert(conflict.status != 0 && conflict.err.contains("--no-fic"), conflict.err)
    }

    /// One rule for analyses too short for their windows, in simulate, analyze and sweep alike:
    /// default windows shrink to fit and stderr says so; a window asked for that does not fit is
    /// an error before anything runs (simulate used to exit 0 with the analysis skipped).
    func testShortRunsShrinkDefaultWindowsAndSaySo() throws {
        let out = path("short")
        let r = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "60", "--quiet", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.err.contains("note: the simulated BOLD: 83 samples, fewer than the default Welch segment of 256"), r.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        let analysis = try XCTUnwrap(summary["analysis"] as? [String: Any])
        XCTAssertNil(analysis["error"], "\(analysis)")
        XCTAssertEqual((analysis["welch"] as? [String: Any])?["segment"] as? Int, 83)
        let explicit = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "60", "--segment", "100", "--out", path("explicit")])
        XCTAssertNotEqual(explicit.status, 0)
        XCTAssert(explicit.err.contains("--segment") && explicit.err.contains("83 samples"), explicit.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("explicit")))
        let analyzed = try run(["analyze", out + "/bold.npy", "--out", path("short-analysis")])
        XCTAssertEqual(analyzed.status, 0, analyzed.err)
        XCTAssert(analyzed.err.contains("83 samples, fewer than the default Welch segment"), analyzed.err)
        let metrics = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: path("short-analysis") + "/metrics.json")!) as! [String: Any]
        XCTAssertEqual((metrics["welch"] as? [String: Any])?["segment"] as? Int, 83, "the same rule gives the same windows")
        let sweepJob = write("short.toml", "model = \"rww\"\ndata = \"\(Fixtures.hcp)\"\nduration = 14.4\ntransient = 1\nmetrics = [\"fc_r\"]\n[[axes]]\nparameter = \"G\"\nvalues = [0.3]\n")
        let sweep = try run(["sweep", sweepJob, "--out", path("short-sweep"), "--quiet"])
        XCTAssertEqual(sweep.status, 0, sweep.err)
        XCTAssert(sweep.err.contains("note: each run's BOLD: 20 samples, fewer than the default Welch segment"), sweep.err)
    }

    /// A long simulation written to a log (stderr not a terminal, as in a Slurm output file)
    /// says how far it got, one line per tenth; --quiet says nothing.
    func testLongRunsLogProgressLinesOffATerminal() throws {
        let logged = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "40", "--out", path("progress")])
        XCTAssertEqual(logged.status, 0, logged.err)
        let lines = logged.err.split(separator: "\n").filter { $0.hasPrefix("simulate: ") && $0.contains("% (") }
        XCTAssertEqual(lines.count, 10, logged.err)
        XCTAssert(lines.first!.hasPrefix("simulate: 10% (") && lines.last!.hasPrefix("simulate: 100% (") && lines.last!.contains("s elapsed"), logged.err)
        let quiet = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "40", "--quiet", "--out", path("quiet")])
        XCTAssertEqual(quiet.status, 0, quiet.err)
        XCTAssertFalse(quiet.err.contains("% ("), quiet.err)
    }

    /// SIGTERM (a Slurm time limit or preemption) and SIGINT end a run with 128 + the signal
    /// and no staging folder left; a staging folder of a process that is gone (SIGKILL) is
    /// removed by the next run for the same output.
    func testSignalsLeaveNoPartialOutputs() throws {
        let fm = FileManager.default
        let stale = path(".sig.partial-4194000")
        try fm.createDirectory(atPath: stale, withIntermediateDirectories: true)
        for (signal, name) in [(SIGTERM, "sig"), (SIGINT, "sig")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "900", "--quiet", "--out", path(name)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let staging = path(".\(name).partial-\(process.processIdentifier)")
            let deadline = Date().addingTimeInterval(60)
            while !fm.fileExists(atPath: staging) && Date() < deadline { usleep(20_000) }
            XCTAssert(fm.fileExists(atPath: staging), "the run staged its output")
            XCTAssertFalse(fm.fileExists(atPath: stale), "the stale staging folder of a dead process is gone")
            usleep(200_000)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 128 + signal, "exit status after signal \(signal)")
            let left = try fm.contentsOfDirectory(atPath: scratch).filter { $0.hasPrefix(".\(name).partial") }
            XCTAssertEqual(left, [], "no staging folder left after signal \(signal)")
            XCTAssertFalse(fm.fileExists(atPath: path(name)))
        }
    }

    func testUserDataInEveryFormat() throws {
        let tvb = try run(["simulate", "--connectome", Fixtures.path("tvb_connectivity.zip"), "--duration", "1.44",
                           "--transient", "0", "--out", path("tvb")])
        XCTAssertEqual(tvb.status, 0, tvb.err)
        XCTAssert(tvb.out.contains("no empirical data"))
        // A BOLD written by simulate can be given back as the empirical data.
        let npy = try run(["simulate", "--connectome", Fixtures.path("sc_101309_max.npy"), "--lengths", Fixtures.path("len_101309.npy"),
                           "--bold", path("tvb/../sim80/bold.npy"), "--duration", "1.44", "--out", path("npy")])
        XCTAssertNotEqual(npy.status, 0, "bold file does not exist yet")
        XCTAssert(npy.err.contains("bold.npy"), npy.err)
        let first = try run(["simulate", "--connectome", Fixtures.path("sc_101309_max.npy"), "--lengths", Fixtures.path("len_101309.npy"),
                             "--duration", "3.6", "--transient", "0", "--G", "0.5", "--out", path("sim80")])
        XCTAssertEqual(first.status, 0, first.err)
        let second = try run(["simulate", "--connectome", Fixtures.path("sc_101309_max.npy"), "--lengths", Fixtures.path("len_101309.npy"),
                              "--bold", path("sim80/bold.npy"), "--duration", "3.6", "--transient", "0", "--G", "0.5", "--out", path("npy")])
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssert(second.out.contains("empirical 1.000"), "same seed and input reproduce the FC exactly: \(second.out)")
    }

    /// Each bad input exits non-zero with one message naming the problem, and leaves no output.
    func testBadInputsFailCleanly() throws {
        let sq = write("square.csv", "0,1\n1,0\n")
        let cases: [([String], [String])] = [
            (["--subject", "424242"], ["424242", "known subjects", "101309"]),
            (["--data", path("nowhere")], ["nowhere", "not found"]),
            (["--connectome", path("missing.csv"), "--lengths", sq], ["missing.csv", "not found"]),
            (["--connectome", write("rect.csv", "1,2,3\n4,5,6\n"), "--lengths", sq], ["rect.csv", "2x3", "square"]),
            (["--connectome", sq, "--lengths", write("big.csv", "0,1,1\n1,0,1\n1,1,0\n")], ["big.csv", "same shape"]),
            (["--connectome", write("nan.csv", "0,nan\n1,0\n"), "--lengths", sq], ["nan.csv[0, 1]", "finite"]),
            (["--connectome", sq, "--lengths", write("neg.csv", "0,-4\n1,0\n")], ["neg.csv[0, 1]", "non-negative"]),
            (["--connectome", Fixtures.path("broken_truncated.mat"), "--lengths", sq], ["broken_truncated.mat", "truncated"]),
            (["--connectome", Fixtures.path("matrix_v5_compressed.mat"), "--variables", "label", "--lengths", sq], ["label", "char array"]),
            (["--connectome", Fixtures.path("broken_truncated.npy"), "--lengths", sq], ["broken_truncated.npy", "truncated"]),
            (["--connectome", Fixtures.path("broken_corrupt.npz"), "--lengths", sq], ["broken_corrupt.npz"]),
            (["--connectome", Fixtures.path("arrays_plain.npz"), "--lengths", sq], ["does not appear", ""]),
            (["--duration", "0"], ["--duration", "positive"]),
            (["--dt=-0.1"], ["--dt", "positive"]),
            (["--tr", "0"], ["--tr"]),
            (["--tr", "0.72005"], ["--tr", "multiple of dt"]),
            (["--set", "not_a_parameter=3"], ["not_a_parameter", "w_plus"]),
            (["--set", "G"], ["--set", "name=value"]),
            (["--connectome", sq], ["--lengths", "fibre-length"]),
        ]
        for (k, (extra, expected)) in cases.enumerated() {
            let out = path("bad\(k)")
            var arguments = ["simulate", "--data", Fixtures.hcp, "--duration", "1.44", "--out", out]
            // Later options override earlier ones for the same name in the expected cases.
            arguments += extra
            let r = try run(arguments)
            XCTAssertNotEqual(r.status, 0, "case \(k) \(extra) should fail")
            for part in expected where !part.isEmpty && part != "does not appear" {
                XCTAssert(r.err.contains(part), "case \(k) \(extra): stderr '\(r.err)' lacks '\(part)'")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "case \(k) left an output folder")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.contains("partial") }
            XCTAssertEqual(leftovers, [], "case \(k) left a staging folder")
        }
    }

    func testExistingOutputNeedsForce() throws {
        let out = path("taken")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = write("taken/keep.txt", "user data")
        let r = try run(["simulate", "--data", Fixtures.hcp, "--duration", "1.44", "--transient", "0", "--out", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssert(r.err.contains("--force"), r.err)
        XCTAssert(FileManager.default.fileExists(atPath: out + "/keep.txt"))
        let forced = try run(["simulate", "--data", Fixtures.hcp, "--duration", "1.44", "--transient", "0", "--out", out, "--force", "--quiet"])
        XCTAssertEqual(forced.status, 0, forced.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/keep.txt"))
        XCTAssert(FileManager.default.fileExists(atPath: out + "/bold.npy"))
    }

    func testModelsAndModelOptions() throws {
        let list = try run(["models"])
        XCTAssertEqual(list.status, 0, list.err)
        for name in ["rww", "ww", "wc", "fhn", "hopf", "kuramoto", "jr", "mpr", "aln"] { XCTAssert(list.out.contains(name), list.out) }
        let wc = try run(["models", "wc"])
        XCTAssert(wc.out.contains("c_excexc") && wc.out.contains("brainpy") && wc.out.contains("ms"), wc.out)
        let out = path("wc")
        let r = try run(["simulate", "--model", "wc", "--parameter-set", "brainpy", "--set", "exc_ext=0.5", "--set", "wEE=16.5", "--integrator", "heun",
                         "--coupling", "diffusive", "--noise", "ou", "--sigma", "0.01", "--data", Fixtures.hcp,
                         "--duration", "3.6", "--transient", "0", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        XCTAssertEqual(summary["model"] as? String, "wc")
        XCTAssertEqual(summary["integrator"] as? String, "heun")
        XCTAssertEqual(summary["coupling"] as? String, "diffusive")
        XCTAssertEqual((summary["noise"] as? [String: Any])?["kind"] as? String, "ou")
        XCTAssertEqual((summary["parameters"] as? [String: Double])?["tau_exc"], 1)
        XCTAssertEqual((summary["parameters"] as? [String: Double])?["exc_ext"], 0.5)
        XCTAssertEqual((summary["parameters"] as? [String: Double])?["c_excexc"], 16.5, "BrainPy's wEE is an alias")
        XCTAssert(wc.out.contains("wEE (= c_excexc)"), wc.out)
        let bad = try run(["simulate", "--model", "nope", "--data", Fixtures.hcp, "--duration", "1.44", "--out", path("nope")])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.err.contains("kuramoto"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("nope")))
        let wrongParameter = try run(["simulate", "--model", "hopf", "--set", "w_plus=1", "--data", Fixtures.hcp, "--duration", "1.44",
                                      "--out", path("wp")])
        XCTAssert(wrongParameter.err.contains("omega"), wrongParameter.err)
        let rk4Noise = try run(["simulate", "--integrator", "rk4", "--data", Fixtures.hcp, "--duration", "1.44", "--out", path("rk")])
        XCTAssert(rk4Noise.err.contains("deterministic"), rk4Noise.err)
    }

    func testAnalyzeFilesAndSubjectsAndSimulateMetrics() throws {
        let sim = path("long")
        let r = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--duration", "216", "--transient", "5",
                         "--bandpass", "0.01,0.1", "--segment", "128", "--fcd-window", "40", "--fcd-step", "5", "--quiet", "--out", sim])
        XCTAssertEqual(r.status, 0, r.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: sim + "/summary.json")!) as! [String: Any]
        let analysis = try XCTUnwrap(summary["analysis"] as? [String: Any], "\(summary["analysis"] ?? "none")")
        XCTAssertNotNil(analysis["metastability"] as? Double)
        XCTAssertNotNil((analysis["comparison"] as? [String: Any])?["fcd_ks_distance"] as? Double)
        XCTAssertEqual(analysis["bandpass_hz"] as? [Double], [0.01, 0.1])
        let out = path("analysis")
        let a = try run(["analyze", sim + "/bold.npy", "--tr", "0.72", "--data", Fixtures.hcp, "--compare", "101309",
                         "--segment", "128", "--fcd-window", "40", "--fcd-step", "5", "--out", out])
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssert(a.out.contains("FCD KS"), a.out)
        let psd = try NumpyFile.readMatrix(path: out + "/psd.npy")
        XCTAssertEqual(psd.rows, 80); XCTAssertEqual(psd.columns, 65)
        XCTAssertEqual(try NumpyFile.readMatrix(path: out + "/freqs.npy").columns, 65)
        XCTAssertEqual(try NumpyFile.readMatrix(path: out + "/fcd.npy").rows, (300 - 40) / 5 + 1)
        // Both folders carry a report: BOLD, FC beside the subject's, FCD and its distribution, spectra.
        XCTAssertEqual(try NumpyFile.readMatrix(path: sim + "/fcd_empirical.npy").rows, (1200 - 40) / 5 + 1)
        try assertReportRebuilds(sim)
        try assertReportRebuilds(out)
        try ReportInBrowser.assertReadable(sim + "/report.html", figures: 9, screenshotName: "simulate")
        try ReportInBrowser.assertReadable(out + "/report.html", figures: 4, screenshotName: "analyze")
        let subject = try run(["analyze", "102311", "--data", Fixtures.hcp, "--out", path("subject")])
        XCTAssertEqual(subject.status, 0, subject.err)
        let metrics = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: path("subject") + "/metrics.json")!) as! [String: Any]
        XCTAssertEqual(metrics["samples"] as? Int, 1200)
        // Too short for the default Welch segment: the message says what would work.
        let short = try run(["analyze", Fixtures.path("matrix.csv"), "--out", path("short")])
        XCTAssertNotEqual(short.status, 0)
        XCTAssert(short.err.contains("at least 4 samples"), short.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("short")))
        let badBand = try run(["analyze", "102311", "--data", Fixtures.hcp, "--bandpass", "0.1", "--out", path("bb")])
        XCTAssert(badBand.err.contains("--bandpass"), badBand.err)
    }

    /// The independent numpy reference (Tests/Reference/rww_reference.py) and `simulate` agree
    /// where they must: the same feedback-inhibition J_i (solved independently) to 1e-9, a mean
    /// excitatory rate at the 3 Hz target, and the same BOLD level (Balloon-Windkessel driven by
    /// S_E) to 1%, from different integrators, delays, noise and warm-up.
    func testReferenceSimulatorAgreesWithSimulate() throws {
        let sc = Fixtures.path("sc_101309_max.npy"), ln = Fixtures.path("len_101309.npy")
        let sim = path("sim"), reference = path("reference")
        XCTAssertEqual(try run(["simulate", "--connectome", sc, "--lengths", ln, "--G", "0.35", "--duration", "14.4", "--quiet", "--out", sim]).status, 0)
        let python = try Self.shell("python3 Tests/Reference/rww_reference.py --weights \(sc) --lengths \(ln) --G 0.35 --seed 3 --duration 14.4 --out \(reference)",
                                    in: Fixtures.repository)
        XCTAssertEqual(python.status, 0, python.err)
        let described = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: reference + "/reference.json")!) as! [String: Any]
        let ji = try XCTUnwrap(described["J_i"] as? [Double])
        let ours = try NumpyFile.readMatrix(path: sim + "/fic_J_i.npy").values
        XCTAssertEqual(ji.count, 80)
        for (a, b) in zip(ji, ours) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        XCTAssertEqual(try XCTUnwrap(described["mean_rate_E_hz"] as? Double), 3, accuracy: 0.2)
        XCTAssertEqual(described["bold_units"] as? String, "model")
        XCTAssertNotNil(LossSelection.modelUnits(boldFile: reference + "/bold.npy"), "fit --loss auto sees model units")
        let a = try NumpyFile.readMatrix(path: reference + "/bold.npy"), b = try NumpyFile.readMatrix(path: sim + "/bold.npy")
        XCTAssertEqual(a.rows, b.rows); XCTAssertEqual(a.columns, 80)
        let meanA = a.values.reduce(0, +) / Double(a.values.count), meanB = b.values.reduce(0, +) / Double(b.values.count)
        XCTAssertEqual(meanA, meanB, accuracy: 0.01 * abs(meanB))
    }

    func testFitUserDataBackFromSimulatedBold() throws {
        var w = "", l = ""
        for i in 0..<6 {
            w += (0..<6).map { j in i == j ? "0" : String(Double((i * 7 + j * 3) % 5) / 4) }.joined(separator: ",") + "\n"
            l += (0..<6).map { j in i == j ? "0" : String(40 * (0.2 + Double((i + j) % 7) / 3)) }.joined(separator: ",") + "\n"
        }
        let weights = write("w.csv", w), lengths = write("l.csv", l)
        let sim = path("target")
        XCTAssertEqual(try run(["simulate", "--connectome", weights, "--lengths", lengths, "--normalise", "none", "--G", "0.6",
                                "--duration", "14.4", "--transient", "1", "--quiet", "--out", sim]).status, 0)
        let out = path("fit")
        let r = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G,sigma",
                         "--G", "0.4", "--epochs", "3", "--duration", "14.4", "--transient", "1", "--checkpoint", "2000", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("epoch   3") && r.out.contains("test FC r"), r.out)
        // Progress on stderr, a line per epoch (as a Slurm log shows it) and around the test run.
        XCTAssert(r.err.contains("fit: epoch 3 of 3 done") && r.err.contains("to go") && r.err.contains("fit: test run done in"), r.err)
        let params = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/params.json")!) as! [String: Any]
        XCTAssertEqual((params["initial"] as? [String: Double])?["G"], 0.4)
        XCTAssertNotEqual((params["fitted"] as? [String: Double])?["G"], 0.4)
        let history = try String(contentsOfFile: out + "/history.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(history.count, 4)
        // --loss auto for BOLD simulate wrote: the FC level and BOLD variance (20 samples hold no FCD windows).
        XCTAssert(history[0].hasPrefix("epoch,window,loss,bold_variance,fc_mean,fc_r,mean_gain,G,sigma"), String(history[0]))
        XCTAssert(r.err.contains("--loss auto: bold-variance=0.1: the target BOLD is in the model's units") && r.err.contains("no fcd"), r.err)
        let autoSummary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/summary.json")!) as! [String: Any]
        XCTAssertEqual(autoSummary["loss_weights"] as? [String: Double], ["fc_mean": LossSelection.fcMeanWeight, "bold_variance": LossSelection.boldVarianceWeight])
        XCTAssertEqual((autoSummary["loss_choice"] as? [String])?.count, 4)
        XCTAssertEqual(try NumpyFile.readMatrix(path: out + "/fc_sim.npy").rows, 6)
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssert(report.contains("<svg") && report.contains("empirical FC") && report.contains("loss term fc_mean"))
        try assertReportRebuilds(out)
        try ReportInBrowser.assertReadable(out + "/report.html", figures: 8, screenshotName: "fit")
        // The paper's scheme: windows, every term, gains, priors and a held-out part.
        let full = path("fullfit")
        let windowed = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G,Ji,sigma,sc-gains", "--no-fic",
                         "--loss", "surprise,entropy,prior=0.2,timeseries=0.5,spectrum", "--window", "5", "--held-out", "0.25",
                         "--G", "0.4", "--epochs", "2", "--duration", "10.8", "--transient", "1", "--out", full])
        XCTAssertEqual(windowed.status, 0, windowed.err)
        XCTAssert(windowed.out.contains("window   3") && windowed.out.contains("held-out FC r"), windowed.out)
        let fullHistory = try String(contentsOfFile: full + "/history.csv", encoding: .utf8).split(separator: "\n")
        XCTAssert(fullHistory[0].hasPrefix("epoch,window,loss,entropy,prior,spectrum,surprise,timeseries,fc_r,mean_gain,G,J_i,sigma"),
                  String(fullHistory[0]))
        XCTAssertEqual(fullHistory.count, 1 + 2 * 3, "15 TRs of 20 fitted: three windows of 5 per epoch")
        let gains = try NumpyFile.readMatrix(path: full + "/sc_gains.npy")
        XCTAssertEqual(gains.rows, 6)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: full + "/summary.json")!) as! [String: Any]
        XCTAssertNotNil(summary["test_held_out_fc_r"] as? Double)
        // params.json names the epoch its values come from; keeping the start point is said aloud.
        let fullParams = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: full + "/params.json")!) as! [String: Any]
        let from = try XCTUnwrap(fullParams["fitted_from"] as? [String: Any])
        XCTAssertEqual(from["point"] as? String, "start of epoch")
        let kept = try XCTUnwrap(from["kept_initial_values"] as? Bool)
        let initialValues = fullParams["initial"] as! [String: Double], fittedValues = fullParams["fitted"] as! [String: Double]
        // (equal up to the last bits of the bounded transforms' round trip)
        let same = initialValues.keys.allSatisfy { abs(initialValues[$0]! - fittedValues[$0]!) <= 1e-12 * max(1, abs(initialValues[$0]!)) }
        XCTAssertEqual(kept, same, "\(from)")
        XCTAssertEqual(windowed.err.contains("warning: the fit kept its starting values"), kept, windowed.err)
        if !kept { XCTAssert(windowed.err.contains("note: fitted values from the start of epoch"), windowed.err) }
        // Without held-out data (whole run) the values are those of the epoch with the lowest training loss, labelled so.
        let lastParams = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/params.json")!) as! [String: Any]
        XCTAssertEqual((lastParams["fitted_from"] as? [String: Any])?["point"] as? String, "start of epoch")
        XCTAssertNotNil(lastParams["history_values"] as? String)
        let rows = history.dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        let lowest = rows.min { $0[2] < $1[2] }!
        XCTAssertEqual(lowest[7], (lastParams["fitted"] as? [String: Double])?["G"], "the lowest-loss row's G (history holds values before each step)")
        XCTAssertEqual((lastParams["fitted_from"] as? [String: Any])?["epoch"] as? Int, Int(lowest[0]))
        // Band-passed fit (whole-run gradients through the filter); a window too short for the band is refused.
        let banded = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G",
                              "--bandpass", "0.01,0.1", "--G", "0.4", "--epochs", "2", "--duration", "14.4", "--transient", "1",
                              "--out", path("banded")])
        XCTAssertEqual(banded.status, 0, banded.err)
        // Regional heterogeneity: slopes of w_plus and I_0 along a user's map and the FC gradient.
        let map = write("map.csv", "0.1\n0.5\n0.2\n0.9\n0.4\n0.3\n")
        let regional = path("regional")
        let het = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G,w_plus-map,I_0-map",
                           "--maps", "fc-gradient," + map, "--G", "0.4", "--epochs", "2", "--duration", "14.4", "--transient", "1",
                           "--identifiability-seeds", "0", "--out", regional])
        XCTAssertEqual(het.status, 0, het.err)
        XCTAssert(het.err.contains("regional maps (z-scored): fc_gradient, map"), het.err)
        let hetParams = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: regional + "/params.json")!) as! [String: Any]
        let fittedSlopes = try XCTUnwrap(hetParams["fitted"] as? [String: Double])
        XCTAssertEqual(Set(fittedSlopes.keys), ["G", "w_plus_slope[0]", "w_plus_slope[1]", "I_0_slope[0]", "I_0_slope[1]"])
        let maps = try NumpyFile.readMatrix(path: regional + "/maps.npy")
        let perRegion = try NumpyFile.readMatrix(path: regional + "/w_plus_per_region.npy").values
        XCTAssertEqual(maps.rows, 2); XCTAssertEqual(perRegion.count, 6)
        let uniform = perRegion.reduce(0, +) / 6
        for i in 0..<6 {
            XCTAssertEqual(perRegion[i], uniform + fittedSlopes["w_plus_slope[0]"]! * maps[0, i] + fittedSlopes["w_plus_slope[1]"]! * maps[1, i],
                           accuracy: 1e-12, "the per-region values are the uniform one plus the slopes along the z-scored maps")
        }
        XCTAssert(fittedSlopes.values.contains { $0 != 0 }, "the slopes moved")
        // The fitted regional model runs again with simulate --per-region, feedback inhibition following each region's values.
        let rerun = path("regional-rerun")
        let again = try run(["simulate", "--connectome", weights, "--lengths", lengths, "--normalise", "none", "--G", "0.4", "--duration", "7.2",
                             "--transient", "1", "--quiet", "--per-region", "w_plus=" + regional + "/w_plus_per_region.npy",
                             "--per-region", "I_0=" + regional + "/I_0_per_region.npy", "--out", rerun])
        XCTAssertEqual(again.status, 0, again.err)
        let rerunSummary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: rerun + "/summary.json")!) as! [String: Any]
        let perNode = try XCTUnwrap(rerunSummary["node_parameters"] as? [String: Any])
        XCTAssertEqual(Set(perNode.keys), ["J_i", "w_plus", "I_0"])
        XCTAssertEqual(try NumpyFile.readMatrix(path: rerun + "/w_plus_per_region.npy").values, perRegion)
        let ji = try NumpyFile.readMatrix(path: rerun + "/fic_J_i.npy").values
        var p = ReducedWongWang.Parameters()
        p.g = 0.4
        let expected = try FeedbackInhibition.localInhibition(parameters: p, weights: try MatrixFile.load(path: weights), targetRate: 3, wPlus: perRegion,
                                                              i0: try NumpyFile.readMatrix(path: regional + "/I_0_per_region.npy").values)
        for (a, b) in zip(ji, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        let short = try run(["simulate", "--connectome", weights, "--lengths", lengths, "--per-region", "w_plus=" + map + "x", "--out", path("bad-region")])
        XCTAssertNotEqual(short.status, 0)
        let wrongCount = write("five.csv", "1.4\n1.4\n1.4\n1.4\n1.4\n")
        let five = try run(["simulate", "--connectome", weights, "--lengths", lengths, "--per-region", "w_plus=" + wrongCount, "--out", path("bad-region2")])
        XCTAssert(five.err.contains("--per-region w_plus") && five.err.contains("one per region (6)"), five.err)
        let shortWindow = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--bandpass", "0.01,0.1",
                                   "--window", "5", "--duration", "14.4", "--out", path("shortwindow")])
        XCTAssert(shortWindow.err.contains("--bandpass") && shortWindow.err.contains("longer --window"), shortWindow.err)
        let badLoss = try run(["fit", "--loss", "surprise,fun", "--data", Fixtures.hcp, "--out", path("badloss")])
        XCTAssert(badLoss.err.contains("--loss") && badLoss.err.contains("entropy") && badLoss.err.contains("auto or"), badLoss.err)
        // A fit stopped mid-run resumes from its last epoch checkpoint.
        let killed = path("killed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G",
                             "--G", "0.4", "--epochs", "500", "--duration", "14.4", "--transient", "1", "--quiet", "--out", killed]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let state = path(".killed.fit-state.json")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: state) && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        // SIGTERM, as Slurm sends at a time limit or preemption: the fit stops at once (exit
        // 143), keeps its last epoch's checkpoint and leaves no output.
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        XCTAssert(FileManager.default.fileExists(atPath: state), "a checkpoint was written before the kill")
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed), "no output from the killed run")
        let resumed = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--fit", "G",
                               "--G", "0.4", "--epochs", "3", "--duration", "14.4", "--transient", "1", "--resume", "--out", killed])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssert(resumed.out.contains("resuming after epoch"), resumed.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state), "the checkpoint goes once the fit is done")
        let noState = try run(["fit", "--connectome", weights, "--lengths", lengths, "--bold", sim + "/bold.npy", "--resume",
                               "--out", path("nostate")])
        XCTAssert(noState.err.contains("fit-state.json"), noState.err)
        let bad = try run(["fit", "--fit", "G,nope", "--data", Fixtures.hcp, "--out", path("badfit")])
        XCTAssert(bad.err.contains("--fit") && bad.err.contains("w_plus"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("badfit")))
    }

    /// `wholebrain report DIR` rebuilds a run's report.html from its files, the same bytes.
    func assertReportRebuilds(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let original = FileManager.default.contents(atPath: folder + "/report.html")
        XCTAssertNotNil(original, file: file, line: line)
        try FileManager.default.removeItem(atPath: folder + "/report.html")
        let r = try run(["report", folder, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err, file: file, line: line)
        XCTAssertEqual(r.out, "", "--quiet prints nothing", file: file, line: line)
        XCTAssertEqual(FileManager.default.contents(atPath: folder + "/report.html"), original, "rebuilt report of \(folder)", file: file, line: line)
    }

    func testStabilityFindsTheFoldAndWritesItsOutputs() throws {
        let out = path("stab")
        let r = try run(["stability", "--data", Fixtures.hcp, "--subject", "101309", "--range", "0:2", "--no-fic", "--set", "J_i=2", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("G* = 0.65") && r.out.contains("fold"), r.out)
        let b = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/bifurcations.json")!) as! [String: Any]
        XCTAssertEqual(b["G_star"] as! Double, 0.652, accuracy: 0.001)
        let header = String(decoding: FileManager.default.contents(atPath: out + "/eigenvalues.npy")!.prefix(128), as: UTF8.self)
        XCTAssert(header.contains(", 160, 2)"), header)
        // Every point is labelled with its branch; the curve passes the fold onto the unstable branch.
        let branch = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: out + "/branch.json")!) as! [[String: Any]]
        let labels = Set(branch.compactMap { $0["branch"] as? String })
        XCTAssertEqual(labels, ["low", "unstable", "high"], "\(labels)")
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssert(report.contains("stroke-dasharray=\"5 3\"") && report.contains("mean S_E (dimensionless)"), "the diagram draws unstable branches dashed, with labelled axes")
        try ReportInBrowser.assertReadable(out + "/report.html", figures: 3, screenshotName: "stability")
        // A range starting past the fold has no G* (it used to print the range's start as G*).
        let past = try run(["stability", "--data", Fixtures.hcp, "--subject", "101309", "--range", "0.6589:0.7", "--no-fic", "--set", "J_i=2", "--out", path("past")])
        XCTAssertEqual(past.status, 0, past.err)
        XCTAssert(past.out.contains("No G* in range") && !past.out.contains("G* = 0.6589"), past.out)
        let pastB = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: path("past") + "/bifurcations.json")!) as! [String: Any]
        XCTAssert(pastB["G_star"] is NSNull, "\(pastB)")
        // The default (feedback inhibition): G* where the 3 Hz state loses stability, a branch point.
        let ficStability = try run(["stability", "--data", Fixtures.hcp, "--subject", "101309", "--range", "0:1", "--steps", "30", "--out", path("stab-fic")])
        XCTAssertEqual(ficStability.status, 0, ficStability.err)
        XCTAssert(ficStability.out.contains("G* = 0.5780") && ficStability.out.contains("branch point"), ficStability.out)
        let conflicting = try run(["stability", "--data", Fixtures.hcp, "--set", "J_i=2", "--out", path("bad")])
        XCTAssert(conflicting.status != 0 && conflicting.err.contains("--no-fic"), conflicting.err)
        let bad = try run(["stability", "--data", Fixtures.hcp, "--range", "3:1", "--out", path("bad")])
        XCTAssert(bad.err.contains("--range") && bad.err.contains("LO:HI"), bad.err)
        let param = try run(["stability", "--data", Fixtures.hcp, "--param", "tau_E", "--out", path("bad")])
        XCTAssert(param.err.contains("--param") && param.err.contains("w_plus"), param.err)
        let map = try run(["stability", "--map", "w_plus:1:4:12,J_i:0.5:3:12", "--out", path("map")])
        XCTAssertEqual(map.status, 0, map.err)
        XCTAssert(map.out.contains("bistable"), map.out)
        XCTAssert(FileManager.default.fileExists(atPath: path("map") + "/map_stable_points.npy"))
        try assertReportRebuilds(out)
        try assertReportRebuilds(path("map"))
        try ReportInBrowser.assertReadable(path("map") + "/report.html", figures: 2, screenshotName: "map")
        // Any model's map: the Hopf node's limit cycle, radius sqrt(a), where a > 0 only.
        let hopf = try run(["stability", "--model", "hopf", "--map", "a:-0.25:0.25:3,omega:0.2:0.4:2", "--out", path("hopfmap")])
        XCTAssertEqual(hopf.status, 0, hopf.err)
        XCTAssert(hopf.err.contains("row 2 of 2 (omega = 0.4)"), "a progress line per grid row: \(hopf.err)")
        XCTAssert(hopf.out.contains("2 of 6 with a limit cycle"), hopf.out)
        let amplitude = try NumpyFile.readMatrix(path: path("hopfmap") + "/map_cycle_amplitude.npy")
        XCTAssertEqual(amplitude[1, 2], 0.5, accuracy: 1e-4)
        XCTAssertTrue(amplitude[0, 0].isNaN)
        let wrongAxis = try run(["stability", "--model", "hopf", "--map", "w_plus:1:2:3,omega:0.2:0.4:2", "--out", path("bad")])
        XCTAssert(wrongAxis.err.contains("--map") && wrongAxis.err.contains("omega"), wrongAxis.err)
        // Continuation in another parameter: raising w_plus also ends the low state.
        let wPlus = try run(["stability", "--data", Fixtures.hcp, "--subject", "101309", "--param", "w_plus", "--range", "1:3",
                             "--no-fic", "--set", "J_i=2", "--set", "G=0.3", "--out", path("wplus")])
        XCTAssertEqual(wPlus.status, 0, wPlus.err)
        XCTAssert(wPlus.out.contains("critical w_plus = "), wPlus.out)
        // Feedback inhibition control in simulate: rates near the 3 Hz target (noise moves them a little).
        let fic = try run(["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--G", "0.3", "--fic", "3", "--duration", "14.4",
                           "--quiet", "--out", path("fic")])
        XCTAssertEqual(fic.status, 0, fic.err)
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: path("fic") + "/summary.json")!) as! [String: Any]
        let rate = (summary["means"] as! [String: Double])["rate_E"]!
        XCTAssert((2...6).contains(rate), "mean excitatory rate \(rate) Hz")
        let notRWW = try run(["simulate", "--data", Fixtures.hcp, "--model", "hopf", "--fic", "3", "--out", path("bad")])
        XCTAssert(notRWW.err.contains("--fic") && notRWW.err.contains("rww"), notRWW.err)
    }

    func testInfoShowsLinkedLibraries() throws {
        let r = try run(["info"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("fftw-3"), r.out)
        XCTAssert(r.out.contains("Open MPI"), r.out)
        let help = try run(["simulate", "--help"])
        XCTAssert(help.out.contains("--save-states") && help.out.contains("Deco et al. 2014"), help.out)
    }
}
