import Foundation

/// What one way of recording did with N meetings at once on one page and size.
struct MeetingStep: TalliedStep {
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
    /// `duplicated`: slots the recorder filled with the last picture because
    /// no grab of their own came in time (the engine's `framesDuplicated`;
    /// ffmpeg's `dup=`, its constant-rate output filled from x11grab's
    /// clock-stamped grabs). `dropped`: grabs thrown away (a full queue, two
    /// in one slot; ffmpeg's `drop=`), shown but not counted as late: the slot
    /// a dropped grab leaves is a duplicate already. `audioLost`: capture overruns.
    var framesExpected = 0, framesWritten = 0, duplicated = 0, dropped = 0, audioLost = 0
    /// From the files (`MeetingFile`): video slots left out, sound gaps.
    var videoGaps = 0, audioGaps = 0
    /// From the files (`MeetingPictures`): distinct pictures and the seconds they span, all files together.
    var distinctPictures = 0, pictureSeconds = 0.0
    /// Fewest distinct pictures a second a step that holds shows (0: not judged):
    /// a recording on time of a page that did not draw is no meeting held.
    var leastPicturesPerSecond = 0.0
    /// The longest a recording took to end past its end: ffmpeg's wall time
    /// past its `-t`; a page recording's time from its stop to `finished`.
    var worstLag = 0.0
    var errors: [String] = []
    var lagLimit: Double
    /// The share of frames that may be late (`lateFrames`) in a step that holds.
    var lateTolerance: Double

    init(way: Way, meetings: Int, lagLimit: Double, lateTolerance: Double) {
        self.way = way
        self.meetings = meetings
        self.lagLimit = lagLimit
        self.lateTolerance = lateTolerance
    }

    /// Distinct pictures a second per meeting in the files: what the pages drew and the recorders kept.
    var picturesPerSecond: Double { pictureSeconds > 0 ? Double(distinctPictures) / pictureSeconds : 0 }

    /// Adds one file's figures (`MeetingFile`, `MeetingPictures`), an error when one cannot be read.
    mutating func read(file: String, fps: Int) {
        do {
            let read = try MeetingFile(path: file, fps: fps)
            videoGaps += read.videoGaps
            audioGaps += read.audioGaps
            let pictures = try MeetingPictures(path: file, fps: fps)
            distinctPictures += pictures.distinct
            pictureSeconds += pictures.seconds
        } catch { errors.append("\(error)") }
    }

    /// Slots not showing a grab of their own: filled with the last picture, or left out of the file.
    var lateFrames: Int { duplicated + videoGaps }

    /// Real time, the same rule for both ways: at most `lateTolerance` of the
    /// frames late, no sound lost (capture or file), every recording ended
    /// within `lagLimit` of its end (a backlog grows no further), no error,
    /// and at least `leastPicturesPerSecond` distinct pictures a second.
    var held: Bool {
        Double(lateFrames) <= lateTolerance * Double(framesExpected) && audioLost == 0 && audioGaps == 0
            && worstLag <= lagLimit && errors.isEmpty && framesWritten > 0 && picturesPerSecond >= leastPicturesPerSecond
    }

    /// The CPU window once all N record: from 1 s on, `seconds - 3` s (at
    /// least 1) of `parts`' CPU, and their memory at its end; an error
    /// unless `parts` hold one browser and one X server per meeting.
    mutating func measure(_ parts: PartUsage.Parts, seconds: Double) async throws {
        try await Task.sleep(for: .seconds(1))
        let before = parts.usage(in: ProcessTable()), start = Date()
        try await Task.sleep(for: .seconds(max(1, seconds - 3)))
        let after = parts.usage(in: ProcessTable(memory: true))
        windowSeconds = Date().timeIntervalSince(start)
        usage = after - before
        if parts.browserGroups.count != meetings || parts.xServers.count != meetings {
            errors.append("found \(parts.browserGroups.count) browsers and \(parts.xServers.count) X servers under recorderd")
        }
    }

    /// Adds one ended page recording of recorderd: `view`, its answer to
    /// `GET /v1/recordings/{id}` (its state, the engine's counters), and
    /// its file at `file` (`MeetingFile`, recorded at `fps`).
    mutating func count(_ view: [String: Any], id: String, file: String?, fps: Int) {
        if let file {
            read(file: file, fps: fps)
        } else {
            errors.append("\(id): its file is not named in the answer")
        }
        if view["state"] as? String != "finished" { errors.append("\(id) \(view["state"].map { "\($0)" } ?? ""): \(view["error"].map { "\($0)" } ?? "")") }
        let statistics = view["statistics"] as? [String: Any] ?? [:]
        func int(_ key: String) -> Int { (statistics[key] as? NSNumber)?.intValue ?? 0 }
        let media = (statistics["mediaSeconds"] as? NSNumber)?.doubleValue ?? 0
        framesExpected += Int((media * Double(fps)).rounded())
        framesWritten += int("framesEncoded")
        duplicated += int("framesDuplicated")
        dropped += int("framesDropped")
        audioLost += int("audioOverruns")
    }

    /// CPU-s/s per meeting of one part.
    func perMeeting(_ seconds: Double) -> Double { windowSeconds > 0 ? seconds / windowSeconds / Double(meetings) : 0 }

    /// Megabytes per meeting.
    func perMeeting(bytes: Int) -> Double { Double(bytes) / 1e6 / Double(meetings) }

    var summary: String {
        "\(held ? "held" : "FAILED"): \(framesWritten)/\(framesExpected) frames, \(duplicated) duplicated, \(dropped) dropped, "
            + "\(videoGaps) slots and \(audioGaps) sound gaps in the files, \(audioLost) audio losses, ended \(String(format: "%.2f", worstLag)) s late; per meeting "
            + String(format: "browser %.2f, recorder %.2f, X server %.2f, sound server %.2f CPU-s/s, RSS %.0f MB, PSS %.0f MB",
                     perMeeting(usage.browser), perMeeting(usage.recorder), perMeeting(usage.xServer),
                     perMeeting(usage.soundServer), perMeeting(bytes: usage.rss), perMeeting(bytes: usage.pss))
            + String(format: "; distinct pictures %.1f/s", picturesPerSecond)
            + (animationFramesPerSecond.map { String(format: "; page animation %.1f frames/s", $0) } ?? "")
            + (errors.isEmpty ? "" : "; " + errors.joined(separator: "; "))
    }
}
