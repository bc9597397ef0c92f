/// What one way of recording did with N meetings at once on one page and size.
struct MeetingStep {
    enum Way: String {
        /// N page recordings through one spawned recorderd.
        case recorderd
        /// N (Xvfb + PulseAudio + chromium + ffmpeg with Jibri's list).
        case jibri
    }

    var way: Way
    var meetings: Int
    /// Spent over `windowSeconds` of steady recording (all N recording), and memory at its end.
    var usage = PartUsage()
    var windowSeconds = 0.0
    /// The pages' animation frames per second in the window (Jibri way only: the daemon's pages are not ours to evaluate).
    var animationFramesPerSecond: Double?
    var framesExpected = 0, framesWritten = 0, droppedOrDuplicated = 0, audioLost = 0
    /// Seconds past its length the latest recording ended (ffmpeg), or 0.
    var worstLag = 0.0
    var errors: [String] = []
    var lagLimit: Double

    init(way: Way, meetings: Int, lagLimit: Double) {
        self.way = way
        self.meetings = meetings
        self.lagLimit = lagLimit
    }

    /// Real time: no frame dropped or duplicated, no audio lost, ended in time, no error.
    var held: Bool { droppedOrDuplicated == 0 && audioLost == 0 && worstLag <= lagLimit && errors.isEmpty && framesWritten > 0 }

    /// CPU-s/s per meeting of one part.
    func perMeeting(_ seconds: Double) -> Double { windowSeconds > 0 ? seconds / windowSeconds / Double(meetings) : 0 }

    /// Megabytes per meeting.
    func perMeeting(bytes: Int) -> Double { Double(bytes) / 1e6 / Double(meetings) }

    var summary: String {
        "\(held ? "held" : "FAILED"): \(framesWritten)/\(framesExpected) frames, \(droppedOrDuplicated) dropped or duplicated, "
            + "\(audioLost) audio losses, ended \(String(format: "%.2f", worstLag)) s late; per meeting "
            + String(format: "browser %.2f, recorder %.2f, X server %.2f, sound server %.2f CPU-s/s, RSS %.0f MB, PSS %.0f MB",
                     perMeeting(usage.browser), perMeeting(usage.recorder), perMeeting(usage.xServer),
                     perMeeting(usage.soundServer), perMeeting(bytes: usage.rss), perMeeting(bytes: usage.pss))
            + (animationFramesPerSecond.map { String(format: "; page animation %.1f frames/s", $0) } ?? "")
            + (errors.isEmpty ? "" : "; " + errors.joined(separator: "; "))
    }
}
