import Foundation
import RecorderEngine

/// The body of `POST /v1/recordings`, decoded field by field: every error
/// is a `FieldError` naming the field (unknown fields, wrong types, nulls
/// where none is allowed, values out of range). Names and limits are
/// record-display's (docs/API.md lists them).
extension RecordingRequest: Decodable {
    init(from decoder: any Decoder) throws {
        self.init()
        var reader = try FieldReader(decoder)
        display = try reader.string("display", maxLength: 256)
        if display?.isEmpty == true {
            // An empty name would be the daemon's own $DISPLAY to Xlib: a
            // display no busy check knows by that name.
            throw FieldError(field: "display", reason: "must not be empty")
        }
        if let text = try reader.string("region", maxLength: 64) {
            do {
                region = try CaptureRegion(parsing: text)
            } catch {
                // record-display's words: "expected WxH+X+Y" for a malformed
                // region, "must be even" for an odd size.
                throw FieldError(field: "region", reason: "'\(text)': \(error.reason)")
            }
        }
        fps = try reader.int("fps", in: DisplayCaptureConfiguration.framesPerSecondRange) ?? fps
        drawCursor = try reader.bool("drawCursor") ?? drawCursor
        audioDevice = reader.isNull("audioDevice") ? nil : try reader.string("audioDevice", maxLength: 256)
        if var video = try reader.object("video") {
            try Self.readVideo(&video, into: &self.video)
            try video.finish()
        }
        if var audio = try reader.object("audio") {
            audioRate = try audio.int("rate", in: 8000...96_000) ?? audioRate
            if let bitrate = try Self.bitrate(&audio, "bitrate", in: AudioEncoderSettings.bitrateRange) { audioBitrate = bitrate }
            try audio.finish()
        }
        file = try reader.string("file", maxLength: 1024)
        try readStreams(&reader)
        duration = try reader.double("duration", in: 1...86_400)
        if var noMedia = try reader.object("noMedia") {
            silenceSeconds = try Self.setting(&noMedia, "silenceSeconds")
            frozenSeconds = try Self.setting(&noMedia, "frozenSeconds")
            if let action = try noMedia.string("action", maxLength: 16) {
                guard let value = DaemonConfiguration.NoMediaAction(rawValue: action) else {
                    throw FieldError(field: "noMedia.action", reason: "'\(action)': valid values: report, stop")
                }
                noMediaAction = value
            }
            try noMedia.finish()
        }
        workspace = try reader.string("workspace", maxLength: 64)
        metadata = try reader.labels("metadata", maxCount: 32, maxLength: 512) ?? [:]
        try readOutputs(&reader)
        if var page = try reader.object("page") { self.page = try PageRequest(reading: &page) }
        try reader.finish()
        if page != nil {
            // A page records the workspace made for it, whole.
            for field in ["display", "workspace", "region", "audioDevice"] where reader.has(field) {
                throw FieldError(field: field, reason: "not with page: a page is recorded whole on a display and sound sink of its own")
            }
            return
        }
        if workspace != nil && (display != nil || audioDevice != nil) {
            throw FieldError(field: "workspace", reason: "names the display and sound device itself: give it without display and audioDevice")
        }
        if outputs.noVideo {
            if workspace == nil && audioDevice == nil {
                throw FieldError(field: "audioDevice", reason: "noVideo records sound alone: give an audioDevice (or a workspace)")
            }
        } else if workspace == nil && display == nil {
            throw FieldError(field: "display", reason: "required (or a workspace)")
        }
    }

    /// The x264 fields of `video` (or of a rendition), and the picture's
    /// `size` and `scaling`.
    static func readVideo(_ video: inout FieldReader, into options: inout VideoEncodingOptions) throws {
        if let preset = try video.string("preset", maxLength: 32) {
            options.preset = try Self.choice(preset, field: video.name("preset"), VideoEncoderSettings.Preset.self)
        }
        if let tune = try video.string("tune", maxLength: 32) {
            options.tune = try Self.choice(tune, field: video.name("tune"), VideoEncoderSettings.Tune.self)
        }
        if let profile = try video.string("profile", maxLength: 32) {
            options.profile = try Self.choice(profile, field: video.name("profile"), VideoEncoderSettings.Profile.self)
        }
        // 0 (lossless) needs High 4:4:4, which the engine refuses: 1-51 as the CLI.
        if video.has("crf") { options.crf = video.isNull("crf") ? nil : try video.int("crf", in: VideoEncoderSettings.crfRange) }
        if let maxrate = try Self.bitrate(&video, "maxrate", in: 1000...500_000_000) { options.maxrate = maxrate }
        if let bufsize = try Self.bitrate(&video, "bufsize", in: 1000...1_000_000_000) { options.bufsize = bufsize }
        if options.bufsize != nil && options.maxrate == nil {
            throw FieldError(field: video.name("bufsize"), reason: "needs \(video.name("maxrate")) as well")
        }
        options.gop = try video.int("gop", in: VideoEncoderSettings.gopRange) ?? options.gop
        if let size = try video.string("size", maxLength: 32) {
            do {
                let parsed = try PictureSize(parsing: size)
                try parsed.validate()
                options.size = parsed
            } catch {
                throw FieldError(field: video.name("size"), reason: "'\(size)': \(error.reason)")
            }
        }
        if let scaling = try video.string("scaling", maxLength: 32) {
            options.scaling = try Self.choice(scaling, field: video.name("scaling"), PictureScaling.self)
        }
    }

    /// A bit rate as a number of bits/s or a string such as `2976k`.
    static func bitrate(_ reader: inout FieldReader, _ key: String, in range: ClosedRange<Int>) throws -> Int? {
        let field = reader.name(key)
        switch reader.value(key) {
        case nil:
            return nil
        case .number?:
            let number = try reader.decode(Double.self, key)
            guard let value = Int(exactly: number), range.contains(value) else {
                throw FieldError(field: field, reason: "must be from \(range.lowerBound) to \(range.upperBound) bits/s")
            }
            return value
        case .string?:
            let text = try reader.decode(String.self, key)
            let value: Int
            do {
                value = try VideoEncoderSettings.parseBitrate(text, key: .bitrate)
            } catch {
                throw FieldError(field: field, reason: "'\(text)': expected bits/s such as 2976k or 2.5M")
            }
            guard range.contains(value) else {
                throw FieldError(field: field, reason: "must be from \(range.lowerBound) to \(range.upperBound) bits/s")
            }
            return value
        case let other?:
            throw FieldError(field: field, reason: "must be a number or a string such as 2976k, not \(other.typeName)")
        }
    }

    private static func setting(_ reader: inout FieldReader, _ key: String) throws -> Setting<Double> {
        guard reader.has(key) else { return .default }
        if reader.value(key) == .null { return .off }
        return .value(try reader.double(key, in: NoMediaDetection.durationSecondsRange)!)
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ text: String, field: String, _ type: T.Type) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw FieldError(field: field, reason: "'\(text)': valid values: " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }
}
