import Foundation
import PageBrowser
@testable import RecorderDaemon
import Testing

/// `page.jitsi` read from a request body, each refusal naming its field.
@Suite struct JitsiRequestTests {
    /// Decodes `json` as the `page.jitsi` object of a request.
    struct Body: Decodable {
        let request: JitsiRequest
        init(from decoder: any Decoder) throws {
            var reader = try FieldReader(decoder, path: "page.jitsi")
            request = try JitsiRequest(&reader)
        }
    }

    static func read(_ json: String) throws -> JitsiRequest {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(json.utf8)).request
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is FieldError {
            throw context.underlyingError!
        }
    }

    static func field(_ json: String) -> String? {
        do {
            _ = try read(json)
            return nil
        } catch {
            return (error as? FieldError)?.field ?? "\(error)"
        }
    }

    @Test func roomTenantAndMetadataAreRead() throws {
        let request = try Self.read(#"{"room": "room42", "tenant": "team1", "metadata": {"upload": {"to": "s3"}, "n": 2, "ok": true}}"#)
        #expect(request == JitsiRequest(room: "room42", tenant: "team1",
                                        metadata: ["upload": .object(["to": .string("s3")]), "n": .number(2), "ok": .bool(true)]))
        #expect(try Self.read(#"{"room": "r"}"#) == JitsiRequest(room: "r"))
    }

    @Test func badFieldsAreNamed() {
        #expect(Self.field(#"{}"#) == "page.jitsi.room")
        #expect(Self.field(#"{"room": "a/b"}"#) == "page.jitsi.room")
        #expect(Self.field(#"{"room": 42}"#) == "page.jitsi.room")
        #expect(Self.field(#"{"room": "r", "tenant": "t#1"}"#) == "page.jitsi.tenant")
        #expect(Self.field(#"{"room": "r", "metadata": [1]}"#) == "page.jitsi.metadata")
        #expect(Self.field(#"{"room": "r", "password": "x"}"#) == "page.jitsi.password")
        #expect(Self.field(#"[]"#) == "page.jitsi")
    }

    @Test func withoutARecorderLoginTheMeetingIsRefusedNamingPageJitsi() {
        #expect {
            try JitsiRequest(room: "r").meeting(configuration: JitsiConfiguration())
        } throws: { ($0 as? FieldError)?.field == "page.jitsi" }
    }
}
