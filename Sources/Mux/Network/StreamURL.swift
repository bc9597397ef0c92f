public import MediaCore

/// An ingest URL checked before any socket opens: `rtmp://` or `rtmps://`
/// (lower case, as libavformat looks protocols up), printable ASCII only, a
/// host, an optional port, an application and a stream name.
///
/// The stream name is usually the stream key, a secret. The full URL is kept
/// inside the module and handed only to libavformat; everything a person can
/// see (`description`, `debugDescription`, `dump`, errors) shows `redacted`,
/// where everything after the application is `***`:
/// `rtmp://a.rtmp.youtube.com/live2/***`.
public struct StreamURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public enum Scheme: String, Sendable {
        case rtmp, rtmps
    }

    public let scheme: Scheme
    /// The host as written (a name, an IPv4 address or a bracketed IPv6 one).
    public let host: String
    /// The port when the URL gives one.
    public let port: Int?
    /// The URL with the stream name replaced by `***`: safe to print.
    public let redacted: String
    /// The URL as given, stream key included: for libavformat only.
    let full: String
    /// What must never be shown: the full URL, the stream name (everything
    /// after the application) and any user information.
    package let secretParts: [String]

    /// Checks `text`; throws `InvalidArgument` naming `option` and the
    /// redacted URL with the first problem found.
    public init(_ text: String, option: String = "--stream") throws(InvalidArgument) {
        let shown = Self.redact(text)
        func refuse(_ reason: String) -> InvalidArgument {
            InvalidArgument(name: option, value: shown, reason: reason)
        }
        guard !text.isEmpty else { throw refuse("empty URL") }
        for scalar in text.unicodeScalars {
            if scalar.value <= 0x20 || scalar.value == 0x7F {
                throw refuse("contains a space or a control character")
            }
            if scalar.value > 0x7E { throw refuse("contains a non-ASCII character (percent-encode it)") }
        }
        let scheme: Scheme
        if text.hasPrefix("rtmp://") {
            scheme = .rtmp
        } else if text.hasPrefix("rtmps://") {
            scheme = .rtmps
        } else {
            throw refuse("only rtmp:// and rtmps:// URLs are accepted")
        }
        let rest = text.dropFirst(scheme.rawValue.count + 3)
        let authorityEnd = rest.firstIndex(where: Self.endsAuthority) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw refuse("unclosed [ in the IPv6 host") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse("unexpected text after the IPv6 host") }
                port = try Self.port(after.dropFirst(), refuse)
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = try Self.port(authority[authority.index(after: colon)...], refuse)
        }
        guard !host.isEmpty, host != "[]" else { throw refuse("no host") }
        let path = rest[authorityEnd...]
        guard path.hasPrefix("/") else { throw refuse("no application and stream name (rtmp://HOST/APP/STREAM)") }
        let app = path.dropFirst().prefix { !Self.endsAuthority($0) }
        guard !app.isEmpty else { throw refuse("no application (rtmp://HOST/APP/STREAM)") }
        let stream = path.dropFirst(1 + app.count).drop { $0 == "/" }
        guard !stream.isEmpty else { throw refuse("no stream name after the application (rtmp://HOST/APP/STREAM)") }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.full = text
        self.redacted = shown
        var secrets = [text, String(stream)]
        if let at = rest[..<authorityEnd].lastIndex(of: "@") { secrets.append(String(rest[..<at])) }
        secretParts = secrets
    }

    private static func port(_ digits: Substring, _ refuse: (String) -> InvalidArgument) throws(InvalidArgument) -> Int {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(digits), (1...65_535).contains(value)
        else { throw refuse("the port must be a number from 1 to 65535") }
        return value
    }

    public var description: String { redacted }
    public var debugDescription: String { "StreamURL(\(redacted))" }
    public var customMirror: Mirror { Mirror(self, children: ["redacted": redacted]) }

    public static func == (lhs: StreamURL, rhs: StreamURL) -> Bool { lhs.full == rhs.full }

    /// What of `text` may be shown: scheme, host (without user information)
    /// and the application; whatever follows the application becomes `***`.
    /// A path of one segment may be the key itself and is hidden whole.
    /// Works on any text, valid URL or not; characters that are not
    /// printable ASCII are shown as `\xNN` escapes, so the result is one line.
    public static func redact(_ text: String) -> String {
        let shown: String
        if let separator = text.firstRange(of: "://") {
            let rest = text[separator.upperBound...]
            let authorityEnd = rest.firstIndex(where: Self.endsAuthority) ?? rest.endIndex
            var authority = String(rest[..<authorityEnd])
            if let at = authority.lastIndex(of: "@") {
                authority = "***@" + authority[authority.index(after: at)...]
            }
            let head: String = text[..<separator.upperBound] + authority
            let path = rest[authorityEnd...]
            if path.isEmpty {
                shown = String(head)
            } else if path.hasPrefix("/") {
                let app = path.dropFirst().prefix { !Self.endsAuthority($0) }
                let after = path.dropFirst(1 + app.count)
                if let mark = after.first, !after.dropFirst().isEmpty || mark != "/" {
                    shown = head + "/" + app + String(mark) + "***"
                } else {
                    shown = head + "/***"
                }
            } else {
                shown = head + String(path.first!) + "***"
            }
        } else if let colon = text.firstIndex(of: ":") {
            shown = text[..<colon] + ":***"
        } else {
            shown = text.isEmpty ? "" : "***"
        }
        return escapeUnprintable(shown)
    }

    /// Replaces every URL inside `message` (any `scheme://...` token, up to
    /// the next space or quote) by its redacted form: for messages made by
    /// others, such as a command-line parser's, that may echo a URL.
    public static func redactURLs(in message: String) -> String {
        func isBoundary(_ character: Character) -> Bool {
            character == " " || character == "'" || character == "\"" || character.isNewline
        }
        var result = ""
        var rest = Substring(message)
        while let separator = rest.firstRange(of: "://") {
            let start = rest[..<separator.lowerBound].lastIndex(where: isBoundary).map { rest.index(after: $0) }
                ?? rest.startIndex
            let end = rest[separator.upperBound...].firstIndex(where: isBoundary) ?? rest.endIndex
            result += rest[..<start]
            result += redact(String(rest[start..<end]))
            rest = rest[end...]
        }
        return result + rest
    }

    /// `/`, `?` or `#`: where a URL's authority (and its first path segment) ends.
    private static func endsAuthority(_ character: Character) -> Bool {
        character == "/" || character == "?" || character == "#"
    }

    private static func escapeUnprintable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value >= 0x7F {
                result += scalar.value <= 0xFF ? "\\x" + hex(scalar.value, width: 2) : "\\u{" + hex(scalar.value, width: 4) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
