import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain slurm submit|status`: fit jobs as Slurm arrays over subjects.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Fit every subject of a job as a Slurm array, then collect; see what is done.",
        subcommands: [Submit.self, ProtocolJob.self, Status.self])

    static func loadJob(_ path: String) throws -> FitJobSpec {
        try FitJobSpec(path: path) { data in try HCPDataset(root: data).subjects }
    }

    /// This binary's absolute path, for the batch scripts: /proc/self/exe where there is one,
    /// else argv[0] looked up on $PATH when it has no slash, else argv[0] made absolute.
    static func executablePath() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), resolved.hasPrefix("/") {
            return resolved
        }
        let name = CommandLine.arguments[0]
        if !name.contains("/") {
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
                let candidate = String(dir) + "/" + name
                if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate).standardizedFileURL.path }
            }
        }
        return URL(fileURLWithPath: name).standardizedFileURL.path
    }

    /// The job spec of an output folder (OUT/job.toml unless given), with an error that says
    /// what to do when the folder was never submitted.
    static func jobPath(out: String, given: String?) throws -> String {
        if let given { return given }
        let path = out + "/job.toml"
        guard FileManager.default.fileExists(atPath: path) else {
            throw WholeBrainError.missingFile(path: path, what: "the job spec that `wholebrain slurm submit` copies into OUT (a --dry-run writes nothing): submit the job, or give its spec with --job FILE")
        }
        return path
    }

    /// Runs a Slurm client command found on $PATH: its exit status, stdout and (when
    /// `keepErrors`, for a message that short) stderr; nil when it cannot be started.
    static func slurmClient(_ arguments: [String], keepErrors: Bool = false) -> (status: Int32, out: String, err: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = keepErrors ? err : FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = keepErrors ? String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, text, problem)
    }

    /// The standard output of a Slurm client command, nil when it cannot run or exits non-zero
    /// (no Slurm here, or no accounting).
    static func output(of arguments: [String]) -> String? {
        slurmClient(arguments).flatMap { $0.status == 0 ? $0.out : nil }
    }

    /// Subjects whose array task Slurm lists as pending or running, with that state (squeue,
    /// one line per array task; none without Slurm).
    static func queuedSubjects(_ spec: FitJobSpec, out: String) -> [String: String] {
        let outPath = URL(fileURLWithPath: out).standardizedFileURL.path
        guard let text = output(of: ["squeue", "-h", "-r", "-t", "PENDING,RUNNING", "-o", "%K|%T|%k"]) else { return [:] }
        var queued: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "|", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[2] == "wholebrain:\(outPath)", let task = Int(parts[0]), task < spec.subjects.count else { continue }
            queued[spec.subjects[task]] = parts[1] == "RUNNING" ? "running" : "pending"
        }
        return queued
    }

    /// How the last task of each subject ended, from sacct over the array jobs `submit`
    /// recorded in OUT/slurm/array-jobs.txt (later jobs win): "timeout", "out of memory",
    /// "cancelled", "stopped" (by the time-limit warning, exit 143) or "failed"; subjects whose task completed or that sacct does not know are
    /// left out (none without sacct or accounting).
    static func finishedStates(_ spec: FitJobSpec, out: String) -> [String: String] {
        guard let ids = try? String(contentsOfFile: out + "/slurm/array-jobs.txt", encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init), !ids.isEmpty,
              let text = output(of: ["sacct", "-n", "-P", "-X", "-j", ids.joined(separator: ","), "-o", "JobID,State,ExitCode"]) else { return [:] }
        var states: [String: (job: Int, state: String)] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "|").map(String.init)
            let id = parts.first?.split(separator: "_") ?? []
            guard parts.count >= 2, id.count == 2, let job = Int(id[0]), let task = Int(id[1]), task < spec.subjects.count else { continue }
            let state = parts[1].split(separator: " ").first.map(String.init) ?? ""
            let word: String
            switch state {
            case "TIMEOUT": word = "timeout"
            case "OUT_OF_MEMORY": word = "out of memory"
            case "CANCELLED", "PREEMPTED": word = "cancelled"
            case "FAILED" where parts.count > 2 && ["143:0", "130:0", "138:0"].contains(parts[2]):
                word = "stopped"   // the fit stopped by a signal (the time-limit warning) with its checkpoint
            case "FAILED", "NODE_FAIL", "BOOT_FAIL": word = "failed"
            default: word = ""
            }
            let subject = spec.subjects[task]
            if states[subject].map({ $0.job <= job }) ?? true { states[subject] = (job, word) }
        }
        return states.compactMapValues { $0.state.isEmpty ? nil : $0.state }
    }

    /// Writes a file through a temporary name.
    static func write(_ text: String, to path: String, executable: Bool = false) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: executable ? [.posixPermissions: 0o755] : nil),
              rename(temporary, path) == 0 else {
            throw WholeBrainError.writeFailed(path: path, problem: "could not write")
        }
    }

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit",
            abstract: "Render the batch scripts for a fit job and submit them (only subjects not done yet).",
            discussion: """
            Writes OUT/slurm/fit-array.sbatch (task i fits subject i; srun --mpi=pmix when a task \
            has several ranks; a failed task leaves OUT/SUBJECT.failed and exits non-zero, and a \
            task killed by the time limit resumes from its checkpoint) and OUT/slurm/collect.sbatch \
            (started with --dependency=afterany on the array, so it runs however the tasks end: the \
            group table, report and failures), then \
            submits both with sbatch and prints the job ids. Submitting again runs only subjects \
            that are missing or unfinished (resumed from their checkpoint) and not already pending \
            or running; failed ones only with --resubmit failed.

            Time limits and preemption: Slurm warns each task stop_before_limit seconds before \
            its time limit (--signal=B:USR1@N, default 120 s); the fit stops with its last \
            epoch's checkpoint, and with requeue = true in the job's [slurm] table the task \
            requeues itself and resumes.

            Example:
              wholebrain slurm submit jobs/hcp-fit.toml --out runs/hcp-fit --dry-run
            """)

        @Argument(help: "The TOML fit job spec.") var job: String
        @Option(help: "Output folder of the job (one folder per subject).") var out: String
        @Flag(help: "Print what would be submitted, submit nothing.") var dryRun = false
        @Flag(help: "Write the scripts into OUT/slurm and stop (submit them yourself).") var writeOnly = false
        @Option(help: "Also queue again subjects whose last task failed (they are left alone by default: fix the cause first). The one value: failed.")
        var resubmit: Resubmit?

        enum Resubmit: String, ExpressibleByArgument { case failed }

        func run() throws {
            try reportingErrors("slurm submit") {
                let spec = try SlurmCommand.loadJob(job).withAbsoluteData()
                let outURL = URL(fileURLWithPath: out).standardizedFileURL.path
                let binary = SlurmCommand.executablePath()
                let collection = FitCollection(out: outURL, subjects: spec.subjects)
                // Subjects already pending or running in Slurm are not queued twice.
                let queued = SlurmCommand.queuedSubjects(spec, out: outURL)
                if !queued.isEmpty {
                    print("already queued, not submitted again: " + queued.keys.sorted().map { "\($0) (\(queued[$0]!))" }.joined(separator: ", "))
                }
                let toRun = Set(collection.toRun(includingFailed: resubmit == .failed))
                let failed = collection.rows.filter { $0.status == .failed && queued[$0.subject] == nil }.map(\.subject)
                if resubmit == nil && !failed.isEmpty {
                    print("failed, not submitted again (see OUT/SUBJECT.failed, fix the cause, then --resubmit failed): " + failed.joined(separator: ", "))
                }
                let indices = spec.subjects.indices.filter { toRun.contains(spec.subjects[$0]) && queued[spec.subjects[$0]] == nil }
                guard !indices.isEmpty else {
                    print("no subject to submit: every one is done, queued" + (resubmit == nil ? " or failed" : "")
                          + " (wholebrain collect \(out) rebuilds the report)")
                    return
                }
                let array = SlurmScripts.fitArray(job: spec, out: outURL, binary: binary, indices: indices)
                let collect = SlurmScripts.collect(out: outURL, binary: binary, job: spec)
                if dryRun {
                    print("# \(indices.count) of \(spec.subjects.count) subjects to run: \(indices.map { spec.subjects[$0] }.joined(separator: ", "))")
                }
                guard let (arrayID, collectID) = try SlurmCommand.stage(array: ("fit-array.sbatch", array), then: ("collect.sbatch", collect),
                                                                        dependency: SlurmScripts.collectDependency, job: job, out: outURL,
                                                                        dryRun: dryRun, writeOnly: writeOnly, what: "\(indices.count) subjects")
                else { return }
                // Every array job of this folder, for `status` to ask sacct how its tasks ended.
                let jobsPath = outURL + "/slurm/array-jobs.txt"
                let earlier = (try? String(contentsOfFile: jobsPath, encoding: .utf8)) ?? ""
                try SlurmCommand.write(earlier + arrayID + "\n", to: jobsPath)
                print("submitted array job \(arrayID) (\(indices.count) subjects) and collect job \(collectID)")
            }
        }
    }

    /// An array script and a script that runs after it (`dependency` on the array): printed
    /// (`dryRun`), or written into OUT/slurm with a copy of the job spec as OUT/job.toml
    /// (`writeOnly`), or written and submitted; the two job ids when submitted.
    static func stage(array: (name: String, text: String), then next: (name: String, text: String), dependency: String, job: String,
                      out: String, dryRun: Bool, writeOnly: Bool, what: String) throws -> (array: String, then: String)? {
        let arrayPath = out + "/slurm/" + array.name, nextPath = out + "/slurm/" + next.name
        if dryRun {
            print("# \(arrayPath)\n\(array.text)\n# \(nextPath)\n\(next.text)")
            print("sbatch --parsable \(arrayPath)")
            print("sbatch --parsable --dependency=\(dependency):<array job id> \(nextPath)")
            return nil
        }
        try FileManager.default.createDirectory(atPath: out + "/slurm", withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: out + "/job.toml") { try FileManager.default.removeItem(atPath: out + "/job.toml") }
        try FileManager.default.copyItem(atPath: job, toPath: out + "/job.toml")
        try write(array.text, to: arrayPath, executable: true)
        try write(next.text, to: nextPath, executable: true)
        if writeOnly {
            print("wrote \(arrayPath) and \(next.name) (\(what))")
            return nil
        }
        let arrayID = try sbatch([arrayPath])
        return (arrayID, try sbatch(["--dependency=\(dependency):\(arrayID)", nextPath]))
    }

    /// Runs sbatch --parsable and returns the job id.
    static func sbatch(_ arguments: [String]) throws -> String {
            guard let r = SlurmCommand.slurmClient(["sbatch", "--parsable"] + arguments, keepErrors: true) else {
                throw WholeBrainError.badValue(source: "sbatch", value: "(not runnable)", expected: "Slurm's sbatch on the PATH (or use --dry-run)")
            }
            guard r.status == 0, let id = r.out.split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty else {
                throw WholeBrainError.badValue(source: "sbatch \(arguments.joined(separator: " "))", value: "exit \(r.status)",
                                               expected: "a submitted job (sbatch said: \(r.err.trimmingCharacters(in: .whitespacesAndNewlines)))")
            }
            return id
    }

    struct ProtocolJob: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "protocol",
            abstract: "Run the held-out-subject protocol as a Slurm array: one task per candidate (and fold), then the test stage.",
            discussion: """
            Writes OUT/slurm/protocol-array.sbatch (task i runs `wholebrain protocol --fit-only` \
            for candidate i: its fit to the training subjects and its validation scores, into \
            OUT/candidates/i; with `folds = K` in [protocol], one task per candidate and fold, \
            into OUT/candidates/fold-k/i) and OUT/slurm/protocol-test.sbatch (`wholebrain protocol --from \
            OUT/candidates`: the choice on validation, the test and baseline scores beside the \
            data's ceiling and the report, into OUT/result), submitted with \
            --dependency=afterok on the array, then prints the job ids. The result is the same \
            bits as `wholebrain protocol` run in one process (tested).

            Example:
              wholebrain slurm protocol jobs/hcp-protocol.toml --out runs/protocol --dry-run
            """)

        @Argument(help: "The TOML protocol job spec.") var job: String
        @Option(help: "Output folder of the job.") var out: String
        @Flag(help: "Print what would be submitted, submit nothing.") var dryRun = false
        @Flag(help: "Write the scripts into OUT/slurm and stop (submit them yourself).") var writeOnly = false

        func run() throws {
            try reportingErrors("slurm protocol") {
                let spec = try ProtocolJobSpec(path: job).withAbsoluteData()
                let outURL = URL(fileURLWithPath: out).standardizedFileURL.path
                let binary = SlurmCommand.executablePath()
                let array = SlurmScripts.protocolArray(job: spec, out: outURL, binary: binary)
                let test = SlurmScripts.protocolConclusion(job: spec, out: outURL, binary: binary)
                let tasks = "\(spec.candidates.count) candidates" + (spec.folds > 1 ? " x \(spec.folds) folds" : "")
                if dryRun { print("# \(tasks): \(spec.candidates.joined(separator: "; "))") }
                guard let (arrayID, testID) = try SlurmCommand.stage(array: ("protocol-array.sbatch", array), then: ("protocol-test.sbatch", test),
                                                                     dependency: SlurmScripts.protocolDependency, job: job, out: outURL,
                                                                     dryRun: dryRun, writeOnly: writeOnly, what: tasks)
                else { return }
                print("submitted array job \(arrayID) (\(tasks)) and test job \(testID); the result will be in \(outURL)/result")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Which subjects of a fit job (or runs of a sweep) are done, running, failed, started or missing.")
        @Argument(help: "The job's output folder (holding job.toml), or a sweep folder.") var out: String
        @Option(help: "The job spec (default: OUT/job.toml).") var job: String?

        func run() throws {
            try reportingErrors("slurm status") {
                let path = try SlurmCommand.jobPath(out: out, given: job)
                let toml = try JobFile.read(path: path)
                if toml["axes"] != nil { return try sweepStatus(path) }
                let spec = try SlurmCommand.loadJob(path)
                let collection = FitCollection(out: out, subjects: spec.subjects)
                let queued = SlurmCommand.queuedSubjects(spec, out: out)
                let ended = SlurmCommand.finishedStates(spec, out: out)
                var counts: [String: Int] = [:]
                for r in collection.rows {
                    // Not done: the queue's state, else how Slurm says the last task ended (timeout,
                    // out of memory, ...), else what the folder shows.
                    let state = r.status != .done ? (queued[r.subject] ?? ended[r.subject] ?? r.status.rawValue) : r.status.rawValue
                    counts[state, default: 0] += 1
                    print("\(r.subject)  \(state)" + (r.error.map { "  \($0.split(separator: "\n").first ?? "")" } ?? ""))
                }
                print(["done", "running", "pending", "failed", "timeout", "out of memory", "cancelled", "stopped", "started", "missing"]
                    .map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", "))
            }
        }

        /// A sweep folder: runs done of the grid.
        func sweepStatus(_ path: String) throws {
            let spec = try SweepCommand.load(job: path)
            let done = Set(SweepRunner.lines(of: out + "/results.jsonl").keys)
                .union(((try? FileManager.default.contentsOfDirectory(atPath: out + "/parts")) ?? []).flatMap { SweepRunner.lines(of: out + "/parts/" + $0).keys })
            let total = spec.points.count
            print("sweep: \(done.count) of \(total) runs done, \(total - done.count) missing")
        }
    }
}

/// `wholebrain collect OUT`: the group table and report of a fit job.
struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Gather a fit job's subjects into fits.csv, fits.json and report.html, listing failures.",
        discussion: "Exits 1 (after writing the tables) when any subject failed or has not finished (timed out, still running or never run).")
    @Argument(help: "The job's output folder.") var out: String
    @Option(help: "The job spec (default: OUT/job.toml).") var job: String?
    @Flag(help: "Print nothing (the exit status still says whether every subject is done).") var quiet = false

    func run() throws {
        try reportingErrors("collect") {
            let spec = try SlurmCommand.loadJob(try SlurmCommand.jobPath(out: out, given: job))
            let collection = FitCollection(out: out, subjects: spec.subjects)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try SlurmCommand.write(collection.csv, to: out + "/fits.csv")
            try SlurmCommand.write(String(decoding: try SimulationOutputs.json(collection.json), as: UTF8.self), to: out + "/fits.json")
            try SlurmCommand.write(collection.html, to: out + "/report.html")
            var manifest = RunManifest(command: "collect")
            let parameters = Array(Set(collection.rows.flatMap { $0.fitted.keys })).sorted()
            var columns = ["subject": "subject id (its fit folder is SUBJECT/)", "status": "done, failed, started or missing",
                           "train_fc_r": "last epoch's FC r against the fitted part (Pearson r)", "test_fc_r": "FC r of the test run against the whole scan (Pearson r)",
                           "best_held_out_fc_r": "best epoch's FC r against the held-out part (Pearson r)",
                           "test_held_out_fc_r": "test run's FC r against the held-out part (Pearson r)", "epochs_run": "epochs run",
                           "wall_time_s": "wall time of the fit (s)", "error": "the failure's message"]
            for p in parameters { columns[p] = "fitted \(p)" }
            manifest.files["fits.csv"] = .init(kind: .table, description: "one row per subject of the job", columns: columns)
            manifest.files["fits.json"] = .init(kind: .json, description: "the same per subject, and means over the fitted subjects")
            manifest.files["report.html"] = .init(kind: .report, description: "the job's subjects: status, fitted values and FC r")
            manifest.files["SUBJECT/"] = .init(kind: .text, description: "each subject's fit folder, with its own manifest.json")
            try SlurmCommand.write(String(decoding: try manifest.encoded(), as: UTF8.self), to: out + "/manifest.json")
            let failed = collection.rows.filter { $0.status == .failed }.map(\.subject)
            let done = collection.rows.filter { $0.status == .done }.count
            let unfinished = collection.rows.filter { $0.status != .done && $0.status != .failed }.map { "\($0.subject) (\($0.status.rawValue))" }
            if !quiet {
                print("\(done) of \(collection.rows.count) subjects fitted" + (failed.isEmpty ? "" : "; failed: \(failed.joined(separator: ", "))")
                      + (unfinished.isEmpty ? "" : "; not finished: \(unfinished.joined(separator: ", "))")
                      + "; fits.csv, fits.json and report.html in \(out)")
            }
            // Slurm and scripts see an incomplete job: the tables are written, the status is not 0.
            if !failed.isEmpty || !unfinished.isEmpty { throw ExitCode(1) }
        }
    }
}
