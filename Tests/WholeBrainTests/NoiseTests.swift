import XCTest
import WholeBrain

final class NoiseTests: XCTestCase {
    func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.squareRoot()) }

    func testNormalsHaveTheRightDistribution() {
        let noise = CounterNoise(seed: 42)
        let count = 400_000
        var xs = [Double](); xs.reserveCapacity(count)
        for k in 0..<count { xs.append(noise.normal(node: k % 97, step: UInt64(k / 97), variable: UInt64(k % 2))) }
        let mean = xs.reduce(0, +) / Double(count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)
        let skew = xs.reduce(0) { $0 + pow($1 - mean, 3) } / Double(count) / pow(variance, 1.5)
        let kurtosis = xs.reduce(0) { $0 + pow($1 - mean, 4) } / Double(count) / (variance * variance)
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(count).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        XCTAssertEqual(skew, 0, accuracy: 0.02)
        XCTAssertEqual(kurtosis, 3, accuracy: 0.05)
        xs.sort()
        var ks = 0.0
        for (i, x) in xs.enumerated() {
            let f = normalCDF(x)
            ks = max(ks, abs(f - Double(i) / Double(count)), abs(f - Double(i + 1) / Double(count)))
        }
        XCTAssertLessThan(ks, 1.63 / Double(count).squareRoot(), "Kolmogorov-Smirnov at the 1% level")
        let tail = xs.filter { abs($0) > 3.5 }.count
        XCTAssertEqual(Double(tail), Double(count) * 2 * (1 - normalCDF(3.5)), accuracy: 40, "tail beyond the ziggurat base")
    }

    func testNumbersArePureFunctionsOfTheirKey() {
        let a = CounterNoise(seed: 7), b = CounterNoise(seed: 7), c = CounterNoise(seed: 8)
        var same = 0
        for node in 0..<50 {
            for step in [UInt64(0), 1, 999, 1 << 30] {
                XCTAssertEqual(a.normal(node: node, step: step, variable: 1), b.normal(node: node, step: step, variable: 1))
                if a.normal(node: node, step: step, variable: 0) == c.normal(node: node, step: step, variable: 0) { same += 1 }
                XCTAssertNotEqual(a.normal(node: node, step: step, variable: 0), a.normal(node: node, step: step, variable: 1))
            }
        }
        XCTAssertEqual(same, 0, "another seed gives other numbers")
    }

    func testSuccessiveStepsAreUncorrelated() {
        let noise = CounterNoise(seed: 3)
        var sxy = 0.0, sxx = 0.0, cross = 0.0
        let count = 100_000
        for k in 0..<count {
            let x = noise.normal(node: 5, step: UInt64(k), variable: 0)
            let y = noise.normal(node: 5, step: UInt64(k + 1), variable: 0)
            let z = noise.normal(node: 6, step: UInt64(k), variable: 0)
            sxy += x * y; sxx += x * x; cross += x * z
        }
        XCTAssertEqual(sxy / sxx, 0, accuracy: 0.015, "lag-1 autocorrelation")
        XCTAssertEqual(cross / sxx, 0, accuracy: 0.015, "neighbouring nodes")
    }

    /// The AVX-512 kernel (where this CPU has it) and the portable path give the numbers of
    /// `normal` bit for bit: lanes that leave the fast path (wedge, new candidates and the tail
    /// beyond R), steps across the 32-bit wrap, node counts that are not a multiple of eight,
    /// strided output.
    func testBlockNormalsEqualSingleNormals() {
        let noise = CounterNoise(seed: 7)
        var values = 0, tail = 0
        for vector in [false, CounterNoise.hasVectorKernel] {
            for (nodes, first, steps) in [(0..<80, UInt64(0), 500), (12_340..<12_353, UInt64(0xffff_fff6), 40), (3..<6, UInt64(17), 16), (0..<16_400, UInt64(5), 2)] {
                for nodeStride in [1, 3] {
                    let stepStride = nodes.count * nodeStride + 1
                    var out = [Double](repeating: .nan, count: steps * stepStride)
                    out.withUnsafeMutableBufferPointer {
                        noise.normals(nodes: nodes, firstStep: first, variable: 1, steps: steps, into: $0.baseAddress!,
                                      stepStride: stepStride, nodeStride: nodeStride, vector: vector)
                    }
                    var written = 0
                    for s in 0..<steps {
                        for (k, node) in nodes.enumerated() {
                            let single = noise.normal(node: node, step: first &+ UInt64(s), variable: 1)
                            XCTAssertEqual(out[s * stepStride + k * nodeStride].bitPattern, single.bitPattern,
                                           "vector \(vector), node \(node), step \(first &+ UInt64(s))")
                            if abs(single) > Ziggurat.r { tail += 1 }
                            values += 1
                        }
                    }
                    for value in out where !value.isNaN { written += 1 }
                    XCTAssertEqual(written, steps * nodes.count, "only the output slots are written")
                }
            }
        }
        XCTAssertGreaterThan(values, 80_000)
        XCTAssertGreaterThan(tail, 10, "the tail beyond R was exercised")
    }
}
