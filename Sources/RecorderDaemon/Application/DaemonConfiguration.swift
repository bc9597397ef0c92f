import Foundation
public import Logging
import RecorderEngine
import Yams

/// Everything recorderd can be told, with its default. Read from a YAML file
/// (`--config`, keys as below, unknown keys refused) and overridden by the
/// command line; docs/DEPLOY.md lists every key.
public struct DaemonConfiguration: Sendable {
    /// `HOST:PORT` to listen on. Loopback by default; any other address
    /// needs `tokenFile`.
    public var listen = "127.0.0.1:8270"
    /// Where recordings are written; request file names are relative to it.
    public var recordingsDir = ""
    /// The daemon's own state (journal of running recordings, workspaces);
    /// default `RECORDINGS_DIR/.recorderd`.
    public var stateDir: String?
    /// A file holding the Bearer token every /v1 request must carry.
    public var tokenFile: String?
    /// `/health`, the Jibri health and `/metrics` answer without the token.
    public var openHealthEndpoints = true
    /// Largest request body accepted, bytes.
    public var maxBodyBytes = 65_536
    /// Largest request head (request line and header fields), bytes: NIO's
    /// decoder limit; a larger head is a 400 and the connection closed.
    public var maxHeaderBytes = 16_384
    /// A connection that brings no complete request head within this time
    /// after it opened or after its last answer is closed (slow headers and
    /// idle keep-alive connections alike), seconds.
    public var idleTimeoutSeconds = 30.0
    /// Share of the cores the recordings may be estimated to use.
    public var cpuShare = 0.8
    /// Cores to count; default: the cgroup's CPU quota, else the online CPUs.
    public var cores: Double?
    /// Refuse a recording when the free disk would last fewer minutes at the
    /// expected bit rate of all recordings.
    public var minFreeMinutes = 30.0
    /// Expected bits per pixel per frame of a recording with no `maxrate`,
    /// for the disk check (0.1: 720p30 is 2.8 Mbit/s, 1080p30 6.2 Mbit/s).
    public var bitsPerPixel = 0.1
    /// Retry-After (seconds) of a refusal for want of CPU or disk.
    public var retryAfterSeconds = 30
    /// SIGTERM: recordings get this long to stop and finish (and their
    /// finalize scripts to run) before they are cancelled.
    public var shutdownTimeoutSeconds = 60.0
    /// How long `POST /v1/recordings` waits for the recording to start.
    public var startTimeoutSeconds = 15.0
    /// How long a waiting `POST .../stop` waits for the file to be final.
    public var stopTimeoutSeconds = 60.0
    /// Run after each recording's file is final (and for recovered files),
    /// with the file's directory as its argument, as Jibri runs finalize.sh.
    public var finalizeScript: String?
    /// Longest a finalize script may run; then its process group is ended
    /// and the recording is `scriptTimedOut`.
    public var finalizeTimeoutSeconds = 600.0
    /// The display a Jibri-style controller records on (Jibri's `:0`): the
    /// Jibri health says BUSY while a recording holds it. Unset: BUSY while
    /// any recording runs, as Jibri is while it records.
    public var jibriDisplay: String?
    /// Regular expressions a stream URL must match whole (Jibri's
    /// rtmp-allow-list). Empty: streaming is refused.
    public var streamAllowList: [String] = []
    /// Accept `srt://` stream URLs (which must match `streamAllowList` too);
    /// off: only `rtmp://` and `rtmps://`.
    public var allowSRT = false
    /// A file whose first line is the passphrase (10 to 79 characters) every
    /// `srt://` stream is encrypted with; read when a recording starts, never
    /// shown. nil: SRT streams are not encrypted.
    public var srtPassphraseFile: String?
    /// Finished recordings kept for GET and their metrics.
    public var keepFinished = 100
    /// Seconds a finished recording's metric series (`recorder_*{session}`)
    /// stay in `/metrics` after it ended; the recording stays in the list
    /// (`keepFinished`). 300: five scrapes at Prometheus' slowest usual
    /// interval (60 s) see the final values.
    public var finishedMetricsSeconds = 300.0
    /// Also answer Jibri's `GET /jibri/api/v1.0/health`.
    public var jibriHealth = false
    public var logLevel: Logger.Level = .info
    /// `json` (one object a line), `text`, or `auto` (JSON unless stderr is a TTY).
    public var logFormat = "auto"
    /// Statistics and metrics update interval, seconds.
    public var statisticsIntervalSeconds = 1.0
    /// Defaults of a request's `noMedia` (Jibri: no media 180 s, all muted 600 s).
    public var noMediaSilenceSeconds: Double? = 600
    public var noMediaFrozenSeconds: Double? = 180
    public var noMediaSilenceLevel = -60.0
    public var noMediaAction = NoMediaAction.report
    /// The recording `/health` asks "would one more fit?" about.
    public var probeWidth = 1920
    public var probeHeight = 1080
    public var probeFps = 30
    public var probePreset = "ultrafast"
    /// Workspaces (private Xvfb and sound sink per meeting).
    public var workspacesEnabled = true
    public var maxWorkspaces = 16
    public var xvfbPath = "Xvfb"
    public var pulseaudioPath = "pulseaudio"
    /// Page recordings (docs/DEPLOY.md "Page recordings").
    /// Regular expressions a page URL must match whole; empty: no page may
    /// be opened (only http and https ever are).
    public var pageAllowList: [String] = []
    /// The browser: Debian's `chromium` launcher by default.
    public var browserPath = "chromium"
    /// Run the browser without its sandbox: needed only when the daemon runs
    /// as root (Chromium refuses root with its sandbox on); never implied.
    public var browserNoSandbox = false
    /// Browsers starting at the same moment, at most (launch storms are
    /// where many recorders per host fail first).
    public var browserLaunchConcurrency = 2
    /// Nice levels a page recording's browser (every process Chromium forks)
    /// runs below the daemon, 0-19: the recording and its X and sound
    /// servers are served first when the cores are contended. 5: no late
    /// grab at slide 1080p x 4 (3-9 at 0), the grid's pictures kept; 10
    /// starved Chromium's compositor (grid 1080p x 2: 23.8 of 30 distinct
    /// pictures a second; docs/BENCHMARKS.md, meetings).
    public var browserNice = 5
    /// Navigation: the main document's load within this time, retried on
    /// transient network errors this many times.
    public var pageNavigationTimeoutSeconds = 30.0
    public var pageNavigationRetries = 2
    /// Longest wait for a console start gate, seconds (a predicate gate has
    /// its own `timeoutSeconds`).
    public var pageStartTimeoutSeconds = 60.0
    /// A page is hung when `Runtime.evaluate("1")`, asked every
    /// `pageHungCheckSeconds`, is not answered within `pageHungSeconds`
    /// (Jibri checks every 15 s).
    public var pageHungSeconds = 10.0
    public var pageHungCheckSeconds = 5.0
    /// A page's browser CPU estimate in cores: `base + perMegapixel ×`
    /// page megapixels (`PageCost`).
    public var pageCostBaseCores = PageCost.measured.baseCores
    public var pageCostCoresPerMegapixel = PageCost.measured.coresPerMegapixel
    /// Jitsi rooms recorded as Jibri records them (`jitsi` key).
    public var jitsi = JitsiConfiguration()
    /// Jicofo's recorders (Jibri's XMPP protocol); nil: not joined.
    public var xmpp: JibriXMPPConfiguration?

    /// What a recording does when its media stops.
    public enum NoMediaAction: String, Sendable, CaseIterable {
        /// Events, log lines and metrics only.
        case report
        /// Also stop the recording (and finalize it).
        case stop
    }

    public init() {}

    public var resolvedStateDir: String { stateDir ?? (recordingsDir as NSString).appendingPathComponent(".recorderd") }

    /// Where page recordings' browser profiles are made.
    var browserProfileParent: String { (resolvedStateDir as NSString).appendingPathComponent("browsers") }

    /// Reads the YAML file at `path` (unknown keys refused; each error
    /// names the key) over the defaults.
    public mutating func load(file path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FieldError(field: "--config", reason: "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            // An empty file (or one of comments only) changes nothing.
            guard try Yams.load(yaml: text) != nil else { return }
        } catch {
            throw FieldError(field: path, reason: "not valid YAML: \(error)")
        }
        do {
            self = try YAMLDecoder().decode(DaemonConfiguration.self, from: text)
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is FieldError {
            // Yams wraps what the keys' reader threw.
            throw context.underlyingError!
        }
    }

    private mutating func apply(_ reader: inout FieldReader) throws {
        if let value = try reader.string("listen") { listen = value }
        if let value = try reader.string("recordingsDir") { recordingsDir = value }
        if let value = try reader.string("stateDir") { stateDir = value }
        if let value = try reader.string("tokenFile") { tokenFile = value }
        if let value = try reader.bool("openHealthEndpoints") { openHealthEndpoints = value }
        if let value = try reader.int("maxBodyBytes", in: 1024...16_777_216) { maxBodyBytes = value }
        if let value = try reader.int("maxHeaderBytes", in: 1024...1_048_576) { maxHeaderBytes = value }
        if let value = try reader.double("idleTimeoutSeconds", in: 0.1...3600) { idleTimeoutSeconds = value }
        if let value = try reader.double("cpuShare", in: 0.01...4) { cpuShare = value }
        if let value = try reader.double("cores", in: 0.1...4096) { cores = value }
        if let value = try reader.double("minFreeMinutes", in: 0...100_000) { minFreeMinutes = value }
        if let value = try reader.double("bitsPerPixel", in: 0.001...24) { bitsPerPixel = value }
        if let value = try reader.int("retryAfterSeconds", in: 1...86_400) { retryAfterSeconds = value }
        if let value = try reader.double("shutdownTimeoutSeconds", in: 1...3600) { shutdownTimeoutSeconds = value }
        if let value = try reader.double("startTimeoutSeconds", in: 1...600) { startTimeoutSeconds = value }
        if let value = try reader.double("stopTimeoutSeconds", in: 1...3600) { stopTimeoutSeconds = value }
        if let value = try reader.string("finalizeScript") { finalizeScript = value }
        if let value = try reader.double("finalizeTimeoutSeconds", in: 1...86_400) { finalizeTimeoutSeconds = value }
        if let value = try reader.string("jibriDisplay") { jibriDisplay = value }
        if let value = try reader.strings("streamAllowList", maxCount: 256) { streamAllowList = value }
        if let value = try reader.bool("allowSRT") { allowSRT = value }
        if let value = try reader.string("srtPassphraseFile") { srtPassphraseFile = value }
        if let value = try reader.int("keepFinished", in: 0...100_000) { keepFinished = value }
        if let value = try reader.double("finishedMetricsSeconds", in: 0...604_800) { finishedMetricsSeconds = value }
        if let value = try reader.bool("jibriHealth") { jibriHealth = value }
        if let value = try reader.string("logLevel") {
            guard let level = Logger.Level(rawValue: value) else {
                throw FieldError(field: reader.name("logLevel"), reason: "valid values: trace, debug, info, notice, warning, error, critical")
            }
            logLevel = level
        }
        if let value = try reader.string("logFormat") { logFormat = value }
        if let value = try reader.double("statisticsIntervalSeconds", in: 0.1...3600) { statisticsIntervalSeconds = value }
        if var noMedia = try reader.object("noMedia") {
            if noMedia.has("silenceSeconds") {
                noMediaSilenceSeconds = noMedia.isNull("silenceSeconds") ? nil : try noMedia.double("silenceSeconds", in: 1...86_400)
            }
            if noMedia.has("frozenSeconds") {
                noMediaFrozenSeconds = noMedia.isNull("frozenSeconds") ? nil : try noMedia.double("frozenSeconds", in: 1...86_400)
            }
            if let value = try noMedia.double("silenceLevel", in: -120...0) { noMediaSilenceLevel = value }
            if let value = try noMedia.string("action") {
                guard let action = NoMediaAction(rawValue: value) else {
                    throw FieldError(field: noMedia.name("action"), reason: "valid values: report, stop")
                }
                noMediaAction = action
            }
            try noMedia.finish()
        }
        if var probe = try reader.object("healthProbe") {
            if let value = try probe.int("width", in: 16...16_384) { probeWidth = value }
            if let value = try probe.int("height", in: 16...16_384) { probeHeight = value }
            if let value = try probe.int("fps", in: 1...120) { probeFps = value }
            if let value = try probe.string("preset") { probePreset = value }
            try probe.finish()
        }
        if reader.has("xmpp") {
            _ = reader.value("xmpp")
            xmpp = try reader.decode(JibriXMPPConfiguration.self, "xmpp")
        }
        if var workspaces = try reader.object("workspaces") {
            if let value = try workspaces.bool("enabled") { workspacesEnabled = value }
            if let value = try workspaces.int("max", in: 0...256) { maxWorkspaces = value }
            if let value = try workspaces.string("xvfb") { xvfbPath = value }
            if let value = try workspaces.string("pulseaudio") { pulseaudioPath = value }
            try workspaces.finish()
        }
        if let value = try reader.strings("pageAllowList", maxCount: 256, maxLength: 2048) { pageAllowList = value }
        if let value = try reader.string("browserPath") { browserPath = value }
        if let value = try reader.bool("browserNoSandbox") { browserNoSandbox = value }
        if let value = try reader.int("browserLaunchConcurrency", in: 1...64) { browserLaunchConcurrency = value }
        if let value = try reader.int("browserNice", in: 0...19) { browserNice = value }
        if let value = try reader.double("pageNavigationTimeoutSeconds", in: 1...600) { pageNavigationTimeoutSeconds = value }
        if let value = try reader.int("pageNavigationRetries", in: 0...10) { pageNavigationRetries = value }
        if let value = try reader.double("pageStartTimeoutSeconds", in: 1...86_400) { pageStartTimeoutSeconds = value }
        if let value = try reader.double("pageHungSeconds", in: 0.5...600) { pageHungSeconds = value }
        if let value = try reader.double("pageHungCheckSeconds", in: 0.5...600) { pageHungCheckSeconds = value }
        if var cost = try reader.object("pageCost") {
            if let value = try cost.double("baseCores", in: 0...64) { pageCostBaseCores = value }
            if let value = try cost.double("coresPerMegapixel", in: 0...64) { pageCostCoresPerMegapixel = value }
            try cost.finish()
        }
        if var jitsi = try reader.object("jitsi") {
            try self.jitsi.apply(&jitsi)
            try jitsi.finish()
        }
    }

    /// Checks what the file and the command line gave together; the error
    /// names the key (or option) and the value.
    public func validate() throws {
        guard !recordingsDir.isEmpty else {
            throw FieldError(field: "--recordings-dir", reason: "required (or recordingsDir in the configuration file)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: recordingsDir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FieldError(field: "--recordings-dir", reason: "\(recordingsDir) is not a directory")
        }
        guard access(recordingsDir, W_OK | X_OK) == 0 else {
            throw FieldError(field: "--recordings-dir", reason: "\(recordingsDir) is not writable")
        }
        let endpoint = try ListenAddress(parsing: listen)
        if !endpoint.isLoopback && tokenFile == nil {
            throw FieldError(field: "--listen", reason: "\(listen) is not a loopback address: give --token-file to listen there")
        }
        guard ["auto", "json", "text"].contains(logFormat) else {
            throw FieldError(field: "logFormat", reason: "'\(logFormat)': valid values: auto, json, text")
        }
        if let finalizeScript, access(finalizeScript, X_OK) != 0 {
            throw FieldError(field: "--finalize-script", reason: "\(finalizeScript) is not an executable file")
        }
        for (index, pattern) in streamAllowList.enumerated() {
            guard !pattern.isEmpty, (try? Regex(pattern)) != nil else {
                throw FieldError(field: "streamAllowList[\(index)]", reason: "'\(pattern)' is not a valid regular expression")
            }
        }
        if let srtPassphraseFile {
            guard allowSRT else {
                throw FieldError(field: "srtPassphraseFile", reason: "encrypts srt:// streams: give allowSRT too")
            }
            guard access(srtPassphraseFile, R_OK) == 0 else {
                throw FieldError(field: "srtPassphraseFile", reason: "\(srtPassphraseFile) is not a readable file")
            }
        }
        for (index, pattern) in pageAllowList.enumerated() {
            guard !pattern.isEmpty, (try? Regex(pattern)) != nil else {
                throw FieldError(field: "pageAllowList[\(index)]", reason: "'\(pattern)' is not a valid regular expression")
            }
        }
        guard !browserPath.isEmpty else { throw FieldError(field: "browserPath", reason: "must not be empty") }
        try xmpp?.validate()
        guard VideoEncoderSettings.Preset(rawValue: probePreset) != nil else {
            throw FieldError(field: "healthProbe.preset", reason: "'\(probePreset)' is not an x264 preset")
        }
        try jitsi.validate()
    }

    /// The engine's no-media thresholds for a recording asking for `seconds`.
    func noMediaDetection(silenceSeconds: Double?, frozenSeconds: Double?) -> NoMediaDetection {
        NoMediaDetection(silenceLevel: noMediaSilenceLevel, silenceDuration: silenceSeconds.map { .seconds($0) },
                         frozenDuration: frozenSeconds.map { .seconds($0) })
    }
}

/// `HOST:PORT` (`[v6]:PORT` for IPv6).
struct ListenAddress: Sendable {
    public var host: String
    public var port: Int

    init(parsing text: String) throws {
        let refuse = FieldError(field: "--listen", reason: "'\(text)': expected HOST:PORT, e.g. 127.0.0.1:8270")
        guard let colon = text.lastIndex(of: ":") else { throw refuse }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { throw refuse }
        self.host = host
        self.port = port
    }

    /// Only this machine can connect: 127.0.0.0/8, ::1, localhost.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        // A numeric IPv4 address only: a name such as 127.example.com could
        // resolve anywhere.
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 24 == 127
    }
}

extension DaemonConfiguration: Decodable {
    /// The configuration file's keys over the defaults.
    public init(from decoder: any Decoder) throws {
        self.init()
        var reader = try FieldReader(decoder)
        try apply(&reader)
        try reader.finish()
    }
}
