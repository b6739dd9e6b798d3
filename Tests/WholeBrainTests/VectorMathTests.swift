import XCTest
import WholeBrain

final class VectorMathTests: XCTestCase {
    func ulps(_ a: Double, _ b: Double) -> Double { abs(a - b) / b.ulp }

    func testExpExpm1LogAgainstFoundation() {
        var worst = (exp: 0.0, expm1: 0.0, log: 0.0)
        var x = -700.0
        while x < 700 {
            let lanes = SIMD4(x, x * 0.5, x * 1e-3, x * 1e-9)
            let e = VectorMath.exp(lanes), m = VectorMath.expm1(lanes)
            for l in 0..<4 {
                worst.exp = max(worst.exp, ulps(e[l], Foundation.exp(lanes[l])))
                worst.expm1 = max(worst.expm1, ulps(m[l], Foundation.expm1(lanes[l])))
            }
            x += 0.37
        }
        var v = 1e-300
        while v < 1e300 {
            let lanes = SIMD4(v, v * 1.37, 1 + v * 1e-300, 0.999999 + 1e-7 * (v.exponent.magnitude > 0 ? 1 : 0))
            let r = VectorMath.log(lanes)
            for l in 0..<4 { worst.log = max(worst.log, abs(r[l] - Foundation.log(lanes[l])) / max(abs(Foundation.log(lanes[l])), 1).ulp) }
            v *= 3.7
        }
        XCTAssertLessThanOrEqual(worst.exp, 4, "exp")
        XCTAssertLessThanOrEqual(worst.expm1, 8, "expm1")
        XCTAssertLessThanOrEqual(worst.log, 4, "log")
        XCTAssert(VectorMath.log(SIMD4(-1, 0, .nan, .infinity)).indices.allSatisfy { VectorMath.log(SIMD4(-1, 0, .nan, .infinity))[$0].isNaN })
        XCTAssertEqual(VectorMath.exp(SIMD4(repeating: -1e6))[0], Foundation.exp(-708), accuracy: 1e-300)
    }
}
