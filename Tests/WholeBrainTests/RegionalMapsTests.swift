import XCTest
import WholeBrain

/// Regional heterogeneity as slopes along maps: the FC gradient, z-scoring, slopes read back
/// from per-node values, the spec a fit builds, and bad maps.
final class RegionalMapsTests: XCTestCase {
    /// FC_ij = a + b g_i g_j (g of mean 0) has columns b g_j g after centring: its first
    /// principal component is g.
    func testFCGradientIsTheLeadingComponent() throws {
        let g = [-1.0, -0.6, -0.1, 0.2, 0.5, 1.2, 0.3, -0.3]
        let mean = g.reduce(0, +) / 8
        let centred = g.map { $0 - mean }
        var fc = Matrix(rows: 8, columns: 8)
        for i in 0..<8 { for j in 0..<8 { fc[i, j] = 0.3 + 0.5 * centred[i] * centred[j] } }
        let gradient = try RegionalMaps.fcGradient(fc)
        // Proportional to g: the same ratio in every region.
        let ratio = gradient[0] / centred[0]
        for i in 0..<8 { XCTAssertEqual(gradient[i], ratio * centred[i], accuracy: 1e-12 * abs(ratio)) }
        XCTAssertGreaterThan(gradient.max()!, abs(gradient.min()!), "sign: the largest absolute value is positive")
    }

    func testMapsAreZScoredAndSlopesRoundTrip() throws {
        let maps = try RegionalMaps(names: ["a", "b"], values: [[1, 2, 3, 4, 10], [5, 3, 1, 0, 2]], regions: 5, source: "test")
        for map in maps.values {
            XCTAssertEqual(map.reduce(0, +) / 5, 0, accuracy: 1e-12)
            XCTAssertEqual(map.reduce(0) { $0 + $1 * $1 } / 5, 1, accuracy: 1e-12)
        }
        let slopes = [0.07, -0.03]
        let back = maps.slopes(offsets: maps.offsets(slopes: slopes))
        for k in 0..<2 { XCTAssertEqual(back[k], slopes[k], accuracy: 1e-14) }
        // The spec a fit builds: uniform values plus the slopes' offsets, and value() reads them back.
        var p = ReducedWongWang.Parameters()
        p.g = 0.5
        let start = try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: try smallConnectome(5), duration: 1)
        let s = try GradientFit.spec(start, with: [(.wPlusSlope(0), 0.07), (.i0Slope(1), -0.01), (.wPlus, 1.5)], maps: maps)
        for i in 0..<5 {
            XCTAssertEqual(s.nodeParameters[1][i], 1.5 + 0.07 * maps.values[0][i], accuracy: 1e-14)
            XCTAssertEqual(s.nodeParameters[2][i], p.i0 - 0.01 * maps.values[1][i], accuracy: 1e-14)
        }
        XCTAssertEqual(GradientFit.value(.wPlusSlope(0), in: s, maps: maps), 0.07, accuracy: 1e-13)
        XCTAssertEqual(GradientFit.value(.wPlusSlope(1), in: s, maps: maps), 0, accuracy: 1e-13)
        XCTAssertEqual(GradientFit.value(.i0Slope(1), in: s, maps: maps), -0.01, accuracy: 1e-13)
        // Setting a slope again replaces it (it does not add), and the uniform value carries the offsets.
        let again = try GradientFit.spec(s, with: [(.wPlusSlope(0), 0.02), (.wPlus, 1.3)], maps: maps)
        XCTAssertEqual(GradientFit.value(.wPlusSlope(0), in: again, maps: maps), 0.02, accuracy: 1e-13)
        XCTAssertEqual(again.nodeParameters[1].reduce(0, +) / 5, 1.3, accuracy: 1e-13)
        // Without slopes, uniform values stay uniform to the bit.
        let plain = try GradientFit.spec(start, with: [(.wPlus, 1.45), (.i0, 0.39)])
        XCTAssertEqual(plain.nodeParameters[1], [Double](repeating: 1.45, count: 5))
        XCTAssertEqual(plain.nodeParameters[2], [Double](repeating: 0.39, count: 5))
    }

    func testMapFilesAndBadMaps() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let column = folder.appendingPathComponent("myelin.csv").path
        try "0.1\n0.4\n0.2\n0.9\n0.5\n".write(toFile: column, atomically: true, encoding: .utf8)
        let two = folder.appendingPathComponent("two.csv").path
        try "1,2,3,4,5\n5,1,4,2,3\n".write(toFile: two, atomically: true, encoding: .utf8)
        let maps = try RegionalMaps.load([column, two], regions: 5, fc: nil)
        XCTAssertEqual(maps.names, ["myelin", "two[0]", "two[1]"])
        XCTAssertThrowsError(try RegionalMaps.load([column], regions: 6, fc: nil)) { error in
            XCTAssert("\(error)".contains("one value per region (6)"), "\(error)")
        }
        XCTAssertThrowsError(try RegionalMaps(names: ["flat"], values: [[1, 1, 1]], regions: 3, source: "m.csv")) { error in
            XCTAssert("\(error)".contains("differs between regions"), "\(error)")
        }
        XCTAssertThrowsError(try RegionalMaps.load([RegionalMaps.fcGradientName], regions: 5, fc: nil))
    }
}
