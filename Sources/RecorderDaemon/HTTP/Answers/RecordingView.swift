import Foundation
import RecorderEngine

// What the API answers, as JSON (docs/API.md and docs/openapi.yaml describe
// each). Durations are seconds; stream URLs are redacted before they get here.

struct RecordingView: Encodable, Sendable {
    var id: String
    var state: String
    var display: String
    var audioDevice: String?
    var workspace: String?
    /// A page recording's page (its URL's query values and fragment redacted).
    var page: PageView?
    var file: String?
    var streams: [StreamView]
    var metadata: [String: String]
    var createdAt: String
    var stopReason: String?
    var error: String?
    var statistics: StatisticsView
    /// `silence` / `frozenPicture`: true while the condition holds.
    var noMedia: [String: Bool]?
    var cost: CostView
    /// How the finalize script ended (`running` while `finalizing`).
    var finalizeScript: String?
    /// The script's exit status (128 + signal when a signal ended it).
    var finalizeScriptStatus: Int32?
    /// Outputs beyond one file (`RecordingView+Outputs`).
    var outputs: OutputsView? = nil
}

extension RecordingView {
    /// The recording as the API shows it (stream URLs already redacted).
    init(_ recording: Recording) {
        let now = recording.snapshot()
        let statistics = now.statistics
        self.init(
            id: recording.id, state: now.state.rawValue, display: recording.display, audioDevice: recording.audioDevice,
            workspace: recording.workspace, page: recording.page.map { PageView($0.request) }, file: recording.file,
            // The configured streams, then those added while recording
            // (the statistics list every one, redacted).
            streams: (0..<max(recording.streams.count, statistics.streams.count)).map { index in
                let live = index < statistics.streams.count ? statistics.streams[index] : nil
                return StreamView(url: index < recording.streams.count ? recording.streams[index] : live?.url ?? "***",
                                  connected: live?.connected ?? false, connections: live?.connections ?? 0,
                                  gaveUp: live?.gaveUp ?? false, packetsSent: live?.packetsSent ?? 0,
                                  removed: live?.removed == true ? true : nil)
            },
            metadata: recording.metadata, createdAt: Recording.iso8601(recording.createdAt), stopReason: now.stopReason,
            error: now.error, statistics: StatisticsView(statistics), noMedia: now.noMedia.isEmpty ? nil : now.noMedia,
            cost: CostView(estimatedCores: recording.estimatedCores, measuredCores: now.measuredCores,
                           browser: recording.page == nil ? nil : BrowserCostView(
                               estimatedCores: recording.estimatedBrowserCores, measuredCores: now.browser?.cores ?? 0,
                               cpuSeconds: now.browser?.cpuSeconds ?? 0, residentBytes: now.browser?.residentBytes ?? 0,
                               processes: now.browser?.processes ?? 0)),
            finalizeScript: now.state == .finalizing ? "running" : now.script?.description,
            finalizeScriptStatus: now.script?.exitStatus)
        outputs = OutputsView(recording.session.configuration, statistics: statistics)
    }
}

struct StreamView: Encodable, Sendable {
    var url: String
    var connected: Bool
    var connections: Int
    var gaveUp: Bool
    var packetsSent: Int
    /// Present (true) once the stream was removed from the running recording.
    var removed: Bool?
}

/// `measuredCores` includes a page's browser (`browser.measuredCores`).
struct CostView: Encodable, Sendable {
    var estimatedCores: Double
    var measuredCores: Double
    var browser: BrowserCostView?
}

/// A page recording's browser: its process tree's CPU and memory.
struct BrowserCostView: Encodable, Sendable {
    var estimatedCores: Double
    var measuredCores: Double
    var cpuSeconds: Double
    var residentBytes: Int
    var processes: Int
}

/// What a page recording opened: no value of its query, fragment,
/// cookies or localStorage.
struct PageView: Encodable, Sendable {
    var url: String
    var width: Int
    var height: Int
    /// `load`, `console` or `predicate`.
    var start: String
    /// `console` or `predicate`; nil when the page does not end it.
    var end: String?

    init(_ page: PageRequest) {
        url = page.redactedURL
        width = page.width
        height = page.height
        switch page.start {
        case .load: start = "load"
        case .console: start = "console"
        case .predicate: start = "predicate"
        }
        switch page.end {
        case nil: end = nil
        case .console?: end = "console"
        case .predicate?: end = "predicate"
        }
    }
}

struct StatisticsView: Encodable, Sendable {
    var mediaSeconds: Double
    var elapsedSeconds: Double
    var framesCaptured: Int
    var framesEncoded: Int
    var framesDropped: Int
    var framesDuplicated: Int
    var lateGrabs: Int
    var framesUnchanged: Int
    var skipPictures: Int
    var damageChecks: Int
    var audioOverruns: Int
    var bytesWritten: Int
    var framesPerSecond: Double
    var bitrate: Double
    var audioVideoOffsetSeconds: Double
    var cpuSeconds: Double
    var encoderThreads: Int
    var silenceSeconds: Double
    var frozenPictureSeconds: Double
    /// Paused now; pauses so far; seconds left out of the recording by them.
    var paused: Bool
    var pauses: Int
    var pausedSeconds: Double

    init(_ statistics: RecordingStatistics) {
        mediaSeconds = statistics.mediaDuration.seconds
        elapsedSeconds = statistics.elapsed.seconds
        framesCaptured = statistics.framesCaptured
        framesEncoded = statistics.framesEncoded
        framesDropped = statistics.framesDropped
        framesDuplicated = statistics.framesDuplicated
        lateGrabs = statistics.lateGrabs
        framesUnchanged = statistics.framesUnchanged
        skipPictures = statistics.skipPictures
        damageChecks = statistics.damageChecks
        audioOverruns = statistics.audioOverruns
        bytesWritten = statistics.bytesWritten
        framesPerSecond = statistics.framesPerSecond.isFinite ? statistics.framesPerSecond : 0
        bitrate = statistics.bitrate.isFinite ? statistics.bitrate : 0
        audioVideoOffsetSeconds = statistics.audioVideoOffset.seconds
        cpuSeconds = statistics.cpuTime.seconds
        encoderThreads = statistics.encoderThreads
        silenceSeconds = statistics.silence.seconds
        frozenPictureSeconds = statistics.frozenPicture.seconds
        paused = statistics.paused
        pauses = statistics.pauses
        pausedSeconds = statistics.pausedDuration.seconds
    }
}

/// An error answer: `{"error": "...", "field": "video.crf"}`; `reason` is a
/// short machine-readable word for refusals (cpu, disk, draining, busy).
struct ErrorView: Encodable, Sendable {
    var error: String
    var field: String?
    var reason: String?
}

/// One event on `GET /v1/recordings/{id}/events`: the SSE `event:` is
/// `type`, `data:` this object.
struct EventView: Encodable, Sendable {
    var type: String
    var recording: String
    var statistics: StatisticsView?
    var warning: String?
    var stream: StreamEventView?
    var noMedia: NoMediaEventView?
    var started: StartedView?
    var stopped: StoppedView?

    struct StreamEventView: Encodable, Sendable {
        var index: Int
        var url: String
        var change: String
    }

    struct NoMediaEventView: Encodable, Sendable {
        var kind: String
        var change: String
        var lastedSeconds: Double
        var mediaSeconds: Double
    }

    struct StartedView: Encodable, Sendable {
        var display: String
        var width: Int
        var height: Int
        var fps: Int
        var audioDevice: String?
        var output: String?
        var streams: [String]
    }

    struct StoppedView: Encodable, Sendable {
        var stopReason: String
        var output: String?
        var error: String?
        var statistics: StatisticsView
    }

    /// `stopReason`: the daemon's reason (a page's ending, a stop, the
    /// no-media policy) when it has one, else the engine's.
    init(_ event: RecordingEvent, recording: String, stopReason: String? = nil) {
        self.recording = recording
        switch event {
        case let .started(started):
            type = "started"
            self.started = StartedView(display: started.display, width: started.width, height: started.height,
                                       fps: started.framesPerSecond, audioDevice: started.audio?.device,
                                       output: started.output, streams: started.streams)
        case let .statistics(statistics):
            type = "statistics"
            self.statistics = StatisticsView(statistics)
        case let .warning(warning):
            type = "warning"
            self.warning = "\(warning)"
        case let .stream(change):
            type = "stream"
            stream = StreamEventView(index: change.index, url: change.url, change: Self.describe(change.change))
        case let .noMedia(change):
            type = "noMedia"
            noMedia = NoMediaEventView(kind: change.kind.rawValue, change: change.change == .began ? "began" : "ended",
                                       lastedSeconds: change.lasted.seconds, mediaSeconds: change.mediaTime.seconds)
        case let .stopped(result):
            type = "stopped"
            stopped = StoppedView(stopReason: stopReason ?? "\(result.stopReason)", output: result.output,
                                  error: result.error.map { "\($0)" }, statistics: StatisticsView(result.statistics))
        }
    }

    private static func describe(_ change: NetworkSinkEvent) -> String {
        switch change {
        case .connected: "connected"
        case .connectionFailed: "connectionFailed"
        case .disconnected: "disconnected"
        case .reconnected: "reconnected"
        case .gaveUp: "gaveUp"
        }
    }
}
