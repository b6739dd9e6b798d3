import Foundation

/// An output folder written all-or-nothing: files go into a hidden sibling staging folder,
/// which is renamed onto the final path only when everything is written. A failed run
/// leaves nothing behind; an existing non-empty folder is replaced only with `force`.
public final class OutputFolder {
    public let finalPath: String
    public let stagingPath: String
    let force: Bool
    var committed = false

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
            try? FileManager.default.removeItem(atPath: stagingPath)
            try FileManager.default.createDirectory(atPath: stagingPath, withIntermediateDirectories: false)
        } catch {
            throw WholeBrainError.writeFailed(path: path, problem: error.localizedDescription)
        }
    }

    deinit { if !committed { try? FileManager.default.removeItem(atPath: stagingPath) } }

    public func write(_ name: String, bytes: [UInt8]) throws {
        let path = (stagingPath as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw WholeBrainError.writeFailed(path: (finalPath as NSString).appendingPathComponent(name), problem: "could not create file")
        }
    }

    public func write(_ name: String, text: String) throws { try write(name, bytes: Array(text.utf8)) }

    /// Moves the staged folder into place (replacing an old one when forced).
    public func commit() throws {
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
        } catch {
            throw WholeBrainError.writeFailed(path: finalPath, problem: error.localizedDescription)
        }
    }
}
