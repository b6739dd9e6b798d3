/// The delay history of every node, shared by the node blocks of one simulation.
///
/// Row (channel, node) holds that node's coupled signal in one channel, one value per step,
/// time-contiguous; `cursor` is the position of the current time t_n. When a block of K steps
/// would run past the row's end, the last maxDelay + 1 values move to the start. Each node
/// block writes only its own rows; under MPI the other rows arrive by exchange.
final class DelayHistory {
    let buffer: UnsafeMutablePointer<Double>
    let rowLength: Int, rows: Int, nodes: Int, maxDelay: Int
    var cursor: Int

    init(channels: Int, nodes: Int, coupling: DelayCoupling) {
        self.nodes = nodes
        rows = channels * nodes
        rowLength = coupling.rowLength
        maxDelay = coupling.maxDelay
        buffer = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowLength, 1) * MemoryLayout<Double>.stride, alignment: 64)
            .bindMemory(to: Double.self, capacity: max(rows * rowLength, 1))
        buffer.initialize(repeating: 0, count: max(rows * rowLength, 1))
        cursor = maxDelay
    }

    deinit { UnsafeMutableRawPointer(buffer).deallocate() }

    /// Start of the row of `node` in `channel`.
    @inline(__always)
    func row(channel: Int, node: Int) -> UnsafeMutablePointer<Double> { buffer + (channel * nodes + node) * rowLength }

    /// Makes room for `steps` more values in every row.
    func ensureRoom(for steps: Int) {
        guard cursor + steps >= rowLength else { return }
        let keep = maxDelay + 1
        for r in 0..<rows {
            let p = buffer + r * rowLength
            p.update(from: p + (cursor - keep + 1), count: keep)
        }
        cursor = keep - 1
    }
}
