public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the C libraries' own log lines go: libav*'s `av_log` and alsa-lib's
/// error handler are process-wide hooks, so a line is routed to the logger of
/// the session whose thread emitted it (each `MediaThread` of a session
/// carries its session's target), and otherwise to one process logger.
///
/// Every line is first passed through `SecretRedaction`: a library may quote
/// a stream URL (libavformat's "Server error: ..." carries the server's text).
/// No library code of the engine writes to stderr itself; what the process
/// logger does with a line is the embedding program's choice
/// (`LoggingSystem.bootstrap`).
public final class LogTarget: Sendable {
    /// The logger lines are sent to, with its metadata (the session's id).
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Where lines from threads of no session go. Defaults to a logger
    /// labelled `RecorderEngine` at level `.warning`.
    public static var processLogger: Logger {
        get { process.withLock { $0 } }
        set { process.withLock { $0 = newValue } }
    }

    private static let process = LockedValue(Logger(label: "RecorderEngine", level: .warning))

    /// The calling thread's target, if a `MediaThread` of a session set one.
    public static var current: LogTarget? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<LogTarget>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Sets the calling thread's target (retained until replaced or the thread ends).
    public static func setCurrent(_ target: LogTarget?) {
        if let old = pthread_getspecific(key) { Unmanaged<LogTarget>.fromOpaque(old).release() }
        pthread_setspecific(key, target.map { Unmanaged.passRetained($0).toOpaque() })
    }

    /// The logger for a line emitted on the calling thread.
    public static var currentLogger: Logger { current?.logger ?? processLogger }

    /// Logs one line a C library produced on the calling thread, redacted.
    /// `source` names the library (`libav`, `alsa-lib`).
    public static func logLibraryLine(_ line: String, level: Logger.Level, source: String) {
        let logger = currentLogger
        guard logger.logLevel <= level else { return }
        logger.log(level: level, "\(SecretRedaction.redact(line))", metadata: ["library": "\(source)"])
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // A thread that ends with a target set releases it.
        let status = pthread_key_create(&key) { raw in
            if let raw { Unmanaged<LogTarget>.fromOpaque(raw).release() }
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()
}

extension Logger {
    fileprivate init(label: String, level: Logger.Level) {
        self.init(label: label)
        logLevel = level
    }
}
