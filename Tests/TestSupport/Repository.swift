import Foundation

/// Paths inside this repository, for tests that run its scripts.
public enum Repository {
    /// The repository's root folder (found from this source file's path).
    public static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// A script in `scripts/`.
    public static func script(_ name: String) -> String { "\(root)/scripts/\(name)" }

    /// A program this package builds, as the tests' build left it:
    /// `.build/debug/NAME`, else `.build/release/NAME` (the debug path
    /// when neither exists, so that the error names it).
    public static func product(_ name: String) -> String {
        for configuration in ["debug", "release"] {
            let candidate = "\(root)/.build/\(configuration)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "\(root)/.build/debug/\(name)"
    }
}
