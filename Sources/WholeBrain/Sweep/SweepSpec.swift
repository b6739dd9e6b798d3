import Foundation

/// A parameter sweep read from a TOML job spec (jobs/sweep-hcp.toml is an example):
///
///     model = "rww"            data = "data/hcp"        subject = "101309"   # or "group"
///     duration = 120           transient = 5            tr = 0.72            dt = 0.1
///     speed = 20               sigma = 0.001            seeds = [1, 2]       fic = 3  # rww; false: uniform J_i
///     bandpass = [0.01, 0.1]   metrics = ["fc_r", "fcd_ks", ...]
///     [set]                    # fixed model parameters
///     w_plus = 1.4
///     [[axes]]                 # one block per axis; the grid is their product
///     parameter = "G"
///     kind = "linear"          # linear (from, to, points) | log (from, to, points) |
///     from = 0.5               # list (values) | critical (span, points: G* (1 + span t|t|),
///     to = 3.0                 # t in [-1, 1], denser near G*; rww, G only)
///     points = 11
///
/// Unknown keys, parameters and metrics are errors naming the known ones.
public struct SweepSpec: Sendable {
    public struct Axis: Sendable {
        public let parameter: String
        public let values: [Double]

        public init(parameter: String, values: [Double]) { self.parameter = parameter; self.values = values }
    }

    public let model: String, data: String, subject: String
    public let duration: Double, transient: Double, tr: Double, dt: Double, speed: Double
    public let sigma: Double?
    public let seeds: [UInt64]
    /// rww: feedback inhibition target rate (Hz; 3 by default, `fic = false` for uniform J_i); nil otherwise.
    public let fic: Double?
    public let bandpass: (Double, Double)?
    public let fixed: [(name: String, value: Double)]
    public let axes: [Axis]
    public let metrics: [String]
    /// G* when an axis is centred on it.
    public private(set) var critical: Double?

    /// `leading_eigenvalue` (rww) stands for both branches' leading eigenvalues (real part, 1/ms) of the
    /// noise-free network at each point: `leading_eigenvalue_low` of the stable low-activity state and
    /// `leading_eigenvalue_high` of the stable high-activity one, each null where that state does not exist.
    public static let knownMetrics = ["fc_r", "fc_r_group", "fcd_ks", "metastability", "synchrony", "rate_E",
                                      "peak_frequency", "slow4_power", "slow5_power", "leading_eigenvalue",
                                      "leading_eigenvalue_low", "leading_eigenvalue_high"]
    static let eigenvalueMetrics = ["leading_eigenvalue_low", "leading_eigenvalue_high"]
    /// What each metric column holds, with its units (results.csv, manifest.json).
    public static let metricDescriptions: [String: String] = [
        "fc_r": "FC r of the run against the subject's empirical FC (Pearson r)",
        "fc_r_group": "FC r against the group's mean FC (Pearson r)",
        "fcd_ks": "Kolmogorov-Smirnov distance between the run's and the subject's FCD distributions (0-1)",
        "metastability": "standard deviation over time of the Kuramoto order parameter (dimensionless)",
        "synchrony": "mean Kuramoto order parameter (0-1)",
        "rate_E": "mean excitatory firing rate (Hz)",
        "peak_frequency": "mean over regions of the BOLD spectrum's peak frequency (Hz)",
        "slow4_power": "BOLD power in slow-4, 0.027-0.073 Hz (signal^2)",
        "slow5_power": "BOLD power in slow-5, 0.01-0.027 Hz (signal^2)",
        "leading_eigenvalue_low": "leading eigenvalue's real part of the stable low-activity state, noise-free (1/ms; empty: no such state)",
        "leading_eigenvalue_high": "leading eigenvalue's real part of the stable high-activity state, noise-free (1/ms; empty: no such state)",
    ]
    static let topKeys = ["model", "data", "subject", "duration", "transient", "tr", "dt", "speed", "sigma", "seeds", "fic",
                          "bandpass", "metrics", "set", "axes"]
    static let axisKeys = ["parameter", "kind", "from", "to", "points", "values", "span"]

    /// Reads and checks a job spec; `criticalCoupling` gives G* for `kind = "critical"` axes
    /// (from the fixed parameters, the data folder and the subject).
    public init(path: String, criticalCoupling: ((_ fixed: [(name: String, value: Double)], _ data: String, _ subject: String, _ fic: Double?) throws -> Double)? = nil) throws {
        let toml = try JobFile.read(path: path)
        func fail(_ key: String, _ value: String, _ expected: String) -> WholeBrainError {
            .badValue(source: "\(path): \(key)", value: value, expected: expected)
        }
        for key in toml.keys.sorted() where !SweepSpec.topKeys.contains(key) {
            throw fail(key, "(unknown key)", "one of \(SweepSpec.topKeys.joined(separator: ", "))")
        }
        func number(_ key: String, _ fallback: Double?, positive: Bool = true) throws -> Double? {
            guard let v = toml[key] else { return fallback }
            guard let x = v.number, x.isFinite, !positive || x > 0 else { throw fail(key, "\(v)", positive ? "a number > 0" : "a number") }
            return x
        }
        func string(_ key: String, _ fallback: String) throws -> String {
            guard let v = toml[key] else { return fallback }
            guard let s = v.string else { throw fail(key, "\(v)", "a string in quotes") }
            return s
        }
        model = try string("model", ReducedWongWang.name)
        data = try string("data", "data/hcp")
        subject = try string("subject", "101309")
        duration = try number("duration", 120)!
        transient = try number("transient", SimulationDefaults.transient, positive: false)!
        tr = try number("tr", 0.72)!
        dt = try number("dt", 0.1)!
        speed = try number("speed", 20)!
        sigma = try number("sigma", nil, positive: false)
        if case let .bool(on)? = toml["fic"] {
            fic = on ? (model == ReducedWongWang.name ? 3 : nil) : nil
        } else {
            fic = try number("fic", model == ReducedWongWang.name ? 3 : nil)
        }
        if fic != nil, model != ReducedWongWang.name, toml["fic"] != nil {
            throw fail("fic", "\(toml["fic"]!)", "no fic for \(model) (feedback inhibition sets rww's J_i)")
        }
        if let s = toml["seeds"] {
            guard case let .array(items) = s, !items.isEmpty,
                  let seeds = Optional(items.compactMap { $0.number }), seeds.count == items.count,
                  seeds.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
                throw fail("seeds", "\(s)", "an array of whole numbers >= 0, e.g. [1, 2, 3]")
            }
            self.seeds = seeds.map { UInt64($0) }
        } else { seeds = [1] }
        if let b = toml["bandpass"] {
            guard case let .array(items) = b, items.count == 2, let lo = items[0].number, let hi = items[1].number, lo > 0, hi > lo else {
                throw fail("bandpass", "\(b)", "[low, high] in Hz, e.g. [0.01, 0.1]")
            }
            bandpass = (lo, hi)
        } else { bandpass = nil }
        if let m = toml["metrics"] {
            guard case let .array(items) = m, !items.isEmpty else { throw fail("metrics", "\(m)", "an array of metric names") }
            var names: [String] = []
            for item in items {
                guard let name = item.string, SweepSpec.knownMetrics.contains(name) else {
                    throw fail("metrics", "\(item)", "some of \(SweepSpec.knownMetrics.joined(separator: ", "))")
                }
                for m in name == "leading_eigenvalue" ? SweepSpec.eigenvalueMetrics : [name] where !names.contains(m) { names.append(m) }
            }
            metrics = names
        } else { metrics = SweepSpec.knownMetrics.filter { !$0.hasPrefix("leading_eigenvalue") } }
        var fixed: [(name: String, value: Double)] = []
        if let s = toml["set"] {
            guard case let .table(t) = s else { throw fail("set", "\(s)", "a [set] table of name = number") }
            for key in t.keys.sorted() {
                guard let x = t[key]?.number else { throw fail("set.\(key)", "\(t[key]!)", "a number") }
                fixed.append((key, x))
            }
        }
        self.fixed = fixed
        if fic != nil, let j = fixed.first(where: { $0.name == "J_i" || ReducedWongWang.parameterAliases[$0.name] == "J_i" }) {
            throw fail("set.\(j.name)", "\(j.value)", "no J_i while feedback inhibition control (fic, on by default for rww) sets J_i per region; add fic = false for a uniform J_i")
        }
        guard case let .tables(axisTables)? = toml["axes"], !axisTables.isEmpty else {
            throw fail("axes", "(missing)", "at least one [[axes]] block with parameter and values")
        }
        var axes: [Axis] = []
        for (k, t) in axisTables.enumerated() {
            let name = "axes[\(k + 1)]"
            for key in t.keys.sorted() where !SweepSpec.axisKeys.contains(key) {
                throw fail("\(name).\(key)", "(unknown key)", "one of \(SweepSpec.axisKeys.joined(separator: ", "))")
            }
            guard let parameter = t["parameter"]?.string else { throw fail("\(name).parameter", "(missing)", "a parameter name in quotes") }
            let kind = t["kind"]?.string ?? (t["values"] != nil ? "list" : "linear")
            func field(_ key: String) throws -> Double {
                guard let x = t[key]?.number, x.isFinite else { throw fail("\(name).\(key)", "\(t[key].map { "\($0)" } ?? "(missing)")", "a number") }
                return x
            }
            func count() throws -> Int {
                let x = try field("points")
                guard x >= 1, x == x.rounded() else { throw fail("\(name).points", "\(x)", "a whole number >= 1") }
                return Int(x)
            }
            var values: [Double]
            switch kind {
            case "linear":
                let (a, b, n) = (try field("from"), try field("to"), try count())
                values = (0..<n).map { n == 1 ? a : a + (b - a) * Double($0) / Double(n - 1) }
            case "log":
                let (a, b, n) = (try field("from"), try field("to"), try count())
                guard a > 0, b > 0 else { throw fail("\(name).from", "\(a), \(b)", "positive bounds for a log axis") }
                values = (0..<n).map { n == 1 ? a : a * Foundation.pow(b / a, Double($0) / Double(n - 1)) }
            case "list":
                guard case let .array(items)? = t["values"], !items.isEmpty, items.allSatisfy({ $0.number != nil }) else {
                    throw fail("\(name).values", "\(t["values"].map { "\($0)" } ?? "(missing)")", "an array of numbers")
                }
                values = items.map { $0.number! }
            case "critical":
                guard parameter == "G", let criticalCoupling else {
                    throw fail("\(name).kind", kind, "critical only for G of the rww model")
                }
                let span = try field("span"), n = try count()
                let gStar = try criticalCoupling(fixed, data, subject, fic)
                critical = gStar
                values = (0..<n).map { k in
                    let t = n == 1 ? 0 : -1 + 2 * Double(k) / Double(n - 1)
                    return gStar * (1 + span * t * abs(t))
                }
            default:
                throw fail("\(name).kind", kind, "linear, log, list or critical")
            }
            axes.append(Axis(parameter: parameter, values: values))
        }
        self.axes = axes
    }

    /// Every point of the grid (first axis slowest) with every seed: (axis values, seed).
    public var points: [(values: [Double], seed: UInt64)] {
        var grid: [[Double]] = [[]]
        for axis in axes { grid = grid.flatMap { prefix in axis.values.map { prefix + [$0] } } }
        return grid.flatMap { values in seeds.map { (values, $0) } }
    }
}
