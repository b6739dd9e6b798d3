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

    /// K folds: the test blocks partition the subjects (sizes differ by at most one), each
    /// fold's parts are disjoint and complete, validation follows the block, and bad counts fail.
    func testFoldsTestEverySubjectOnce() throws {
        let subjects = ["101309", "102311", "102816", "131217", "211619", "213522", "377451"]
        for count in 2...6 {
            let folds = try HeldOutProtocol.Split.folds(subjects: subjects, count: count, validation: 1, seed: 1)
            XCTAssertEqual(folds.count, count)
            XCTAssertEqual(folds.flatMap(\.test).sorted(), subjects, "every subject tested exactly once (\(count) folds)")
            XCTAssertLessThanOrEqual(Set(folds.map(\.test.count)).count, 2)
            XCTAssertLessThanOrEqual((folds.map(\.test.count).max() ?? 0) - (folds.map(\.test.count).min() ?? 0), 1)
            for fold in folds {
                XCTAssertEqual((fold.train + fold.validation + fold.test).sorted(), subjects)
                XCTAssertEqual(fold.validation.count, 1)
                XCTAssert(Set(fold.test).isDisjoint(with: fold.validation) && Set(fold.train).isDisjoint(with: fold.test))
            }
            // The blocks follow the same seeded order as a single split's shuffle.
            let order = folds.flatMap(\.test)
            XCTAssertEqual(folds[0].validation, [order[folds[0].test.count]])
        }
        let single = try HeldOutProtocol.Split(subjects: subjects, train: 4, validation: 1, test: 2, seed: 1)
        XCTAssertEqual(Set(try HeldOutProtocol.Split.folds(subjects: subjects, count: 3, validation: 1, seed: 1).flatMap(\.test)), Set(subjects))
        XCTAssertEqual(try HeldOutProtocol.Split.folds(subjects: subjects, count: 7, validation: 1, seed: 1).flatMap(\.test),
                       single.train + single.validation + single.test, "the folds cut the split's own shuffle")
        XCTAssertThrowsError(try HeldOutProtocol.Split.folds(subjects: subjects, count: 1, validation: 1, seed: 1))
        XCTAssertThrowsError(try HeldOutProtocol.Split.folds(subjects: subjects, count: 8, validation: 1, seed: 1))
        XCTAssertThrowsError(try HeldOutProtocol.Split.folds(subjects: subjects, count: 2, validation: 3, seed: 1), "no training subject left")
    }

    /// Pooled over folds, each subject's scores are its own fold's, once.
    func testCrossValidatedPoolsEachFoldsTestSubjects() {
        func outcome(_ test: [String: Double], chosen: String) -> HeldOutProtocol.Outcome {
            let scores = HeldOutProtocol.Scores(bySubject: test.mapValues { [DataCeiling.Score(fcR: $0, fcdKS: 1 - $0)] }, meanRateE: [3])
            let features = DataCeiling.Features(fc: Matrix(rows: 2, columns: 2, values: [1, 0.5, 0.5, 1]), fcdValues: [0.1, 0.2])
            let ceiling = DataCeiling(features: Dictionary(uniqueKeysWithValues: (test.keys.sorted() + ["t"]).map { ($0, features) }),
                                      targets: test.keys.sorted(), predictors: ["t"])
            let result = HeldOutProtocol.CandidateResult(candidate: chosen, fitted: [:], initial: [:], gains: nil, trainFCR: 0.5,
                                                         validation: scores, identifiability: [], wallSeconds: 0)
            return HeldOutProtocol.Outcome(split: HeldOutProtocol.Split(train: ["t"], validation: ["v"], test: test.keys.sorted()), startG: 0.5, gStar: nil,
                                           candidates: [result], chosen: 0, chosenInLowRegime: true, test: scores, baselineTest: scores,
                                           ceiling: ceiling, leaveOneOut: ceiling)
        }
        let cv = HeldOutProtocol.CrossValidated(folds: [outcome(["a": 0.6, "b": 0.8], chosen: "G"), outcome(["c": 0.4], chosen: "G,sc-gains")])
        XCTAssertEqual(cv.test.bySubject.keys.sorted(), ["a", "b", "c"])
        XCTAssertEqual(cv.test.fcR.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(cv.test.fcdKS.mean, 0.4, accuracy: 1e-12)
        XCTAssertEqual(cv.ceiling.scores.map(\.subject), ["a", "b", "c"])
        XCTAssertEqual(cv.choices, ["G", "G,sc-gains"])
        XCTAssert(CrossValidationReport.csv(cv).hasPrefix("fold,model,part,subject,seed,fc_r,fcd_ks\n1,G,validation,"))
        XCTAssert(CrossValidationReport.csv(cv).contains("\n2,\"G,sc-gains\",test,c,0,0.4,"))
    }

    func testScoresSummariseAndFlagTheHighState() {
        let s = HeldOutProtocol.Scores(bySubject: ["a": [DataCeiling.Score(fcR: 0.5, fcdKS: 0.2), DataCeiling.Score(fcR: 0.7, fcdKS: 0.4)]],
                                       meanRateE: [3.1, 2.9])
        XCTAssertEqual(s.fcR.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.fcR.sd, (0.02).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.cost, 1 - 0.6 + 0.3, accuracy: 1e-12)
        XCTAssertTrue(s.lowActivity(regionLimit: 6))
        XCTAssertFalse(HeldOutProtocol.Scores(bySubject: [:], meanRateE: [3, 12.5]).lowActivity(regionLimit: 6))
        // A run whose mean is in range but whose regions partly left the low state.
        let partial = HeldOutProtocol.Scores(bySubject: [:], meanRateE: [3.1, 4.9], maxRegionRateE: [3.4, 7.6])
        XCTAssertEqual(HeldOutProtocol.Settings().regionRateLimit, 6)
        XCTAssertFalse(partial.lowActivity(regionLimit: 6))
        XCTAssert(partial.regimeProblem(regionLimit: 6).contains("7.6 Hz"), partial.regimeProblem(regionLimit: 6))
        XCTAssertTrue(HeldOutProtocol.Scores(bySubject: [:], meanRateE: [3.1, 3], maxRegionRateE: [3.4, 3.3]).lowActivity(regionLimit: 6))
        // Pooled over folds, every run's highest region is kept.
        XCTAssertEqual(HeldOutProtocol.CrossValidated.pooled([partial, s]).maxRegionRateE, nil)
        XCTAssertEqual(HeldOutProtocol.CrossValidated.pooled([partial, partial]).maxRegionRateE, [3.4, 7.6, 3.4, 7.6])
    }

    /// Paired model - reference differences by subject, against numpy and scipy: the
    /// leave-one-out FCD KS per test subject (session of 2026-12-07; each subject's runs
    /// averaged first, here one value or two runs of equal mean) and its ceiling give mean
    /// 0.045286, sd 0.095383, 95% interval -0.042929 to 0.133500 (scipy.stats.t.ppf(0.975, 6)).
    func testPairedDifferenceOverSubjects() {
        let model = [0.201, 0.382, 0.370, 0.084, 0.099, 0.429, 0.451], ceiling = [0.225, 0.136, 0.347, 0.123, 0.084, 0.403, 0.381]
        var m: [String: [DataCeiling.Score]] = [:], c: [String: [DataCeiling.Score]] = [:]
        for k in 0..<7 {
            // Subject s0 has two runs around its mean; FC r carries the same numbers shifted.
            m["s\(k)"] = k == 0 ? [DataCeiling.Score(fcR: 0.7, fcdKS: model[k] - 0.05), DataCeiling.Score(fcR: 0.7, fcdKS: model[k] + 0.05)]
                : [DataCeiling.Score(fcR: 0.7, fcdKS: model[k])]
            c["s\(k)"] = [DataCeiling.Score(fcR: 0.8, fcdKS: ceiling[k])]
        }
        c["only-in-reference"] = [DataCeiling.Score(fcR: 0, fcdKS: 1)]
        let d = HeldOutProtocol.PairedDifference(model: m, reference: c)
        XCTAssertEqual(d.subjects, 7)
        XCTAssertEqual(d.fcdKS.mean, 0.04528571428571428, accuracy: 1e-12)
        XCTAssertEqual(d.fcdKS.sd, 0.09538293747785692, accuracy: 1e-12)
        XCTAssertEqual(d.fcdKS.low, -0.04292878990276756, accuracy: 2e-5)
        XCTAssertEqual(d.fcdKS.high, 0.13350021847419613, accuracy: 2e-5)
        XCTAssertEqual(d.fcR.mean, -0.1, accuracy: 1e-12)
        XCTAssertEqual(d.fcR.sd, 0, accuracy: 1e-12)
        XCTAssert(d.description.contains("FCD KS +0.045 (-0.043 to +0.13"), d.description)
    }

    /// A fit task's files hold both stages of a shaped candidate; the last stage reads them back
    /// in the order of the candidates, each fitted stage before its shaped one, gains and all.
    func testCandidateFilesKeepTheShapedStage() throws {
        let scratch = NSTemporaryDirectory() + "wholebrain-candidates-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let scores = HeldOutProtocol.Scores(bySubject: ["v": [DataCeiling.Score(fcR: 0.6, fcdKS: 0.3)]], meanRateE: [3], maxRegionRateE: [3.5])
        func result(_ name: String, g: Double, gains: Matrix?, shaped: Bool) -> HeldOutProtocol.CandidateResult {
            var r = HeldOutProtocol.CandidateResult(candidate: name, fitted: ["G": g], initial: ["G": 0.5], gains: gains, trainFCR: 0.5,
                                                    validation: scores, identifiability: [], wallSeconds: 1)
            r.stage = shaped ? .shaped : nil
            return r
        }
        let fittedGains = Matrix(rows: 2, columns: 2, values: [1, 1.5, 0.7, 1]), shapedGains = Matrix(rows: 2, columns: 2, values: [1, 1.2, 0.9, 1])
        for (task, results) in [("0", [result("G", g: 0.48, gains: nil, shaped: false)]),
                                ("1", [result("G,sc-gains", g: 0.47, gains: fittedGains, shaped: false),
                                       result("G,sc-gains", g: 0.5, gains: shapedGains, shaped: true)])] {
            let folder = try OutputFolder(path: scratch + "/" + task, force: false)
            try HeldOutProtocol.write(results, into: folder)
            try folder.commit()
        }
        let read = try HeldOutProtocol.readCandidates(scratch, models: [.baseline, .connectionGains])
        XCTAssertEqual(read.map(\.label), ["G", "G,sc-gains", "G,sc-gains (shaped)"])
        XCTAssertEqual(read.map { $0.fitted["G"]! }, [0.48, 0.47, 0.5])
        XCTAssertEqual(read[1].gains?.values, fittedGains.values)
        XCTAssertEqual(read[2].gains?.values, shapedGains.values)
        XCTAssertEqual(read[2].validation.maxRegionRateE, [3.5])
        XCTAssertThrowsError(try HeldOutProtocol.readCandidates(scratch, models: [.baseline, .regional(maps: 1)])) { error in
            XCTAssert("\(error)".contains(HeldOutProtocol.Candidate.regionalName), "\(error)")
        }
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
        // One epoch cannot lower the loss below its start, so the shaped stage is the fitted one
        // and is not scored twice.
        XCTAssertEqual(candidates.map { $0["label"] as! String }, ["G", "G,sc-gains", "G,w_plus-map,I_0-map"])
        // The gains candidate's shaping steps (20 under --quick) on the expected FC raised its
        // r with the training group's mean FC above the baseline's.
        XCTAssertEqual((json["settings"] as! [String: Any])["shaping_steps"] as? Int, 20)
        let expected = candidates.map { $0["expected_fc_r"] as? Double ?? .nan }
        XCTAssertGreaterThan(expected[1], expected[0] + 0.05, "expected FC r of G and of G,sc-gains: \(expected)")
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
        try ReportInBrowser.assertReadable(folder + "/report.html", figures: 2, screenshotName: "protocol")

        // The cross-validated example: every subject tested once, each fold's outputs in fold-k,
        // the pooled ceiling each fold's training subjects' data against its test subjects.
        let crossValidated = help.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("wholebrain protocol --quick --folds") }!
        let cv = try CommandLineTests.shell(crossValidated, in: scratch)
        XCTAssertEqual(cv.status, 0, crossValidated + "\n" + cv.err)
        XCTAssert(cv.out.contains("2-fold cross-validation") && cv.out.contains("data ceiling"), cv.out)
        let cvFolder = scratch + "/runs/cv-quick"
        for file in ["protocol.json", "scores.csv", "report.html", "fold-1/protocol.json", "fold-2/report.html"] {
            XCTAssert(FileManager.default.fileExists(atPath: cvFolder + "/" + file), file)
        }
        try ReportInBrowser.assertReadable(cvFolder + "/report.html", figures: 2, screenshotName: "cross-validation")
        try ReportInBrowser.assertReadable(cvFolder + "/fold-2/report.html", figures: 2)
        guard let cvBytes = FileManager.default.contents(atPath: cvFolder + "/protocol.json") else { return }
        let cvJSON = try JSONSerialization.jsonObject(with: cvBytes) as! [String: Any]
        let folds = cvJSON["folds"] as! [[String: Any]]
        let splits = folds.map { $0["split"] as! [String: [String]] }
        XCTAssertEqual(splits.flatMap { $0["test"]! }.sorted(), data.subjects.sorted())
        let pooled = (cvJSON["test"] as! [String: Any])["by_subject"] as! [String: Any]
        XCTAssertEqual(pooled.keys.sorted(), data.subjects.sorted())
        let foldCeilings = DataCeiling(merging: splits.map { DataCeiling(features: features, targets: $0["test"]!, predictors: $0["train"]!) })
        XCTAssertEqual((cvJSON["ceiling"] as! [String: Any])["fc_r_mean"] as! Double, foldCeilings.meanFCR, accuracy: 1e-12)
        XCTAssertEqual((cvJSON["ceiling"] as! [String: Any])["fcd_ks_mean"] as! Double, foldCeilings.meanFCDKS, accuracy: 1e-12)
        let cvCSV = try String(contentsOfFile: cvFolder + "/scores.csv", encoding: .utf8)
        XCTAssert(cvCSV.hasPrefix("fold,model,part,subject,seed,fc_r,fcd_ks\n1,G,validation,") && cvCSV.contains("\n2,data ceiling,test,"), cvCSV)
    }
}
