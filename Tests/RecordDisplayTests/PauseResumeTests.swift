import AVProbe
import Foundation
import HostProcesses
import Testing
import TestSupport

/// Pause and resume into one file (issue 24, item 3), through record-display's
/// signals (SIGUSR1 pauses, SIGUSR2 resumes), on the bench: a black region
/// that flashes with a beep at known instants, streamed to the bench's RTMP
/// server as well. Pause at 3 s, resume at 6 s, pause at 9 s, resume at 10 s
/// (after the process started).
@Suite(.serialized, .tags(.bench)) struct PauseResumeTests {
    /// Seconds after the start the signals go at.
    static let schedule: [(at: Double, signal: Int32)] = [(3, SIGUSR1), (6, SIGUSR2), (9, SIGUSR1), (10, SIGUSR2)]
    /// Flash + beep instants, seconds after the start, away from the pauses.
    static let events: [Double] = [1.5, 2.4, 7.0, 8.2, 11.2, 12.5]

    static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    static func sleep(until instant: Int64) {
        while true {
            let left = instant - monotonicNow()
            if left <= 0 { return }
            usleep(useconds_t(min(left / 1000, 50_000)))
        }
    }

    /// Seconds paused before `time` (seconds after the start) by `schedule`.
    static func pausedBefore(_ time: Double) -> Double {
        var total = 0.0
        for index in stride(from: 0, to: schedule.count, by: 2) {
            let (start, end) = (schedule[index].at, schedule[index + 1].at)
            if time > start { total += min(time, end) - start }
        }
        return total
    }

    /// record-display with `--duration 10` (recorded time) and the signals:
    /// it stops by itself at about 14 s. The file lasts 10 s within a frame,
    /// each flash lies where the recorded time puts it, every beep within
    /// 40 ms of its flash, the stream stayed connected throughout, and the
    /// file lists a chapter per part.
    @Test func pausedTwiceTheFileHoldsTheRecordedTimeInSync() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("pause-resume")
        let file = "\(directory)/paused.mp4", stats = "\(directory)/stats.json"
        let streamName = "pause-\(UInt32.random(in: 0...UInt32.max))"
        // The probe's beep stream needs half a second to place beeps to the
        // sample: record-display starts a second after it.
        let started = Self.monotonicNow() + 1_000_000_000
        let probe = try FlashBeepProbe(display: bench.display, width: 320, height: 240, playbackPCM: bench.playbackPCM,
                                       capturePCM: bench.capturePCM,
                                       instants: Self.events.map { started + Int64($0 * 1e9) })
        probe.start()
        Self.sleep(until: started)
        let logPath = "\(directory)/record-display.log"
        precondition(FileManager.default.createFile(atPath: logPath, contents: nil))
        let logHandle = try #require(FileHandle(forWritingAtPath: logPath))
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--region", "320x240+0+0", "--duration", "10", "--output", file,
                                         "--stream", "\(bench.rtmpURL)/\(streamName)", "--allow", ".*",
                                         "--stats-json", stats],
                                        standardError: .descriptor(logHandle.fileDescriptor))
        for step in Self.schedule {
            Self.sleep(until: started + Int64(step.at * 1e9))
            recorder.send(step.signal, groupWide: false)
        }
        let status = recorder.wait(timeout: 40)?.status
        let ended = Double(Self.monotonicNow() - started) / 1e9
        withExtendedLifetime(logHandle) {}
        let placed = probe.stop()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(log)")
        #expect(log.components(separatedBy: "paused at").count == 3 && log.components(separatedBy: "resumed at").count == 3,
                "\(log)")
        // --duration counts recorded time: 10 s recorded took 14 s and more.
        #expect(ended > 13.9, "record-display ended \(ended) s after the start: \(log)")

        let streams = try MediaProbe(path: file, countFrames: true)
        let video = try #require(streams.video), audio = try #require(streams.audio)
        #expect(abs((video.duration ?? 0) - 10) <= 1.0 / 30 + 1e-6, "video lasts \(video.duration ?? 0) s")
        #expect(video.frames == 300, "\(video.frames ?? 0) pictures")
        #expect(abs((audio.duration ?? 0) - 10) < 0.05, "sound lasts \(audio.duration ?? 0) s")
        #expect(try MediaProbe.decodeErrors(file).isEmpty, "the file decodes with errors")

        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats)))
            as? [String: Any])
        let figures = try #require(summary["statistics"] as? [String: Any])
        #expect(summary["stopReason"] as? String == "durationReached", "\(summary)")
        #expect(figures["pauses"] as? Int == 2, "\(figures)")
        let pausedSeconds = try #require(figures["pausedSeconds"] as? Double)
        #expect(abs(pausedSeconds - 4) < 0.1, "paused \(pausedSeconds) s")
        let stream = try #require((figures["streams"] as? [[String: Any]])?.first)
        #expect(stream["connections"] as? Int == 1 && stream["disconnects"] as? Int == 0
                && stream["gaveUp"] as? Bool == false, "\(stream)")
        // The server got the whole wall-clock time (the pauses too: the last
        // picture and silence), on one connection.
        let received = try #require(FileManager.default.contentsOfDirectory(atPath: bench.rtmpRecordDirectory)
            .first { $0.hasPrefix(streamName) && $0.hasSuffix(".flv") })
        let flv = try MediaProbe(path: "\(bench.rtmpRecordDirectory)/\(received)", countFrames: false)
        #expect((flv.duration ?? 0) > 13.5, "the server received \(flv.duration ?? 0) s")

        // Each flash where the recorded time puts it: the distance between
        // two flashes is the time between them less the pauses in between
        // (each cut on a frame: within two frames and the flashes' own frame).
        let analysis = try FlashBeepAnalysis(path: file, run: Subprocess.runBinary)
        try #require(analysis.flashes.count == Self.events.count && placed.flashes.count == Self.events.count,
                     "flashes in the file \(analysis.flashes), drawn \(placed.flashes)")
        let first = Self.events[0]
        var errors: [Double] = [], offsets: [Double] = []
        for (index, event) in Self.events.enumerated().dropFirst() {
            let expected = (event - first) - (Self.pausedBefore(event) - Self.pausedBefore(first))
            let found = analysis.flashes[index] - analysis.flashes[0]
            errors.append(((found - expected) * 1000).rounded())
            #expect(abs(found - expected) <= 3.0 / 30 + 0.01, "flash \(index) \(found) s after the first, not \(expected) s")
        }
        // Picture and sound together before and after each pause: each beep
        // within 40 ms of its flash, net of the probe (see InputFaultTests).
        #expect(analysis.pairs.count == Self.events.count, "flashes \(analysis.flashes), beeps \(analysis.beeps)")
        for (flash, event) in zip(analysis.flashes, placed.flashes) {
            guard let pair = analysis.pairs.first(where: { $0.flash == flash }) else { continue }
            guard let error = placed.beepErrors[event] else {
                Issue.record("the probe did not hear beep \(event)")
                continue
            }
            let offset = pair.offset + 0.5 / 30 - error
            offsets.append((offset * 1000).rounded())
            #expect(abs(offset) <= 0.040, "the beep at \(pair.flash) s is \(offset * 1000) ms off its flash")
        }
        print("paused twice: video \(video.duration ?? 0) s, audio \(audio.duration ?? 0) s, paused \(pausedSeconds) s; "
              + "flash distance less the expected, ms: \(errors); beep - flash net of the probe, ms: \(offsets)")

        // A chapter per part, each resume where the recorded time puts it.
        let chapters = try Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "chapter=start_time",
                                           "-of", "csv=p=0", file])
        let starts = chapters.standardOutput.split(separator: "\n").compactMap { Double($0) }
        try #require(starts.count == 3, "chapters: \(chapters.standardOutput)")
        #expect(starts[0] == 0 && abs((starts[2] - starts[1]) - 3) <= 2.0 / 30 + 1e-6, "chapters at \(starts)")
    }

    /// `kill -9` during the second pause: the file plays up to that pause
    /// (what was recorded before it was written out when it began), and
    /// `record-display repair` keeps all of it.
    @Test func aKillDuringAPauseKeepsEverythingUpToIt() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("pause-kill")
        let file = "\(directory)/killed.mp4"
        let logPath = "\(directory)/record-display.log"
        precondition(FileManager.default.createFile(atPath: logPath, contents: nil))
        let logHandle = try #require(FileHandle(forWritingAtPath: logPath))
        let started = Self.monotonicNow()
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--region", "320x240+0+0", "--output", file],
                                        standardError: .descriptor(logHandle.fileDescriptor))
        for step in Self.schedule.prefix(3) {
            Self.sleep(until: started + Int64(step.at * 1e9))
            recorder.send(step.signal, groupWide: false)
        }
        Self.sleep(until: started + 9_800_000_000)
        recorder.send(SIGKILL, groupWide: false)
        _ = recorder.wait(timeout: 10)
        withExtendedLifetime(logHandle) {}
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        // "paused at 5.67 s of the recording": where the second pause began.
        let pausedAt = log.components(separatedBy: "paused at ").dropFirst().compactMap {
            Double($0.prefix { $0 != " " })
        }
        try #require(pausedAt.count == 2, "\(log)")
        let killed = try MediaProbe(path: file, countFrames: false)
        let playable = try #require(killed.video?.duration)
        #expect(abs(playable - pausedAt[1]) <= 2.0 / 30 + 1e-6,
                "the killed file plays \(playable) s; the pause began at \(pausedAt[1]) s")
        #expect(try MediaProbe.decodeErrors(file).isEmpty, "the killed file decodes with errors")

        let repair = try Subprocess.run([RecordDisplayBinary.path, "repair", file])
        #expect(repair.status == 0, "\(repair.standardError)")
        let repaired = try MediaProbe(path: file, countFrames: false)
        #expect(abs((repaired.video?.duration ?? 0) - playable) <= 1.0 / 30 + 1e-6,
                "repaired: \(repaired.video?.duration ?? 0) s of \(playable) s")
        #expect(abs((repaired.audio?.duration ?? 0) - playable) < 0.05, "repaired sound: \(repaired.audio?.duration ?? 0) s")
        #expect(try MediaProbe.decodeErrors(file).isEmpty, "the repaired file decodes with errors")
    }
}
