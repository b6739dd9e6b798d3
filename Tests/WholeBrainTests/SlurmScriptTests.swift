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
                  && r.out.contains("--dependency=afterany"), r.out)
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
            // A failed subject's task exits non-zero (Slurm's accounting shows FAILED), the others 0.
            XCTAssertEqual(process.terminationStatus == 0, task != 1, "task \(task) exit status \(process.terminationStatus)")
        }
        XCTAssert(FileManager.default.fileExists(atPath: out + "/101309/summary.json"))
        let failure = try String(contentsOfFile: out + "/102311.failed", encoding: .utf8)
        XCTAssert(failure.contains("102311") && failure.contains("exited with 1"), failure)
        r = try CommandLineTests.launch(["collect", out])
        XCTAssertEqual(r.status, 1, "collect writes its tables and exits 1 when a subject failed: \(r.err)")
        XCTAssert(r.out.contains("2 of 3 subjects fitted") && r.out.contains("failed: 102311"), r.out)
        let table = try String(contentsOfFile: out + "/fits.csv", encoding: .utf8)
        XCTAssert(table.contains("101309,done") && table.contains("102311,failed"), table)
        try ReportInBrowser.assertReadable(out + "/report.html", figures: 2, screenshotName: "collect")
        let quiet = try CommandLineTests.launch(["collect", out, "--quiet"])
        XCTAssertEqual(quiet.status, 1, "the status still says a subject failed")
        XCTAssertEqual(quiet.out, "", "--quiet prints nothing")
        let status = try CommandLineTests.launch(["slurm", "status", out])
        XCTAssert(status.out.contains("102311  failed") && status.out.contains("done 2, running 0, pending 0, failed 1"), status.out)
        // Submitting again leaves the failed subject alone unless asked, then runs only it.
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--dry-run"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssert(r.out.contains("failed, not submitted again") && r.out.contains("--resubmit failed): 102311")
                  && r.out.contains("no subject to submit") && !r.out.contains("#SBATCH"), r.out)
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--dry-run", "--resubmit", "failed"])
        XCTAssert(r.out.contains("#SBATCH --array=1\n") && r.out.contains("1 of 3 subjects to run: 102311"), r.out)
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--dry-run", "--resubmit", "done"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssert(r.err.contains("--resubmit") && r.err.contains("failed"), r.err)
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
            [slurm]
            max_running = 2
            requeue = true
            """.utf8))
        let spec = try FitJobSpec(path: path) { _ in ["101309"] }
        XCTAssert(spec.fitArguments.contains("--no-fic"), "\(spec.fitArguments)")
        let script = SlurmScripts.fitArray(job: spec, out: "/tmp/x", binary: "/opt/wholebrain", indices: [0])
        XCTAssert(script.contains("#SBATCH --array=0%2\n") && script.contains("#SBATCH --requeue\n"), script)
        XCTAssertEqual(spec.fitArguments.suffix(from: spec.fitArguments.firstIndex(of: "--critical-fraction")!).dropFirst().first, "0.8")
        // Another model's fit (`fit --model`), as the command line takes it.
        FileManager.default.createFile(atPath: path, contents: Data("""
            subjects = ["101309"]
            [fit]
            model = "hopf"
            parameter_set = "deco2017"
            sigma = 0.0006
            dt = 10
            integrator = "heun"
            """.utf8))
        let hopf = try FitJobSpec(path: path) { _ in ["101309"] }
        for (flag, value) in [("--model", "hopf"), ("--parameter-set", "deco2017"), ("--dt", "10"), ("--integrator", "heun")] {
            XCTAssertEqual(hopf.fitArguments.suffix(from: hopf.fitArguments.firstIndex(of: flag)!).dropFirst().first, value, "\(hopf.fitArguments)")
        }
    }

    /// The scripts name the binary by its absolute path even when it was found on $PATH (they
    /// named <cwd>/wholebrain); status and collect of a folder a --dry-run never wrote say how
    /// to go on instead of "job.toml: file not found".
    func testScriptsNameTheBinaryFoundOnPathAndDryRunFoldersExplainThemselves() throws {
        let scratch = NSTemporaryDirectory() + "wholebrain-path-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let job = scratch + "/fit.toml"
        FileManager.default.createFile(atPath: job, contents: Data("data = \"\(Fixtures.hcp)\"\nsubjects = [\"101309\"]\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["wholebrain", "slurm", "submit", job, "--out", scratch + "/out", "--dry-run"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (CommandLineTests.binary as NSString).deletingLastPathComponent + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: scratch)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let resolved = URL(fileURLWithPath: CommandLineTests.binary).resolvingSymlinksInPath().path
        XCTAssert(text.contains("\n\(resolved) fit ") && !text.contains(scratch + "/wholebrain"), text)
        for command in [["slurm", "status", scratch + "/out"], ["collect", scratch + "/out"]] {
            let r = try CommandLineTests.launch(command)
            XCTAssertNotEqual(r.status, 0)
            XCTAssert(r.err.contains("--dry-run writes nothing") && r.err.contains("--job"), r.err)
        }
        let withJob = try CommandLineTests.launch(["slurm", "status", scratch + "/out", "--job", job])
        XCTAssertEqual(withJob.status, 0, withJob.err)
        XCTAssert(withJob.out.contains("101309  missing"), withJob.out)
    }

    /// `slurm status` tells a task that hit its time limit or ran out of memory from one that
    /// failed or never ran, from sacct over the array jobs submit recorded (a stand-in sacct on
    /// the PATH prints what a cluster's would).
    func testStatusReadsHowTasksEndedFromSacct() throws {
        let scratch = NSTemporaryDirectory() + "wholebrain-sacct-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch + "/out/slurm", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch + "/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        FileManager.default.createFile(atPath: scratch + "/out/job.toml",
                                       contents: Data("data = \"\(Fixtures.hcp)\"\nsubjects = [\"101309\", \"102311\", \"102816\"]\n".utf8))
        FileManager.default.createFile(atPath: scratch + "/out/slurm/array-jobs.txt", contents: Data("41\n57\n".utf8))
        // Job 41: task 0 timed out, task 1 ran out of memory; job 57 (later) ran task 0 again, cancelled.
        FileManager.default.createFile(atPath: scratch + "/bin/sacct", contents: Data("""
            #!/bin/sh
            echo "$*" > \(scratch)/sacct-args
            printf '41_0|TIMEOUT|0:15\\n41_1|OUT_OF_MEMORY|0:125\\n41_2|FAILED|143:0\\n57_0|CANCELLED by 0|0:15\\n'
            """.utf8), attributes: [.posixPermissions: 0o755])
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = scratch + "/bin:" + (environment["PATH"] ?? "")
        let r = try CommandLineTests.launch(["slurm", "status", scratch + "/out"], environment: environment)
        XCTAssertEqual(r.status, 0, r.err)
        // Task 2 failed with 143: the fit stopped on the time-limit warning (its checkpoint kept).
        XCTAssert(r.out.contains("101309  cancelled") && r.out.contains("102311  out of memory") && r.out.contains("102816  stopped"), r.out)
        XCTAssert(r.out.contains("timeout 0, out of memory 1, cancelled 1, stopped 1"), r.out)
        let args = try String(contentsOfFile: scratch + "/sacct-args", encoding: .utf8)
        XCTAssert(args.contains("-j 41,57"), args)
    }

    /// A task warned before its time limit (USR1 to the batch shell, as `--signal=B:USR1@N`
    /// sends) stops its fit with the last epoch's checkpoint, leaves no failure record and exits
    /// 143; run again, the task resumes and ends with the parameters of an uninterrupted fit.
    func testArrayTaskStopsOnTheTimeLimitWarningAndResumesExactly() throws {
        let scratch = NSTemporaryDirectory() + "wholebrain-warn-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func spec(epochs: Int) -> String {
            "data = \"\(Fixtures.hcp)\"\nsubjects = [\"101309\"]\n[fit]\nfit = \"G\"\nduration = 7.2\ntransient = 1\nepochs = \(epochs)\ntest_duration = 7.2\n[slurm]\ntime = \"00:30:00\"\n"
        }
        let job = scratch + "/fit.toml", out = scratch + "/out"
        FileManager.default.createFile(atPath: job, contents: Data(spec(epochs: 500).utf8))
        var r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--write-only"])
        XCTAssertEqual(r.status, 0, r.err)
        let script = try String(contentsOfFile: out + "/slurm/fit-array.sbatch", encoding: .utf8)
        XCTAssert(script.contains("#SBATCH --signal=B:USR1@120\n") && !script.contains("scontrol requeue"), script)
        func task() throws -> (Process, Pipe) {
            let process = Process(), pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [out + "/slurm/fit-array.sbatch"]
            process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "0"]) { $1 }
            process.standardOutput = pipe
            try process.run()
            return (process, pipe)
        }
        let (first, pipe) = try task()
        let state = out + "/.101309.fit-state.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: state) && Date() < deadline { usleep(50_000) }
        usleep(1_500_000)
        kill(first.processIdentifier, SIGUSR1)
        first.waitUntilExit()
        let said = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(first.terminationStatus, 143, said)
        XCTAssert(said.contains("stopped by SIGUSR1"), said)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/101309.failed"), "a stop is not a failure")
        let state0 = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: state)!) as! [String: Any]
        let done = (state0["scores"] as! [Any]).count
        XCTAssertGreaterThanOrEqual(done, 1)
        r = try CommandLineTests.launch(["slurm", "status", out])
        XCTAssert(r.out.contains("101309  started"), r.out)
        // The same job asking for two epochs more: the task resumes and finishes.
        FileManager.default.createFile(atPath: job, contents: Data(spec(epochs: done + 2).utf8))
        r = try CommandLineTests.launch(["slurm", "submit", job, "--out", out, "--write-only"])
        XCTAssert(r.out.contains("(1 subjects)"), r.out)
        let (second, _) = try task()
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)
        // An uninterrupted fit of as many epochs gives the same parameters, bit for bit.
        let whole = try CommandLineTests.launch(["fit", "--data", Fixtures.hcp, "--subject", "101309", "--fit", "G", "--duration", "7.2",
                                                 "--transient", "1", "--epochs", "\(done + 2)", "--test-duration", "7.2", "--quiet",
                                                 "--out", scratch + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.err)
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/101309/params.json"),
                       FileManager.default.contents(atPath: scratch + "/whole/params.json"))
    }

    /// The readable templates in slurm/ are what `slurm submit` renders for jobs/hcp-fit.toml
    /// (the output folder and data as the repository's relative paths, the binary where `make
    /// install` puts it), so they cannot drift from the real scripts. WB_UPDATE_TEMPLATES=1
    /// rewrites them.
    func testSlurmTemplatesAreWhatSubmitRenders() throws {
        let repository = Fixtures.repository
        let spec = try FitJobSpec(path: repository + "/jobs/hcp-fit.toml") { data in
            try HCPDataset(root: repository + "/" + data).subjects
        }
        let binary = "WHOLEBRAIN_BINARY", installed = "\"$HOME/.local/lib/wholebrain/wholebrain\""
        let note = "# A template: `wholebrain slurm submit jobs/hcp-fit.toml --out runs/hcp-fit` renders this script with\n"
            + "# absolute paths into runs/hcp-fit/slurm/ and submits it (edit jobs/hcp-fit.toml, not this file).\n"
        func template(_ text: String) -> String {
            var lines = text.components(separatedBy: "\n")
            lines.insert(note.dropLast().description, at: 2)
            return lines.joined(separator: "\n").replacingOccurrences(of: binary, with: installed)
        }
        let rendered = [
            "fit-array.sbatch": template(SlurmScripts.fitArray(job: spec, out: "runs/hcp-fit", binary: binary, indices: Array(spec.subjects.indices))),
            "collect.sbatch": template(SlurmScripts.collect(out: "runs/hcp-fit", binary: binary, job: spec)),
        ]
        for (name, text) in rendered.sorted(by: { $0.key < $1.key }) {
            let path = repository + "/slurm/" + name
            if ProcessInfo.processInfo.environment["WB_UPDATE_TEMPLATES"] == "1" {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text,
                           "slurm/\(name) differs from what submit renders; WB_UPDATE_TEMPLATES=1 swift test --filter testSlurmTemplates rewrites it")
        }
    }

    /// Runs the `wholebrain slurm SUBCOMMAND ... --dry-run` examples of the subcommand's --help
    /// and of the README's Slurm block exactly as written, from a folder laid out like the
    /// repository (jobs/, data/); hands each command's output to `check` and asserts that
    /// there were two (the help's and the README's) and that a dry run wrote nothing.
    func runDryRunExamples(of subcommand: String, check: (String, String) -> Void) throws -> String {
        let scratch = NSTemporaryDirectory() + "wholebrain-\(subcommand)-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for name in ["jobs", "data"] {
            try FileManager.default.createSymbolicLink(atPath: scratch + "/" + name, withDestinationPath: Fixtures.repository + "/" + name)
        }
        let help = try CommandLineTests.launch(["slurm", subcommand, "--help"]).out
        let readme = try String(contentsOfFile: Fixtures.repository + "/README.md", encoding: .utf8)
        let slurmBlock = readme.components(separatedBy: "## Slurm")[1].components(separatedBy: "```")[1]
        let commands = (help + "\n" + slurmBlock).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("wholebrain slurm \(subcommand)") && $0.hasSuffix("--dry-run") }
        XCTAssertEqual(commands.count, 2, "the help's example and the README's: \(commands)")
        for command in Set(commands) {
            let (status, text, _) = try CommandLineTests.shell(command, in: scratch)
            XCTAssertEqual(status, 0, command)
            check(command, text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/runs"), "a dry run writes nothing")
        return scratch
    }

    /// The `slurm submit` examples of its --help and the README's Slurm block that submit
    /// nothing (--dry-run) run exactly as written, from a folder laid out like the repository.
    func testSubmitExamplesRunAsWritten() throws {
        let scratch = try runDryRunExamples(of: "submit") { command, text in
            XCTAssert(text.contains("7 of 7 subjects to run") && text.contains("#SBATCH --requeue") && text.contains("sbatch --parsable"), command + "\n" + text)
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// The `slurm protocol` dry runs of its --help and the README's Slurm block, as written:
    /// an array over the job's candidates and a test stage after it (afterok).
    func testProtocolExamplesRunAsWritten() throws {
        let scratch = try runDryRunExamples(of: "protocol") { command, text in
            XCTAssert(text.contains("3 candidates x 4 folds: G; G,sc-gains; G,w_plus-map,I_0-map") && text.contains("#SBATCH --array=0-11") && text.contains("--fit-only \"$C\" --fold \"$FOLD\"")
                      && text.contains("--from ") && text.contains("--dependency=afterok:"), command + "\n" + text)
        }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // A bad key names the known ones.
        let bad = scratch + "/bad.toml"
        try "[protocol]\nepoch = 3\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try CommandLineTests.launch(["slurm", "protocol", bad, "--out", scratch + "/o", "--dry-run"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssert(r.err.contains("protocol.epoch") && r.err.contains("epochs"), r.err)
    }
}
