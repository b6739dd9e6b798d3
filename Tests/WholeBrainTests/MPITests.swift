import XCTest
import WholeBrain

/// `wholebrain` under `mpirun`: results bit-identical to the serial run for 2 and 4 ranks,
/// errors on any rank end every rank with one message and no outputs.
final class MPITests: XCTestCase {
    var scratch: String!

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "wholebrain-mpi-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary), "build the wholebrain product first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun"), "mpirun (openmpi-bin) is not installed")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func path(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

    /// Runs the binary serially (ranks 0) or under `mpirun -np ranks`. The child gets this
    /// process's environment without MPI's own variables (a parent that ever called MPI_Init
    /// would make the child mpirun exit silently), with root allowed and polling that yields
    /// (4 ranks share 2 cores).
    func run(ranks: Int, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try Self.launch(ranks: ranks, arguments)
    }

    static func launch(ranks: Int, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("OMPI_") || key.hasPrefix("PMIX_") || key.hasPrefix("OPAL_"))
        }
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OMPI_MCA_mpi_yield_when_idle"] = "1"
        if ranks == 0 { return try CommandLineTests.launch(arguments, environment: environment) }
        return try CommandLineTests.launch(["-np", "\(ranks)"] + (ranks > 2 ? ["--oversubscribe"] : []) + [CommandLineTests.binary] + arguments,
                                           executable: "/usr/bin/mpirun", environment: environment)
    }

    func testSimulateIsBitIdenticalOnOneTwoAndFourRanks() throws {
        // 20 m/s: some edges between blocks are short (exchange every few steps); 3 m/s: the
        // exchange carries whole blocks of 16 steps; ALN exchanges a rate computed in the step.
        for extra in [["--speed", "20"], ["--speed", "3", "--save-states", "50"], ["--model", "aln", "--speed", "10"]] {
            let common = ["simulate", "--data", Fixtures.hcp, "--subject", "102311", "--duration", "3.6", "--transient", "0.5",
                          "--seed", "7", "--quiet"] + extra
            let serial = try run(ranks: 0, common + ["--out", path("serial")])
            XCTAssertEqual(serial.status, 0, serial.err)
            for ranks in [2, 4] {
                let out = path("np\(ranks)")
                let r = try run(ranks: ranks, common + ["--out", out])
                XCTAssertEqual(r.status, 0, r.err)
                for file in ["bold.npy", "fc.npy"] + (extra.contains("--save-states") ? ["states.npy"] : []) {
                    XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + file), FileManager.default.contents(atPath: path("serial") + "/" + file),
                                   "\(file) with \(ranks) ranks, \(extra)")
                }
                try FileManager.default.removeItem(atPath: out)
            }
            try FileManager.default.removeItem(atPath: path("serial"))
        }
    }

    /// A group-level fit over three subjects: subjects spread over the ranks, gradients added
    /// in subject order, the same ADAM steps everywhere: the same numbers as the serial fit.
    func testGroupFitIsIdenticalOnOneTwoAndFourRanks() throws {
        let common = ["fit", "--data", Fixtures.hcp, "--subject", "101309,102311,102816", "--fit", "G,sigma,sc-gains", "--epochs", "2",
                      "--window", "5", "--duration", "7.2", "--transient", "0.5", "--test-duration", "7.2", "--checkpoint", "3000", "--quiet",
                      "--identifiability-seeds", "2"]
        let serial = try run(ranks: 0, common + ["--out", path("serial")])
        XCTAssertEqual(serial.status, 0, serial.err)
        XCTAssert(serial.out.contains("mean over subjects"), serial.out)
        for ranks in [2, 4] {
            let out = path("np\(ranks)")
            let r = try run(ranks: ranks, common + ["--check-sync", "--out", out])
            XCTAssertEqual(r.status, 0, r.err)
            for file in ["params.json", "history.csv", "scores.csv", "sc_gains.npy", "fc_sim.npy"] {
                XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + file), FileManager.default.contents(atPath: path("serial") + "/" + file),
                               "\(file) with \(ranks) ranks")
            }
        }
    }

    /// `fit --model wc` over three subjects (`ModelFit`): subjects spread over the ranks, their
    /// losses and gradients added in subject order: the same files as the serial fit.
    func testModelFitIsIdenticalOnOneTwoAndThreeRanks() throws {
        let common = ["fit", "--model", "wc", "--data", Fixtures.hcp, "--subject", "101309,102311,102816", "--fit", "G,sigma", "--sigma", "0.05",
                      "--G", "5", "--dt", "1", "--integrator", "heun", "--epochs", "2", "--duration", "3.6", "--transient", "0.5",
                      "--test-duration", "3.6", "--quiet", "--identifiability-seeds", "2"]
        let serial = try run(ranks: 0, common + ["--out", path("wc-serial")])
        XCTAssertEqual(serial.status, 0, serial.err)
        XCTAssert(serial.out.contains("mean over subjects"), serial.out)
        for ranks in [2, 3] {
            let out = path("wc-np\(ranks)")
            let r = try run(ranks: ranks, common + ["--out", out])
            XCTAssertEqual(r.status, 0, r.err)
            for file in ["params.json", "history.csv", "fc_sim.npy", "bold_test.npy"] {
                XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + file), FileManager.default.contents(atPath: path("wc-serial") + "/" + file),
                               "\(file) with \(ranks) ranks")
            }
        }
    }

    /// One subject's gradient split into node blocks (2 ranks, one group of two blocks; 4 ranks
    /// as two groups of two for two subjects): forward S_E and backward coupling cotangents
    /// exchanged between blocks, the same numbers as the serial fit.
    func testFitSplitIntoNodeBlocksIsIdentical() throws {
        let common = ["fit", "--data", Fixtures.hcp, "--fit", "G,J_i,sigma,sc-gains", "--no-fic", "--loss", "surprise,entropy",
                      "--epochs", "2", "--window", "5", "--duration", "7.2", "--transient", "0.5", "--test-duration", "7.2",
                      "--checkpoint", "3000", "--quiet", "--identifiability-seeds", "0"]
        // Uneven blocks too: 80 nodes in three blocks of 26, 27 and 27.
        for (subjects, ranks, blocks) in [("101309", 2, 2), ("101309,102311", 4, 2), ("101309", 3, 3)] {
            let serial = path("blocks-serial-\(ranks)")
            let s = try run(ranks: 0, common + ["--subject", subjects, "--out", serial])
            XCTAssertEqual(s.status, 0, s.err)
            let out = path("blocks-np\(ranks)")
            let r = try run(ranks: ranks, common + ["--subject", subjects, "--node-blocks", "\(blocks)", "--check-sync", "--out", out])
            XCTAssertEqual(r.status, 0, r.err)
            for file in ["params.json", "history.csv", "scores.csv", "sc_gains.npy"] {
                XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + file), FileManager.default.contents(atPath: serial + "/" + file),
                               "\(file): \(subjects) on \(ranks) ranks in groups of \(blocks)")
            }
        }
        // The default: feedback inhibition retuned as G and the gains move, its chain rule split too.
        let fic = ["fit", "--data", Fixtures.hcp, "--subject", "101309", "--fit", "G,sc-gains", "--epochs", "2", "--window", "5",
                   "--duration", "7.2", "--transient", "0.5", "--test-duration", "7.2", "--checkpoint", "3000", "--quiet",
                   "--identifiability-seeds", "0"]
        XCTAssertEqual(try run(ranks: 0, fic + ["--out", path("fic-serial")]).status, 0)
        let ficSplit = try run(ranks: 2, fic + ["--node-blocks", "2", "--out", path("fic-np2")])
        XCTAssertEqual(ficSplit.status, 0, ficSplit.err)
        for file in ["params.json", "history.csv", "sc_gains.npy", "fic_J_i.npy"] {
            XCTAssertEqual(FileManager.default.contents(atPath: path("fic-np2") + "/" + file), FileManager.default.contents(atPath: path("fic-serial") + "/" + file),
                           "\(file): FIC fit on 2 ranks in node blocks")
        }
        let bad = try run(ranks: 2, common + ["--subject", "101309", "--node-blocks", "3", "--out", path("badblocks")])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.err.contains("--node-blocks") && bad.err.contains("divisor"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("badblocks")))
    }

    func testAnErrorOnAnyRankEndsAllWithOneMessage() throws {
        // Bad input seen by every rank: reported once.
        let bad = try run(ranks: 2, ["simulate", "--data", Fixtures.hcp, "--subject", "999", "--out", path("bad")])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.err.components(separatedBy: "error:").count - 1, 1, bad.err)
        XCTAssert(bad.err.contains("999") && bad.err.contains("101309"), bad.err)
        // A run that diverges in one block: every rank stops with that rank's message, no output.
        let started = Date()
        let diverged = try run(ranks: 2, ["simulate", "--data", Fixtures.hcp, "--subject", "101309", "--model", "hopf", "--G", "1000",
                                          "--dt", "0.5", "--duration", "30", "--out", path("diverged")])
        XCTAssertNotEqual(diverged.status, 0)
        XCTAssert(diverged.err.contains("diverged") && diverged.err.contains("rank"), diverged.err)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [], "no outputs or staging folders remain")
        let blocks = try run(ranks: 2, ["simulate", "--data", Fixtures.hcp, "--node-blocks", "3", "--out", path("blocks")])
        XCTAssert(blocks.err.contains("--node-blocks") && blocks.err.contains("one block per rank"), blocks.err)
        // Set-up errors inside the library (a zero-step delay between blocks at dt = 1 ms) too.
        let instant = try run(ranks: 2, ["simulate", "--data", Fixtures.hcp, "--dt", "1", "--duration", "2", "--out", path("instant")])
        XCTAssertNotEqual(instant.status, 0)
        XCTAssertEqual(instant.err.components(separatedBy: "error:").count - 1, 1, instant.err)
    }
}
