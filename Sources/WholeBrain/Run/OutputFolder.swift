import Foundation

/// An output folder written all-or-nothing: files go into a hidden sibling staging folder,
/// which is renamed onto the final path only when everything is written. A failed run
/// leaves nothing behind; an existing non-empty folder is replaced only with `force`. A run
/// ended by SIGINT or SIGTERM removes its staging folder (`StagingFolders.removeAll`, called
/// by the command line's signal handler); one killed outright (SIGKILL) leaves it, and the
/// next run for the same output removes staging folders whose process is gone.
public final class OutputFolder {
    public let finalPath: String
    public let stagingPath: String
    let force: Bool
    var committed = false
    /// What the folder's files hold (`RunManifest`), written as manifest.json by `commit`.
    public var manifest: RunManifest?

    /// Checks the destination before any work is done.
    public static func checkDestination(_ path: String, force: Bool) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw WholeBrainError.badValue(source: "--out", value: path, expected: "a folder path, not an existing file")
            }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if !contents.isEmpty && !force { throw WholeBrainError.outputExists(path: path) }
        }
    }

    public init(path: String, force: Bool) throws {
        try OutputFolder.checkDestination(path, force: force)
        finalPath = path
        self.force = force
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent().path
        stagingPath = (parent as NSString).appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            OutputFolder.removeStale(parent: parent, name: url.lastPathComponent)
            try? FileManager.default.removeItem(atPath: stagingPath)
            try FileManager.default.createDirectory(atPath: stagingPath, withIntermediateDirectories: false)
        } catch {
            throw WholeBrainError.writeFailed(path: path, problem: error.localizedDescription)
        }
        StagingFolders.register(stagingPath)
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(atPath: stagingPath) }
        StagingFolders.unregister(stagingPath)
    }

    /// Removes `.NAME.partial-PID` (and `.old`) siblings left by runs whose process is gone.
    static func removeStale(parent: String, name: String) {
        let prefix = ".\(name).partial-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix(prefix) {
            let digits = entry.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(entry))
        }
    }

    public func write(_ name: String, bytes: [UInt8]) throws {
        let path = (stagingPath as NSString).appendingPathComponent(name)
        if name.contains("/") {  // a file in a subfolder (fold-1/report.html)
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw WholeBrainError.writeFailed(path: (finalPath as NSString).appendingPathComponent(name), problem: "could not create file")
        }
    }

    public func write(_ name: String, text: String) throws { try write(name, bytes: Array(text.utf8)) }

    /// Moves the staged folder into place (replacing an old one when forced).
    public func commit() throws {
        if let manifest { try write("manifest.json", bytes: try manifest.encoded()) }
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: finalPath) {
                let trash = stagingPath + ".old"
                try fm.moveItem(atPath: finalPath, toPath: trash)
                try fm.moveItem(atPath: stagingPath, toPath: finalPath)
                try? fm.removeItem(atPath: trash)
            } else {
                try fm.moveItem(atPath: stagingPath, toPath: finalPath)
            }
            committed = true
            StagingFolders.unregister(stagingPath)
        } catch {
            throw WholeBrainError.writeFailed(path: finalPath, problem: error.localizedDescription)
        }
    }
}

/// The staging folders of this process that are not committed yet, for a signal handler to
/// remove before the process exits.
public enum StagingFolders {
    nonisolated(unsafe) static var paths = Set<String>()
    static let lock = NSLock()

    static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    /// Removes every registered staging folder (from a signal handler's queue).
    public static func removeAll() {
        lock.lock()
        let all = paths
        paths.removeAll()
        lock.unlock()
        for path in all { try? FileManager.default.removeItem(atPath: path) }
    }
}
