public import MediaCore

/// An ingest URL checked before any socket opens: `rtmp://` or `rtmps://`
/// (lower case, as libavformat looks protocols up) with a host, an optional
/// port, an application and a stream name; or, where the caller allows the
/// scheme, `srt://HOST:PORT` with an optional `?streamid=...`. Printable
/// ASCII only.
///
/// The stream name is usually the stream key, a secret, and so is an SRT
/// stream id (`#!::r=live/KEY,m=publish`). The full URL is kept inside the
/// module and handed only to the connection; everything a person can see
/// (`description`, `debugDescription`, `dump`, errors) shows `redacted`,
/// where everything after the application (after the `?` for SRT) is `***`:
/// `rtmp://a.rtmp.youtube.com/live2/***`, `srt://ingest.example:9000?***`.
public struct StreamURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case rtmp, rtmps, srt

        /// What every recorder accepts without being asked: RTMP and RTMPS.
        /// SRT must be allowed explicitly (`--allow-scheme srt`).
        public static let defaultAllowed: Set<Scheme> = [.rtmp, .rtmps]
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
    /// after the application), an SRT stream id and any user information.
    package let secretParts: [String]
    /// `srt://` only: the stream id the caller sends (percent-decoded), if any.
    let streamID: String?

    /// The query parameter names an `srt://` URL may carry. Everything else
    /// is refused by name: a passphrase belongs in a file (a URL shows in
    /// process lists and logs), the latency in its own option (libavformat
    /// reads it in microseconds and srt-live-transmit in milliseconds), and
    /// only caller mode is made.
    static let srtParameters: Set<String> = ["streamid", "mode"]

    /// Checks `text`, accepting the schemes in `schemes`; throws
    /// `InvalidSetting` for `key` with the redacted URL and the first
    /// problem found.
    public init(_ text: String, key: SettingKey = .stream(index: 0),
                schemes: Set<Scheme> = Scheme.defaultAllowed) throws(InvalidSetting) {
        let shown = Self.redact(text)
        func refuse(_ reason: String) -> InvalidSetting {
            InvalidSetting(key, value: shown, reason: reason)
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
        } else if text.hasPrefix("srt://") {
            scheme = .srt
        } else {
            throw refuse("only " + Self.names(schemes) + " URLs are accepted")
        }
        guard schemes.contains(scheme) else {
            throw refuse("\(scheme.rawValue):// URLs are accepted only when allowed (--allow-scheme \(scheme.rawValue));"
                         + " allowed: " + Self.names(schemes))
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
        if scheme == .srt {
            guard let port else { throw refuse("no port (srt://HOST:PORT)") }
            let query = rest[authorityEnd...]
            guard query.isEmpty || query.hasPrefix("?") else {
                throw refuse("nothing may follow the port but a query (srt://HOST:PORT?streamid=...)")
            }
            var streamID: String?
            for parameter in query.dropFirst().split(separator: "&", omittingEmptySubsequences: true) {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
                switch name {
                case "streamid":
                    guard let decoded = Self.percentDecoded(value) else { throw refuse("the stream id is badly percent-encoded") }
                    guard decoded.utf8.count <= 512 else { throw refuse("the stream id is longer than SRT's 512 bytes") }
                    streamID = decoded
                case "mode":
                    guard value == "caller" else { throw refuse("only caller mode is supported (mode=caller)") }
                case "passphrase":
                    throw refuse("a passphrase in the URL would show in process lists and logs: give it in a file"
                                 + " (--srt-passphrase-file)")
                case "latency":
                    throw refuse("give the latency with --srt-latency MILLISECONDS")
                default:
                    throw refuse("the query parameter '\(Self.escapeUnprintable(name))' is not supported"
                                 + " (only streamid and mode=caller)")
                }
            }
            self.scheme = scheme
            self.host = String(host)
            self.port = port
            self.full = text
            self.redacted = shown
            self.streamID = streamID
            var secrets = [text]
            if !query.isEmpty { secrets.append(String(query.dropFirst())) }
            if let streamID { secrets.append(streamID) }
            secretParts = secrets
            return
        }
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
        self.streamID = nil
        var secrets = [text, String(stream)]
        if let at = rest[..<authorityEnd].lastIndex(of: "@") { secrets.append(String(rest[..<at])) }
        secretParts = secrets
    }

    /// `rtmp://, rtmps:// and srt://`, as allowed.
    private static func names(_ schemes: Set<Scheme>) -> String {
        let names = Scheme.allCases.filter(schemes.contains).map { "\($0.rawValue)://" }
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// `%XX` escapes decoded (UTF-8); nil for a broken escape.
    private static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func port(_ digits: Substring, _ refuse: (String) -> InvalidSetting) throws(InvalidSetting) -> Int {
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
