import Foundation
import TestSupport

/// `jicofo_player.py` (python3-slixmpp) as a child process: commands in as
/// JSON lines, what it saw out as JSON lines, kept for the test to wait on.
final class JicofoPlayer: @unchecked Sendable {
    struct Event: @unchecked Sendable {
        let fields: [String: Any]
        var name: String { fields["event"] as? String ?? "" }
        subscript(key: String) -> String? { fields[key].map { "\($0)" } }
    }

    private let process: ChildProcess
    private let input: FileHandle
    private let lock = NSLock()
    private var events: [Event] = []
    private var reader: Thread?

    init(server: ProsodyServer, nick: String = "focus", pendingTimeout: Double = 90) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("jicofo_player.py").path
        let stdin = Pipe(), stdout = Pipe()
        process = try ChildProcess(
            ["/usr/bin/python3", script, "--jid", "focus@auth.\(ProsodyServer.domain)", "--password", ProsodyServer.focusPassword,
             "--port", "\(server.port)", "--ca", server.caFile, "--brewery", server.breweryJID, "--nick", nick,
             "--pending-timeout", "\(pendingTimeout)"],
            standardInput: .descriptor(stdin.fileHandleForReading.fileDescriptor),
            standardOutput: .descriptor(stdout.fileHandleForWriting.fileDescriptor),
            standardError: .file("\(server.directory)/player-\(nick).log"))
        try stdin.fileHandleForReading.close()
        try stdout.fileHandleForWriting.close()
        input = stdin.fileHandleForWriting
        let output = stdout.fileHandleForReading
        let thread = Thread { [weak self] in
            var buffer = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer.removeSubrange(buffer.startIndex...newline)
                    if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
                        self?.lock.withLock { self?.events.append(Event(fields: object)) }
                    }
                }
            }
        }
        thread.start()
        reader = thread
    }

    deinit { quit() }

    func send(_ command: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: command) else { return }
        try? input.write(contentsOf: data + Data([0x0A]))
    }

    func quit() {
        if process.isRunning {
            send(["cmd": "quit"])
            if process.wait(timeout: 5) == nil {
                process.send(SIGKILL)
                process.wait()
            }
        }
        try? input.close()
    }

    var all: [Event] { lock.withLock { events } }

    /// The first event (from `after` on) that `matches`, waiting up to `seconds`.
    @discardableResult
    func wait(_ what: String, seconds: Double = 15, after: Int = 0,
              _ matches: (Event) -> Bool = { _ in true }) async throws -> Event {
        // Asleep in the task, not in the thread: a blocked thread of the
        // cooperative pool (two on this host) would starve the daemon under test.
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let event = all.dropFirst(after).first(where: matches) { return event }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FixtureError.failed("no \(what) within \(seconds) s; the player saw:\n"
                                  + all.map { "\($0.fields)" }.joined(separator: "\n"))
    }

    /// Waits up to `seconds` until at least `count` instances are available (healthy and idle).
    func waitAvailable(_ count: Int, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while instances.values.filter({ $0["available"] == "1" }).count < count {
            guard Date() < deadline else {
                throw FixtureError.failed("fewer than \(count) instances available within \(seconds) s; the player saw:\n"
                                          + all.map { "\($0.fields)" }.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The latest `instance` event of each occupant.
    var instances: [String: Event] {
        var latest: [String: Event] = [:]
        for event in all {
            if event.name == "instance", let occupant = event["occupant"] { latest[occupant] = event }
            if event.name == "instance_left", let occupant = event["occupant"] { latest[occupant] = nil }
        }
        return latest
    }
}
