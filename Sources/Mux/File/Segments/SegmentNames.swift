public import MediaCore

/// The numbered names of a segmented file output, from the path the user
/// gave: a printf-style `%d` (or `%03d`, any width up to 9) in the name is the
/// number, as ffmpeg's segment muxer takes it (`meeting-%03d.mp4`); without
/// one, `-NNN` (three digits, more when it grows past 999) goes before the
/// extension (`meeting.mp4` -> `meeting-000.mp4`, `meeting-001.mp4`...).
/// Numbers start at 0.
public struct SegmentNames: Sendable, Equatable {
    /// What comes before and after the number, and its zero-padded width.
    public let prefix: String
    public let suffix: String
    public let width: Int

    /// Reads `path`; throws `InvalidSetting` (for `.output`) for a
    /// pattern with more than one number, or a `%` that is not one.
    public init(path: String) throws {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        let directory = String(path.dropLast(name.count))
        guard let percent = name.firstIndex(of: "%") else {
            let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
            prefix = directory + String(name[..<(dot ?? name.endIndex)]) + "-"
            suffix = dot.map { String(name[$0...]) } ?? ""
            width = 3
            return
        }
        var cursor = name.index(after: percent)
        var digits = ""
        while cursor < name.endIndex, name[cursor].isNumber {
            digits.append(name[cursor])
            cursor = name.index(after: cursor)
        }
        let rest = cursor < name.endIndex ? name[name.index(after: cursor)...] : ""
        guard cursor < name.endIndex, name[cursor] == "d", digits.count <= 2, (Int(digits) ?? 0) <= 9,
              !rest.contains("%") else {
            throw InvalidSetting(.output, value: path,
                                 reason: "a segment name takes one number, written %d or %0Nd (N up to 9)")
        }
        prefix = directory + String(name[..<percent])
        suffix = String(rest)
        width = Int(digits) ?? 1
    }

    /// The name of segment `index`.
    public func path(_ index: Int) -> String {
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix
    }
}
