import Foundation

/// Where a simulation's connectome and empirical data come from: a bundled-format dataset
/// and subject, or the user's own files.
public enum ConnectomeSource: Sendable {
    /// A subject of a dataset, or "group" for the averaged connectome (compared with every subject).
    case dataset(root: String, subject: String)
    /// Matrices from files in any format the readers take (`variable` names the array in
    /// .mat/.npz files); a `.zip` weights file is read as a TVB connectivity and needs no lengths.
    case files(weights: String, weightsVariable: String?, lengths: String?, lengthsVariable: String?,
               empiricalBold: String?, boldVariable: String?)
}

/// A prepared connectome plus the empirical FC to compare a simulation against.
public struct SimulationInputs: Sendable {
    public let connectome: Connectome
    public let subject: String?
    public let empiricalFC: Matrix?
    public let groupFC: Matrix?
    /// Every subject's empirical FC, for runs on the group connectome.
    public let subjectFCs: [String: Matrix]
    /// Empirical BOLD (regions x time) of the subject or file, and of every subject of the
    /// dataset (for band-passed FC and the analyses).
    public var empiricalBold: Matrix? = nil
    public var datasetBolds: [String: Matrix] = [:]
    public var tr: Double? = nil

    /// Every subject's BOLD (read once) and FC.
    static func loadAll(_ data: HCPDataset) throws -> (bolds: [String: Matrix], fcs: [String: Matrix]) {
        var bolds: [String: Matrix] = [:], fcs: [String: Matrix] = [:]
        for s in data.subjects {
            let bold = try data.boldTimeCourses(subject: s)
            bolds[s] = bold
            fcs[s] = FunctionalConnectivity.pearson(regionsByTime: bold)
        }
        return (bolds, fcs)
    }

    public static func load(_ source: ConnectomeSource, preparation: ConnectomePreparation) throws -> SimulationInputs {
        switch source {
        case let .dataset(root, subject) where subject == "group":
            let data = try HCPDataset(root: root)
            let (bolds, fcs) = try loadAll(data)
            var inputs = SimulationInputs(connectome: try data.groupConnectome(preparation: preparation), subject: "group",
                                          empiricalFC: nil, groupFC: FunctionalConnectivity.mean(data.subjects.map { fcs[$0]! }),
                                          subjectFCs: fcs)
            inputs.datasetBolds = bolds
            inputs.tr = HCPDataset.repetitionTime
            return inputs
        case let .dataset(root, subject):
            let data = try HCPDataset(root: root)
            let raw = try data.connectome(subject: subject)
            let needsWaytotal = preparation.normalisation == .waytotal
            let needsNvoxel = preparation.normalisation == .nvoxel
            let prepared = try preparation.apply(
                to: raw,
                waytotal: needsWaytotal ? try data.regionValues(subject: subject, file: "waytotal.txt") : nil,
                nvoxel: needsNvoxel ? try data.regionValues(subject: subject, file: "nvoxel.txt") : nil)
            let (bolds, fcs) = try loadAll(data)
            var inputs = SimulationInputs(connectome: prepared, subject: subject, empiricalFC: fcs[subject],
                                          groupFC: FunctionalConnectivity.mean(data.subjects.map { fcs[$0]! }), subjectFCs: [:])
            inputs.empiricalBold = bolds[subject]
            inputs.datasetBolds = bolds
            inputs.tr = HCPDataset.repetitionTime
            return inputs
        case let .files(weightsPath, weightsVariable, lengthsPath, lengthsVariable, boldPath, boldVariable):
            let raw: Connectome
            if weightsPath.lowercased().hasSuffix(".zip") {
                let tvb = try TVBConnectivity.read(path: weightsPath)
                raw = try Connectome(weights: tvb.weights, lengths: tvb.tractLengths, labels: tvb.labels,
                                     weightsSource: "\(weightsPath)[weights.txt]", lengthsSource: "\(weightsPath)[tract_lengths.txt]")
            } else {
                guard let lengthsPath else {
                    throw WholeBrainError.badValue(source: "--lengths", value: "(missing)",
                                                   expected: "a fibre-length matrix (mm) to go with --connectome \(weightsPath), or a TVB .zip connectome")
                }
                raw = try Connectome(weights: try MatrixFile.load(path: weightsPath, variable: weightsVariable),
                                     lengths: try MatrixFile.load(path: lengthsPath, variable: lengthsVariable),
                                     weightsSource: weightsPath, lengthsSource: lengthsPath)
            }
            let prepared = try preparation.apply(to: raw)
            var fc: Matrix?
            if let boldPath {
                var bold = try MatrixFile.load(path: boldPath, variable: boldVariable)
                let n = prepared.regionCount
                // Accept regions x time or time x regions (as bold.npy is written).
                if bold.rows != n, bold.columns == n { bold = bold.transposed }
                guard bold.rows == n, bold.columns >= 3 else {
                    throw WholeBrainError.badFile(path: boldPath, problem: "has shape \(bold.shapeDescription); expected \(n) regions x time (or time x \(n))")
                }
                if let (r, c) = bold.firstNonFinite {
                    throw WholeBrainError.badFile(path: boldPath, problem: "region \(r) holds \(bold[r, c]) at sample \(c)")
                }
                fc = FunctionalConnectivity.pearson(regionsByTime: bold)
                var inputs = SimulationInputs(connectome: prepared, subject: nil, empiricalFC: fc, groupFC: nil, subjectFCs: [:])
                inputs.empiricalBold = bold
                return inputs
            }
            return SimulationInputs(connectome: prepared, subject: nil, empiricalFC: fc, groupFC: nil, subjectFCs: [:])
        }
    }
}
