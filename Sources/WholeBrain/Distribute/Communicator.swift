import Foundation

/// The collective operations the simulator, the fits and the sweeps use, so the library is
/// written once for a laptop (`SerialCommunicator`) and a cluster (`MPICommunicator` in the
/// WholeBrainMPI target, the only code that imports MPI).
///
/// Every operation is collective: all ranks of the communicator call it in the same order.
/// Reductions combine contributions in rank order on every rank (`allGather` then a sum in
/// rank order), so results do not depend on the MPI library's reduction tree.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Gathers each rank's `send` (counts[r] values from rank r) into `receive`, in rank order,
    /// on every rank. `receive` holds sum(counts) values.
    func allGather(_ send: UnsafePointer<Double>, count: Int, into receive: UnsafeMutablePointer<Double>, counts: [Int])
    /// Rank `root`'s bytes on every rank.
    func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8]
    /// The maximum of each rank's value, on every rank.
    func maximum(_ value: Int) -> Int
    /// Splits into sub-communicators: ranks with the same `color`, ordered by `key`.
    func split(color: Int, key: Int) -> Communicator
    /// Ends every rank of the job at once (for errors that cannot be agreed on collectively).
    func abort(code: Int32) -> Never
    /// A counter shared by all ranks (collective to create): `next()` on any rank returns
    /// 0, 1, 2, ... once each, in whatever order the ranks ask, for handing out work.
    func makeCounter() -> SharedCounter
}

/// A job-wide ticket counter (see `Communicator.makeCounter`).
public protocol SharedCounter: AnyObject {
    func next() -> Int
}

extension Communicator {
    /// Values of every rank, in rank order (each rank contributes `values.count` of them,
    /// which must be `counts[rank]`).
    public func allGather(_ values: [Double], counts: [Int]) -> [Double] {
        precondition(values.count == counts[rank], "allGather: rank \(rank) sends \(values.count), expected \(counts[rank])")
        var out = [Double](repeating: 0, count: counts.reduce(0, +))
        values.withUnsafeBufferPointer { send in
            out.withUnsafeMutableBufferPointer { receive in
                allGather(send.baseAddress!, count: values.count, into: receive.baseAddress!, counts: counts)
            }
        }
        return out
    }

    /// Element-wise sum over ranks, added in rank order on every rank (bit-identical on all
    /// ranks and for any reduction tree).
    public func sumInRankOrder(_ values: [Double]) -> [Double] {
        let all = allGather(values, counts: [Int](repeating: values.count, count: size))
        var sum = [Double](repeating: 0, count: values.count)
        for r in 0..<size { for k in values.indices { sum[k] += all[r * values.count + k] } }
        return sum
    }

    /// Collective check after work that may fail on some ranks: if any rank brings an error,
    /// every rank throws, with the message of the lowest failing rank. Call it where every
    /// rank would otherwise go on to the next collective operation.
    public func agree(_ error: Error?) throws {
        let failing = -maximum(error == nil ? -size : -rank)
        guard failing < size else { return }
        let message = error.map { ($0 as? WholeBrainError)?.description ?? "\($0)" } ?? ""
        let shared = broadcast(Array(message.utf8), root: failing)
        throw WholeBrainError.onRank(rank: failing, message: String(decoding: shared, as: UTF8.self))
    }

    /// Runs `body`, then agrees on its outcome across ranks (see `agree`).
    public func collectively<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        var failure: Error?
        do { result = try body() } catch { failure = error }
        try agree(failure)
        return result!
    }
}

/// One process: every collective operation is a copy.
public final class SerialCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allGather(_ send: UnsafePointer<Double>, count: Int, into receive: UnsafeMutablePointer<Double>, counts: [Int]) {
        receive.update(from: send, count: count)
    }
    public func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] { bytes }
    public func maximum(_ value: Int) -> Int { value }
    public func split(color: Int, key: Int) -> Communicator { SerialCommunicator() }
    public func abort(code: Int32) -> Never { exit(code) }
    public func makeCounter() -> SharedCounter { LocalCounter() }
}

/// The counter of one process.
final class LocalCounter: SharedCounter {
    var value = 0
    func next() -> Int { defer { value += 1 }; return value }
}
