#if canImport(Glibc)
import Glibc
#endif
public import MediaCore

/// An SRT passphrase, read from a file (never from a command line or a URL,
/// which process lists and logs show). It never prints: `description`,
/// `debugDescription` and `dump` show `***`, errors name the file and what
/// is wrong with it, not its content. `secretParts` is for `SecretRedaction`.
public struct SRTPassphrase: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The passphrase's bytes, for `SRTO_PASSPHRASE`.
    let value: [UInt8]

    /// SRT's bounds for `SRTO_PASSPHRASE` (srt.h: "must be 10..79 characters").
    public static let lengthRange = 10...79

    /// Reads the passphrase from the first line of the file at `path` (a
    /// final newline is not part of it). Throws `InvalidSetting` for
    /// `key` with the path when the file cannot be read or its first line
    /// is not 10 to 79 printable characters.
    public init(contentsOfFile path: String, key: SettingKey = .srtPassphraseFile(index: 0)) throws(InvalidSetting) {
        func refuse(_ reason: String) -> InvalidSetting { InvalidSetting(key, value: path, reason: reason) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while bytes.count <= 4096 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        var line = bytes.prefix { $0 != UInt8(ascii: "\n") }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard line.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw refuse("the passphrase (its first line) may hold printable ASCII characters only")
        }
        guard Self.lengthRange.contains(line.count) else {
            throw refuse("the passphrase (its first line) has \(line.count) characters; SRT takes 10 to 79")
        }
        value = Array(line)
    }

    public var description: String { "***" }
    public var debugDescription: String { "SRTPassphrase(***)" }
    public var customMirror: Mirror { Mirror(self, children: []) }

    /// What `SecretRedaction` must hide.
    package var secretParts: [String] { [String(decoding: value, as: UTF8.self)] }
}
