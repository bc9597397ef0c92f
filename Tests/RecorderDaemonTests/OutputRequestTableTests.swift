import Foundation
import HummingbirdTesting
@testable import RecorderDaemon
import Testing

/// The request's outputs beyond one file (issue 24 item 1) and the
/// refusals shared with record-display (item 4), in process, no bench:
/// each wrong type or range answers 400 naming the field, starts nothing
/// and writes nothing.
@Suite struct OutputRequestTableTests {
    @Test func badOutputFieldsAreRefusedNamingTheField() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.streamAllowList = [#"rtmp://127\.0\.0\.1:1935/live/.*"#, #"srt://127\.0\.0\.1:9000"#]
        }
        let outside = try daemon.escapeLink()
        let display = RequestTableTests.display
        let rtmp = "rtmp://127.0.0.1:1935/live/SECRETKEY"
        let cases: [(body: String, field: String, says: String)] = [
            // Sound alone.
            (#"{"noVideo": "yes", "audioDevice": "hw:9"}"#, "noVideo", "true or false"),
            (#"{"noVideo": true, "display": "\#(display)", "audioDevice": "hw:9"}"#, "display", "sound alone"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "region": "640x480+0+0"}"#, "region", "sound alone"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "video": {"crf": 20}}"#, "video", "sound alone"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "fps": 25}"#, "fps", "sound alone"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "renditions": []}"#, "renditions", "sound alone"),
            (#"{"noVideo": true}"#, "audioDevice", "give an audioDevice"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "file": "a.wav"}"#, "file", "must name a .m4a or .mp4 file"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "noMedia": {"frozenSeconds": 5}}"#, "noMedia.frozenSeconds", "no picture"),
            (#"{"noVideo": true, "audioDevice": "hw:9", "streams": ["\#(rtmp)"]}"#, "noVideo", "carries video"),
            // Segments.
            (#"{"display": "\#(display)", "segments": 4}"#, "segments", "JSON object"),
            (#"{"display": "\#(display)", "segments": {}}"#, "segments", "time"),
            (#"{"display": "\#(display)", "segments": {"time": 0}}"#, "segments.time", "from 1.0 to 86400.0"),
            (#"{"display": "\#(display)", "segments": {"time": "4"}}"#, "segments.time", "must be a number"),
            (#"{"display": "\#(display)", "segments": {"size": "1k"}}"#, "segments.size", "1 MB"),
            (#"{"display": "\#(display)", "segments": {"size": "lots"}}"#, "segments.size", "500M"),
            (#"{"display": "\#(display)", "segments": {"size": true}}"#, "segments.size", "not a boolean"),
            (#"{"display": "\#(display)", "segments": {"size": "1e9"}}"#, "segments.size", "500M"),
            (#"{"display": "\#(display)", "segments": {"size": 1500000.5}}"#, "segments.size", "whole number"),
            (#"{"display": "\#(display)", "segments": {"time": 4, "count": 3}}"#, "segments.count", "unknown field"),
            // HLS.
            (#"{"display": "\#(display)", "hls": "live.m3u8"}"#, "hls", "JSON object"),
            (#"{"display": "\#(display)", "hls": {}}"#, "hls.playlist", "required"),
            (#"{"display": "\#(display)", "hls": {"playlist": "../live.m3u8"}}"#, "hls.playlist", "'..'"),
            (#"{"display": "\#(display)", "hls": {"playlist": "/tmp/live.m3u8"}}"#, "hls.playlist", "relative"),
            (#"{"display": "\#(display)", "hls": {"playlist": "escape/live.m3u8"}}"#, "hls.playlist", "symbolic link"),
            (#"{"display": "\#(display)", "hls": {"playlist": "live.mp4"}}"#, "hls.playlist", ".m3u8"),
            (#"{"display": "\#(display)", "hls": {"playlist": "live.m3u8", "rendition": "nope"}}"#, "hls.rendition", "names no rendition"),
            (#"{"display": "\#(display)", "hls": {"playlist": "live.m3u8", "segment": 2}}"#, "hls.segment", "unknown field"),
            // Renditions and the outputs naming them.
            (#"{"display": "\#(display)", "renditions": {"name": "low"}}"#, "renditions", "must be an array"),
            (#"{"display": "\#(display)", "renditions": [5]}"#, "renditions[0]", "JSON object"),
            (#"{"display": "\#(display)", "renditions": [{"size": "640x360"}]}"#, "renditions[0].name", "required"),
            (#"{"display": "\#(display)", "renditions": [{"name": "main"}], "fileRendition": "main"}"#, "renditions[0].name", "main rendition"),
            (#"{"display": "\#(display)", "renditions": [{"name": "a b"}], "fileRendition": "a b"}"#, "renditions[0].name", "A-Z a-z 0-9"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "size": "641x360"}], "fileRendition": "low"}"#, "renditions[0].size", "even"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "size": "big"}], "fileRendition": "low"}"#, "renditions[0].size", "WIDTHxHEIGHT"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "crf": 99}]}"#, "renditions[0].crf", "from 1 to 51"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "bitrate": "fast"}]}"#, "renditions[0].bitrate", "2976k"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "scaling": "zoom"}]}"#, "renditions[0].scaling", "letterbox"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low", "speed": 2}]}"#, "renditions[0].speed", "unknown field"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low"}]}"#, "renditions[0]", "no output takes it"),
            (#"{"display": "\#(display)", "renditions": [{"name": "low"}, {"name": "low"}], "fileRendition": "low"}"#, "renditions[1].name", "twice"),
            (#"{"display": "\#(display)", "fileRendition": 3}"#, "fileRendition", "must be a string"),
            (#"{"display": "\#(display)", "fileRendition": "nope"}"#, "fileRendition", "names no rendition"),
            (#"{"display": "\#(display)", "video": {"size": "1281x720"}}"#, "video.size", "even"),
            (#"{"display": "\#(display)", "video": {"scaling": "zoom"}}"#, "video.scaling", "letterbox"),
            // Streams as objects; SRT is not allowed on this daemon.
            (#"{"display": "\#(display)", "streams": [{"url": 5}]}"#, "streams[0].url", "must be a string"),
            (#"{"display": "\#(display)", "streams": [{"rendition": "low"}]}"#, "streams[0].url", "required"),
            (#"{"display": "\#(display)", "streams": [true]}"#, "streams[0]", "URL string or an object"),
            (#"{"display": "\#(display)", "streams": [{"url": "\#(rtmp)", "rendition": "nope"}]}"#, "streams[0].rendition", "names no rendition"),
            (#"{"display": "\#(display)", "streams": [{"url": "\#(rtmp)", "srtLatency": 50}]}"#, "streams[0].srtLatency", "srt:// streams only"),
            (#"{"display": "\#(display)", "streams": [{"url": "srt://127.0.0.1:9000", "srtLatency": 5}]}"#, "streams[0].srtLatency", "from 10 to 10000"),
            (#"{"display": "\#(display)", "streams": [{"url": "srt://127.0.0.1:9000"}]}"#, "streams[0]", "allowSRT"),
            (#"{"display": "\#(display)", "streams": [{"url": "\#(rtmp)", "key": "x"}]}"#, "streams[0].key", "unknown field"),
            // Parity with record-display (item 4).
            (#"{"display": "\#(display)", "region": "641x480+0+0"}"#, "region", "must be even"),
            (#"{"display": "\#(display)", "region": "big"}"#, "region", "expected WxH+X+Y"),
            (#"{"display": "\#(display)", "file": "x.txt"}"#, "file", "must name a .mp4 file"),
        ]
        try await daemon.test { client in
            for (body, field, says) in cases {
                let answer = try await client.call(.post, "/v1/recordings", body: body)
                #expect(answer.status == 400, "\(body): \(answer.status) \(answer.body)")
                #expect(answer.field == field, "\(body): \(answer.body)")
                #expect((answer.json["error"] as? String ?? "").contains(says), "\(body): \(answer.body)")
                #expect(!answer.body.contains("SECRETKEY"), "a stream key in an answer: \(answer.body)")
            }
            let listed = try await client.call(.get, "/v1/recordings").json["recordings"] as? [Any]
            #expect(listed?.isEmpty == true, "nothing started")
        }
        try daemon.expectNothingWritten(beyond: outside)
    }

    /// SRT's passphrase comes from the file the daemon's configuration
    /// names, never from the request, and is never shown.
    @Test func theSRTPassphraseIsTheDaemonsAndNeverShown() async throws {
        let passphrase = "tooshort"
        let file = NSTemporaryDirectory() + "recorderd-srt-\(UUID().uuidString.prefix(8))"
        try passphrase.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.streamAllowList = [#"srt://127\.0\.0\.1:9000"#]
            configuration.allowSRT = true
            configuration.srtPassphraseFile = file
        }
        let display = RequestTableTests.display
        try await daemon.test { client in
            let refused = try await client.call(.post, "/v1/recordings", body: #"""
                {"display": "\#(display)", "streams": [{"url": "srt://127.0.0.1:9000"}]}
                """#)
            #expect(refused.status == 400 && refused.field == "srtPassphraseFile", "\(refused.body)")
            #expect(!refused.body.contains(passphrase), "the passphrase in an answer: \(refused.body)")
            let asked = try await client.call(.post, "/v1/recordings", body: #"""
                {"display": "\#(display)", "streams": [{"url": "srt://127.0.0.1:9000", "passphrase": "0123456789"}]}
                """#)
            #expect(asked.status == 400 && asked.field == "streams[0].passphrase", "\(asked.body)")
        }
        // Without allowSRT, a passphrase file is a configuration error.
        var configuration = DaemonConfiguration()
        configuration.recordingsDir = daemon.recordings
        configuration.srtPassphraseFile = file
        #expect(throws: FieldError.self) { try configuration.validate() }
    }
}
