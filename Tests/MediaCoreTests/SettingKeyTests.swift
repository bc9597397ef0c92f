import MediaCore
import Testing
import TestSupport

/// The engine's keys for refused settings: the sample list the front ends'
/// naming tests walk holds every case, and the engine's own words tell
/// every key apart.
@Suite struct SettingKeyTests {
    @Test func theSamplesHoldEveryCaseOnce() {
        #expect(SettingKey.samples.map(\.sampleOrder) == Array(SettingKey.samples.indices))
    }

    @Test func theEngineNamesEveryKeyApart() {
        #expect(SettingKey.unexpectedlySharedNames(\.description, shared: [:]).isEmpty)
        #expect(SettingKey.stream(index: 0).description != SettingKey.stream(index: 1).description)
    }

    @Test func aRefusalPrintsTheKeyValueAndReason() {
        let refusal = InvalidSetting(.crf, value: "99", reason: "must be from 1 to 51")
        #expect("\(refusal)" == "invalid crf '99': must be from 1 to 51")
        #expect("\(InvalidSetting(.srtLatency(index: 2), value: "5", reason: "r"))" == "invalid stream 2 SRT latency '5': r")
    }
}
