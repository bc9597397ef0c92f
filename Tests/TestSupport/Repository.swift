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
}
