import Foundation

/// `manifest.json`: what every file of a run folder holds, so that the folder explains itself
/// without WholeBrain's code. Arrays name their dimensions, units and shape; shared coordinates
/// (region labels, sample times, frequencies, state variables) are given once; tables name
/// their columns with units. The Python reader (`python/wholebrain`, `wholebrain.load`) builds
/// labelled arrays from it, and anyone else can with `json` and `numpy` alone.
///
/// Format "wholebrain-run/1":
///
///     {"format": "wholebrain-run/1", "command": "simulate", "version": "...",
///      "coordinates": {"region": {"labels": [...]},
///                      "time": {"start": 0.72, "step": 0.72, "count": 1200, "units": "s",
///                               "description": "..."}},
///      "files": {"bold.npy": {"kind": "array", "dims": ["time", "region"], "shape": [1200, 80],
///                             "units": "...", "description": "..."}, ...}}
///
/// A coordinate is either labels, a regular grid (start, step, count) or explicit values.
public struct RunManifest: Codable, Sendable, Equatable {
    public static let currentFormat = "wholebrain-run/1"

    public var format = RunManifest.currentFormat
    public var command: String
    public var version: String
    public var coordinates: [String: Coordinate] = [:]
    public var files: [String: Entry] = [:]

    public init(command: String) {
        self.command = command
        version = WholeBrainVersion.string
    }

    /// One axis shared by arrays: names (labels), a regular grid, or listed values.
    public struct Coordinate: Codable, Sendable, Equatable {
        public var labels: [String]?
        public var start: Double?, step: Double?, count: Int?
        public var values: [Double]?
        public var units: String?
        public var description: String?

        public static func labels(_ labels: [String], description: String? = nil) -> Coordinate {
            Coordinate(labels: labels, description: description)
        }
        public static func grid(start: Double, step: Double, count: Int, units: String, description: String? = nil) -> Coordinate {
            Coordinate(start: start, step: step, count: count, units: units, description: description)
        }
        public static func values(_ values: [Double], units: String, description: String? = nil) -> Coordinate {
            Coordinate(values: values, units: units, description: description)
        }
    }

    /// One file: an array (.npy), a table (CSV), a JSON document, other text or a report.
    /// A name holding NNNNN stands for a numbered series of files (a sweep's points).
    public struct Entry: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case array, table, json, text, report }
        public var kind: Kind
        public var description: String
        /// Arrays: dimension names (each a coordinate's name when one exists) and shape.
        public var dims: [String]?
        public var shape: [Int]?
        public var units: String?
        /// Tables: each column's meaning with its units.
        public var columns: [String: String]?

        public init(kind: Kind, description: String, dims: [String]? = nil, shape: [Int]? = nil, units: String? = nil,
                    columns: [String: String]? = nil) {
            self.kind = kind; self.description = description; self.dims = dims; self.shape = shape; self.units = units
            self.columns = columns
        }
    }

    /// Region labels, for both axes of a region x region matrix (`region`, `region_to`).
    public mutating func addRegions(_ labels: [String], description: String = "brain regions, in the connectome's order") {
        coordinates["region"] = .labels(labels, description: description)
        coordinates["region_to"] = .labels(labels, description: "the same regions, second axis of a region x region matrix")
    }

    /// Region labels and BOLD sample times of a run: sample k at (k + 1) TR after the transient.
    public mutating func addRunCoordinates(regionLabels: [String], tr: Double, samples: Int) {
        addRegions(regionLabels)
        coordinates["time"] = .grid(start: tr, step: tr, count: samples, units: "s",
                                    description: "BOLD sample times after the discarded transient (sample k at (k + 1) TR)")
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0a]
    }
}

extension OutputFolder {
    /// Starts the folder's manifest (written by `commit`); `command` names what wrote it.
    public func describeRun(command: String, configure: (inout RunManifest) -> Void = { _ in }) {
        var m = manifest ?? RunManifest(command: command)
        m.command = command
        configure(&m)
        manifest = m
    }

    /// Writes a matrix as `.npy` and records it in the manifest.
    public func write(_ name: String, matrix: Matrix, oneDimensional: Bool = false, dims: [String], units: String?, description: String) throws {
        try write(name, bytes: NumpyFile.encode(matrix, oneDimensional: oneDimensional))
        record(name, RunManifest.Entry(kind: .array, description: description, dims: dims,
                                       shape: oneDimensional ? [matrix.values.count] : [matrix.rows, matrix.columns], units: units))
    }

    /// Writes a C-ordered array of any shape as `.npy` and records it in the manifest.
    public func write(_ name: String, values: [Double], shape: [Int], dims: [String], units: String?, description: String) throws {
        try write(name, bytes: NumpyFile.encode(values: values, shape: shape))
        record(name, RunManifest.Entry(kind: .array, description: description, dims: dims, shape: shape, units: units))
    }

    /// Records a file written otherwise (a table, JSON or report) in the manifest.
    public func record(_ name: String, _ entry: RunManifest.Entry) {
        if manifest == nil { manifest = RunManifest(command: "") }
        manifest!.files[name] = entry
    }

    /// report.html, built from the staged files as `wholebrain report DIR` rebuilds it; the
    /// manifest is written first so the report can read the folder's coordinates (TR, FCD
    /// windows), and again at `commit`.
    public func writeReport(description: String) throws {
        record("report.html", .init(kind: .report, description: description))
        if let manifest { try write("manifest.json", bytes: try manifest.encoded()) }
        try write("report.html", text: try FolderReport.html(folder: stagingPath))
    }
}
