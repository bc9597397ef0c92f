import Foundation

/// Which pages may be opened: `http` and `https` URLs with a host, matched
/// whole by one of the daemon's `pageAllowList` regular expressions (as
/// the stream allow-list). An empty list refuses every page; a request
/// cannot add to it; `file:`, `data:`, `javascript:`, `chrome:` and every
/// other scheme are refused whatever the list says.
struct PageAllowList: @unchecked Sendable {
    /// Compiled once; `Regex` values are immutable, so sharing is safe.
    private let expressions: [Regex<AnyRegexOutput>]

    /// Patterns already checked by `DaemonConfiguration.validate()`; one
    /// that does not compile matches nothing.
    init(patterns: [String]) {
        expressions = patterns.compactMap { try? Regex($0).matchingSemantics(.unicodeScalar) }
    }

    /// Nil when `url` may be opened, else why not (the URL not repeated:
    /// it may carry a token).
    func refusal(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            return "only http and https pages may be opened"
        }
        guard let host = components.host, !host.isEmpty else { return "the URL has no host" }
        guard components.user == nil, components.password == nil else {
            return "a user name or password in the URL is not accepted (give cookies instead)"
        }
        guard !expressions.isEmpty else {
            return "pages are not enabled here (the daemon has no page allow-list)"
        }
        guard expressions.contains(where: { (try? $0.wholeMatch(in: url)) != nil }) else {
            return "not in the daemon's page allow-list (no pattern matches the whole URL)"
        }
        return nil
    }
}
