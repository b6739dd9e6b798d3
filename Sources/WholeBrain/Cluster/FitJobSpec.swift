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
    /// What each task asks of the cluster (the [slurm] table).
    public let slurm: SlurmResources

    /// The same job with its data folder as an absolute path (batch tasks may start elsewhere).
    public func withAbsoluteData() -> FitJobSpec {
        var copy = self
        copy.data = URL(fileURLWithPath: data).standardizedFileURL.path
        return copy
    }

    static let fitKeys = ["model", "parameter_set", "dt", "integrator", "fit", "loss", "window", "epochs", "lr", "clip", "held_out", "patience", "prior_floor", "duration",
                          "transient", "tr", "G", "sigma", "speed", "seed", "checkpoint", "bandpass", "fic", "test_duration",
                          "no_fic", "critical_fraction", "stability_target", "identifiability_seeds"]
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
        slurm = try SlurmResources(toml["slurm"], path: path, keys: FitJobSpec.slurmKeys)
    }

    /// A Slurm time limit in seconds (`SlurmResources.seconds`).
    static func seconds(ofTimeLimit text: String) -> Int? { SlurmResources.seconds(ofTimeLimit: text) }
}
