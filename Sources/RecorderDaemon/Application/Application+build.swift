import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import RecorderEngine
import ServiceLifecycle

/// Bad configuration: one line naming the value, exit 2, nothing started.
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("recorderd: \(message)\n".utf8))
    exit(2)
}

let command: RecorderdCommand
do {
    command = try RecorderdCommand.parse()
} catch {
    if RecorderdCommand.exitCode(for: error) == .success {
        print(RecorderdCommand.fullMessage(for: error))
        exit(0)
    }
    let message = RecorderdCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    refuse(message.replacingOccurrences(of: "Error: ", with: ""))
}
let configuration: DaemonConfiguration
let token: [UInt8]?
do {
    configuration = try command.makeConfiguration()
    token = try configuration.tokenFile.map { try TokenMiddleware<BasicRequestContext>.readToken($0) }
} catch {
    refuse("\(error)")
}

// Logs: JSON lines unless a person is watching.
let format: StderrLogHandler.Format = switch configuration.logFormat {
case "json": .json
case "text": .text
default: isatty(STDERR_FILENO) != 0 ? .text : .json
}
LoggingSystem.bootstrap { label in StderrLogHandler(logLevel: configuration.logLevel, label: label, format: format) }
let logger = Logger(label: "recorderd")
LogTarget.processLogger = logger

// Metrics: Prometheus text on /metrics, from every session and the daemon.
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

// A write to a connection the peer closed must fail with EPIPE, not end the daemon.
signal(SIGPIPE, SIG_IGN)

let journal: Journal
let workspaces: WorkspaceManager
do {
    journal = try Journal(stateDirectory: configuration.resolvedStateDir)
    workspaces = try WorkspaceManager(configuration: configuration, logger: logger)
} catch {
    refuse("state directory \(configuration.resolvedStateDir): \(error)")
}
// The workspaces' ALSA PCMs, before anything opens an ALSA device.
setenv("ALSA_CONFIG_PATH", workspaces.alsaConfigPath, 1)
workspaces.cleanLeftovers()

let recorder = Recorder(configuration: configuration, logger: logger, journal: journal, workspaces: workspaces)
let recovered = await CrashRecovery(journal: journal, logger: logger, metrics: recorder.metrics,
                                    finalizeScript: configuration.finalizeScript).run()

let router = Router()
router.add(middleware: MetricsMiddleware())
if let token {
    var open: Set<String> = []
    if configuration.openHealthEndpoints { open = ["/health", "/metrics", "/jibri/api/v1.0/health"] }
    router.add(middleware: TokenMiddleware(token: token, openPaths: open))
}
APIRoutes(recorder: recorder, registry: registry).register(on: router)

let address = try! ListenAddress(parsing: configuration.listen)
var httpLogger = logger
httpLogger.logLevel = max(configuration.logLevel, .notice)
let readyFile = command.readyFile
let application = Application(
    router: router,
    configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "recorderd"),
    onServerRunning: { channel in
        let bound = channel.localAddress.map { "\($0.ipAddress ?? address.host):\($0.port ?? address.port)" } ?? configuration.listen
        logger.notice("listening", metadata: ["address": "\(bound)", "recordings_dir": "\(configuration.recordingsDir)",
                                             "recovered": "\(recovered)"])
        if let readyFile { try? bound.write(toFile: readyFile, atomically: true, encoding: .utf8) }
    },
    logger: httpLogger)

/// The first service to hear of a shutdown (it is the last in the list):
/// refuses new recordings from then on.
struct DrainGate: Service {
    let recorder: Recorder
    func run() async {
        try? await gracefulShutdown()
        recorder.beginDrain()
    }
}

var groupConfiguration = ServiceGroupConfiguration(
    services: [
        .init(service: application), .init(service: workspaces), .init(service: DrainGate(recorder: recorder)),
    ],
    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.shutdownTimeoutSeconds)
groupConfiguration.maximumCancellationDuration = .seconds(15)
let group = ServiceGroup(configuration: groupConfiguration)
recorder.attach(group)
do {
    try await group.run()
    logger.notice("stopped")
    exit(0)
} catch let error as IOError where error.errnoCode == EADDRINUSE {
    // NIO's own text ("bind(descriptor:ptr:bytes:): Address already in use)")
    // names neither the address nor what to do.
    let message = "cannot listen on \(configuration.listen): the address is in use (another recorderd, or another"
        + " program, listens there); choose another with --listen"
    logger.error("\(message)")
    exit(1)
} catch {
    logger.error("stopped with an error: \(error)")
    exit(1)
}
