#if canImport(Glibc)
import Glibc
#endif
public import MediaCore
import MediaPackets

/// The certificate authorities an `rtmps://` connection trusts when the user
/// adds one: the system's bundle followed by the user's PEM file, in an
/// anonymous file that libavformat reads by name.
///
/// GnuTLS in libavformat takes one `ca_file`, and giving it *replaces* the
/// system's trust store (`gnutls_certificate_set_x509_trust_file` instead of
/// `..._system_trust`). To add a CA without dropping the system's, the bundle
/// is built once at start in an unlinked temporary file, named through
/// `/proc/self/fd/N` for every (re)connection, and closed when this owner goes.
/// Nothing is left on disk.
public final class CertificateAuthorityBundle: @unchecked Sendable {
    /// The name to pass as libavformat's `ca_file`.
    public let path: String
    private let descriptor: Int32

    /// Where Debian, Ubuntu, Fedora and Alpine keep the system's bundle.
    static let systemBundles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                                "/etc/ssl/cert.pem"]

    /// Reads the PEM file at `authorityPath` (refused with `InvalidSetting`
    /// for `key` when it cannot be read or holds no certificate) and
    /// builds the bundle.
    public init(adding authorityPath: String, key: SettingKey = .tlsAuthority(index: 0)) throws {
        func refuse(_ reason: String) -> InvalidSetting {
            InvalidSetting(key, value: authorityPath, reason: reason)
        }
        guard let added = Self.read(authorityPath) else {
            throw refuse("cannot be read (\(String(cString: strerror(errno))))")
        }
        guard Self.contains(added, "-----BEGIN CERTIFICATE-----") else {
            throw refuse("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        var contents = Self.systemBundles.lazy.compactMap { Self.read($0) }.first ?? []
        if let last = contents.last, last != UInt8(ascii: "\n") { contents.append(UInt8(ascii: "\n")) }
        contents += added
        var template = Array("/tmp/rtmps-ca-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw AVError.posix(errno, operation: "mkstemp") }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == contents.count else {
            let number = errno
            close(descriptor)
            throw AVError.posix(number, operation: "write")
        }
        self.descriptor = descriptor
        path = "/proc/self/fd/\(descriptor)"
    }

    deinit { close(descriptor) }

    private static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }

    private static func contains(_ bytes: [UInt8], _ marker: String) -> Bool {
        let needle = Array(marker.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { start in
            bytes[start..<start + needle.count].elementsEqual(needle)
        }
    }
}
