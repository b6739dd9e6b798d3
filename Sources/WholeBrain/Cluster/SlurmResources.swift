import Foundation

/// The [slurm] table of a job spec: what each batch task asks of the cluster.
///
///     partition = "compute"   time = "02:00:00"   memory = "4G"   account = ""
///     ranks_per_task = 1      cpus_per_task = 1   modules = ["openmpi"]
///     max_running = 4         requeue = true      stop_before_limit = 120
///
/// Keys a job kind does not use are errors naming the ones it does.
public struct SlurmResources: Sendable {
    public let partition: String?, time: String, memory: String, account: String?
    public let ranksPerTask: Int, cpusPerTask: Int
    public let modules: [String]
    /// At most this many array tasks at once (`#SBATCH --array=...%N`); nil: no limit.
    public let maxRunning: Int?
    /// `#SBATCH --requeue`: Slurm may requeue a preempted task, which resumes from its checkpoint.
    public let requeue: Bool
    /// Seconds before the time limit at which Slurm warns a task (`--signal=B:USR1@N`); 0: no
    /// warning. Default: 120 s, or a tenth of a shorter time limit.
    public let stopBeforeLimit: Int

    /// From the [slurm] value of the job spec at `path` (nil: every default), accepting `keys`.
    public init(_ value: JobFile.Value?, path: String, keys: [String]) throws {
        func fail(_ key: String, _ value: String, _ expected: String) -> WholeBrainError {
            .badValue(source: "\(path): \(key)", value: value, expected: expected)
        }
        var slurm: [String: JobFile.Value] = [:]
        if let s = value {
            guard case let .table(t) = s else { throw fail("slurm", "\(s)", "a [slurm] table") }
            slurm = t
            for key in t.keys.sorted() where !keys.contains(key) {
                throw fail("slurm.\(key)", "(unknown key)", "one of \(keys.joined(separator: ", "))")
            }
        }
        partition = slurm["partition"]?.string
        time = slurm["time"]?.string ?? "01:00:00"
        guard let limit = SlurmResources.seconds(ofTimeLimit: time) else {
            throw fail("slurm.time", time, "a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
        }
        memory = slurm["memory"]?.string ?? "4G"
        account = slurm["account"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        func count(_ key: String) throws -> Int {
            guard let v = slurm[key] else { return 1 }
            guard let x = v.number, x >= 1, x == x.rounded() else { throw fail("slurm.\(key)", "\(v)", "a whole number >= 1") }
            return Int(x)
        }
        ranksPerTask = try count("ranks_per_task")
        cpusPerTask = try count("cpus_per_task")
        if case let .array(items)? = slurm["modules"] { modules = items.compactMap(\.string) } else { modules = [] }
        maxRunning = slurm["max_running"] == nil ? nil : try count("max_running")
        if let r = slurm["requeue"] {
            guard case let .bool(b) = r else { throw fail("slurm.requeue", "\(r)", "true or false") }
            requeue = b
        } else { requeue = false }
        if let v = slurm["stop_before_limit"] {
            guard let x = v.number, x >= 0, x == x.rounded(), Int(x) < limit else {
                throw fail("slurm.stop_before_limit", "\(v)", "whole seconds >= 0 and shorter than the time limit (\(limit) s)")
            }
            stopBeforeLimit = Int(x)
        } else { stopBeforeLimit = min(120, limit / 10) }
    }

    /// A Slurm time limit in seconds (sbatch's formats: minutes, MM:SS, HH:MM:SS, D-HH,
    /// D-HH:MM, D-HH:MM:SS), nil when it is not one; "UNLIMITED" is a year.
    public static func seconds(ofTimeLimit text: String) -> Int? {
        if text.uppercased() == "UNLIMITED" || text.uppercased() == "INFINITE" { return 365 * 86_400 }
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { return nil }
        let fields = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !fields.contains(where: { $0 == nil || $0! < 0 }), (1...3).contains(fields.count) else { return nil }
        let f = fields.map { $0! }
        if dayParts.count == 2 {
            guard let days = Int(dayParts[0]), days >= 0 else { return nil }
            let hms = [f[0] * 3600, (f.count > 1 ? f[1] * 60 : 0), (f.count > 2 ? f[2] : 0)].reduce(0, +)
            return days * 86_400 + hms
        }
        switch f.count {
        case 1: return f[0] * 60
        case 2: return f[0] * 60 + f[1]
        default: return f[0] * 3600 + f[1] * 60 + f[2]
        }
    }
}
