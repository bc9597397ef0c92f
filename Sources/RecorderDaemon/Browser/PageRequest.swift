import Foundation

/// A page to record instead of a display (`"page"` of a recording request):
/// what to open, at what size, the gates that start and end the recording,
/// and what the browser is given before it navigates. The values of `query`,
/// `hash`, `cookies` and `localStorage` carry tokens: they are never logged,
/// answered or put in an event (`redactedURL` is what may be shown).
struct PageRequest: Sendable {
    /// What the page is: a plain URL, or a Jitsi room whose URL, login,
    /// start gate (the join) and end checks come from the daemon's
    /// configuration (`JitsiMeeting`).
    enum Kind: Sendable {
        case url(String)
        case jitsi(JitsiRequest)
    }

    var kind: Kind
    /// The workspace's and the browser window's size, pixels (even, 2-8192).
    var width = defaultWidth
    var height = defaultHeight
    static let defaultWidth = 1920
    static let defaultHeight = 1080
    var start = PageStartGate.load
    /// nil: the page never ends the recording itself (duration, stop,
    /// no-media, a crash or an exited browser do).
    var end: PageEndGate?
    /// Extra parameters added to the URL's query and fragment (`a=b&c=d`).
    var query: [(name: String, value: String)] = []
    var hash: [(name: String, value: String)] = []
    var cookies: [PageCookie] = []
    var localStorage: [String: String] = [:]

    init(kind: Kind) { self.kind = kind }

    /// The URL as given (checked against `pageAllowList`); empty for a
    /// Jitsi room (its URL is the configuration's, `JitsiMeeting.room`).
    var url: String {
        switch kind {
        case let .url(url): url
        case .jitsi: ""
        }
    }

    /// The Jitsi room asked for, if any.
    var jitsi: JitsiRequest? {
        if case let .jitsi(request) = kind { return request }
        return nil
    }

    /// The URL the browser opens: `url` with `query` appended to its query
    /// and `hash` to its fragment, each value percent-encoded.
    var navigationURL: String {
        var url = self.url
        var fragment: String?
        if let mark = url.firstIndex(of: "#") {
            fragment = String(url[url.index(after: mark)...])
            url = String(url[..<mark])
        }
        if !query.isEmpty {
            url += (url.contains("?") ? (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&") : "?") + Self.encode(query)
        }
        if !hash.isEmpty {
            fragment = [fragment, Self.encode(hash)].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: "&")
        }
        if let fragment { url += "#" + fragment }
        return url
    }

    /// The URL with every query value and the fragment replaced by `***`
    /// (a URL may carry a token of its own): what answers and logs show.
    var redactedURL: String {
        var url = self.url
        if let mark = url.firstIndex(of: "#") { url = String(url[..<mark]) + "#***" }
        guard let question = url.firstIndex(of: "?") else { return url }
        let end = url.firstIndex(of: "#") ?? url.endIndex
        let parameters = url[url.index(after: question)..<end].split(separator: "&").map { pair in
            pair.split(separator: "=", maxSplits: 1).first.map { "\($0)=***" } ?? "***"
        }
        return String(url[...question]) + parameters.joined(separator: "&") + String(url[end...])
    }

    /// The origin (`scheme://host[:port]`) localStorage entries are written for.
    var origin: String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return nil
        }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func encode(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { name, value in
            let name = name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
            let value = value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
            return "\(name)=\(value)"
        }.joined(separator: "&")
    }
}

/// A cookie set before the page opens; `url` defaults to the page's URL.
struct PageCookie: Sendable {
    var name: String
    var value: String
    var domain: String?
    var path: String?
}
