public import Foundation

/// Headless Chromium (Debian's `chromium`) driven through the DevTools
/// protocol over a pipe (`--remote-debugging-pipe`: commands on the child's
/// fd 3, replies on fd 4, JSON messages ended by a NUL byte), so a test can
/// load a page and wait for a promise it makes, without a WebSocket client
/// and without sleeping.
public enum HeadlessChromium {
    /// What a `<video>` element made of a file.
    public struct VideoPlayback: Sendable {
        /// `video.duration` once the metadata loaded (seconds).
        public let duration: Double?
        /// `video.currentTime` after seeking near the end.
        public let seekedTo: Double?
        /// `video.currentTime` at the `ended` event; nil when it never ended.
        public let endedAt: Double?
        /// The media error (`MediaError.code` and message), if one came.
        public let error: String?
        /// Every event the page logged, in order.
        public let log: [String]
    }

    /// Loads `path` in a muted `<video>` on a local file:// page, reads its
    /// duration, seeks to `secondsBeforeEnd` before the end, plays to the end.
    /// Throws when Chromium cannot be started or does not answer within `timeout`.
    public static func playVideo(_ path: String, secondsBeforeEnd: Double = 1.5, timeout: Double = 90) throws -> VideoPlayback {
        let url = URL(fileURLWithPath: path)
        let page = url.deletingLastPathComponent().appendingPathComponent(".play-\(UUID().uuidString.prefix(8)).html")
        try """
            <!doctype html><html><body>
            <video id="v" muted preload="auto" src="\(url.lastPathComponent)"></video>
            <script>
            var events = [];
            var result = new Promise((resolve) => {
              const v = document.getElementById('v');
              const done = () => resolve(JSON.stringify(events));
              v.addEventListener('loadedmetadata', () => {
                events.push('duration ' + v.duration);
                v.currentTime = Math.max(0, v.duration - \(secondsBeforeEnd));
              });
              v.addEventListener('seeked', () => {
                events.push('seeked ' + v.currentTime);
                v.play().catch((e) => { events.push('error play ' + e); done(); });
              });
              v.addEventListener('ended', () => { events.push('ended ' + v.currentTime); done(); });
              v.addEventListener('error', () => {
                events.push('error ' + (v.error ? v.error.code + ' ' + v.error.message : '?')); done();
              });
            });
            </script></body></html>
            """.write(to: page, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: page) }
        let value = try evaluate(page: page.absoluteString, expression: "result", timeout: timeout)
        let log = (try? JSONSerialization.jsonObject(with: Data((value as? String ?? "[]").utf8))) as? [String] ?? []
        func number(after prefix: String) -> Double? {
            log.first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.dropFirst(prefix.count + 1)) }
        }
        return VideoPlayback(duration: number(after: "duration"), seekedTo: number(after: "seeked"),
                             endedAt: number(after: "ended"), error: log.first { $0.hasPrefix("error") }, log: log)
    }

    /// Opens `page` in a new headless Chromium, waits for its load event,
    /// evaluates `expression` (awaiting it when it is a promise) and returns
    /// its value as JSON gives it (String, Double, Bool, arrays, dictionaries).
    public static func evaluate(page: String, expression: String, timeout: Double = 90) throws -> Any? {
        let profile = NSTemporaryDirectory() + "chromium-profile-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let commands = Pipe(), replies = Pipe()
        let child = try ChildProcess(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
             "--autoplay-policy=no-user-gesture-required", "--user-data-dir=\(profile)", "--remote-debugging-pipe",
             "about:blank"],
            passing: [(commands.fileHandleForReading.fileDescriptor, 3), (replies.fileHandleForWriting.fileDescriptor, 4)])
        try commands.fileHandleForReading.close()
        try replies.fileHandleForWriting.close()
        var connection = Connection(commands: commands.fileHandleForWriting.fileDescriptor,
                                    replies: replies.fileHandleForReading.fileDescriptor,
                                    deadline: Date().addingTimeInterval(timeout))
        defer {
            connection.send(["id": 999, "method": "Browser.close"])
            if child.wait(timeout: 10) == nil {
                child.send(SIGKILL)
                child.wait()
            }
        }
        let target = try connection.call("Target.createTarget", ["url": "about:blank"])
        let targetID = try require(target["targetId"] as? String, "no target id")
        let attached = try connection.call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        let session = try require(attached["sessionId"] as? String, "no session id")
        _ = try connection.call("Page.enable", [:], session: session)
        _ = try connection.call("Page.navigate", ["url": page], session: session)
        try connection.waitForEvent("Page.loadEventFired")
        let evaluated = try connection.call("Runtime.evaluate", ["expression": expression, "awaitPromise": true,
                                                                 "returnByValue": true], session: session)
        if let exception = evaluated["exceptionDetails"] as? [String: Any] {
            throw ChromiumError(message: "the page threw: \(exception["text"] ?? exception)")
        }
        return (evaluated["result"] as? [String: Any])?["value"]
    }

    public struct ChromiumError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { "headless chromium: \(message)" }
    }

    private static func require<T>(_ value: T?, _ message: String) throws -> T {
        guard let value else { throw ChromiumError(message: message) }
        return value
    }

    /// The DevTools pipe: numbered calls, and the events between their replies.
    private struct Connection {
        let commands: Int32
        let replies: Int32
        let deadline: Date
        var nextID = 1
        var buffer = Data()
        var events: [String] = []

        init(commands: Int32, replies: Int32, deadline: Date) {
            self.commands = commands
            self.replies = replies
            self.deadline = deadline
        }

        func send(_ message: [String: Any]) {
            guard var data = try? JSONSerialization.data(withJSONObject: message) else { return }
            data.append(0)
            data.withUnsafeBytes { _ = Foundation.write(commands, $0.baseAddress, $0.count) }
        }

        mutating func call(_ method: String, _ parameters: [String: Any], session: String? = nil) throws -> [String: Any] {
            let id = nextID
            nextID += 1
            var message: [String: Any] = ["id": id, "method": method, "params": parameters]
            if let session { message["sessionId"] = session }
            send(message)
            while true {
                let reply = try nextMessage()
                if let method = reply["method"] as? String { events.append(method) }
                guard reply["id"] as? Int == id else { continue }
                if let error = reply["error"] { throw ChromiumError(message: "\(method): \(error)") }
                return reply["result"] as? [String: Any] ?? [:]
            }
        }

        mutating func waitForEvent(_ method: String) throws {
            if let index = events.firstIndex(of: method) {
                events.remove(at: index)
                return
            }
            while true {
                if try nextMessage()["method"] as? String == method { return }
            }
        }

        /// The next whole message, waiting for it until the deadline.
        private mutating func nextMessage() throws -> [String: Any] {
            while true {
                if let end = buffer.firstIndex(of: 0) {
                    let message = buffer[buffer.startIndex..<end]
                    buffer = Data(buffer[(end + 1)...])
                    return (try? JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
                }
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { throw ChromiumError(message: "no answer before the deadline") }
                var descriptor = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, Int32(min(left, 1) * 1000))
                if ready < 0 && errno != EINTR { throw ChromiumError(message: "poll: \(String(cString: strerror(errno)))") }
                guard ready > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let count = read(replies, &chunk, chunk.count)
                guard count > 0 else { throw ChromiumError(message: "chromium closed the pipe") }
                buffer.append(contentsOf: chunk[0..<count])
            }
        }
    }
}
