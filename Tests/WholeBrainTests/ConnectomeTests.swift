import XCTest
import WholeBrain

final class ConnectomeTests: XCTestCase {
    func matrix(_ rows: [[Double]]) -> Matrix {
        Matrix(rows: rows.count, columns: rows[0].count, values: rows.flatMap { $0 })
    }

    func testPreparationSteps() throws {
        let c = try Connectome(weights: matrix([[5, 2, 0], [4, 1, 6], [0, 8, 3]]), lengths: Matrix(rows: 3, columns: 3, repeating: 10))
        let maxNorm = try ConnectomePreparation().apply(to: c)
        XCTAssertEqual(maxNorm.weights.values, [0, 0.25, 0, 0.5, 0, 0.75, 0, 1, 0])
        let sym = try ConnectomePreparation(symmetrise: true, normalisation: .none).apply(to: c)
        XCTAssertEqual(sym.weights[0, 1], 3); XCTAssertEqual(sym.weights[1, 0], 3)
        XCTAssertEqual(sym.weights[1, 2], 7); XCTAssertEqual(sym.weights[2, 1], 7)
        let keep = try ConnectomePreparation(zeroDiagonal: false, normalisation: .none).apply(to: c)
        XCTAssertEqual(keep.weights[0, 0], 5)
        let log = try ConnectomePreparation(normalisation: .log1pFrobenius).apply(to: c)
        let frob = log.weights.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertEqual(frob, 1, accuracy: 1e-15)
        XCTAssertEqual(log.weights[2, 1] / log.weights[0, 1], Foundation.log1p(8) / Foundation.log1p(2), accuracy: 1e-14)
        let way = try ConnectomePreparation(normalisation: .waytotal).apply(to: c, waytotal: [2, 4, 8])
        XCTAssertEqual(way.weights[1, 0], 2); XCTAssertEqual(way.weights[0, 1], 0.5); XCTAssertEqual(way.weights[1, 2], 0.75)
        assertThrowsMessage(try ConnectomePreparation(normalisation: .nvoxel).apply(to: c), containing: ["nvoxel"])
    }

    func testValidationNamesTheProblem() {
        let good = Matrix(rows: 2, columns: 2, repeating: 1)
        assertThrowsMessage(try Connectome(weights: Matrix(rows: 2, columns: 3, repeating: 1), lengths: good, weightsSource: "w.csv"),
                            containing: ["w.csv", "2x3", "square"])
        assertThrowsMessage(try Connectome(weights: good, lengths: Matrix(rows: 3, columns: 3, repeating: 1), lengthsSource: "l.csv"),
                            containing: ["l.csv", "3x3", "same shape"])
        assertThrowsMessage(try Connectome(weights: matrix([[0, .nan], [1, 0]]), lengths: good, weightsSource: "w.npy"),
                            containing: ["w.npy[0, 1]", "nan", "finite"])
        assertThrowsMessage(try Connectome(weights: good, lengths: matrix([[0, 1], [-3, 0]]), lengthsSource: "len.mat"),
                            containing: ["len.mat[1, 0]", "-3", "non-negative"])
    }

    func testDelaysRoundToNearestStep() throws {
        XCTAssertEqual(DelayCoupling.delaySteps(length: 10, speed: 20, dt: 0.1), 5)
        XCTAssertEqual(DelayCoupling.delaySteps(length: 3.7, speed: 20, dt: 0.1), 2)     // 1.85 -> 2
        XCTAssertEqual(DelayCoupling.delaySteps(length: 3.1, speed: 20, dt: 0.1), 2)     // 1.55 -> 2
        XCTAssertEqual(DelayCoupling.delaySteps(length: 2.9, speed: 20, dt: 0.1), 1)     // 1.45 -> 1
        XCTAssertEqual(DelayCoupling.delaySteps(length: 250, speed: .infinity, dt: 0.1), 0)
        let c = try smallConnectome(6)
        let d = DelayCoupling(connectome: c, dt: 0.1, speed: 3)
        var edges = 0
        for i in 0..<6 { for j in 0..<6 where c.weights[i, j] != 0 { edges += 1 } }
        XCTAssertEqual(d.longEdgeCount + d.mediumEdgeCount + d.shortEdgeCount, edges)
        XCTAssertGreaterThan(d.longEdgeCount, 0)
    }
}
