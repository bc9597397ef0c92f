#if canImport(Glibc)
import Glibc
#endif
import Encoder
import MediaCore
import Mux

extension RecordingConfiguration {
    /// Checks the outputs and the video encodes they take, before anything
    /// opens: renditions (`RenditionPlan`), each encode's x264 options at its
    /// size, the file's path (its first segment's, when segmented) and
    /// segmentation, the HLS playlist's path, and what recording sound alone
    /// excludes. Throws `InvalidSetting` naming the value.
    func validateOutputs() throws {
        let plan = try RenditionPlan(self)
        if recordsVideo {
            let region = capture.region
            for encode in plan.encodes {
                let options = encode.options
                // The picture size is known only once the display is open: a
                // given region's size stands in, or 640x480.
                _ = try VideoEncoderSettings(
                    width: options.size?.width ?? region?.width ?? 640, height: options.size?.height ?? region?.height ?? 480,
                    fps: capture.framesPerSecond, preset: options.preset, tune: options.tune, profile: options.profile,
                    crf: options.crf, bitrate: options.bitrate, maxrate: options.maxrate, bufsize: options.bufsize,
                    gop: options.gop, threads: options.threads)
                try options.x264.validate()
            }
        } else {
            if let region = capture.region {
                throw InvalidSetting(.noVideo, value: "\(region)", reason: "records no display: give no --region")
            }
            guard audio != nil else {
                throw InvalidSetting(.noVideo, value: "", reason: "with no sound either there is nothing to record")
            }
            // The RTMP sink starts (and resumes) a stream at a video keyframe.
            if let stream = streams.first {
                throw InvalidSetting(.noVideo, value: (try? StreamURL(stream.url))?.redacted ?? "***",
                                     reason: "a live stream carries video; record sound alone to a file or HLS")
            }
            if let frozen = noMedia.frozenDuration {
                throw InvalidSetting(.frozenDuration, value: "\(frozen.seconds)",
                                     reason: "a recording without video has no picture to watch")
            }
        }
        let files = OutputFiles(confinement: confinement)
        if let output {
            if let segments = output.segments {
                try Self.validate(segments)
                let names = try SegmentNames(path: output.path)
                try MP4FileSink.validateOutputPath(names.path(0), overwrite: output.overwrite, files: files)
            } else {
                try MP4FileSink.validateOutputPath(output.path, overwrite: output.overwrite, files: files)
            }
        }
        if let hls {
            try HLSSink.validatePlaylistPath(hls.playlist, overwrite: hls.overwrite, files: files)
            if let output, output.path == hls.playlist {
                throw InvalidSetting(.hls, value: hls.playlist, reason: "is the file output's path")
            }
        }
        if output == nil && streams.isEmpty && hls == nil {
            throw InvalidSetting(.output, value: "", reason: "nothing to record to: give a file, a stream or both")
        }
    }

    private static func validate(_ segments: FileSegmentation) throws {
        if let duration = segments.duration {
            guard duration >= .seconds(1), duration <= .seconds(86_400) else {
                throw InvalidSetting(.segmentTime, value: "\(duration.seconds)",
                                     reason: "must be from 1 to 86400 seconds")
            }
        }
        if let bytes = segments.maxBytes {
            guard bytes >= 1_000_000 else {
                throw InvalidSetting(.segmentSize, value: "\(bytes)", reason: "must be at least 1 MB")
            }
        }
        guard segments.duration != nil || segments.maxBytes != nil else {
            throw InvalidSetting(.segmentTime, value: "", reason: "give a segment time, a size or both")
        }
    }
}
