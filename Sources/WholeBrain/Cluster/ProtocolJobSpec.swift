import Foundation

/// A held-out-subject protocol job for a cluster, read from TOML (jobs/hcp-protocol.toml):
///
///     data = "data/hcp"
///     [protocol]                    # wholebrain protocol options, by their long names
///     candidates = "G;G,sc-gains;G,w_plus-map,I_0-map"   # (underscores for dashes: split_seed = 1)
///     epochs = 10
///     [slurm]
///     time = "01:00:00"   memory = "6G"   partition = ...   account = ...   modules = [...]
///
/// One array task per candidate (and fold, with `folds`) fits it to the training subjects and scores it on
/// validation (`wholebrain protocol --fit-only`); a last job, after every task succeeded,
/// chooses among them and scores the choice and the baseline on the test subjects
/// (`wholebrain protocol --from`). Unknown keys are errors naming the known ones.
public struct ProtocolJobSpec: Sendable {
    public private(set) var data: String
    /// The candidates' names, in order (the baseline G first, as `protocol` adds it).
    public let candidates: [String]
    /// `wholebrain protocol` options as command-line words (--candidates included), in a fixed order.
    public let protocolArguments: [String]
    /// Cross-validation folds (1: one split); the array runs every candidate in every fold.
    public let folds: Int
    public let slurm: SlurmResources

    static let protocolKeys = ["candidates", "train", "validation", "test", "split_seed", "folds", "epochs", "lr", "duration", "window", "stability",
                               "seed", "seeds", "eval_duration", "maps", "shaping_steps", "pattern_term", "gain_shrinkage",
                               "shaped_epochs"]
    static let slurmKeys = ["partition", "time", "memory", "account", "cpus_per_task", "modules", "max_running"]

    /// The same job with its data folder as an absolute path (batch tasks may start elsewhere).
    public func withAbsoluteData() -> ProtocolJobSpec {
        var copy = self
        copy.data = URL(fileURLWithPath: data).standardizedFileURL.path
        return copy
    }

    public init(path: String) throws {
        let toml = try JobFile.read(path: path)
        func fail(_ key: String, _ value: String, _ expected: String) -> WholeBrainError {
            .badValue(source: "\(path): \(key)", value: value, expected: expected)
        }
        for key in toml.keys.sorted() where !["data", "protocol", "slurm"].contains(key) {
            throw fail(key, "(unknown key)", "one of data, [protocol], [slurm]")
        }
        data = toml["data"]?.string ?? "data/hcp"
        var arguments: [String] = []
        var names = HeldOutProtocol.Candidate.defaultList
        var folds = 1
        if let p = toml["protocol"] {
            guard case let .table(t) = p else { throw fail("protocol", "\(p)", "a [protocol] table") }
            for key in t.keys.sorted() where !ProtocolJobSpec.protocolKeys.contains(key) {
                throw fail("protocol.\(key)", "(unknown key)", "one of \(ProtocolJobSpec.protocolKeys.joined(separator: ", "))")
            }
            for key in ProtocolJobSpec.protocolKeys where t[key] != nil {
                let flag = "--" + key.replacingOccurrences(of: "_", with: "-")
                switch t[key]! {
                case let .string(s):
                    arguments += [flag, s]
                    if key == "candidates" { names = s }
                case let .number(x):
                    if key == "folds" {
                        guard x == x.rounded(), x >= 1, x <= 1000 else { throw fail("protocol.folds", "\(x)", "a whole number of folds, 1 or more") }
                        folds = Int(x)
                    }
                    arguments += [flag, x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)]
                default: throw fail("protocol.\(key)", "\(t[key]!)", "a string or a number")
                }
            }
        }
        if !arguments.contains("--candidates") { arguments += ["--candidates", names] }
        let listed = names.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        candidates = ["G"] + listed.filter { $0 != "G" }
        protocolArguments = arguments
        self.folds = folds
        slurm = try SlurmResources(toml["slurm"], path: path, keys: ProtocolJobSpec.slurmKeys)
    }
}
