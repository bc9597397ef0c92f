import CFFmpeg
import MediaPackets

/// One shift, the same time for every stream, that an output without edit
/// lists (`HLSSink`'s fMP4 segments) adds to the timestamps so that none is
/// negative: the encoders start before 0 by their start-up delays, the
/// B-frame delay in decoding time (`video_delay` frames: 2 with x264's
/// B-pyramid, so the first DTS is -2/fps) and AAC's priming (`initial_padding`
/// samples: the first packet's PTS is -1024/rate).
///
/// The shift is the larger of the two, rounded up to whole frames when there
/// is video, so each picture stays at `n / fps` plus the shift exactly; the
/// audio's is the same time in its own time base. With x264 ultrafast (no
/// B-frames) at 30 fps and AAC at 44.1 kHz: one frame (33.3 ms); with
/// B-pyramid: two (66.7 ms).
struct StartShift {
    /// Ticks added to each stream's timestamps, in its own time base.
    let video: Int64
    let audio: Int64

    init(streams: [StreamParameters]) {
        let videoStream = streams.first { $0.kind == .video }
        let audioStream = streams.first { $0.kind == .audio }
        // The audio's priming, seconds as a rational.
        var priming = AVRational(num: 0, den: 1)
        if let audioStream {
            let parameters = audioStream.codecParameters.pointee
            if parameters.initial_padding > 0 && parameters.sample_rate > 0 {
                priming = AVRational(num: parameters.initial_padding, den: parameters.sample_rate)
            }
        }
        guard let videoStream, let rate = videoStream.frameRate, rate.num > 0, rate.den > 0 else {
            video = 0
            audio = audioStream.map { av_rescale_q_rnd(Int64(priming.num), AVRational(num: 1, den: priming.den),
                                                       $0.timeBase, AV_ROUND_UP) } ?? 0
            return
        }
        // Frames: the B-frame delay, or the priming rounded up to frames.
        let frame = AVRational(num: rate.den, den: rate.num)
        let primingFrames = av_rescale_q_rnd(Int64(priming.num), AVRational(num: 1, den: priming.den), frame, AV_ROUND_UP)
        let frames = max(Int64(max(0, videoStream.codecParameters.pointee.video_delay)), primingFrames)
        video = av_rescale_q(frames, frame, videoStream.timeBase)
        audio = audioStream.map { av_rescale_q(frames, frame, $0.timeBase) } ?? 0
    }

    /// Adds the shift to `packet`'s PTS and DTS (those it has).
    @inline(__always)
    func apply(to packet: borrowing Packet) {
        let ticks = packet.kind == .video ? video : audio
        let raw = packet.pointer
        if raw.pointee.pts != CFFMPEG_AV_NOPTS_VALUE { raw.pointee.pts += ticks }
        if raw.pointee.dts != CFFMPEG_AV_NOPTS_VALUE { raw.pointee.dts += ticks }
    }
}
