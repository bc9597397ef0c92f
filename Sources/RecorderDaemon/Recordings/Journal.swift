import Foundation

/// The daemon's record of recordings in progress: one small JSON file per
/// recording in `STATE/journal/`, written before the session starts and
/// removed as soon as its file is final (before its finalize script runs).
/// What a crash leaves here is what `CrashRecovery` finishes on the next start.
struct Journal: Sendable {
    let directory: String

    struct Entry: Codable, Sendable {
        var id: String
        var file: String
        var finalizeScript: String?
        var metadata: [String: String]
        var startedAt: String
    }

    init(stateDirectory: String) throws {
        directory = (stateDirectory as NSString).appendingPathComponent("journal")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    private func path(_ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).json") }

    /// Writes the entry durably (write, fsync, rename).
    func write(_ entry: Entry) throws {
        let data = try JSONEncoder().encode(entry)
        let final = path(entry.id)
        let temporary = final + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let descriptor = open(temporary, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(temporary, final) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func remove(_ id: String) {
        unlink(path(id))
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
