public import MediaCore

/// Which ingest URLs a recorder may stream to, with the semantics of Jibri's
/// `rtmp-allow-list`: a URL is accepted when one of the patterns matches the
/// whole URL, case-sensitively; an empty list accepts every URL. Checked
/// before any socket opens, for every scheme. Whatever the list says, only
/// URLs that are valid `StreamURL`s of a scheme the caller allows reach it
/// (`rtmp://`, `rtmps://`, and `srt://` when asked for).
///
/// Patterns are Swift regular expressions (`Regex`), matched with
/// `wholeMatch`: their syntax is the Perl/Java family Jibri's Java patterns
/// are written in (`\d`, `(?:...)`, lazy quantifiers), and the whole-URL
/// anchoring is exact. POSIX `regcomp` was the alternative: its ERE dialect
/// lacks `\d` and non-capturing groups, and anchoring a search by checking
/// the match offsets is exact only under POSIX leftmost-longest rules.
/// Matching runs on Unicode scalars; accepted URLs are ASCII, where that is
/// the same as Java's matching on UTF-16 units.
public struct StreamAllowList: @unchecked Sendable {
    /// The patterns as given.
    public let patterns: [String]
    /// Compiled once; `Regex` values are immutable, so sharing is safe.
    private let expressions: [Regex<AnyRegexOutput>]

    /// Compiles every pattern; an invalid or empty one throws
    /// `InvalidSetting` for `.allowPattern(index:)` with the pattern.
    public init(patterns: [String]) throws(InvalidSetting) {
        var expressions: [Regex<AnyRegexOutput>] = []
        for (index, pattern) in patterns.enumerated() {
            guard !pattern.isEmpty else {
                throw InvalidSetting(.allowPattern(index: index), value: pattern, reason: "an empty pattern matches no URL")
            }
            do {
                expressions.append(try Regex(pattern).matchingSemantics(.unicodeScalar))
            } catch {
                throw InvalidSetting(.allowPattern(index: index), value: pattern, reason: "not a valid regular expression")
            }
        }
        self.patterns = patterns
        self.expressions = expressions
    }

    /// True when the list is empty or a pattern matches all of `url`.
    public func permits(_ url: String) -> Bool {
        guard !expressions.isEmpty else { return true }
        return expressions.contains { (try? $0.wholeMatch(in: url)) != nil }
    }

    /// Throws `InvalidSetting` for `key` (with the redacted URL) unless `url`
    /// is permitted.
    public func check(_ url: StreamURL, key: SettingKey = .stream(index: 0)) throws(InvalidSetting) {
        guard permits(url.full) else {
            throw InvalidSetting(key, value: url.redacted,
                                 reason: "not in the allow-list (no --allow pattern matches the whole URL)")
        }
    }
}
