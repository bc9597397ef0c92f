import Foundation

/// The Jitsi-like page (`Tests/Pages/jitsi-like/index.html`) with test
/// controls set by the server rather than by the URL: for tests where the
/// daemon builds the URL (a Jitsi room, a Jibri start).
public enum JitsiLikePage {
    /// The page's background, `#2a3a4b`, as RGB.
    public static let background: (red: UInt8, green: UInt8, blue: UInt8) = (0x2A, 0x3A, 0x4B)

    /// The page with `controls` (`jitsiLike.NAME` -> JSON value) appended
    /// to the fragment the daemon gave, before the page reads it, and
    /// `after` (JavaScript) run after the page's own script.
    public static func html(controls: [String: String] = [:], after: String = "") throws -> String {
        let html = try String(contentsOfFile: "\(Repository.root)/Tests/Pages/jitsi-like/index.html", encoding: .utf8)
        let extra = controls.keys.sorted()
            .map { "&jitsiLike.\($0)=\(controls[$0]!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            .joined()
        let before = "<script>history.replaceState(null, '', location.href + '\(extra)');</script>\n"
        return html.replacingOccurrences(of: "<body>", with: "<body>\n" + before)
            .replacingOccurrences(of: "</body>", with: "<script>\(after)</script>\n</body>")
    }

    /// A participant with an identity, as the page's `participants` control takes it.
    public static func participant(_ id: String, _ nick: String) -> String {
        "{\"id\": \"\(id)\", \"nick\": \"\(nick)\", \"identity\": {\"user\": {\"id\": \"\(id)-id\", \"name\": \"\(nick)\"}, \"group\": \"team\"}}"
    }
}
