import Foundation

/// The files one fit task of the protocol leaves for the last stage: candidate.json and
/// sc_gains.npy for the fitted candidate, candidate-shaped.json and sc_gains-shaped.npy for
/// its stage right after the shaping (`CandidateResult.Stage`).
extension HeldOutProtocol {
    static func suffix(_ stage: CandidateResult.Stage?) -> String { stage == .shaped ? "-shaped" : "" }

    /// Writes `results` (one candidate's stages) into `folder`.
    public static func write(_ results: [CandidateResult], into folder: OutputFolder) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for result in results {
            let suffix = suffix(result.stage)
            try folder.write("candidate\(suffix).json", bytes: [UInt8](try encoder.encode(result)))
            folder.record("candidate\(suffix).json", .init(kind: .json, description: result.stage == .shaped
                ? "the candidate right after the shaping, at the re-anchored G: values, train FC r, validation scores, identifiability"
                : "the fitted candidate: values, start, train FC r, validation scores, identifiability"))
            if let gains = result.gains {
                try folder.write("sc_gains\(suffix).npy", matrix: gains, dims: ["region", "region_to"], units: "dimensionless (multiplies the training group's connectome)",
                                 description: result.stage == .shaped ? "the connection gains right after the shaping" : "the candidate's fitted connection gains")
            }
        }
    }

    /// The fitted candidates in the subfolders of `folder` (each what `write` left), in the
    /// order of `models`, each followed by its shaped stage when there is one; a missing
    /// candidate is an error naming it.
    public static func readCandidates(_ folder: String, models: [Candidate]) throws -> [CandidateResult] {
        let subfolders = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var found: [String: CandidateResult] = [:], shaped: [String: CandidateResult] = [:]
        for name in subfolders {
            for stage in [CandidateResult.Stage.fitted, .shaped] {
                let path = folder + "/" + name + "/candidate\(suffix(stage)).json"
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                var result: CandidateResult
                do { result = try JSONDecoder().decode(CandidateResult.self, from: data) } catch {
                    throw WholeBrainError.badFile(path: path, problem: "is not a fitted candidate (\(error))")
                }
                guard (result.stage ?? .fitted) == stage else {
                    throw WholeBrainError.badFile(path: path, problem: "holds the \((result.stage ?? .fitted).rawValue) stage, not the \(stage.rawValue) one its name says")
                }
                let gains = folder + "/" + name + "/sc_gains\(suffix(stage)).npy"
                if FileManager.default.fileExists(atPath: gains) { result.gains = try NumpyFile.readMatrix(path: gains) }
                if stage == .shaped { shaped[result.candidate] = result } else { found[result.candidate] = result }
            }
        }
        return try models.flatMap { model -> [CandidateResult] in
            guard let result = found[model.name] else {
                throw WholeBrainError.missingFile(path: folder + "/*/candidate.json",
                                                  what: "candidate \(model.name) fitted with --fit-only (found: \(found.keys.sorted().joined(separator: "; ")))")
            }
            return [result] + (shaped[model.name].map { [$0] } ?? [])
        }
    }
}
