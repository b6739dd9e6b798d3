import Foundation

/// Delayed network sums s_i(t_n) = sum_j C_ij h_j(t_n - d_ij dt), laid out for speed, where
/// h is a history channel of the coupled variable (see `CouplingKind`).
///
/// Delays are whole steps, d_ij = round(length_ij / (speed * dt)) (lengths in mm, speed in
/// m/s = mm/ms, dt in ms). Only edges with non-zero weight are kept, in four classes by
/// delay against the block length K = 16 and the chunk length L = 4:
/// - long edges (d_ij >= K) only read states at least K steps old, so their sums for the K
///   steps of a block are computed at the block's start, as K contiguous values per edge read
///   from a time-contiguous history row (vectorised fused multiply-adds);
/// - medium edges (L <= d_ij < K) likewise for the L steps of a chunk, at the chunk's start
///   (chunks start every L steps from the block's start);
/// - short edges (1 <= d_ij < L) are summed step by step from the history;
/// - instant edges (d_ij = 0) read the current state, at every integrator stage.
/// For every node the sum is fixed by the edge lists alone: long edges accumulated in
/// ascending j from zero, medium edges likewise (per step of the chunk), their sum
/// long + medium; then, if the node has short edges, + (even + odd), the short edges as two
/// partial sums (even and odd positions in ascending j); then + instant edges in ascending j.
/// That fixed order is what makes results independent of how nodes are split up.
public struct DelayCoupling: Sendable {
    public static let blockLength = 16
    /// Steps of a chunk of medium edges (a divisor of `blockLength`).
    public static let chunkLength = 4

    public let nodeCount: Int
    public let maxDelay: Int
    /// Smallest delay over edges with non-zero weight (0 if there are no edges).
    public let minDelay: Int
    /// History row length per node: maxDelay + K + spare room, so shifts are rare.
    public let rowLength: Int
    public let longStart: [Int], longOffset: [Int32]
    public let mediumStart: [Int], mediumOffset: [Int32]
    public let shortStart: [Int], shortOffset: [Int32]
    public let instantStart: [Int], instantSource: [Int32]
    /// Edge weights raised to each requested power p: [power index][edge], per class.
    public let longWeights: [[Double]], mediumWeights: [[Double]], shortWeights: [[Double]], instantWeights: [[Double]]
    /// sum_j C_ij^p per power, for diffusive coupling.
    public let rowSums: [[Double]]
    public let weightPowers: [Int]

    public var longEdgeCount: Int { longOffset.count }
    public var mediumEdgeCount: Int { mediumOffset.count }
    public var shortEdgeCount: Int { shortOffset.count }
    public var instantEdgeCount: Int { instantSource.count }

    /// The source node and delay of a delayed edge from its history offset j rowLength - d.
    public func source(ofOffset offset: Int32) -> (node: Int, delay: Int) {
        let offset = Int(offset), node = (offset + rowLength - 1) / rowLength
        return (node, node * rowLength - offset)
    }

    /// Delay in steps of one edge.
    public static func delaySteps(length: Double, speed: Double, dt: Double) -> Int {
        speed.isInfinite ? 0 : Int((length / (speed * dt)).rounded())
    }

    public init(connectome: Connectome, dt: Double, speed: Double, weightPowers: [Int] = [1]) {
        let n = connectome.regionCount
        let k = DelayCoupling.blockLength, chunk = DelayCoupling.chunkLength
        var delays = [Int](repeating: 0, count: n * n)
        var maxD = 0, minD = Int.max
        for i in 0..<n {
            for j in 0..<n where connectome.weights[i, j] != 0 {
                let d = DelayCoupling.delaySteps(length: connectome.lengths[i, j], speed: speed, dt: dt)
                delays[i * n + j] = d
                maxD = max(maxD, d); minD = min(minD, d)
            }
        }
        nodeCount = n
        maxDelay = maxD
        minDelay = minD == Int.max ? 0 : minD
        rowLength = maxD + k + max(1024, maxD + k)
        precondition(n * rowLength < Int(Int32.max), "DelayCoupling: history too large for 32-bit offsets")
        var ls = [0], lo: [Int32] = [], lw: [Double] = []
        var ms = [0], mo: [Int32] = [], mw: [Double] = []
        var ss = [0], so: [Int32] = [], sw: [Double] = []
        var zs = [0], zo: [Int32] = [], zw: [Double] = []
        for i in 0..<n {
            for j in 0..<n where connectome.weights[i, j] != 0 {
                let d = delays[i * n + j]
                let w = connectome.weights[i, j]
                let offset = Int32(j * rowLength - d)
                if d >= k { lo.append(offset); lw.append(w) }
                else if d >= chunk { mo.append(offset); mw.append(w) }
                else if d > 0 { so.append(offset); sw.append(w) }
                else { zo.append(Int32(j)); zw.append(w) }
            }
            ls.append(lw.count); ms.append(mw.count); ss.append(sw.count); zs.append(zw.count)
        }
        func powered(_ w: [Double], _ p: Int) -> [Double] { p == 1 ? w : w.map { Foundation.pow($0, Double(p)) } }
        longStart = ls; longOffset = lo; longWeights = weightPowers.map { powered(lw, $0) }
        mediumStart = ms; mediumOffset = mo; mediumWeights = weightPowers.map { powered(mw, $0) }
        shortStart = ss; shortOffset = so; shortWeights = weightPowers.map { powered(sw, $0) }
        instantStart = zs; instantSource = zo; instantWeights = weightPowers.map { powered(zw, $0) }
        rowSums = weightPowers.map { p in
            (0..<n).map { i in (0..<n).reduce(0.0) { $0 + powered([connectome.weights[i, $1]], p)[0] } }
        }
        self.weightPowers = weightPowers
    }
}
