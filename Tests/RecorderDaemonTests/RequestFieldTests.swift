@testable import RecorderDaemon
import RecorderEngine
import Testing
import TestSupport

/// recorderd names every engine key with the request field that gives the
/// value (docs/API.md); keys share one only where one field gives several.
@Suite struct RequestFieldTests {
    @Test func everyKeyHasItsOwnFieldUnlessOneFieldGivesSeveral() {
        let shared: [String: Set<SettingKey>] = ["region": [.region, .width, .height]]
        #expect(SettingKey.unexpectedlySharedNames(\.requestField, shared: shared).isEmpty)
        #expect(SettingKey.stream(index: 2).requestField == "streams[2]")
    }

    @Test func theEnginesRefusalNamesTheField() {
        let refusal = RecordingError.configuration(InvalidSetting(.crf, value: "52", reason: "must be from 1 to 51"))
        #expect("\(FieldError(refusal))" == "video.crf: 52: must be from 1 to 51")
    }
}
