import CFFmpeg
public import MediaCore
import Logging
import Synchronization

/// libav*'s own log lines, routed into the logger of the session whose thread
/// emitted them (`LogTarget`), redacted (`SecretRedaction`). Nothing is
/// written to stderr by the engine itself.
///
/// libav's callback and level are process-wide: `install()` sets both once.
/// Lines are formatted only when the logger they go to takes their level, so
/// a quiet logger costs one level check per line (libav logs nothing per
/// frame in normal operation: errors, and the encoders' start-up banners).
public enum LibavLog {
    private static let installed = Atomic<Bool>(false)
    /// libav's "print the [module @ 0x...] prefix" state between calls.
    private static let printPrefix = Atomic<Int32>(1)

    /// Routes libav's log through the loggers; once per process, any thread.
    /// libav's own level is set to `AV_LOG_INFO` (x264's settings banner and
    /// everything above); the loggers' levels decide what is kept.
    public static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        av_log_set_level(AV_LOG_INFO)
        av_log_set_callback { context, level, format, arguments in
            guard level <= av_log_get_level(), let arguments else { return }
            let mapped = LibavLog.level(level)
            guard LogTarget.currentLogger.logLevel <= mapped else { return }
            var line = [CChar](repeating: 0, count: 1024)
            var prefix = LibavLog.printPrefix.load(ordering: .relaxed)
            av_log_format_line2(context, level, format, arguments, &line, Int32(line.count), &prefix)
            LibavLog.printPrefix.store(prefix, ordering: .relaxed)
            var text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            while text.last?.isNewline == true { text.removeLast() }
            guard !text.isEmpty else { return }
            LogTarget.logLibraryLine(text, level: mapped, source: "libav")
        }
    }

    /// libav's levels on swift-log's: panic and fatal are critical, error,
    /// warning and info map across, verbose is debug, debug and trace trace.
    static func level(_ level: Int32) -> Logger.Level {
        switch level {
        case ...AV_LOG_FATAL: .critical
        case ...AV_LOG_ERROR: .error
        case ...AV_LOG_WARNING: .warning
        case ...AV_LOG_INFO: .info
        case ...AV_LOG_VERBOSE: .debug
        default: .trace
        }
    }
}
