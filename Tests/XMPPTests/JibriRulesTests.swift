import Foundation
@testable import RecorderDaemon
import Testing
import XMPPClient

/// Jibri's rules read from its source, without a server: the meeting URL
/// from the room JID (XmppUtils), the stream URL (StreamingJibriService),
/// the IQ's attributes (JibriIq), the configuration's names (jibri.conf).
@Suite struct JibriRulesTests {
    @Test func meetingURLFromTheRoomJID() {
        #expect(JibriMeeting.url(room: "room42@conference.meet.example.org", stripFromRoomDomain: "conference.",
                                 xmppDomain: "meet.example.org", baseURL: nil) == "https://meet.example.org/room42")
        #expect(JibriMeeting.url(room: "room42@conference.tenant1.meet.example.org", stripFromRoomDomain: "conference.",
                                 xmppDomain: "meet.example.org", baseURL: nil) == "https://meet.example.org/tenant1/room42")
        #expect(JibriMeeting.url(room: "Room42@CONFERENCE.meet.example.org", stripFromRoomDomain: "conference.",
                                 xmppDomain: "meet.example.org", baseURL: "https://x.example/base")
                == "https://x.example/base/Room42")
        #expect(JibriMeeting.url(room: "room42@conference.other.org", stripFromRoomDomain: "conference.",
                                 xmppDomain: "meet.example.org", baseURL: nil) == nil)
        #expect(JibriMeeting.url(room: "conference.meet.example.org", stripFromRoomDomain: "conference.",
                                 xmppDomain: "meet.example.org", baseURL: nil) == nil)
    }

    @Test func streamURLFromTheStreamID() {
        #expect(JibriMeeting.streamURL(streamID: "abcd-1234") == "rtmp://a.rtmp.youtube.com/live2/abcd-1234")
        #expect(JibriMeeting.streamURL(streamID: "RTMPS://live.example/app/key") == "RTMPS://live.example/app/key")
        #expect(JibriMeeting.streamURL(streamID: "rtmp://h/app/k") == "rtmp://h/app/k")
        #expect(JibriMeeting.streamURL(streamID: "k1", template: "rtmp://127.0.0.1:1935/live/{key}") == "rtmp://127.0.0.1:1935/live/k1")
    }

    @Test func startIQAttributesAndAnswers() {
        let iq = XMLElement.iq(type: "set", id: "a1", to: "jibri", children: [
            XMLElement("jibri", namespace: JibriIQ.namespace, attributes: [
                "action": "start", "recording_mode": "file", "room": "r@conference.d", "session_id": "s",
                "app_data": "{\"file_recording_metadata\":{\"upload_credentials\":{\"a\":1}}}", "streamid": "k",
            ]),
        ])
        let parsed = JibriIQ(iq: iq)
        #expect(parsed?.action == .start)
        #expect(parsed?.recordingMode == .file)
        #expect(parsed?.room == "r@conference.d")
        #expect(parsed?.sessionID == "s")
        #expect(!JibriIQ.hasUnknownAction(iq))
        #expect(JibriIQ.busy.element["failure_reason"] == "busy")
        #expect(JibriIQ.busy.element["should_retry"] == "true")
        #expect(JibriIQ.busy.element["status"] == "off")
        #expect(JibriIQ.pending.element["status"] == "pending")
        let presence = JibriPresenceStatus(busy: false, healthy: true).element
        #expect(presence.description == "<jibri-status xmlns='http://jitsi.org/protocol/jibri'>"
                + "<busy-status xmlns='http://jitsi.org/protocol/jibri' status='idle'/>"
                + "<health-status xmlns='http://jitsi.org/protocol/health' status='healthy'/></jibri-status>")
    }

    @Test func theMeetingAsJibriJoinsIt() throws {
        let directory = NSTemporaryDirectory() + "jibri-meeting-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "callsecret\n".write(toFile: "\(directory)/pass", atomically: true, encoding: .utf8)
        let room = "room42@conference.team1.meet.example.org"
        #expect(JibriMeeting.tenant(room: room, stripFromRoomDomain: "conference.", xmppDomain: "meet.example.org") == "team1")
        var request = JibriRecordingRequest(
            sessionID: "a/b c", environment: "e", meetingURL: "https://meet.example.org/team1/room42", callName: "room42", mode: .file,
            appData: "{\"file_recording_metadata\":{\"share\":true,\"upload\":\"x\"}}",
            callLogin: .init(domain: "recorder.meet.example.org", username: "recorder", passwordFile: "\(directory)/pass"),
            width: 1280, height: 720, fps: 30)
        request.tenant = "team1"
        request.baseURL = "https://meet.example.org"
        #expect(request.directoryName == "a_b_c")
        var daemon = JitsiConfiguration()
        daemon.joinTimeoutSeconds = 7
        let meeting = try Recorder.jibriMeeting(request, jitsi: daemon)
        #expect(meeting.room.meetingURL == request.meetingURL)
        #expect(meeting.configuration.joinTimeoutSeconds == 7)
        #expect(meeting.configuration.displayName == "")
        #expect(meeting.appData == ["share": .bool(true), "upload": .string("x")])
        #expect(meeting.room.joinURL.contains("config.iAmRecorder=true"))
        #expect(!meeting.room.redactedJoinURL.contains("callsecret"))
        #expect(!"\(meeting)".contains("callsecret"))

        // No call login: Jibri's error, no retry.
        request.callLogin = nil
        #expect { try Recorder.jibriMeeting(request, jitsi: daemon) } throws: { error in
            if case .failed(_, retry: false)? = error as? JibriStartFailure { return true }
            return false
        }
    }

    @Test func configurationWithJibriConfsNames() throws {
        let directory = NSTemporaryDirectory() + "jibri-conf-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "secret\n".write(toFile: "\(directory)/pass", atomically: true, encoding: .utf8)
        let yaml = """
            recordingsDir: \(directory)
            xmpp:
              slots: 3
              streamURLTemplate: "rtmps://live.example.org/app/{key}"
              environments:
                - name: prod
                  xmpp-server-hosts: ["xmpp1.example.org", "xmpp2.example.org:5223"]
                  xmpp-domain: meet.example.org
                  control-muc: {domain: internal.auth.meet.example.org, room-name: JibriBrewery, nickname: rd}
                  control-login: {domain: auth.meet.example.org, username: jibri, password-file: \(directory)/pass}
                  call-login: {domain: recorder.meet.example.org, username: recorder, password-file: \(directory)/pass}
                  strip-from-room-domain: "conference."
                  usage-timeout: 60
                  trust-all-xmpp-certs: true
            """
        try yaml.write(toFile: "\(directory)/c.yaml", atomically: true, encoding: .utf8)
        var configuration = DaemonConfiguration()
        try configuration.load(file: "\(directory)/c.yaml")
        try configuration.validate()
        let xmpp = try #require(configuration.xmpp)
        #expect(xmpp.slots == 3)
        #expect(xmpp.streamURLTemplate == "rtmps://live.example.org/app/{key}")
        let environment = try #require(xmpp.environments.first)
        #expect(environment.breweryJID == "JibriBrewery@internal.auth.meet.example.org")
        #expect(environment.servers.map { "\($0.host):\($0.port)" } == ["xmpp1.example.org:5222", "xmpp2.example.org:5223"])
        #expect(environment.controlLogin.jid == "jibri@auth.meet.example.org")
        #expect(try environment.controlLogin.password() == "secret")
        #expect(environment.usageTimeoutMinutes == 60)
        #expect(environment.trustAllCertificates)

        // A password in the file itself is refused, naming the key.
        try yaml.replacingOccurrences(of: "password-file: \(directory)/pass}", with: "password: secret}")
            .write(toFile: "\(directory)/bad.yaml", atomically: true, encoding: .utf8)
        var bad = DaemonConfiguration()
        #expect { try bad.load(file: "\(directory)/bad.yaml") } throws: { error in
            "\(error)".contains("xmpp.environments[0].control-login.password-file")
        }
    }
}
