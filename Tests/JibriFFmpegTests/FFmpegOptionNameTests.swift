import JibriDropIn
import RecorderEngine
import Testing
import TestSupport

/// jibri-ffmpeg names every engine key with the ffmpeg option of Jibri's
/// command line that gives the value; keys share one only where one option
/// gives several.
@Suite struct FFmpegOptionNameTests {
    @Test func everyKeyHasItsOwnOptionUnlessOneOptionGivesSeveral() {
        let shared: [String: Set<SettingKey>] = [
            // -s is the x11grab size: the capture's and the encoded picture's.
            "-s": [.region, .width, .height],
            // -ar and -ac are the sound input's and the output's.
            "-ar": [.audioCaptureRate, .audioRate],
            "-ac": [.audioCaptureChannels, .audioChannels],
            // The output is a file or a stream URL.
            "output": [.output, .stream(index: 0)],
        ]
        #expect(SettingKey.unexpectedlySharedNames(\.ffmpegOption, shared: shared).isEmpty)
    }

    @Test func theEnginesRefusalReadsAsTheOption() {
        let refusal = RecordingError.configuration(InvalidSetting(.gop, value: "0", reason: "must be a positive number of frames"))
        #expect(JibriCommand.describe(refusal) == "invalid -g '0': must be a positive number of frames")
    }
}
