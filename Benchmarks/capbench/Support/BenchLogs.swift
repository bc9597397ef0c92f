import Logging
import MediaCore
import MediaPackets

/// libav's and alsa-lib's own lines, for a benchmark that uses the encoders
/// and sinks directly: routed to the process logger at error level (x264's
/// settings banner would otherwise interleave with the tables).
enum BenchLogs {
    static func quiet() {
        var logger = Logger(label: "capbench")
        logger.logLevel = .error
        LogTarget.processLogger = logger
        LibavLog.install()
    }
}
