import Foundation
import XCTest
import WholeBrain

/// Paths to the committed fixtures and the bundled data.
enum Fixtures {
    static let folder: String = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    static func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    static func json(_ name: String) -> [String: Any] {
        let data = FileManager.default.contents(atPath: path(name))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// The repository root (tests run from the package folder).
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var hcp: String { (repository as NSString).appendingPathComponent("data/hcp") }
}

func assertRelative(_ a: Double, _ b: Double, _ tol: Double, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let scale = max(abs(a), abs(b), 1e-300)
    XCTAssert(abs(a - b) / scale <= tol, "\(message): \(a) vs \(b) (relative \(abs(a - b) / scale) > \(tol))", file: file, line: line)
}

func assertThrowsMessage(_ expression: @autoclosure () throws -> Any, containing parts: [String],
                         file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expression()
        XCTFail("expected an error containing \(parts)", file: file, line: line)
    } catch {
        let text = "\(error)"
        for part in parts {
            XCTAssert(text.contains(part), "error '\(text)' does not mention '\(part)'", file: file, line: line)
        }
    }
}

/// A small connectome for engine tests: weights from a fixed pattern, lengths in mm.
func smallConnectome(_ n: Int, lengthScale: Double = 40) throws -> Connectome {
    var w = Matrix(rows: n, columns: n), l = Matrix(rows: n, columns: n)
    for i in 0..<n {
        for j in 0..<n where i != j {
            w[i, j] = Double((i * 7 + j * 3) % 5) / 4
            l[i, j] = lengthScale * (0.2 + Double((i + j) % 7) / 3)
        }
    }
    return try Connectome(weights: w, lengths: l)
}
