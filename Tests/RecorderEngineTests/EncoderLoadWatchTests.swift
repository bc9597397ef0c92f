import MediaCore
import Testing
@testable import RecorderEngine

/// When one x264 thread is judged not to keep up, and when the engine's
/// share of cores for a session is taken.
@Suite struct EncoderLoadWatchTests {
    @Test func aWindowOverHalfTheFrameIntervalAsksForThreads() {
        var watch = EncoderLoadWatch(framesPerSecond: 30)
        #expect(watch.window == 60)
        let interval = Int64.nanosecondsPerSecond / 30
        // 40 % busy: never.
        var asked: [Int] = []
        for frame in 0..<600 where watch.record(cpuNanoseconds: interval * 4 / 10) { asked.append(frame) }
        #expect(asked.isEmpty)
        // 60 % busy: only once a whole window is in.
        for frame in 0..<60 where watch.record(cpuNanoseconds: interval * 6 / 10) { asked.append(frame) }
        #expect(asked == [59])
    }

    @Test func oneSlowFrameInAWindowIsNotEnough() {
        var watch = EncoderLoadWatch(framesPerSecond: 30)
        let interval = Int64.nanosecondsPerSecond / 30
        // A keyframe or a scene change costs three intervals once; the window averages it away.
        var asked = false
        for frame in 0..<120 {
            asked = watch.record(cpuNanoseconds: frame == 10 ? 3 * interval : interval / 4) || asked
        }
        #expect(!asked)
    }

    @Test func oneThreadUpTo1080p30() {
        #expect(OpenSessionCount.startingEncoderThreads(width: 1920, height: 1080, framesPerSecond: 30) == 1)
        #expect(OpenSessionCount.startingEncoderThreads(width: 1280, height: 720, framesPerSecond: 60) == 1)
        #expect(OpenSessionCount.startingEncoderThreads(width: 2560, height: 1440, framesPerSecond: 30) >= 2)
        #expect(OpenSessionCount.startingEncoderThreads(width: 1920, height: 1080, framesPerSecond: 60) >= 2)
    }

    @Test func sessionsShareTheCores() throws {
        let alone = OpenSessionCount.encoderThreadsPerSession()
        #expect(alone >= 1)
        let others = (0..<64).map { _ in OpenSessionCount.Member() }
        #expect(OpenSessionCount.encoderThreadsPerSession() == 1, "64 sessions on this machine get a thread each")
        withExtendedLifetime(others) {}
    }
}
