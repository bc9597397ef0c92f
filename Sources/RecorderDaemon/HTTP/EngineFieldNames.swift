import RecorderEngine

/// The request field an engine refusal concerns: the engine names a bad
/// setting in its own words (`crf`, `--duration`, `--stream`), the API in
/// the request's (`video.crf`, `duration`, `streams[1]`). The one place
/// that knows both.
enum EngineFieldNames {
    static func field(for error: RecordingError, streams: [String]) -> FieldError {
        guard case let .configuration(invalid) = error else { return FieldError(field: "body", reason: "\(error)") }
        let names: [String: String] = [
            "--fps": "fps", "fps": "fps", "--region": "region", "crf": "video.crf", "maxrate": "video.maxrate",
            "bufsize": "video.bufsize", "gop": "video.gop", "width": "region", "height": "region",
            "audio device": "audioDevice", "audio rate": "audio.rate", "audio bitrate": "audio.bitrate",
            "output": "file", "--duration": "duration", "silence level": "noMedia",
            "silence duration": "noMedia.silenceSeconds", "frozen duration": "noMedia.frozenSeconds",
        ]
        if invalid.name == "--stream" || invalid.name == "--allow" {
            let index = streams.firstIndex { (try? StreamURL($0))?.redacted == invalid.value }
            return FieldError(field: index.map { "streams[\($0)]" } ?? "streams", reason: "\(invalid.value): \(invalid.reason)")
        }
        return FieldError(field: names[invalid.name] ?? invalid.name, reason: "\(invalid.value): \(invalid.reason)")
    }
}
