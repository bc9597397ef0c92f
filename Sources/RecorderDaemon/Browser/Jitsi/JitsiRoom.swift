import Foundation

/// A Jitsi Meet room joined as Jibri joins it. Pure: no I/O.
///
/// From jibri @62369d5 (`src/main/kotlin/org/jitsi/jibri/`):
/// - the URL is `baseUrl/callName#p1&p2...` (`CallUrlInfo.kt` lines 37-44),
///   with a tenant as `baseUrl/tenant` (`util/XmppUtils.kt` lines 46-55);
/// - the parameters are `RECORDING_URL_OPTIONS` (`selenium/JibriSelenium.kt`
///   lines 153-165), then the request's extra ones (`FileRecordingJibriService.kt`
///   line 172), then `config.useHostPageLocalStorage=true` and
///   `appData.localStorageContent=` (`JibriSelenium.kt` lines 382-387), each
///   once (`withAdditionalUrlParams`' `distinct()`);
/// - the content is the localStorage map (lines 360-376: `displayname`,
///   `email`, `callStatsUserName`, `xmpp_username_override`,
///   `xmpp_password_override`) as a JSON object, that JSON again as a JSON
///   string, then `encodeURIComponent` (lines 378-385, 447-454), because
///   Jitsi Meet JSON-parses every hash value and then the content.
///
/// Where Jibri's encoding breaks (it escapes only `"` of the inner JSON, and
/// its `encodeURIComponent` goes through US-ASCII), this one does what
/// Jibri means: the inner JSON as a JSON string (a `\` escaped too) and the
/// UTF-8 bytes percent-encoded. For values without `"`, `\`, control
/// characters or non-ASCII characters the two are the same string.
///
/// The join URL carries the password: log `redactedJoinURL` (the same URL
/// built with the password `*****`, as Jibri's `XmppCredentials.toString`).
public struct JitsiRoom: Sendable, CustomStringConvertible, CustomReflectable {
    public let room: String
    public let tenant: String?
    /// `baseURL/[tenant/]room`, no hash: Jibri's `meeting_url` in metadata.json.
    public let meetingURL: String
    /// What the browser opens. Holds the password.
    public let joinURL: String
    /// `joinURL` with the password replaced by `*****`.
    public let redactedJoinURL: String
    /// The login as localStorage entries, in Jibri's order, for Meet versions
    /// before `config.useHostPageLocalStorage` (Jibri before #581 set them on
    /// `baseUrl`'s page with `window.localStorage.setItem`). Hold the password.
    public let localStorage: [(key: String, value: String)]
    /// `localStorage` as `Page.setLocalStorage` takes it.
    public var localStorageEntries: [String: String] {
        Dictionary(localStorage.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
    /// The origin those entries belong to (`https://meet.example.org`).
    public let localStorageOrigin: String
    /// The XMPP login the page will use (`recorder-k3j9x0aa@recorder.DOMAIN`).
    public let username: String

    /// Jibri's `RECORDING_URL_OPTIONS`, in its order.
    public static let recordingHashParameters = [
        "config.analytics.disabled=true",
        "config.disableInitialGUM=true",
        "config.externalConnectUrl=null",
        "config.iAmRecorder=true",
        "config.p2p.enabled=false",
        "config.prejoinConfig.enabled=false",
        "config.requireDisplayName=false",
        "config.deeplinking.disabled=true",
        "config.startWithAudioMuted=true",
        "config.startWithVideoMuted=true",
        "interfaceConfig.APP_NAME=\"Jibri\"",
    ]

    /// Jibri's `callStatsUserName` when neither an override nor `jibri.id` is set.
    public static let callStatsUsername = "jibri"

    /// - Parameters:
    ///   - room: the room (Jibri's `callName`, the room JID's localpart);
    ///     refused (a `FieldError` naming `page.jitsi.room`) unless it is 1 to
    ///     256 bytes of letters, digits, `-`, `_` and `.`, not starting with `.`.
    ///   - tenant: Jibri's subdomain (`page.jitsi.tenant`), same rules.
    ///   - baseURL: checked as `jitsi.baseURL`.
    ///   - usernameSuffix: with `randomizeUsername`, the 8 characters after
    ///     `USERNAME-`; nil draws them (Jibri's `randomAlphaNum(8)`: `a-z0-9`).
    ///   - extraHashParameters: after Jibri's own (Jibri's `extraUrlParams`,
    ///     e.g. `config.analytics.rtcstatsEnabled=true`).
    public init(room: String, tenant: String? = nil, baseURL: String, login: JitsiConfiguration.CallLogin, password: String,
                displayName: String = "", extraHashParameters: [String] = [], usernameSuffix: String? = nil) throws {
        try Self.checkName(room, field: "page.jitsi.room")
        if let tenant { try Self.checkName(tenant, field: "page.jitsi.tenant") }
        localStorageOrigin = try JitsiConfiguration.origin(ofBaseURL: baseURL)
        self.room = room
        self.tenant = tenant
        let base = tenant.map { "\(baseURL)/\($0)" } ?? baseURL
        let meetingURL = "\(base)/\(room)"
        self.meetingURL = meetingURL

        let name = login.randomizeUsername ? "\(login.username)-\(usernameSuffix ?? Self.randomAlphaNum(8))" : login.username
        username = "\(name)@\(login.domain)"
        func entries(_ password: String) -> [(key: String, value: String)] {
            [("displayname", displayName), ("email", ""), ("callStatsUserName", Self.callStatsUsername),
             ("xmpp_username_override", "\(name)@\(login.domain)"), ("xmpp_password_override", password)]
        }
        func url(_ password: String) -> String {
            let inner = "{" + entries(password).map { "\(Self.jsonString($0.key)):\(Self.jsonString($0.value))" }.joined(separator: ",") + "}"
            var parameters: [String] = []
            for parameter in Self.recordingHashParameters + extraHashParameters + [
                "config.useHostPageLocalStorage=true",
                "appData.localStorageContent=\(Self.encodeURIComponent(Self.jsonString(inner)))",
            ] where !parameters.contains(parameter) {
                parameters.append(parameter)
            }
            return "\(meetingURL)#\(parameters.joined(separator: "&"))"
        }
        localStorage = entries(password)
        joinURL = url(password)
        redactedJoinURL = url("*****")
    }

    public var description: String { "JitsiRoom(\(redactedJoinURL))" }

    /// Keeps the password out of `dump` and `String(reflecting:)`.
    public var customMirror: Mirror {
        Mirror(self, children: ["room": room, "tenant": tenant as Any, "joinURL": redactedJoinURL, "username": username])
    }

    /// A room or tenant name Jibri could have been given: it comes from a
    /// room JID's localpart, which cannot hold `"&'/:<>@` or spaces, and Jibri
    /// puts it in the URL path unencoded, where `#`, `?`, `%` and `\` would
    /// change the URL.
    static func checkName(_ name: String, field: String) throws {
        guard !name.isEmpty, name.utf8.count <= 256 else { throw FieldError(field: field, reason: "must be 1 to 256 bytes") }
        guard !name.hasPrefix(".") else { throw FieldError(field: field, reason: "'\(name)' must not start with '.'") }
        if let bad = name.unicodeScalars.first(where: { !($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0)) }) {
            throw FieldError(field: field, reason: "'\(name)': '\(bad.escaped(asASCII: true))' cannot be in a Jitsi room name (letters, digits, '-', '_' and '.')")
        }
    }

    /// A domain or username of the call login (an XMPP address part).
    static func checkAddressPart(_ part: String, field: String) throws {
        guard !part.isEmpty else { throw FieldError(field: field, reason: "must not be empty") }
        if let bad = part.unicodeScalars.first(where: { "\"&'/:<>@ \t#?%\\".unicodeScalars.contains($0) || $0.value < 0x20 }) {
            throw FieldError(field: field, reason: "'\(part)': '\(bad.escaped(asASCII: true))' cannot be in an XMPP address part")
        }
    }

    /// A JSON string as Jackson writes one: `"` and `\` escaped, control
    /// characters as `\b \t \n \f \r` or `\u00XX`, everything else as is.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// JavaScript's `encodeURIComponent`: UTF-8 bytes, all but
    /// `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as `%XX`.
    static func encodeURIComponent(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()".utf8)
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// Jibri's `randomAlphaNum` (`util/RandomUtils.kt`): `count` of `a-z0-9`.
    static func randomAlphaNum(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }
}
