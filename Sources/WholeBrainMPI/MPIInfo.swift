import CMPI

/// Facts about the MPI library this binary is linked against. The communicator
/// abstraction and its MPI implementation grow here; only this target imports MPI.
public enum MPIInfo {
    /// The version string of the MPI library (`MPI_Get_library_version`), which works
    /// before `MPI_Init`.
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        let text = String(cString: buffer)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    }

    /// The MPI standard version implemented, e.g. "3.1".
    public static var standardVersion: String {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return "\(major).\(minor)"
    }
}
