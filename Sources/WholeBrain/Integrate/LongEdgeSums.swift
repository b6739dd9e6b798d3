/// The K-step sums of long-delay edges, sum_e w_e h_src(e)(t_0 + r - d_e) for r = 0 ..< K
/// (K = `DelayCoupling.blockLength` = 16), one target at a time or two together.
///
/// Each target's sum is one chain of fused multiply-adds in ascending edge order. A chain
/// waits a multiply-add's latency per edge, so one target alone keeps the FMA units half busy;
/// `two` advances two targets' chains in step (their common edges first, then each one's
/// remaining edges), which changes nothing in either chain's order, so both give the same bits.
enum LongEdgeSums {
    typealias Sum = SIMD8<Double>

    /// Edges of target `li` in band `b`: `edges[li * (bands + 1) + b] ..< [... + 1]`.
    @inline(__always)
    static func range(_ li: Int, _ b: Int, _ bands: Int, _ edges: UnsafeBufferPointer<Int>) -> Range<Int> {
        edges[li * (bands + 1) + b]..<edges[li * (bands + 1) + b + 1]
    }

    /// The K sums of target `li` at `sums + li * K`: zero, or what earlier bands left there.
    @inline(__always)
    static func start(_ li: Int, _ sums: UnsafeMutablePointer<Double>, continuing: Bool) -> (Sum, Sum) {
        guard continuing else { return (Sum(), Sum()) }
        let out = UnsafeRawPointer(sums + li * DelayCoupling.blockLength)
        return (out.loadUnaligned(as: Sum.self), out.loadUnaligned(fromByteOffset: 64, as: Sum.self))
    }

    @inline(__always)
    static func store(_ li: Int, _ sums: UnsafeMutablePointer<Double>, _ a: Sum, _ b: Sum) {
        let out = UnsafeMutableRawPointer(sums + li * DelayCoupling.blockLength)
        out.storeBytes(of: a, as: Sum.self)
        out.storeBytes(of: b, toByteOffset: 64, as: Sum.self)
    }

    /// The sums of target `li`, started afresh or continued.
    @inline(__always)
    static func one(target li: Int, band b: Int, bands: Int, edges: UnsafeBufferPointer<Int>, offsets: UnsafeBufferPointer<Int32>,
                    weights: UnsafeBufferPointer<Double>, window: UnsafeRawPointer, sums: UnsafeMutablePointer<Double>, continuing: Bool) {
        var (a0, a1) = start(li, sums, continuing: continuing)
        for e in range(li, b, bands, edges) { add(e, offsets, weights, window, &a0, &a1) }
        store(li, sums, a0, a1)
    }

    /// The sums of targets li and li + 1, their chains interleaved (two, not more: four
    /// targets' 16 sums do not fit the 16 AVX2 registers, and the spills cost more than they gain).
    @inline(__always)
    static func two(targets li: Int, band b: Int, bands: Int, edges: UnsafeBufferPointer<Int>, offsets: UnsafeBufferPointer<Int32>,
                    weights: UnsafeBufferPointer<Double>, window: UnsafeRawPointer, sums: UnsafeMutablePointer<Double>, continuing: Bool) {
        var (a0, b0) = start(li, sums, continuing: continuing), (a1, b1) = start(li + 1, sums, continuing: continuing)
        let r0 = range(li, b, bands, edges), r1 = range(li + 1, b, bands, edges)
        let common = min(r0.count, r1.count)
        for t in 0..<common {
            add(r0.lowerBound + t, offsets, weights, window, &a0, &b0)
            add(r1.lowerBound + t, offsets, weights, window, &a1, &b1)
        }
        for e in (r0.lowerBound + common)..<r0.upperBound { add(e, offsets, weights, window, &a0, &b0) }
        for e in (r1.lowerBound + common)..<r1.upperBound { add(e, offsets, weights, window, &a1, &b1) }
        store(li, sums, a0, b0)
        store(li + 1, sums, a1, b1)
    }

    /// One edge's contribution to a target's 16 sums: w_e times the source's window.
    @inline(__always)
    static func add(_ e: Int, _ offsets: UnsafeBufferPointer<Int32>, _ weights: UnsafeBufferPointer<Double>,
                    _ window: UnsafeRawPointer, _ a: inout Sum, _ b: inout Sum) {
        let q = window + Int(offsets[e]) * MemoryLayout<Double>.stride
        let we = Sum(repeating: weights[e])
        a.addProduct(we, q.loadUnaligned(as: Sum.self))
        b.addProduct(we, q.loadUnaligned(fromByteOffset: 64, as: Sum.self))
    }
}
