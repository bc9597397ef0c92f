@testable import record_display
import RecorderEngine
import Testing
import TestSupport

/// record-display names every engine key with its own option; keys share
/// one only where one option carries several settings.
@Suite struct OptionNameTests {
    @Test func everyKeyHasItsOwnOptionUnlessOneOptionSetsSeveral() {
        let shared: [String: Set<SettingKey>] = [
            "--region": [.region, .width, .height],
            "--rendition": [.renditionName(index: 0), .renditionSize(index: 0), .rendition(index: 0)],
            "--output": [.output, .outputRendition],
            "--hls": [.hls, .hlsRendition],
            "--stream": [.stream(index: 0), .streamRendition(index: 0)],
        ]
        #expect(SettingKey.unexpectedlySharedNames(\.option, shared: shared).isEmpty)
    }

    @Test func theEnginesRefusalReadsAsTheOption() {
        let refusal = RecordingError.configuration(InvalidSetting(.srtLatency(index: 1), value: "5",
                                                                  reason: "must be 10 to 10000 milliseconds"))
        #expect(OptionError.describe(refusal) == "invalid --srt-latency '5': must be 10 to 10000 milliseconds")
        #expect("\(OptionError(InvalidSetting(.threads, value: "65", reason: "r")))" == "invalid --encoder-threads '65': r")
    }
}
