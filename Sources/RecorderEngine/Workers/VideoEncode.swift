import Encoder
import MediaCore
import MediaPackets
import Synchronization

/// One video encode of a recording: the x264 instance of one rendition (or
/// of several with the same options), the ring its packets go to the mux
/// thread on, and its counters.
final class VideoEncode: @unchecked Sendable {
    /// The renditions it encodes.
    let names: [String]
    let encoder: VideoEncoder
    var settings: VideoEncoderSettings { encoder.settings }
    /// The settings as a user would write them, for an encoder error.
    let description: String
    /// Packets toward the mux thread (the encode thread pushes, mux pops).
    let packets = SPSCRing<Packet>(minimumCapacity: 512)
    /// Bytes of H.264 the mux thread took from it.
    let bytes = Atomic<Int>(0)
    /// x264 threads encoding now (the encode thread writes it).
    let threads = Atomic<Int>(0)
    /// The encoder may get more x264 threads when one does not keep up.
    let adaptiveThreads: Bool

    init(names: [String], encoder: VideoEncoder, adaptiveThreads: Bool) {
        self.names = names
        self.encoder = encoder
        self.adaptiveThreads = adaptiveThreads
        description = Self.describe(encoder.settings)
        threads.store(encoder.threads, ordering: .relaxed)
    }

    var statistics: RenditionStatistics {
        RenditionStatistics(names: names, width: settings.width, height: settings.height,
                            encoderThreads: threads.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed))
    }

    /// `1920x1080 30 fps, preset ultrafast, crf 25, profile main`: the
    /// settings as a user would write them, for an encoder error.
    static func describe(_ settings: VideoEncoderSettings) -> String {
        var parts = ["\(settings.width)x\(settings.height) \(settings.fps) fps", "preset \(settings.preset.rawValue)"]
        if let tune = settings.tune { parts.append("tune \(tune.rawValue)") }
        parts.append("profile \(settings.profile.rawValue)")
        if let crf = settings.crf { parts.append("crf \(crf)") } else if let bitrate = settings.bitrate { parts.append("bitrate \(bitrate)") }
        if let maxrate = settings.maxrate { parts.append("maxrate \(maxrate)") }
        if let bufsize = settings.bufsize { parts.append("bufsize \(bufsize)") }
        parts.append("gop \(settings.gop)")
        return parts.joined(separator: ", ")
    }
}
