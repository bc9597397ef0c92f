#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import Synchronization

/// libav*'s log, with stream keys taken out.
///
/// libavformat logs some failures in its own words on stderr ("Server error:
/// ..." carries the server's description, which may quote the stream name).
/// Once `installRedactingCallback()` has run, every line libav logs at or
/// above its current level (`av_log_set_level`, the embedding program's
/// choice) is formatted here and each registered secret in it (full stream
/// URLs, stream names, user information) is replaced by `***` before it is
/// written to stderr. Logging is rare (errors), so the lock is never on a
/// media path.
public enum LibraryLog {
    private static let secrets = Mutex<[String]>([])
    private static let installed = Atomic<Bool>(false)
    /// libav's "print the [module @ 0x...] prefix" state between calls.
    private static let printPrefix = Atomic<Int32>(1)

    /// Routes libav's log through the redaction; once per process.
    public static func installRedactingCallback() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        av_log_set_callback { context, level, format, arguments in
            guard level <= av_log_get_level(), let arguments else { return }
            var line = [CChar](repeating: 0, count: 1024)
            var prefix = LibraryLog.printPrefix.load(ordering: .relaxed)
            av_log_format_line2(context, level, format, arguments, &line, Int32(line.count), &prefix)
            LibraryLog.printPrefix.store(prefix, ordering: .relaxed)
            var text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            for secret in LibraryLog.secrets.withLock({ $0 }) {
                text = text.replacing(secret, with: "***")
            }
            _ = text.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
        }
    }

    /// Adds the secret parts of `url` to what is taken out of libav's log.
    public static func redact(_ url: StreamURL) {
        let parts = url.secretParts.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
        secrets.withLock { known in
            for part in parts where !known.contains(part) { known.append(part) }
            known.sort { $0.count > $1.count }
        }
    }
}
