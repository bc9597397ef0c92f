@testable import record_display
import RecorderEngine
import Testing

/// Issue 20, item 6: every figure record-display prints holds 64 bits.
@Suite struct StatisticsTextTests {
    @Test func countsAndBytesPastTwoToThe32PrintWhole() {
        // A 4.85 GB recording: a 32-bit %d printed 554476772 bytes.
        var statistics = RecordingStatistics()
        statistics.mediaDuration = .seconds(14_400)
        statistics.framesEncoded = 4_294_967_396
        statistics.framesDropped = 5_000_000_001
        statistics.framesDuplicated = 4_294_967_297
        statistics.bytesWritten = 4_849_444_068
        statistics.renditions = [RenditionStatistics(names: ["main"], width: 1920, height: 1080, encoderThreads: 1, bytes: 4_849_444_068)]
        #expect(StatisticsText.summary(statistics)
                == "14400.00 s, 4294967396 frames (5000000001 dropped, 4294967297 duplicated), 4849444068 bytes encoded")
        statistics.renditions = []
        #expect(StatisticsText.summary(statistics) == "14400.00 s of sound, 4849444068 bytes encoded")

        var stream = NetworkSinkStatistics(url: "rtmp://host/app/***")
        stream.packetsSent = 6_000_000_000
        stream.bytesSent = 9_876_543_210_123
        stream.connections = 3
        stream.videoPacketsDroppedDisposable = 4_294_967_290
        stream.videoPacketsDroppedToKeyframe = 6
        let text = StatisticsText.stream(stream)
        #expect(text.hasPrefix("stream rtmp://host/app/***: sent 6000000000 packets (9876543210123 bytes) over 3 connection(s)"), "\(text)")
        #expect(text.contains("dropped 4294967296 video packets"), "\(text)")

        statistics.framesPerSecond = 30
        statistics.streams = [stream]
        let status = StatisticsText.status(statistics)
        #expect(status.hasPrefix("\r14400.0s   30.0 fps  dropped 5000000001  duplicated 4294967297 "), "\(status)")
        #expect(status.contains("streams 0/1 up, 4294967296 dropped"), "\(status)")
    }
}
