import Foundation
import RecorderEngine

/// The daemon's record of recordings in progress: one small JSON file per
/// recording in `STATE/journal/`, written before the session starts and
/// removed as soon as its file is final (before its finalize script runs).
/// What a crash leaves here is what `CrashRecovery` finishes on the next start.
struct Journal: Sendable {
    let directory: String
    /// `directory`, held open: entries are created, renamed and removed
    /// beneath it, never through a link swapped in for it or for an entry.
    private let confined: ConfinedDirectory

    struct Entry: Codable, Sendable {
        var id: String
        var file: String
        var finalizeScript: String?
        var metadata: [String: String]
        var startedAt: String
        /// The recordings directory `file` is confined to (recovery opens
        /// it beneath that); nil in entries of older daemons.
        var recordingsDirectory: String?
    }

    init(stateDirectory: String) throws {
        directory = (stateDirectory as NSString).appendingPathComponent("journal")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        confined = try ConfinedDirectory(path: directory)
    }

    private func path(_ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).json") }

    /// Writes the entry durably (write, fsync, rename), beneath `directory`.
    func write(_ entry: Entry) throws {
        let data = try JSONEncoder().encode(entry)
        let temporary = "\(entry.id).json.tmp"
        let descriptor = try confined.createFile(relative: temporary, mode: 0o600, overwrite: true)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            try confined.rename(temporary, to: "\(entry.id).json")
        } catch {
            try? confined.removeFile(relative: temporary)
            throw error
        }
    }

    func remove(_ id: String) {
        try? confined.removeFile(relative: "\(id).json")
    }

    /// Every entry a previous run left (unreadable ones are named by file).
    func leftovers() -> [(file: String, entry: Entry?)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let full = (directory as NSString).appendingPathComponent(name)
            let entry = (try? Data(contentsOf: URL(fileURLWithPath: full))).flatMap { try? JSONDecoder().decode(Entry.self, from: $0) }
            return (full, entry)
        }
    }
}
