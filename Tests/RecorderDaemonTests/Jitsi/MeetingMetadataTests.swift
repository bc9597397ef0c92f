import Foundation
import PageBrowser
@testable import RecorderDaemon
import RecorderEngine
import Testing

/// `metadata.json` as Jibri's FileRecordingJibriService writes it
/// (`RecordingMetadata`: `meeting_url`, `participants`, then
/// `file_recording_metadata`'s keys at the top level), written atomically
/// beneath the recordings directory.
@Suite struct MeetingMetadataTests {
    static let alice = JSONValue.object(["user": .object(["id": .string("a1"), "name": .string("Alice")]), "group": .string("team")])

    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "metadata-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path + "/room42", withIntermediateDirectories: true)
        return path
    }

    @Test func theDocumentHasJibrisKeys() throws {
        let metadata = MeetingMetadata(meetingURL: "https://meet.example.org/room42", participants: [Self.alice],
                                       additional: ["upload": .object(["service": .string("dropbox"), "size": .number(3)]),
                                                    "meeting_url": .string("ignored")])
        #expect(metadata.json == #"{"meeting_url":"https://meet.example.org/room42","participants":[{"group":"team","user":{"id":"a1","name":"Alice"}}],"#
            + #""upload":{"service":"dropbox","size":3}}"#)
        #expect(MeetingMetadata(meetingURL: "u", participants: []).json == #"{"meeting_url":"u","participants":[]}"#)
    }

    @Test func itIsWrittenBesideTheFileAndReplacedWhole() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try ConfinedDirectory(path: root)
        try MeetingMetadata(meetingURL: "first", participants: []).write(beside: "room42/room42.mp4", in: directory)
        try MeetingMetadata(meetingURL: "https://m/room42", participants: [Self.alice]).write(beside: "room42/room42.mp4", in: directory)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/room42/metadata.json"))) as? [String: Any]
        #expect(object?["meeting_url"] as? String == "https://m/room42")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/room42") == ["metadata.json"])
        try MeetingMetadata(meetingURL: "top", participants: []).write(beside: "top.mp4", in: directory)
        #expect(FileManager.default.fileExists(atPath: root + "/metadata.json"))
    }

    @Test func aFolderSwappedForALinkIsRefused() throws {
        let root = try Self.scratch()
        let outside = try Self.scratch()
        defer { for path in [root, outside] { try? FileManager.default.removeItem(atPath: path) } }
        try FileManager.default.createSymbolicLink(atPath: root + "/linked", withDestinationPath: outside + "/room42")
        #expect(throws: ConfinementError.self) {
            try MeetingMetadata(meetingURL: "u", participants: []).write(beside: "linked/x.mp4", in: ConfinedDirectory(path: root))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside + "/room42").isEmpty)
    }

    @Test func jibrisAppDataGivesTheFileRecordingMetadata() throws {
        let appData = #"{"file_recording_metadata":{"upload_credentials":{"service_name":"dropbox","token":"t"},"flag":true},"other":1}"#
        let fields = try MeetingMetadata.additional(fromAppData: appData)
        #expect(fields["flag"] == .bool(true))
        #expect(fields["upload_credentials"]?["service_name"] == .string("dropbox"))
        #expect(try MeetingMetadata.additional(fromAppData: #"{"other":1}"#).isEmpty)
        #expect(throws: (any Error).self) { try MeetingMetadata.additional(fromAppData: "not json") }
        #expect(throws: (any Error).self) { try MeetingMetadata.additional(fromAppData: #"{"file_recording_metadata":[1]}"#) }
    }
}
