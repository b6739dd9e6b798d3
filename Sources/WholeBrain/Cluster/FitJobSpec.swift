import Foundation

/// A fit job over subjects for a cluster, read from TOML (jobs/hcp-fit.toml):
///
///     data = "data/hcp"
///     subjects = "all"              # or ["101309", "102311"]
///     [fit]                         # wholebrain fit options, by their long names
///     fit = "G,sc-gains"            # (underscores for dashes: held_out = 0.2)
///     duration = 40
///     [slurm]
///     partition = "compute"         time = "02:00:00"     memory = "4G"     account = ""
///     ranks_per_task = 1            cpus_per_task = 1     modules = ["openmpi"]
///     max_running = 4               requeue = true        stop_before_limit = 120
///
/// Unknown keys are errors naming the known ones.
public struct FitJobSpec: Sendable {
    public private(set) var data: String
    public let subjects: [String]
    /// `wholebrain fit` options as command-line words, in a fixed order.
    public let fitArguments: [String]
    public let partition: String?, time: String, memory: String, account: String?
    public let ranksPerTask: Int, cpusPerTask: Int
    public let modules: [String]
    /// At most this many array tasks at once (`#SBATCH --array=...%N`); nil: no limit.
    public let maxRunning: Int?
    /// `#SBATCH --requeue`: Slurm may requeue a preempted task, which resumes from its checkpoint.
    public let requeue: Bool
    /// Seconds before the time limit at which Slurm warns the task (`--signal=B:USR1@N`) so the
    /// fit stops with its checkpoint (and, with `requeue`, requeues itself); 0: no warning.
    /// Default: 120 s, or a tenth of a shorter time limit.
    public let stopBeforeLimit: Int

    /// The same job with its data folder as an absolute path (batch tasks may start elsewhere).
    public func withAbsoluteData() -> FitJobSpec {
        var copy = self
        copy.data = URL(fileURLWithPath: data).standardizedFileURL.path
        return copy
    }

    static let fitKeys = ["fit", "loss", "window", "epochs", "lr", "clip", "held_out", "patience", "prior_floor", "duration",
                          "transient", "tr", "G", "sigma", "speed", "seed", "checkpoint", "bandpass", "fic", "test_duration",
                          "no_fic", "critical_fraction", "stability_target"]
    static let slurmKeys = ["partition", "time", "memory", "account", "ranks_per_task", "cpus_per_task", "modules", "max_running", "requeue", "stop_before_limit"]

    public init(path: String, knownSubjects: (String) throws -> [String]) throws {
        let toml = try JobFile.read(path: path)
        func fail(_ key: String, _ value: String, _ expected: String) -> WholeBrainError {
            .badValue(source: "\(path): \(key)", value: value, expected: expected)
        }
        for key in toml.keys.sorted() where !["data", "subjects", "fit", "slurm"].contains(key) {
            throw fail(key, "(unknown key)", "one of data, subjects, [fit], [slurm]")
        }
        let root = toml["data"]?.string ?? "data/hcp"
        data = root
        let known = try knownSubjects(root)
        switch toml["subjects"] {
        case nil, .string("all")?: subjects = known
        case let .array(items)?:
            subjects = try items.map { item in
                guard let s = item.string ?? item.number.map({ String(Int($0)) }), known.contains(s) else {
                    throw fail("subjects", "\(item)", "subjects of \(root): \(known.joined(separator: ", "))")
                }
                return s
            }
        case let other?: throw fail("subjects", "\(other)", "\"all\" or an array of subject ids")
        }
        guard let first = subjects.first, !first.isEmpty else { throw fail("subjects", "[]", "at least one subject") }
        var arguments: [String] = []
        if let f = toml["fit"] {
            guard case let .table(t) = f else { throw fail("fit", "\(f)", "a [fit] table") }
            for key in FitJobSpec.fitKeys where t[key] != nil {
                let flag = key == "G" ? "--G" : "--" + key.replacingOccurrences(of: "_", with: "-")
                switch t[key]! {
                case let .string(s): arguments += [flag, s]
                case let .number(x): arguments += [flag, x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)]
                case let .bool(b):
                    // fic = false: no feedback inhibition (it is on by default).
                    if key == "fic" { if !b { arguments.append("--no-fic") } } else if b { arguments.append(flag) }
                default: throw fail("fit.\(key)", "\(t[key]!)", "a string, number or true/false")
                }
            }
            for key in t.keys.sorted() where !FitJobSpec.fitKeys.contains(key) {
                throw fail("fit.\(key)", "(unknown key)", "one of \(FitJobSpec.fitKeys.joined(separator: ", "))")
            }
        }
        fitArguments = arguments
        var slurm: [String: JobFile.Value] = [:]
        if let s = toml["slurm"] {
            guard case let .table(t) = s else { throw fail("slurm", "\(s)", "a [slurm] table") }
            slurm = t
            for key in t.keys.sorted() where !FitJobSpec.slurmKeys.contains(key) {
                throw fail("slurm.\(key)", "(unknown key)", "one of \(FitJobSpec.slurmKeys.joined(separator: ", "))")
            }
        }
        partition = slurm["partition"]?.string
        time = slurm["time"]?.string ?? "01:00:00"
        guard let limit = FitJobSpec.seconds(ofTimeLimit: time) else {
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
    static func seconds(ofTimeLimit text: String) -> Int? {
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
