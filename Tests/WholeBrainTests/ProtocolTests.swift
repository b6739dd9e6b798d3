import XCTest
import WholeBrain

/// The held-out-subject protocol: a seeded split into disjoint parts, scores that say when a
/// model leaves the low-activity state, and the command's help example run as written.
final class ProtocolTests: XCTestCase {
    func testSplitIsSeededDisjointAndComplete() throws {
        let subjects = ["101309", "102311", "102816", "131217", "211619", "213522", "377451"]
        let a = try HeldOutProtocol.Split(subjects: subjects, train: 4, validation: 1, test: 2, seed: 1)
        XCTAssertEqual(a, try HeldOutProtocol.Split(subjects: subjects.reversed(), train: 4, validation: 1, test: 2, seed: 1), "the order given does not matter")
        XCTAssertEqual(Set(a.train + a.validation + a.test), Set(subjects))
        XCTAssertEqual([a.train.count, a.validation.count, a.test.count], [4, 1, 2])
        let others = try (2...6).map { try HeldOutProtocol.Split(subjects: subjects, train: 4, validation: 1, test: 2, seed: UInt64($0)) }
        XCTAssert(others.contains { $0.test != a.test }, "another seed gives another split")
        XCTAssertThrowsError(try HeldOutProtocol.Split(subjects: subjects, train: 5, validation: 1, test: 2, seed: 1))
        XCTAssertThrowsError(try HeldOutProtocol.Split(subjects: subjects, train: 4, validation: 0, test: 2, seed: 1))
    }

    func testScoresSummariseAndFlagTheHighState() {
        let s = HeldOutProtocol.Scores(bySubject: ["a": [DataCeiling.Score(fcR: 0.5, fcdKS: 0.2), DataCeiling.Score(fcR: 0.7, fcdKS: 0.4)]],
                                       meanRateE: [3.1, 2.9])
        XCTAssertEqual(s.fcR.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.fcR.sd, (0.02).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.cost, 1 - 0.6 + 0.3, accuracy: 1e-12)
        XCTAssertTrue(s.lowActivity)
        XCTAssertFalse(HeldOutProtocol.Scores(bySubject: [:], meanRateE: [3, 12.5]).lowActivity)
    }

    /// `wholebrain protocol --help`'s example, exactly as written: every output, the test
    /// scores beside the baseline and the ceiling, and the ceiling equal to the library's.
    func testHelpExampleRunsAsWritten() throws {
        let help = try CommandLineTests.launch(["protocol", "--help"]).out
        let example = help.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("wholebrain protocol --quick") }!
        let scratch = NSTemporaryDirectory() + "wholebrain-protocol-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createSymbolicLink(atPath: scratch + "/data", withDestinationPath: Fixtures.repository + "/data")
        let (status, out, err) = try CommandLineTests.shell(example, in: scratch)
        XCTAssertEqual(status, 0, example + "\n" + err)
        XCTAssert(out.contains("model (") && out.contains("baseline (G alone)") && out.contains("data ceiling"), out)
        XCTAssert(err.contains("protocol: chosen on validation"), err)
        let folder = scratch + "/runs/protocol-quick"
        for file in ["protocol.json", "scores.csv", "report.html"] {
            XCTAssert(FileManager.default.fileExists(atPath: folder + "/" + file), file)
        }
        guard let bytes = FileManager.default.contents(atPath: folder + "/protocol.json") else { return }
        let json = try JSONSerialization.jsonObject(with: bytes) as! [String: Any]
        let split = json["split"] as! [String: [String]]
        XCTAssertEqual(Set(split["train"]! + split["validation"]! + split["test"]!).count, 7)
        let candidates = json["candidates"] as! [[String: Any]]
        XCTAssertEqual(candidates.map { $0["name"] as! String }, ["G", "G,sc-gains", "G,w_plus-map,I_0-map"])
        // The regional candidate fitted the slopes along the training group's FC gradient.
        let regional = try XCTUnwrap(candidates.last?["fitted"] as? [String: Double])
        XCTAssertEqual(Set(regional.keys), ["G", "w_plus_slope[0]", "I_0_slope[0]"])
        // The ceiling is the training subjects' pooled data against each test subject.
        let data = try HCPDataset(root: Fixtures.hcp)
        var features: [String: DataCeiling.Features] = [:]
        for s in data.subjects { features[s] = DataCeiling.Features(regionsByTime: try data.boldTimeCourses(subject: s), tr: 0.72) }
        let ceiling = DataCeiling(features: features, targets: split["test"]!, predictors: split["train"]!)
        XCTAssertEqual((json["ceiling"] as! [String: Any])["fc_r_mean"] as! Double, ceiling.meanFCR, accuracy: 1e-12)
        let csv = try String(contentsOfFile: folder + "/scores.csv", encoding: .utf8)
        XCTAssert(csv.hasPrefix("model,part,subject,seed,fc_r,fcd_ks\n") && csv.contains("data ceiling,test,"), csv)
        let report = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssert(report.contains("FC r on test subjects") && report.contains("data ceiling") && report.contains("Candidates (validation)"), report)
    }
}
