import XCTest
import WholeBrain

/// Sweeps: job spec checks, every run once after a kill and --resume, the same lines on
/// 1 and 2 ranks, and the report.
final class SweepTests: XCTestCase {
    var scratch: String!

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "wholebrain-sweep-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary), "build the wholebrain product first")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func path(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

    func job(_ extra: String = "", points: Int = 3) -> String {
        let text = """
        model = "rww"
        data = "\(Fixtures.hcp)"
        subject = "101309"
        duration = 14.4
        transient = 1
        seeds = [1, 2]
        metrics = ["fc_r", "fcd_ks", "metastability", "rate_E"]
        \(extra)
        [[axes]]
        parameter = "G"
        kind = "linear"
        from = 0.5
        to = 1.5
        points = \(points)

        [[axes]]
        parameter = "sigma"
        values = [0.005, 0.01]
        """
        let p = path("job-\(UUID().uuidString.prefix(6)).toml")
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    /// Lines without wall times, keyed by point.
    func lines(_ folder: String) throws -> [Int: String] {
        let text = try String(contentsOfFile: folder + "/results.jsonl", encoding: .utf8)
        var out: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let point = o["point"] as! Int
            XCTAssertNil(out[point], "point \(point) appears twice")
            out[point] = String(line.replacingOccurrences(of: #""wall_s":[0-9.e+-]+"#, with: "", options: .regularExpression))
        }
        return out
    }

    /// Each eigenvalue belongs to its branch: with J_i = 2 (no FIC) the low state ends in a fold
    /// at G* = 0.652, so just above it only the high state has an eigenvalue (the old sweep
    /// put the high state's value on the low-state curve); below the high state's own fold
    /// (0.608) only the low state has one. FIC is the default and refuses a uniform J_i.
    func testLeadingEigenvaluesAreLabelledWithTheirBranch() throws {
        let text = """
        model = "rww"
        data = "\(Fixtures.hcp)"
        subject = "101309"
        duration = 14.4
        transient = 1
        fic = false
        metrics = ["rate_E", "leading_eigenvalue"]
        [set]
        J_i = 2
        [[axes]]
        parameter = "G"
        values = [0.55, 0.6589]
        """
        let p = path("branches.toml")
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        let r = try CommandLineTests.launch(["sweep", p, "--out", path("branches"), "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        var byG: [Double: [String: Any]] = [:]
        for line in try String(contentsOfFile: path("branches") + "/results.jsonl", encoding: .utf8).split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            byG[(o["values"] as! [String: Double])["G"]!] = o["metrics"] as? [String: Any]
        }
        let below = try XCTUnwrap(byG[0.55]), above = try XCTUnwrap(byG[0.6589])
        XCTAssertLessThan(below["leading_eigenvalue_low"] as? Double ?? 0, 0)
        XCTAssert(below["leading_eigenvalue_high"] is NSNull, "no high state below its fold: \(below)")
        XCTAssert(above["leading_eigenvalue_low"] is NSNull, "no low state past G*: \(above)")
        XCTAssertLessThan(above["leading_eigenvalue_high"] as? Double ?? 0, 0)
        let report = try String(contentsOfFile: path("branches") + "/report.html", encoding: .utf8)
        XCTAssert(report.contains("low-activity state") && report.contains("high-activity state"), "series named by branch")
        // FIC is on by default for rww: a uniform J_i needs fic = false.
        let q = path("conflict.toml")
        FileManager.default.createFile(atPath: q, contents: Data(text.replacingOccurrences(of: "fic = false\n", with: "").utf8))
        assertThrowsMessage(try SweepSpec(path: q), containing: ["J_i", "fic = false"])
    }

    func testJobSpecErrorsNameTheKeyAndTheKnownOnes() throws {
        for (extra, words) in [("colour = 3", ["colour", "metrics"]), ("metrics = [\"fun\"]", ["fun", "fcd_ks"]),
                               ("seeds = [1.5]", ["seeds", "whole numbers"])] {
            let p = path("bad.toml")
            FileManager.default.createFile(atPath: p, contents: Data("model = \"rww\"\n\(extra)\n[[axes]]\nparameter = \"G\"\nvalues = [1]\n".utf8))
            assertThrowsMessage(try SweepSpec(path: p), containing: words)
        }
        let p = path("syntax.toml")
        FileManager.default.createFile(atPath: p, contents: Data("model = rww\n".utf8))
        assertThrowsMessage(try SweepSpec(path: p), containing: ["syntax.toml:1", "a string in quotes"])
        let spec = try SweepSpec(path: job())
        XCTAssertEqual(spec.points.count, 3 * 2 * 2)
        XCTAssertEqual(spec.axes[0].values, [0.5, 1.0, 1.5])
    }

    /// A sweep stopped by SIGTERM, resumed and killed (SIGKILL) mid-write, and resumed again,
    /// ends with every run once and the numbers of an uninterrupted sweep.
    func testKilledSweepResumesWithEveryRunOnceAndTheSameResults() throws {
        let spec = job(points: 4)
        let straight = path("straight")
        var r = try CommandLineTests.launch(["sweep", spec, "--out", straight, "--quiet", "--batch", "4"])
        XCTAssertEqual(r.status, 0, r.err)
        let reference = try lines(straight)
        XCTAssertEqual(reference.count, 16)
        // Runs integrated four at a time as SIMD lanes equal runs one at a time.
        let single = path("single")
        r = try CommandLineTests.launch(["sweep", spec, "--out", single, "--quiet", "--batch", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try lines(single), reference, "one run at a time gives the batched runs' numbers")
        // Stop a second sweep once some runs are in, with SIGTERM (a Slurm time limit) and then,
        // resumed, with SIGKILL; then resume it to the end.
        let killed = path("killed")
        // Runs in progress are appended to parts/rank-0.jsonl (merged into results.jsonl at the end).
        let part = killed + "/parts/rank-0.jsonl"
        // (a resumed sweep first merges the parts into results.jsonl)
        func runsIn() -> Int {
            [part, killed + "/results.jsonl"].map { ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").split(separator: "\n").count }.reduce(0, +)
        }
        for (signal, resume) in [(SIGTERM, false), (SIGKILL, true)] {
            let before = runsIn(), after = before + 3
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
            process.arguments = ["sweep", spec, "--out", killed, "--quiet"] + (resume ? ["--resume"] : [])
            process.currentDirectoryURL = URL(fileURLWithPath: Fixtures.repository)
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && runsIn() < after { usleep(20_000) }
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            if signal == SIGTERM { XCTAssertEqual(process.terminationStatus, 143, "a sweep stopped by SIGTERM exits 143") }
            XCTAssert(runsIn() >= max(before, after) && runsIn() < 16, "stopped by signal \(signal) after \(runsIn()) runs")
        }
        let partial = runsIn()
        XCTAssert((6..<16).contains(partial), "killed after \(partial) runs")
        // A torn line (a kill in the middle of a write) is dropped on resume.
        let handle = FileHandle(forWritingAtPath: part)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"point\": 15, \"met".utf8))
        handle.closeFile()
        r = try CommandLineTests.launch(["sweep", spec, "--out", killed, "--quiet"])
        XCTAssertNotEqual(r.status, 0, "an existing sweep needs --resume or --force")
        XCTAssert(r.err.contains("--force"), r.err)
        r = try CommandLineTests.launch(["sweep", spec, "--out", killed, "--resume", "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try lines(killed), reference, "every run once, the same numbers")
        let order = try String(contentsOfFile: killed + "/results.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["point"] as! Int
        }
        XCTAssertEqual(order, Array(0..<16), "merged lines sorted by point")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: killed + "/parts"), [], "parts merged")
        let status = try CommandLineTests.launch(["slurm", "status", killed])
        XCTAssert(status.out.contains("16 of 16 runs done"), status.out + status.err)
        let report = try String(contentsOfFile: killed + "/report.html", encoding: .utf8)
        XCTAssert(report.contains("16 of 16 runs") && report.contains("<svg") && report.contains("fcd_ks"), report)
        // BOLD power spectra: every run's region mean saved, the best run's drawn beside the empirical one.
        XCTAssert(report.contains("BOLD power spectrum") && report.contains("empirical"), "spectra in the report")
        let psd = try NumpyFile.readMatrix(path: killed + "/points/point-00003_psd.npy")
        XCTAssertEqual(psd.rows, 2)
        XCTAssertEqual(psd[0, 0], 0)
        XCTAssert(psd.row(1).allSatisfy { $0 >= 0 } && psd.row(1).contains { $0 > 0 })
    }

    /// The report as a reader sees it in a real browser (headless Chromium): no console
    /// message, every figure with axis titles and ticks, no clipped text; the matrices are
    /// images, so the page stays small.
    func testReportRendersInHeadlessChromium() throws {
        let out = path("sweep")
        let r = try CommandLineTests.launch(["sweep", job(points: 2), "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        try ReportInBrowser.assertReadable(out + "/report.html", figures: 4, screenshotName: "sweep")
        let size = try FileManager.default.attributesOfItem(atPath: out + "/report.html")[.size] as? Int ?? .max
        XCTAssertLessThan(size, 400_000, "report.html bytes")
    }

    func testSweepOnTwoRanksWritesTheSameLines() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun"), "mpirun (openmpi-bin) is not installed")
        let spec = job()
        let serial = path("serial"), mpi = path("mpi")
        XCTAssertEqual(try CommandLineTests.launch(["sweep", spec, "--out", serial, "--quiet"]).status, 0)
        let r = try MPITests.launch(ranks: 2, ["sweep", spec, "--out", mpi, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try lines(mpi), try lines(serial))
        // One group of two ranks: each run split into two node blocks, the same lines.
        let blocks = path("blocks")
        let b = try MPITests.launch(ranks: 2, ["sweep", spec, "--out", blocks, "--node-blocks", "2"])
        XCTAssertEqual(b.status, 0, b.err)
        XCTAssert(b.out.contains("1 groups of 2 node blocks"), b.out)
        XCTAssertEqual(try lines(blocks), try lines(serial))
        let bad = try MPITests.launch(ranks: 2, ["sweep", spec, "--out", path("bad"), "--node-blocks", "3"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.err.contains("--node-blocks") && bad.err.contains("divisor"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad")), "no output folder after a bad option")
    }
}
