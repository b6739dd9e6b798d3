/// Loads a numeric matrix from any format the readers take, chosen by file extension:
/// `.mat` (MATLAB v5, `variable` names the array), `.npy`, `.npz` (`variable` names the
/// member), and delimited text (`.csv`, `.tsv`, `.txt`, `.dat`, anything else).
public enum MatrixFile {
    public static func load(path: String, variable: String? = nil) throws -> Matrix {
        let lower = path.lowercased()
        if lower.hasSuffix(".mat") { return try MatFile.matrix(path: path, variable: variable) }
        if lower.hasSuffix(".npy") { return try NumpyFile.readMatrix(path: path) }
        if lower.hasSuffix(".npz") { return try NumpyFile.readMatrix(npz: path, member: variable) }
        if lower.hasSuffix(".zip") {
            throw WholeBrainError.badFile(path: path, problem: "a zip is read as a TVB connectivity with --connectome FILE.zip, not as a single matrix")
        }
        return try DelimitedText.readMatrix(path: path)
    }
}
