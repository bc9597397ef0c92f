import CFFmpeg
import MediaPackets

/// The time bases of a recording's packets as the segmenting outputs
/// (`SegmentedMP4Sink`, `HLSSink`) read them: the video's, when there is
/// video, and the audio's. The recording's timeline is the video's; sound
/// alone has its own.
struct SegmentTimeBases {
    let video: AVRational?
    let audio: AVRational

    init(streams: [StreamParameters]) {
        video = streams.first { $0.kind == .video }?.timeBase
        audio = streams.first { $0.kind == .audio }?.timeBase ?? AVRational(num: 1, den: 1)
    }

    /// The packet's presentation time on the recording's timeline, seconds.
    @inline(__always)
    func seconds(_ packet: borrowing Packet) -> Double {
        let raw = packet.pointer.pointee
        let ticks = raw.pts != CFFMPEG_AV_NOPTS_VALUE ? raw.pts : packet.decodingTimestamp
        let base = packet.kind == .video ? (video ?? audio) : audio
        return Double(ticks) * Double(base.num) / Double(base.den)
    }

    /// The packet's duration, seconds.
    @inline(__always)
    func duration(_ packet: borrowing Packet) -> Double {
        let base = packet.kind == .video ? (video ?? audio) : audio
        return Double(packet.pointer.pointee.duration) * Double(base.num) / Double(base.den)
    }

    /// Whether a segment may begin with the packet: a video keyframe, or any
    /// audio packet of sound alone.
    @inline(__always)
    func canStart(_ packet: borrowing Packet) -> Bool {
        video == nil ? packet.kind == .audio : packet.kind == .video && packet.isKeyframe
    }
}
