import Foundation
import HostProcesses

/// The recorderd way: one spawned `recorderd`, N page recordings at once
/// (each its own workspace: Xvfb + PulseAudio, chromium, the engine
/// recording them in the daemon's process), asked for over its HTTP API
/// (`curl`).
final class DaemonMeetings {
    private let process: ChildProcess
    private let base: String
    private let directory: String
    let sandbox: Bool

    /// Starts recorderd with pages allowed from `allowPattern`, admission out of the way
    /// (`--cpu-share 4`: the benchmark finds the limit by measurement, not by estimate).
    /// `sandbox` false sets `browserNoSandbox` (needed as root); `browserNice` sets
    /// `browserNice` (nil: the daemon's default).
    /// - Throws: `BenchFailure` when it is missing or not ready within 30 s.
    init(binary: String, directory: String, allowPattern: String, sandbox: Bool, browserNice: Int?) throws {
        self.directory = directory
        self.sandbox = sandbox
        try FileManager.default.createDirectory(atPath: "\(directory)/recordings", withIntermediateDirectories: true)
        let configuration = "\(directory)/recorderd.yaml", ready = "\(directory)/ready"
        try """
            pageAllowList: ['\(allowPattern)']
            browserNoSandbox: \(sandbox ? "false" : "true")
            browserLaunchConcurrency: 8
            startTimeoutSeconds: 120
            pageStartTimeoutSeconds: 120
            \(browserNice.map { "browserNice: \($0)" } ?? "")

            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        guard access(binary, X_OK) == 0 else { throw BenchFailure("--recorderd: \(binary) is missing: build the recorderd product") }
        process = try ChildProcess([binary, "--listen", "127.0.0.1:0", "--recordings-dir", "\(directory)/recordings",
                                    "--config", configuration, "--ready-file", ready, "--log-level", "warning",
                                    "--cpu-share", "4"],
                                   standardError: .file("\(directory)/recorderd.log"))
        let deadline = Date().addingTimeInterval(30)
        var address = ""
        while address.isEmpty {
            address = ((try? String(contentsOfFile: ready, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard address.isEmpty else { break }
            guard Date() < deadline else { process.stop(); throw BenchFailure("recorderd was not ready within 30 s (see \(directory)/recorderd.log)") }
            usleep(50_000)
        }
        base = "http://\(address)"
    }

    var pid: Int32 { process.pid }

    /// One call: status and the answer's JSON object.
    private func call(_ method: String, _ path: String, body: String? = nil) throws -> (Int, [String: Any]) {
        Self.parse(try Self.send(method, base + path, body: body))
    }

    /// curl's output: the answer, then a line with the status.
    private static func send(_ method: String, _ url: String, body: String?) throws -> String {
        var arguments = ["curl", "-s", "-m", "180", "-X", method, "-w", "\n%{http_code}", url]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        return String(decoding: try BenchTools.output(arguments), as: UTF8.self)
    }

    private static func parse(_ text: String) -> (Int, [String: Any]) {
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        let json = text.split(separator: "\n").dropLast().joined(separator: "\n")
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        return (status, object)
    }

    /// Records N meetings of `url` at once at `frame`: N requests sent together, the CPU
    /// window once all record, then each stopped and its statistics read.
    /// Its files are read as the Jibri way's are (`MeetingFile`).
    func record(meetings: Int, url: String, frame: FrameSize, fps: Int, seconds: Double, lagLimit: Double,
                lateTolerance: Double) async throws -> MeetingStep {
        var step = MeetingStep(way: .recorderd, meetings: meetings, lagLimit: lagLimit, lateTolerance: lateTolerance)
        let files = (0..<meetings).map { "meetings-\(meetings)-\($0)-\(UUID().uuidString.prefix(8)).mp4" }
        let bodies = try (0..<meetings).map { index in
            let body: [String: Any] = [
                "page": ["url": url, "width": frame.width, "height": frame.height,
                         "start": ["on": "console", "text": "START_RECORDING"]],
                "fps": fps, "video": ["preset": "ultrafast", "crf": 25, "profile": "main", "gop": 60],
                "audio": ["rate": 44100, "bitrate": "128k"], "file": files[index],
                "noMedia": ["silenceSeconds": NSNull(), "frozenSeconds": NSNull()]]
            return String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        }
        // Sent at once (a request answers once its page records).
        let endpoint = base + "/v1/recordings"
        let texts = await withTaskGroup(of: (Int, String, String?).self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask {
                    do { return (index, try Self.send("POST", endpoint, body: body), nil) } catch { return (index, "", "\(error)") }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var ids: [String] = [], fileOf: [String: String] = [:]
        for (index, text, error) in texts {
            let (status, object) = Self.parse(text)
            if let id = object["id"] as? String {
                ids.append(id)
                fileOf[id] = files[index]
            }
            if status != 201 || object["state"] as? String != "recording" {
                step.errors.append("POST answered \(status) \(object["state"].map { "\($0)" } ?? "") \(object["error"].map { "\($0)" } ?? error ?? "")")
            }
        }
        defer { for id in ids { _ = try? call("POST", "/v1/recordings/\(id)/stop") } }
        guard step.errors.isEmpty else { return step }

        try await step.measure(PartUsage.Parts(daemon: process.pid), seconds: seconds)
        var stopped: [String: Date] = [:]
        for id in ids {
            stopped[id] = Date()
            _ = try call("POST", "/v1/recordings/\(id)/stop")
        }
        // Every recording polled in turn, so each one's end is seen when it comes.
        var views: [String: [String: Any]] = [:]
        let deadline = Date().addingTimeInterval(60)
        while views.count < ids.count {
            for id in ids where views[id] == nil {
                let view = try call("GET", "/v1/recordings/\(id)").1
                if ["finished", "failed", "scriptFailed", "scriptTimedOut"].contains(view["state"] as? String ?? "") {
                    views[id] = view
                    // How long the recording took to end after its stop (as ffmpeg's time past its -t).
                    step.worstLag = max(step.worstLag, Date().timeIntervalSince(stopped[id] ?? Date()))
                } else if Date() > deadline {
                    views[id] = view
                    step.errors.append("\(id) still \(view["state"].map { "\($0)" } ?? "") 60 s after its stop")
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for id in ids {
            step.count(views[id] ?? [:], id: id, file: fileOf[id].map { "\(directory)/recordings/\($0)" }, fps: fps)
        }
        ids.removeAll()
        return step
    }

    deinit { process.stop(grace: 30) }
}
