import CFFmpeg
import MediaCore
import MediaPackets

/// Takes a recording's paused stretches (`PauseSchedule`) out of what the
/// file outputs get, so the file's timeline runs on without a gap: the live
/// streams get every packet (the frozen picture and silence the encoders
/// make while paused), the files only the recorded ones, shifted back by the
/// time paused before them.
///
/// - Video (time base `1/fps`, the schedule's units when there is video):
///   a packet whose pts lies in a paused stretch is left out; later ones
///   move back by the slots paused before them. The encode thread starts
///   each resume with an IDR picture, and gives x264 nothing while paused,
///   so no packet kept refers to one left out.
/// - Audio: AAC packets are whole frames (1024 samples), so the cut is the
///   nearest frame: a packet is left out while the samples paused before
///   its middle exceed those left out by half a frame or more. Sound stays
///   contiguous and within half a frame of the picture's cut (11.6 ms at
///   44.1 kHz), however many pauses; the encode thread already replaced
///   the paused samples with silence, on the exact sample.
/// - When a pause begins, the file outputs are asked to write out what they
///   hold (`PacketFileSink.flushPending()`), so a kill while paused keeps
///   everything up to the pause.
///
/// Used by the mux thread only; allocates nothing per packet.
struct PausedTimelineCut {
    private var view: PauseView
    private let videoTimeBase: AVRational?
    private let audioTimeBase: AVRational?
    /// Audio samples left out so far (in the audio time base).
    private var audioLeftOut: Int64 = 0
    /// The newest DTS written per kind, to keep them increasing after a shift.
    private var lastVideoDTS: Int64 = .min
    /// Stretches whose start has been flushed to the files, per kind.
    private var videoFlushed = 0
    private var audioFlushed = 0
    /// Resumes passed so far, and the time (seconds, after the shift) of
    /// one not yet taken (`takeResume()`).
    private var resumesSeen = 0
    private var pendingResume: Double?

    init(schedule: PauseSchedule, videoTimeBase: AVRational?, audioTimeBase: AVRational?) {
        view = PauseView(schedule)
        self.videoTimeBase = videoTimeBase
        self.audioTimeBase = audioTimeBase
    }

    /// What to do with one packet.
    enum Decision {
        case keep
        case leaveOut
        /// Leave it out, and ask the files to write out what they hold.
        case leaveOutAndFlush
    }

    /// Decides for `packet` and shifts its timestamps when it is kept.
    @inline(__always)
    mutating func apply(to packet: borrowing Packet) -> Decision {
        view.refresh()
        guard !view.intervals.isEmpty else { return .keep }
        let avPacket = packet.pointer
        if packet.kind == .video {
            guard let timeBase = videoTimeBase else { return .keep }
            let pts = avPacket.pointee.pts
            let unit = toUnits(pts, timeBase)
            if view.isPaused(unit) {
                let flush = videoFlushed < view.intervals.count
                videoFlushed = view.intervals.count
                return flush ? .leaveOutAndFlush : .leaveOut
            }
            let shift = fromUnits(view.pausedBefore(unit), timeBase)
            guard shift > 0 else { return .keep }
            avPacket.pointee.pts = pts - shift
            noteResumes(before: unit, at: pts - shift, timeBase)
            if avPacket.pointee.dts != CFFMPEG_AV_NOPTS_VALUE {
                var dts = avPacket.pointee.dts - shift
                if dts <= lastVideoDTS { dts = lastVideoDTS + 1 }
                lastVideoDTS = dts
                avPacket.pointee.dts = dts
            }
            return .keep
        }
        guard let timeBase = audioTimeBase else { return .keep }
        let pts = avPacket.pointee.pts
        let duration = max(1, avPacket.pointee.duration)
        let paused = pausedBefore(pts + duration / 2, timeBase)
        if paused - audioLeftOut >= duration / 2 {
            audioLeftOut += duration
            let flush = audioFlushed < view.intervals.count
            audioFlushed = view.intervals.count
            return flush ? .leaveOutAndFlush : .leaveOut
        }
        guard audioLeftOut > 0 else { return .keep }
        avPacket.pointee.pts = pts - audioLeftOut
        if videoTimeBase == nil { noteResumes(before: toUnits(pts, timeBase), at: pts - audioLeftOut, timeBase) }
        if avPacket.pointee.dts != CFFMPEG_AV_NOPTS_VALUE { avPacket.pointee.dts -= audioLeftOut }
        return .keep
    }

    /// The time a resume passed since the last call was kept at, once (for
    /// the files' chapters).
    mutating func takeResume() -> Double? {
        defer { pendingResume = nil }
        return pendingResume
    }

    /// A packet at `unit` is kept at `time` (in `timeBase`): the first one
    /// past a resume marks it.
    @inline(__always)
    private mutating func noteResumes(before unit: Int64, at time: Int64, _ timeBase: AVRational) {
        var ended = 0
        for interval in view.intervals {
            guard let end = interval.end, end <= unit else { break }
            ended += 1
        }
        guard ended > resumesSeen else { return }
        resumesSeen = ended
        pendingResume = Double(time) * Double(timeBase.num) / Double(timeBase.den)
    }

    /// Time paused before `value`, both in `timeBase` (exact to its unit,
    /// not to the schedule's).
    @inline(__always)
    private func pausedBefore(_ value: Int64, _ timeBase: AVRational) -> Int64 {
        var total: Int64 = 0
        for interval in view.intervals {
            let start = fromUnits(interval.start, timeBase)
            guard start < value else { break }
            total += min(value, interval.end.map { fromUnits($0, timeBase) } ?? .max) - start
        }
        return total
    }

    /// `value` (in `timeBase`) in the schedule's units, rounded down.
    @inline(__always)
    private func toUnits(_ value: Int64, _ timeBase: AVRational) -> Int64 {
        av_rescale_rnd(value, Int64(timeBase.num) * view.schedule.unitRate, Int64(timeBase.den), AV_ROUND_DOWN)
    }

    /// `units` of the schedule in `timeBase`, rounded to nearest.
    @inline(__always)
    private func fromUnits(_ units: Int64, _ timeBase: AVRational) -> Int64 {
        av_rescale(units, Int64(timeBase.den), Int64(timeBase.num) * view.schedule.unitRate)
    }
}
