import Foundation

/// Progress of one long step on stderr: a bar redrawn in place on a terminal; elsewhere (a
/// Slurm output file, a pipe) one line per tenth of the work, so logs show how far a job got.
final class ProgressBar {
    let label: String
    let enabled: Bool
    let terminal: Bool
    let start = Date()
    var lastDraw = Date.distantPast
    var tenthsLogged = 0

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
        terminal = isatty(fileno(stderr)) != 0
    }

    func update(_ fraction: Double) {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        guard terminal else {
            let tenths = Int((min(max(fraction, 0), 1) * 10).rounded(.down))
            guard tenths > tenthsLogged else { return }
            tenthsLogged = tenths
            FileHandle.standardError.write(String(format: "%@: %d%% (%.1f s elapsed, %.1f s left)\n", label, tenths * 10, elapsed, eta).data(using: .utf8)!)
            return
        }
        guard fraction >= 1 || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\r%@ [%@] %3.0f%%  %.1fs elapsed, %.1fs left ", label, bar, fraction * 100, elapsed, eta)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    func finish() {
        guard enabled, terminal else { return }
        FileHandle.standardError.write("\r\u{1B}[2K".data(using: .utf8)!)
    }
}
