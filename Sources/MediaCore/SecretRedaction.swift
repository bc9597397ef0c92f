import Synchronization

/// The secrets (stream keys, URLs with credentials) that must not appear in
/// any log line a library writes, registered by whoever holds them and
/// removed when they end: the list does not grow with the sessions a process
/// has run.
///
/// Lookups happen only on log lines (rare: errors and start-up banners), so
/// the lock is never on a media path.
public enum SecretRedaction {
    /// One holder's registration; `unregister(_:)` takes it back.
    public struct Token: Hashable, Sendable {
        fileprivate let value: Int
    }

    private struct Registry {
        var next = 0
        var secrets: [Int: [String]] = [:]
        /// Every secret, longest first (so a URL goes before its key alone).
        var ordered: [String] = []

        mutating func reorder() {
            ordered = Array(Set(secrets.values.joined())).sorted { $0.count > $1.count }
        }
    }

    private static let registry = LockedValue(Registry())

    /// Adds `secrets` (strings shorter than 4 characters are ignored: they
    /// would blank out ordinary words).
    public static func register(_ secrets: [String]) -> Token {
        registry.withLock { registry in
            registry.next += 1
            registry.secrets[registry.next] = secrets.filter { $0.count >= 4 }
            registry.reorder()
            return Token(value: registry.next)
        }
    }

    /// Removes what `token` registered.
    public static func unregister(_ token: Token) {
        registry.withLock { registry in
            registry.secrets[token.value] = nil
            registry.reorder()
        }
    }

    /// Secrets registered now (for tests and leak checks).
    public static var count: Int { registry.withLock { $0.ordered.count } }

    /// `text` with every registered secret replaced by `***`.
    public static func redact(_ text: String) -> String {
        let secrets = registry.withLock { $0.ordered }
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacing(secret, with: "***")
        }
        return text
    }
}
