import RecorderEngine

/// The request's outputs beyond one file and RTMP streams (docs/API.md):
/// `noVideo`, `segments`, `hls`, `renditions`, `fileRendition`, and
/// streams given as objects (`{"url", "rendition", "srtLatency"}`). Names
/// and limits are the engine's and record-display's; every error names
/// the field.
extension RecordingRequest {
    /// Reads the output fields from the request's top level.
    mutating func readOutputs(_ reader: inout FieldReader) throws {
        outputs.noVideo = try reader.bool("noVideo") ?? false
        if outputs.noVideo {
            // Sound alone: no display and no picture settings.
            for field in ["display", "region", "fps", "drawCursor", "video", "renditions", "fileRendition"] where reader.has(field) {
                throw FieldError(field: field, reason: "noVideo records sound alone: give no \(field)")
            }
        }
        if var segments = try reader.object("segments") {
            var split = FileSegmentation()
            if let seconds = try segments.double("time", in: 1...86_400) {
                split.duration = .milliseconds(Int64((seconds * 1000).rounded()))
            }
            if let bytes = try Self.byteCount(&segments, "size") { split.maxBytes = bytes }
            try segments.finish()
            guard split.duration != nil || split.maxBytes != nil else {
                throw FieldError(field: "segments", reason: "give time (seconds), size (bytes) or both")
            }
            outputs.segments = split
        }
        outputs.fileRendition = try reader.string("fileRendition", maxLength: 32)
        if var hls = try reader.object("hls") {
            guard let playlist = try hls.string("playlist", maxLength: 1024) else {
                throw FieldError(field: "hls.playlist", reason: "required: a .m3u8 file relative to the recordings directory")
            }
            outputs.hlsPlaylist = playlist
            outputs.hlsRendition = try hls.string("rendition", maxLength: 32)
            try hls.finish()
        }
        if let items = try reader.items("renditions", maxCount: 8) {
            for (field, decoder) in items {
                var item = try FieldReader(decoder, path: field)
                outputs.renditions.append(try Self.rendition(&item))
                try item.finish()
            }
        }
    }

    /// `streams`: each a URL, or `{"url", "rendition", "srtLatency"}`.
    mutating func readStreams(_ reader: inout FieldReader) throws {
        guard let items = try reader.items("streams", maxCount: 8) else { return }
        for (field, decoder) in items {
            var rendition: String?
            var latency: Duration?
            let url: String
            switch FieldKind.of(decoder) {
            case .string:
                url = try decoder.singleValueContainer().decode(String.self)
            case .object:
                var item = try FieldReader(decoder, path: field)
                guard let text = try item.string("url", maxLength: 2048) else {
                    throw FieldError(field: item.name("url"), reason: "required")
                }
                url = text
                rendition = try item.string("rendition", maxLength: 32)
                if let milliseconds = try item.int("srtLatency", in: 10...10_000) {
                    guard url.hasPrefix("srt://") else {
                        throw FieldError(field: item.name("srtLatency"), reason: "applies to srt:// streams only")
                    }
                    latency = .milliseconds(milliseconds)
                }
                try item.finish()
            case let other:
                throw FieldError(field: field, reason: "must be a URL string or an object with url, not \(other.typeName)")
            }
            guard url.utf8.count <= 2048 else { throw FieldError(field: field, reason: "longer than 2048 bytes") }
            streams.append(url)
            outputs.streamRenditions.append(rendition)
            outputs.streamLatencies.append(latency)
        }
    }

    /// One of `renditions`: `name`, `size`, `scaling` and the `video`
    /// fields, from the engine's defaults; `maxrate` or `bitrate` without
    /// `crf` leaves rate control to x264 under them (record-display's
    /// `--rendition` rule).
    private static func rendition(_ item: inout FieldReader) throws -> VideoRendition {
        guard let name = try item.string("name", maxLength: 64) else {
            throw FieldError(field: item.name("name"), reason: "required: 1 to 32 characters from A-Z a-z 0-9 _ -")
        }
        var options = VideoEncodingOptions()
        try readVideo(&item, into: &options)
        if let bitrate = try bitrate(&item, "bitrate", in: 1000...500_000_000) { options.bitrate = bitrate }
        if !item.has("crf") && (options.maxrate != nil || options.bitrate != nil) { options.crf = nil }
        return VideoRendition(name: name, options: options)
    }

    /// A size in bytes: a number, or a string such as `500M` (k = 10^3,
    /// M = 10^6, G = 10^9, as record-display's `--segment-size`); at least 1 MB.
    private static func byteCount(_ reader: inout FieldReader, _ key: String) throws -> Int64? {
        let field = reader.name(key)
        let bytes: Double
        switch reader.value(key) {
        case nil:
            return nil
        case .number?:
            let number = try reader.decode(Double.self, key)
            guard number.rounded() == number else {
                throw FieldError(field: field, reason: "\(FieldReader.text(number)) is not a whole number of bytes")
            }
            bytes = number
        case .string?:
            let written = try reader.decode(String.self, key)
            var text = Substring(written)
            var unit: Double = 1
            if let last = text.last, let scale = ["k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9][last] {
                unit = scale
                text = text.dropLast()
            }
            // Digits with an optional fraction, as the contract's pattern says.
            let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let number = Double(text), !parts[0].isEmpty,
                  parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }) else {
                throw FieldError(field: field, reason: "'\(written)': expected bytes such as 500M or 2G")
            }
            bytes = number * unit
        case let other?:
            throw FieldError(field: field, reason: "must be a number or a string such as 500M, not \(other.typeName)")
        }
        guard bytes.isFinite, bytes >= 1_000_000, bytes <= 1e15 else {
            throw FieldError(field: field, reason: "must be from 1 MB (1000000 bytes) to 1 PB")
        }
        return Int64(bytes)
    }
}
