import CaptureALSA
import CaptureX11
import Foundation
import MediaCore
import Testing
import TestSupport

/// Display and sound captured together on one clock for 10 s while the
/// consumer stalls for 2 s: video drops are counted, audio loses nothing, and
/// memory stays flat (the pools are fixed, and the process's RSS does not grow).
@Suite(.serialized, .tags(.bench)) struct CombinedCaptureTests {
    @Test func aTwoSecondStallCostsVideoFramesButNoAudioAndNoMemory() async throws {
        let bench = try TestBench.current()
        let clock = MonotonicClock()
        let counters = MediaCounters()
        let video = try DisplayCapture(
            configuration: DisplayCaptureConfiguration(display: bench.display, region: CaptureRegion(width: 1280, height: 720)),
            clock: clock, counters: counters)
        let audio = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM, sampleRate: 48_000),
                                   clock: clock, counters: counters)
        let tone = try ChildProcess.tone(pcm: bench.playbackPCM, seconds: 12)
        defer { tone.send(SIGTERM); tone.wait() }
        video.start { event in Issue.record("video capture failed: \(event)") }
        audio.start { event in Issue.record("audio capture failed: \(event)") }
        let start = clock.now()
        var videoFrames = 0
        var audioFrames = 0
        var nextAudioIndex: Int64? = nil
        var gaps = 0
        var firstStamp: Int64? = nil, lastEnd: Int64 = 0
        var rssAfterWarmUp = 0
        var rssPeak = 0
        while clock.now() - start < 10 * Int64.nanosecondsPerSecond {
            let elapsed = Double(clock.now() - start) / 1e9
            if elapsed >= 4 && elapsed < 6 {  // the stall
                try await Task.sleep(nanoseconds: 50_000_000)
                continue
            }
            while let frame = video.frames.pop() { _ = consume frame; videoFrames += 1 }
            while let chunk = audio.chunks.pop() {
                if let expected = nextAudioIndex, chunk.firstFrameIndex != expected { gaps += 1 }
                nextAudioIndex = chunk.firstFrameIndex + Int64(chunk.frameCount)
                audioFrames += chunk.frameCount
                if firstStamp == nil { firstStamp = chunk.captureTime }
                lastEnd = chunk.captureTime + Int64(chunk.frameCount) * 1_000_000_000 / 48_000
            }
            let rss = Self.residentBytes()
            if elapsed >= 2 && rssAfterWarmUp == 0 { rssAfterWarmUp = rss }
            rssPeak = max(rssPeak, rss)
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        video.stop()
        audio.stop()
        while let frame = video.frames.pop() { _ = consume frame; videoFrames += 1 }
        while let chunk = audio.chunks.pop() {
            if let expected = nextAudioIndex, chunk.firstFrameIndex != expected { gaps += 1 }
            nextAudioIndex = chunk.firstFrameIndex + Int64(chunk.frameCount)
            audioFrames += chunk.frameCount
            lastEnd = chunk.captureTime + Int64(chunk.frameCount) * 1_000_000_000 / 48_000
        }
        // The sound server starts delivering a little after start: compare the
        // samples with the clock span their own stamps cover.
        let elapsed = Double(lastEnd - (firstStamp ?? lastEnd)) / 1e9
        let statistics = counters.snapshot()
        print("combined: \(audioFrames) audio frames, next index \(nextAudioIndex ?? -1), \(elapsed) s, \(statistics)")
        #expect(statistics.videoFramesDroppedQueueFull >= 40, "2 s of stall at 30 fps drops about 56 frames: \(statistics)")
        // Every grab was delivered or dropped; a deadline whose slot had no
        // free frame (all queued) is dropped without a grab.
        #expect(videoFrames <= statistics.videoFramesCaptured)
        #expect(videoFrames + statistics.videoFramesDroppedQueueFull >= statistics.videoFramesCaptured)
        #expect(statistics.audioFramesDropped == 0, "audio lost frames: \(statistics)")
        #expect(gaps == 0, "the audio timeline has holes")
        #expect(abs(Double(audioFrames) - elapsed * 48_000) < 0.005 * elapsed * 48_000, "\(audioFrames) frames over \(elapsed) s of stamps")
        #expect(elapsed > 8, "audio covered only \(elapsed) s of the 10 s run")
        #expect(rssPeak - rssAfterWarmUp < 8 << 20, "RSS grew by \(rssPeak - rssAfterWarmUp) bytes")
    }

    private static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = status.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
