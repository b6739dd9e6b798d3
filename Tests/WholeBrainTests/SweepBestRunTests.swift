import XCTest
import WholeBrain

/// The sweep report's best run: the highest FC r within the low-activity regime when the
/// excitatory rate was measured, flagged when it sits on the edge of the grid.
final class SweepBestRunTests: XCTestCase {
    let axes = [SweepSpec.Axis(parameter: "G", values: [0.2, 0.4, 0.6])]

    func row(_ g: Double, fc: Double, rate: Double?) -> (values: [Double], metrics: [String: Double]) {
        ([g], rate.map { ["fc_r": fc, "rate_E": $0] } ?? ["fc_r": fc])
    }

    func testBestIsChosenWithinTheLowActivityRegime() {
        // The highest FC r sits in the saturated state (38 Hz): not chosen.
        let rows = [row(0.2, fc: 0.3, rate: 3), row(0.4, fc: 0.5, rate: 3.1), row(0.6, fc: 0.7, rate: 38)]
        let choice = SweepReport.bestRun(rows, axes: axes)
        XCTAssertEqual(choice.best, 1)
        XCTAssertEqual(choice.eligible, [0, 1])
        XCTAssertTrue(choice.regimeChecked)
        XCTAssertFalse(choice.notes.contains { $0.contains("edge") }, "\(choice.notes)")
    }

    func testEdgeOfTheGridIsFlagged() {
        let rows = [row(0.2, fc: 0.3, rate: 3), row(0.4, fc: 0.5, rate: 3.1), row(0.6, fc: 0.7, rate: 4)]
        let choice = SweepReport.bestRun(rows, axes: axes)
        XCTAssertEqual(choice.best, 2)
        XCTAssertTrue(choice.notes.contains { $0.contains("G = 0.6 is on the edge of the grid") }, "\(choice.notes)")
    }

    func testWithoutRatesOrWithoutALowRunTheNotesSaySo() {
        let unchecked = SweepReport.bestRun([row(0.2, fc: 0.3, rate: nil), row(0.4, fc: 0.5, rate: nil)], axes: axes)
        XCTAssertEqual(unchecked.best, 1)
        XCTAssertFalse(unchecked.regimeChecked)
        XCTAssertTrue(unchecked.notes.contains { $0.contains("not checked") })
        let saturated = SweepReport.bestRun([row(0.2, fc: 0.3, rate: 40), row(0.4, fc: 0.5, rate: 45)], axes: axes)
        XCTAssertEqual(saturated.best, 1)
        XCTAssertTrue(saturated.notes.contains { $0.contains("No run stayed in the low-activity regime") })
    }
}
