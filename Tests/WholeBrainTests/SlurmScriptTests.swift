import XCTest
import WholeBrain

/// The fit job's batch scripts without a Slurm: each array task run by hand with its task id,
/// one made to fail, the collect step reporting it, and a second submission that would run
/// only that subject.
final class SlurmScriptTests: XCTestCase {
    func testArrayTasksFailuresCollectAndResubmission() throws {
        let scratch = NSTemporaryDirectory() + "wholebrain-slurm-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let job = scratch + "/fit.toml", out = scratch + "/out"
        FileManager.default.createFile(atPath: job, contents: Data("""
            data = "\(Fixtures.hcp)"
            subjects = ["101309", "102311", "102816"]
            [fit]
            fit = "G"
            duration = 7.2
            transient = 1
            epochs = 1
            test_duration = 7.2
            [slurm]
            time = "00:05:00"
            """.utf8))
        var r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--dry-run"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("#SBATCH --array=0,1,2") && r.out.contains("#SBATCH --time=00:05:00")
                  && r.out.contains("--dependency=afterok"), r.out)
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--write-only"])
        let script = out + "/slurm/fit-array.sbatch"
        XCTAssert(FileManager.default.fileExists(atPath: script), r.err)
        // Subject 102311's output path is taken by a file: its task fails and says so.
        FileManager.default.createFile(atPath: out + "/102311", contents: Data("in the way".utf8))
        for task in 0..<3 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script]
            process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "\(task)"]) { $1 }
            process.currentDirectoryURL = URL(fileURLWithPath: Fixtures.repository)
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "a task records its failure and exits 0")
        }
        XCTAssert(FileManager.default.fileExists(atPath: out + "/101309/summary.json"))
        let failure = try String(contentsOfFile: out + "/102311.failed", encoding: .utf8)
        XCTAssert(failure.contains("102311") && failure.contains("exited with 1"), failure)
        r = try CommandLineTests.launch(["collect", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("2 of 3 subjects fitted") && r.out.contains("failed: 102311"), r.out)
        let table = try String(contentsOfFile: out + "/fits.csv", encoding: .utf8)
        XCTAssert(table.contains("101309,done") && table.contains("102311,failed"), table)
        let status = try CommandLineTests.launch(["slurm", "status", out])
        XCTAssert(status.out.contains("102311  failed") && status.out.contains("done 2, running 0, failed 1"), status.out)
        // Submitting again would run only the failed subject.
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--dry-run"])
        XCTAssert(r.out.contains("#SBATCH --array=1\n") && r.out.contains("1 of 3 subjects to run: 102311"), r.out)
        let bad = scratch + "/bad.toml"
        FileManager.default.createFile(atPath: bad, contents: Data("[fit]\nepoch = 3\n".utf8))
        let badRun = try CommandLineTests.launch(["slurm", "submit", bad, "--out", out, "--dry-run"])
        XCTAssert(badRun.err.contains("fit.epoch") && badRun.err.contains("epochs"), badRun.err)
    }

    /// A job spec turns `fic = false` into --no-fic (feedback inhibition is on by default) and
    /// passes the operating-point keys through.
    func testFitJobSpecFeedbackInhibitionKeys() throws {
        let path = NSTemporaryDirectory() + "wholebrain-fitspec-\(getpid()).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("""
            subjects = ["101309"]
            [fit]
            fit = "G,J_i"
            fic = false
            critical_fraction = 0.8
            """.utf8))
        let spec = try FitJobSpec(path: path) { _ in ["101309"] }
        XCTAssert(spec.fitArguments.contains("--no-fic"), "\(spec.fitArguments)")
        XCTAssertEqual(spec.fitArguments.suffix(from: spec.fitArguments.firstIndex(of: "--critical-fraction")!).dropFirst().first, "0.8")
    }
}
