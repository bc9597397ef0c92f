import ArgumentParser
import RecorderDaemon
import Logging

/// `recorderd`'s command line: the configuration file's keys that an
/// operator most often sets, each overriding the file. Every key is in
/// docs/DEPLOY.md with its default.
struct RecorderdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorderd",
        abstract: "A recorder service: many display recordings per host over an HTTP API, with health, metrics, "
            + "admission control and crash recovery.",
        discussion: """
            Exit status: 0 after a clean shutdown (SIGTERM or SIGINT: recordings are stopped and finalized); \
            2 on bad configuration (one line naming the value; nothing started); 1 on a failure while running.
            """)

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8270; a non-loopback address needs --token-file).")
    var listen: String?
    @Option(help: "Directory recordings are written to (request file names are relative to it).")
    var recordingsDir: String?
    @Option(help: "YAML configuration file (keys in docs/DEPLOY.md); options given here override it.")
    var config: String?
    @Option(help: "File holding the Bearer token /v1 requests must carry.") var tokenFile: String?
    @Option(help: "Directory for the daemon's state (default RECORDINGS_DIR/.recorderd).") var stateDir: String?
    @Option(help: "Share of the cores recordings may be estimated to use (default 0.8).") var cpuShare: Double?
    @Option(help: "Cores to count (default: the cgroup quota, else the online CPUs).") var cores: Double?
    @Option(help: "Minutes of free disk at the expected bit rate below which recordings are refused (default 30).")
    var minFreeMinutes: Double?
    @Option(help: "Run after each recording is final, with its directory as the argument.") var finalizeScript: String?
    @Option(help: "Seconds the finalize script may run before its process group is ended (default 600).")
    var finalizeTimeout: Double?
    @Option(name: .customLong("allow"), help: "Stream URL allow-list pattern, matched whole (repeatable; replaces the file's list).")
    var allowList: [String] = []
    @Flag(name: .customLong("allow-srt"), help: "Also accept srt:// stream URLs (which must match --allow too).")
    var allowSRT = false
    @Option(name: .customLong("srt-passphrase-file"),
            help: "Encrypt srt:// streams with the passphrase on this file's first line (10 to 79 characters; never shown).")
    var srtPassphraseFile: String?
    @Option(help: "Seconds recordings get to finish on SIGTERM before they are cancelled (default 60).")
    var shutdownTimeout: Double?
    @Option(help: "Seconds a connection may go without a complete request head (slow headers, idle keep-alive) before it is closed (default 30).")
    var idleTimeout: Double?
    @Flag(help: "Also answer Jibri's GET /jibri/api/v1.0/health.") var jibriHealth = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).") var logLevel: String?
    @Option(help: "Log format: json, text or auto (JSON unless stderr is a terminal).") var logFormat: String?
    @Option(help: .hidden) var readyFile: String?

    /// The configuration: defaults, then the file, then these options.
    func makeConfiguration() throws -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        if let config { try configuration.load(file: config) }
        if let listen { configuration.listen = listen }
        if let recordingsDir { configuration.recordingsDir = recordingsDir }
        if let tokenFile { configuration.tokenFile = tokenFile }
        if let stateDir { configuration.stateDir = stateDir }
        if let cpuShare {
            guard cpuShare > 0, cpuShare <= 4 else { throw FieldError(field: "--cpu-share", reason: "\(cpuShare): must be above 0 and at most 4") }
            configuration.cpuShare = cpuShare
        }
        if let cores {
            guard cores >= 0.1 else { throw FieldError(field: "--cores", reason: "\(cores): must be at least 0.1") }
            configuration.cores = cores
        }
        if let minFreeMinutes {
            guard minFreeMinutes >= 0 else { throw FieldError(field: "--min-free-minutes", reason: "\(minFreeMinutes): cannot be negative") }
            configuration.minFreeMinutes = minFreeMinutes
        }
        if let finalizeScript { configuration.finalizeScript = finalizeScript }
        if let finalizeTimeout {
            guard (1...86_400).contains(finalizeTimeout) else {
                throw FieldError(field: "--finalize-timeout", reason: "\(finalizeTimeout): must be from 1 to 86400 seconds")
            }
            configuration.finalizeTimeoutSeconds = finalizeTimeout
        }
        if !allowList.isEmpty { configuration.streamAllowList = allowList }
        if allowSRT { configuration.allowSRT = true }
        if let srtPassphraseFile { configuration.srtPassphraseFile = srtPassphraseFile }
        if let shutdownTimeout {
            guard (1...3600).contains(shutdownTimeout) else {
                throw FieldError(field: "--shutdown-timeout", reason: "\(shutdownTimeout): must be from 1 to 3600 seconds")
            }
            configuration.shutdownTimeoutSeconds = shutdownTimeout
        }
        if let idleTimeout {
            guard (0.1...3600).contains(idleTimeout) else {
                throw FieldError(field: "--idle-timeout", reason: "\(idleTimeout): must be from 0.1 to 3600 seconds")
            }
            configuration.idleTimeoutSeconds = idleTimeout
        }
        if jibriHealth { configuration.jibriHealth = true }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw FieldError(field: "--log-level", reason: "'\(logLevel)': valid values: trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
        if let logFormat { configuration.logFormat = logFormat }
        try configuration.validate()
        return configuration
    }
}
