import Foundation
import XCTest
import WholeBrain

/// Every command the README's shell blocks and every `--help` example show, run exactly as
/// written (bash, from a folder laid out like the repository: data/, jobs/, .build/release),
/// in the order a reader meets them: each must exit 0. Commands that cannot run here say why,
/// and which test runs them instead; that list may only name commands the documents show.
final class DocumentedCommandsTests: XCTestCase {
    /// Shown but run elsewhere (or not at all), by prefix, with the reason.
    static let runElsewhere: [(prefix: String, reason: String)] = [
        ("make test", "CI itself runs it (.ci/run)"),
        ("make demo", "scripts/demo.sh, which testDemoScriptRunsOnTheBundledData runs"),
        ("make build", "the test build is this build"),
        ("make install", "writes into the user's ~/.local"),
        ("pip install ./python", "python/tests/test_wholebrain.py runs it as written"),
        ("python3 examples/", "python/tests/test_wholebrain.py runs every example line as written"),
        ("wholebrain protocol --quick", "ProtocolTests.testHelpExampleRunsAsWritten runs both --quick examples as written"),
        (".build/release/wholebrain protocol --quick", "ProtocolTests.testHelpExampleRunsAsWritten runs the same command"),
        (".build/release/wholebrain protocol --folds 4", "the measured 4-fold run takes about an hour on 2 cores; its --quick form runs in ProtocolTests"),
        ("wholebrain slurm ", "SlurmScriptTests run the --dry-run forms as written; scripts/test-slurm.sh submits, watches and collects through a local Slurm"),
        ("wholebrain collect runs/hcp-fit", "needs the submitted array job's folder; scripts/test-slurm.sh collects a real one"),
        ("srun ", "needs a Slurm allocation; scripts/test-slurm.sh runs the MPI sweep through sbatch"),
    ]

    /// A document's commands: continuation lines joined, comments and blank lines dropped.
    static func commands(in text: String) -> [String] {
        var out: [String] = [], pending = ""
        for raw in text.components(separatedBy: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let hash = line.range(of: " #") { line = String(line[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
            if line.hasSuffix("\\") { pending += line.dropLast().trimmingCharacters(in: .whitespaces) + " "; continue }
            out.append(pending + line); pending = ""
        }
        return out
    }

    static func readmeCommands() throws -> [String] {
        let readme = try String(contentsOfFile: Fixtures.repository + "/README.md", encoding: .utf8)
        var blocks: [String] = []
        var rest = readme[...]
        while let start = rest.range(of: "```sh\n") ?? rest.range(of: "```bash\n") {
            guard let end = rest.range(of: "```", range: start.upperBound..<rest.endIndex) else { break }
            blocks.append(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return blocks.flatMap { commands(in: $0) }
    }

    static func helpExamples() throws -> [String] {
        var examples: [String] = []
        for command in HelpTextTests.commands {
            let lines = try CommandLineTests.launch(command + ["--help"]).out.components(separatedBy: "\n")
            var k = 0
            while k < lines.count {
                if lines[k].hasPrefix("  wholebrain ") {
                    var text = lines[k]
                    while text.hasSuffix("\\"), k + 1 < lines.count { k += 1; text += "\n" + lines[k] }
                    examples += commands(in: text)
                }
                k += 1
            }
        }
        return examples
    }

    /// A scratch folder laid out like the repository, with the user's own files the fit
    /// example names (w.npy, l.npy: subject 101309's connectome saved as NumPy arrays).
    func workspace() throws -> String {
        let scratch = NSTemporaryDirectory() + "wholebrain-documented-\(getpid())-\(UUID().uuidString.prefix(6))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch + "/.build", withIntermediateDirectories: true)
        for name in ["data", "jobs"] { try fm.createSymbolicLink(atPath: scratch + "/" + name, withDestinationPath: Fixtures.repository + "/" + name) }
        try fm.createSymbolicLink(atPath: scratch + "/.build/release", withDestinationPath: (CommandLineTests.binary as NSString).deletingLastPathComponent)
        let connectome = try HCPDataset(root: Fixtures.repository + "/data/hcp").connectome(subject: "101309")
        fm.createFile(atPath: scratch + "/w.npy", contents: Data(NumpyFile.encode(connectome.weights)))
        fm.createFile(atPath: scratch + "/l.npy", contents: Data(NumpyFile.encode(connectome.lengths)))
        return scratch
    }

    func testEveryDocumentedCommandRunsAsWritten() throws {
        let readme = try Self.readmeCommands(), help = try Self.helpExamples()
        XCTAssertGreaterThanOrEqual(readme.count, 20, "the README's commands were found: \(readme)")
        XCTAssertGreaterThanOrEqual(help.count, 12, "the help examples were found: \(help)")
        // Every exception names a command the documents show.
        for (prefix, _) in Self.runElsewhere {
            XCTAssert((readme + help).contains { $0.hasPrefix(prefix) }, "the exception '\(prefix)' matches no documented command")
        }
        let scratch = try workspace()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (CommandLineTests.binary as NSString).deletingLastPathComponent + ":" + (environment["PATH"] ?? "")
        // mpirun as root, and more ranks than this machine's cores, as a laptop user would allow.
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        environment["OMPI_MCA_mpi_yield_when_idle"] = "1"
        // Each command once (the README's .build/release/wholebrain and --help's wholebrain are
        // the same command), in document order, in two lanes run side by side (the machine has
        // two cores): a command that reads a runs/ folder another wrote goes to that one's lane.
        var seen = Set<String>(), lanes: [[String]] = [[], []], writer: [String: Int] = [:]
        for command in readme + help {
            let key = command.replacingOccurrences(of: ".build/release/wholebrain", with: "wholebrain")
            guard !seen.contains(key), !Self.runElsewhere.contains(where: { command.hasPrefix($0.prefix) }) else { continue }
            seen.insert(key)
            let folders = command.split(separator: " ").compactMap { word -> String? in
                guard word.hasPrefix("runs/") else { return nil }
                return word.split(separator: "/").prefix(2).joined(separator: "/")
            }
            let lane = folders.compactMap { writer[$0] }.first ?? (lanes[0].count <= lanes[1].count ? 0 : 1)
            lanes[lane].append(command)
            for f in folders where writer[f] == nil { writer[f] = lane }
        }
        let ran = seen
        var results = [[(command: String, status: Int32, err: String, seconds: Double)]](repeating: [], count: 2)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            var mine: [(command: String, status: Int32, err: String, seconds: Double)] = []
            for command in lanes[lane] {
                let started = Date()
                let r = (try? CommandLineTests.launch(["-c", command], executable: "/bin/bash", environment: environment, folder: scratch))
                    ?? (status: -1, out: "", err: "could not start bash")
                mine.append((command, r.status, String(r.err.suffix(2000)), Date().timeIntervalSince(started)))
            }
            lock.lock(); results[lane] = mine; lock.unlock()
        }
        for (lane, list) in results.enumerated() {
            for r in list {
                XCTAssertEqual(r.status, 0, "\(r.command)\n\(r.err)")
                print(String(format: "documented command (lane %d, %.0f s): %@", lane + 1, r.seconds, r.command))
            }
        }
        XCTAssertGreaterThanOrEqual(ran.count, 15, "commands run: \(ran.sorted())")
    }

    /// `make demo`'s script on the bundled data: the simulation, the fit and the sweep, each
    /// with its outputs and report.
    func testDemoScriptRunsOnTheBundledData() throws {
        let scratch = try workspace()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createSymbolicLink(atPath: scratch + "/scripts", withDestinationPath: Fixtures.repository + "/scripts")
        let r = try CommandLineTests.launch(["scripts/demo.sh", CommandLineTests.binary], executable: "/bin/bash", folder: scratch)
        XCTAssertEqual(r.status, 0, r.err.suffix(3000).description)
        XCTAssert(r.out.contains("regime bistable; run in the low state") && r.out.contains("fit: G") && r.out.contains("sweep report"), r.out)
        for folder in ["demo-simulate", "demo-fit", "demo-sweep"] {
            XCTAssert(FileManager.default.fileExists(atPath: "\(scratch)/runs/\(folder)/report.html"), folder)
        }
    }
}
