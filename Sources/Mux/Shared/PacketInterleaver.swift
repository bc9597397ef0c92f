import CFFmpeg
import MediaCore
import MediaPackets

/// Puts the packets of a video and an audio stream, which arrive in decoding
/// order within each stream but in any order across them, into one sequence
/// by decoding time, as MP4 and FLV want them.
///
/// A packet is released once the other stream has shown a later or equal
/// timestamp, so it can never be overtaken. Each stream's queue is fixed in
/// size and allocated once (no per-packet allocation, unlike
/// `av_interleaved_write_frame`'s list): when one stream stalls long enough to
/// fill the other's queue, the oldest packet goes out anyway. With 256 packets
/// a side that bounds the skew at about 6 s of AAC or 8 s of 30 fps video.
final class PacketInterleaver {
    private let video: PacketQueue?
    private let audio: PacketQueue?
    private let videoTimeBase: AVRational
    private let audioTimeBase: AVRational

    /// An interleaver for the streams whose time bases are given (nil: absent).
    init(videoTimeBase: AVRational?, audioTimeBase: AVRational?, capacity: Int = 256) {
        video = videoTimeBase.map { _ in PacketQueue(capacity: capacity) }
        audio = audioTimeBase.map { _ in PacketQueue(capacity: capacity) }
        self.videoTimeBase = videoTimeBase ?? AVRational(num: 1, den: 1)
        self.audioTimeBase = audioTimeBase ?? AVRational(num: 1, den: 1)
    }

    /// True when the queue of stream `kind` cannot take another packet: take
    /// `popOldest()` out first.
    func isFull(_ kind: StreamKind) -> Bool { queue(kind).isFull }

    /// Queues `packet` (its stream's queue must not be full).
    @inline(__always)
    func push(_ packet: consuming Packet) {
        queue(packet.kind).push(packet)
    }

    /// The next packet in decoding order, once no packet still to come from
    /// the other stream can precede it.
    @inline(__always)
    func popReady() -> Packet? {
        guard let video, let audio else { return (video ?? audio)?.pop() }
        guard let videoDTS = video.oldestDecodingTimestamp,
              let audioDTS = audio.oldestDecodingTimestamp else { return nil }
        return av_compare_ts(videoDTS, videoTimeBase, audioDTS, audioTimeBase) <= 0 ? video.pop() : audio.pop()
    }

    /// Queues `packet` and hands every packet now due to `deliver`, in decoding
    /// order; when the packet's queue is full the oldest packets go first.
    @inline(__always)
    func add(_ packet: consuming Packet, deliver: (consuming Packet) throws -> Void) throws {
        while isFull(packet.kind), let oldest = popOldest() {
            try deliver(oldest)
        }
        push(packet)
        while let ready = popReady() {
            try deliver(ready)
        }
    }

    /// Hands every queued packet to `deliver`, oldest first: at the end.
    func drain(deliver: (consuming Packet) throws -> Void) throws {
        while let packet = popOldest() {
            try deliver(packet)
        }
    }

    /// The oldest queued packet of either stream, ready or not: to make room,
    /// or to drain at the end.
    func popOldest() -> Packet? {
        switch (video?.oldestDecodingTimestamp, audio?.oldestDecodingTimestamp) {
        case (nil, nil): return nil
        case (.some, nil): return video?.pop()
        case (nil, .some): return audio?.pop()
        case let (videoDTS?, audioDTS?):
            return av_compare_ts(videoDTS, videoTimeBase, audioDTS, audioTimeBase) <= 0 ? video?.pop() : audio?.pop()
        }
    }

    @inline(__always)
    private func queue(_ kind: StreamKind) -> PacketQueue {
        switch kind {
        case .video:
            guard let video else { preconditionFailure("a video packet for an output without a video stream") }
            return video
        case .audio:
            guard let audio else { preconditionFailure("an audio packet for an output without an audio stream") }
            return audio
        }
    }
}
