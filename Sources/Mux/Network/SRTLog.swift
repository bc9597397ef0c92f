import CSRT
import Logging
import MediaCore
import Synchronization

/// libsrt's own log lines, routed like libav's (`LibavLog`): into the logger
/// of the session whose thread emitted them, else the process logger
/// (`LogTarget`), redacted. Left alone, libsrt writes its warnings to stderr
/// (a listener's rejection, a lost peer), from its own threads.
///
/// libsrt's handler and level are process-wide: `install()` sets them once,
/// before the first SRT socket. Most lines come from SRT's shared threads
/// (its send and receive queues), which belong to no session: they go to the
/// process logger.
enum SRTLog {
    private static let installed = Atomic<Bool>(false)

    static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // SRT's default level: warnings and worse.
        srt_setloglevel(LOG_WARNING)
        srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY
                        | SRT_LOGF_DISABLE_EOL)
        srt_setloghandler(nil) { _, level, _, _, _, message in
            guard let message else { return }
            let mapped = SRTLog.level(level)
            guard LogTarget.currentLogger.logLevel <= mapped else { return }
            var text = String(cString: message)
            while text.last?.isNewline == true || text.last == " " { text.removeLast() }
            guard !text.isEmpty else { return }
            LogTarget.logLibraryLine(text, level: mapped, source: "srt")
        }
    }

    /// syslog's levels, as SRT uses them, on swift-log's.
    static func level(_ level: Int32) -> Logger.Level {
        switch level {
        case ...LOG_CRIT: .critical
        case LOG_ERR: .error
        case LOG_WARNING: .warning
        case LOG_NOTICE: .notice
        case LOG_INFO: .info
        default: .debug
        }
    }
}
