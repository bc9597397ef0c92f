import Foundation
import TestSupport

/// recorderd as a process on the bench, spoken to over real HTTP (curl).
final class Daemon: @unchecked Sendable {
    static let binary = Repository.product("recorderd")

    let recordings: String
    let scratch: String
    let address: String
    let process: ChildProcess
    let logPath: String
    var token: String?

    /// Starts recorderd on a free loopback port with `arguments`, writing to
    /// `recordings` (a fresh directory by default); returns once it listens.
    init(_ bench: TestBench, recordings: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
         token: String? = nil) throws {
        scratch = try bench.scratchDirectory("recorderd")
        if let recordings {
            self.recordings = recordings
        } else {
            self.recordings = "\(scratch)/recordings"
            try FileManager.default.createDirectory(atPath: self.recordings, withIntermediateDirectories: true)
        }
        logPath = "\(scratch)/recorderd.log"
        let ready = "\(scratch)/ready"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process = try ChildProcess([Self.binary, "--listen", "127.0.0.1:0", "--recordings-dir", self.recordings,
                                    "--ready-file", ready, "--log-format", "json"] + arguments,
                                   environment: env, standardError: .descriptor(log.fileDescriptor))
        self.token = token
        let deadline = Date().addingTimeInterval(60)
        var address: String?
        while Date() < deadline {
            if let text = try? String(contentsOfFile: ready, encoding: .utf8), !text.isEmpty { address = text; break }
            if let status = process.wait(timeout: 0.05)?.status {
                throw DaemonError.exited(status, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
            }
        }
        guard let address else { throw DaemonError.notReady }
        self.address = address
    }

    deinit {
        if process.wait(timeout: 0) == nil {
            process.send(SIGKILL)
            process.wait()
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    struct Answer {
        let status: Int
        let body: String
        let headers: [String: String]
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// One HTTP request; status 0 when no answer came (connection refused).
    @discardableResult
    func request(_ method: String, _ path: String, body: String? = nil, token: String?? = .none) throws -> Answer {
        let bodyFile = "\(scratch)/answer-\(UUID().uuidString.prefix(8))"
        let headerFile = bodyFile + ".headers"
        defer { unlink(bodyFile); unlink(headerFile) }
        var arguments = ["curl", "-s", "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}", "-X", method,
                         "--max-time", "120"]
        let bearer: String? = switch token { case .none: self.token; case let .some(value): value }
        if let bearer { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
        if let body {
            let requestFile = bodyFile + ".request"
            try body.write(toFile: requestFile, atomically: true, encoding: .utf8)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@\(requestFile)"]
        }
        arguments.append("http://\(address)\(path)")
        let result = try Subprocess.run(arguments)
        unlink(bodyFile + ".request")
        var headers: [String: String] = [:]
        for line in ((try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return Answer(status: Int(result.standardOutput) ?? 0,
                      body: (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? "", headers: headers)
    }

    /// Polls `GET /v1/recordings/ID` until `condition` holds (deadline in seconds).
    func waitFor(_ id: String, seconds: Double = 30, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try request("GET", "/v1/recordings/\(id)").json
            if condition(last) { return last }
            usleep(100_000)
        }
        throw DaemonError.timedOut("\(id): \(last)")
    }

    static func mediaSeconds(_ view: [String: Any]) -> Double {
        (view["statistics"] as? [String: Any])?["mediaSeconds"] as? Double ?? 0
    }

    /// `/metrics` parsed with prometheus_client's own text parser: each
    /// sample as `name{label="value",...}` (labels sorted) -> value.
    func metrics() throws -> [String: Double] {
        let text = try request("GET", "/metrics").body
        let file = "\(scratch)/metrics.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    out[s.name + ("{" + labels + "}" if labels else "")] = s.value
            print(json.dumps(out))
            """
        let result = try Subprocess.run(["python3", "-c", script, file])
        guard result.status == 0, let parsed = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Double]
        else { throw DaemonError.metrics(result.standardError) }
        return parsed
    }

    /// Stops the daemon with `signal` and waits (at most `seconds`).
    func stop(_ signal: Int32 = SIGTERM, seconds: Double = 90) -> Int32? {
        process.send(signal)
        return process.wait(timeout: seconds)?.status
    }
}

enum DaemonError: Error {
    case exited(Int32, String), notReady, timedOut(String), metrics(String)
}

/// Extra ALSA PCMs on the bench's PulseAudio: one null sink each, with a
/// capture PCM on its monitor and a playback PCM into it.
final class ExtraSinks: @unchecked Sendable {
    let names: [String]
    let configFile: String
    private var modules: [String] = []

    init(_ bench: TestBench, names: [String]) throws {
        self.names = names
        let server = ProcessInfo.processInfo.environment["PULSE_SERVER"] ?? ""
        var text = ""
        for name in names {
            let loaded = try Subprocess.run(["pactl", "load-module", "module-null-sink", "sink_name=\(name)", "rate=48000",
                                             "channels=2"])
            guard loaded.status == 0 else { throw DaemonError.metrics("pactl: \(loaded.standardError)") }
            modules.append(loaded.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
            text += "pcm.\(name)_capture { type pulse; device \"\(name).monitor\"; server \"\(server)\" }\n"
            text += "pcm.\(name)_playback { type pulse; device \"\(name)\"; server \"\(server)\" }\n"
        }
        configFile = "\(try bench.scratchDirectory("sinks"))/asound.conf"
        try text.write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    /// ALSA_CONFIG_PATH with these PCMs added.
    var alsaConfigPath: String {
        (ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"] ?? "/usr/share/alsa/alsa.conf") + ":" + configFile
    }

    deinit {
        for module in modules { _ = try? Subprocess.run(["pactl", "unload-module", module]) }
    }
}

/// A tone played into an ALSA PCM until stopped: aplay itself is the
/// child, so stopping it stops the sound (a shell pipeline would leave its
/// player running, and PulseAudio moves a player whose sink goes away to
/// another sink).
func playTone(_ frequency: Int, into pcm: String, alsaConfigPath: String? = nil, seconds: Int = 30) throws -> ChildProcess {
    var environment = ProcessInfo.processInfo.environment
    if let alsaConfigPath { environment["ALSA_CONFIG_PATH"] = alsaConfigPath }
    // In the bench's directory, removed with the bench.
    let directory = ProcessInfo.processInfo.environment["BENCH_DIR"] ?? NSTemporaryDirectory()
    let file = directory + "/recorderd-tone-\(frequency)-\(UUID().uuidString.prefix(8)).wav"
    let made = try Subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", file, "synth", "\(seconds)",
                                   "sine", "\(frequency)", "vol", "0.5"])
    guard made.status == 0 else { throw DaemonError.metrics("sox: \(made.standardError)") }
    return try ChildProcess(["aplay", "-q", "-D", pcm, file], environment: environment)
}

/// A display of its own with one colour over the recorded region. The
/// window's connection is closed before the server stops (Xlib ends the
/// process when its server goes away under it).
final class ColouredDisplay {
    let server: PrivateXServer
    private var window: TestWindow?
    let rgb: (Int, Int, Int)

    init(_ rgb: (Int, Int, Int), width: Int = 640, height: Int = 480) throws {
        server = try PrivateXServer(width: width, height: height)
        window = try TestWindow(displayName: server.display, x: 0, y: 0, width: width, height: height)
        self.rgb = rgb
        paint(rgb)
    }

    func paint(_ rgb: (Int, Int, Int)) {
        window?.fill(UInt32(rgb.0 << 16 | rgb.1 << 8 | rgb.2), x: 0, y: 0, width: 4096, height: 4096)
        window?.sync()
    }

    var display: String { server.display }

    deinit { window = nil }
}

/// Checks a finished recording: a regular MP4 (moov before mdat, no
/// fragments) with H.264 (and AAC when `tone`), the colour at the centre of
/// a frame in the middle, and the tone's frequency.
func checkRecording(_ path: String, colour: (Int, Int, Int)?, tone: Double?, width: Int = 640, height: Int = 480)
    throws -> (probe: MediaProbe, problems: [String])
{
    var problems: [String] = []
    let probe = try MediaProbe(path: path)
    let boxes = try MediaProbe.topLevelBoxes(path)
    if let moov = boxes.firstIndex(of: "moov"), let mdat = boxes.firstIndex(of: "mdat") {
        if moov > mdat { problems.append("moov after mdat: \(boxes)") }
    } else {
        problems.append("no moov or mdat: \(boxes)")
    }
    if boxes.contains("moof") { problems.append("still fragmented: \(boxes)") }
    guard let video = probe.video, video.codec == "h264", video.width == width, video.height == height else {
        return (probe, problems + ["video stream: \(String(describing: probe.video))"])
    }
    let duration = probe.duration ?? 0
    if let colour {
        let rgb = try MediaProbe.decodeFrameRGB(path, at: duration / 2)
        let offset = ((height / 2) * width + width / 2) * 3
        if rgb.count >= offset + 3 {
            let got = (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
            if abs(got.0 - colour.0) > 24 || abs(got.1 - colour.1) > 24 || abs(got.2 - colour.2) > 24 {
                problems.append("colour \(got), expected \(colour)")
            }
        } else {
            problems.append("no frame decoded")
        }
    }
    if let tone {
        if probe.audio?.codec != "aac" { problems.append("no AAC stream") }
        let samples = try MediaProbe.decodeAudio(path, start: 1, seconds: max(1, duration - 2))
        let frequency = ToneAnalysis.medianFrequency(of: samples, sampleRate: 44_100) ?? 0
        if abs(frequency - tone) > 2 { problems.append("tone \(frequency) Hz, expected \(tone)") }
    }
    return (probe, problems)
}
