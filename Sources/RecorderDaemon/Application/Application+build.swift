import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
public import Prometheus
import RecorderEngine
import ServiceLifecycle

/// The daemon, ready to run: the state directory's journal and workspaces
/// made, the journal's leftovers read (finished in the background), the router built. Throws a
/// `FieldError` naming what cannot be used (the token file, the state
/// directory): the executable's one line and exit 2.
///
/// The process-wide setup stays with the caller: the logging and metrics
/// backends (`registry` is the one `/metrics` shows) and SIGPIPE. The one
/// process-wide change made here: `ALSA_CONFIG_PATH` gains the workspaces'
/// PCMs (alsa-lib reads it once, at the first device opened).
/// - Parameter readyFile: written with the bound `HOST:PORT` once the
///   server listens (for tests and supervisors).
public func buildApplication(configuration: DaemonConfiguration, logger: Logger, registry: PrometheusCollectorRegistry,
                             readyFile: String? = nil) async throws -> some ApplicationProtocol {
    let token = try configuration.tokenFile.map { try TokenMiddleware<RecorderdRequestContext>.readToken($0) }
    let journal: Journal
    let workspaces: WorkspaceManager
    do {
        journal = try Journal(stateDirectory: configuration.resolvedStateDir)
        workspaces = try WorkspaceManager(configuration: configuration, logger: logger)
    } catch {
        throw FieldError(field: "state directory \(configuration.resolvedStateDir)", reason: "\(error)")
    }
    // The workspaces' ALSA PCMs, before anything opens an ALSA device.
    setenv("ALSA_CONFIG_PATH", workspaces.alsaConfigPath, 1)
    // Browsers (their process groups and profiles) and workspaces a crash left.
    Recorder.cleanBrowserLeftovers(configuration: configuration, logger: logger)
    workspaces.cleanLeftovers()

    // What a crash left is read now, before any new entry; the recorder
    // finishes it in the background while the server answers.
    let recorder = Recorder(configuration: configuration, logger: logger, journal: journal, workspaces: workspaces,
                            leftovers: journal.leftovers())
    let recovering = recorder.recoveringCount
    let snapshots = SnapshotCache(recorder: recorder, registry: registry)
    let jibri = configuration.xmpp.map {
        JibriService(configuration: $0, host: recorder, logger: logger, drainTimeout: .seconds(configuration.shutdownTimeoutSeconds))
    }
    let router = buildRouter(recorder: recorder, snapshots: snapshots, token: token, jibri: jibri?.brewery)

    let address = try ListenAddress(parsing: configuration.listen)
    var httpLogger = logger
    httpLogger.logLevel = max(configuration.logLevel, .notice)
    let http = Application(
        router: router,
        server: .http1(configuration: httpConfiguration(configuration)),
        configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "recorderd"),
        onServerRunning: { channel in
            let bound = channel.localAddress.map { "\($0.ipAddress ?? address.host):\($0.port ?? address.port)" }
                ?? configuration.listen
            logger.notice("listening", metadata: ["address": "\(bound)", "recordings_dir": "\(configuration.recordingsDir)",
                                                 "recovering": "\(recovering)"])
            if let readyFile { try? bound.write(toFile: readyFile, atomically: true, encoding: .utf8) }
        },
        logger: httpLogger)
    return RecorderdApplication(http: http, recorder: recorder, workspaces: workspaces, snapshots: snapshots,
                                shutdownTimeoutSeconds: configuration.shutdownTimeoutSeconds, jibri: jibri)
}

/// The HTTP/1 server's limits (docs/DEPLOY.md), Hummingbird's and NIO's
/// own: the request head's size (`maxHeaderBytes`, NIO's decoder), the idle
/// timeout (`idleTimeoutSeconds`: Hummingbird's connection state handler
/// closes a connection with no complete head that long after it opened or
/// after its last answer, which bounds slow headers too), and a connection
/// closed after an error answer (`CloseOnRefusalHandler`).
func httpConfiguration(_ configuration: DaemonConfiguration) -> HTTP1Channel.Configuration {
    let limit = configuration.maxHeaderBytes
    return HTTP1Channel.Configuration(
        additionalChannelHandlers: [CloseOnRefusalHandler()],
        idleTimeout: .nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: limit, maxHeaderListSize: limit))
}

/// The routes (docs/API.md): `/v1` behind the token when there is one;
/// `/health`, `/metrics` and Jibri's health open to probes or behind the
/// token as `openHealthEndpoints` says. Errors become answers in
/// `ErrorMiddleware`.
func buildRouter(recorder: Recorder, snapshots: SnapshotCache, token: [UInt8]?, jibri: JibriBrewery? = nil)
    -> Router<RecorderdRequestContext>
{
    let configuration = recorder.configuration
    let router = Router(context: RecorderdRequestContext.self)
    router.add(middleware: MetricsMiddleware())
    let routes = RouteMethods()
    router.add(middleware: ErrorMiddleware(metrics: recorder.metrics, retryAfterSeconds: configuration.retryAfterSeconds,
                                           routes: routes))

    let probes = router.group()
    if let token, !configuration.openHealthEndpoints { probes.add(middleware: TokenMiddleware(token: token)) }
    probes.addRoutes(HealthController(recorder: recorder, snapshots: snapshots, jibri: jibri).endpoints)

    let v1 = router.group("v1")
    if let token { v1.add(middleware: TokenMiddleware(token: token)) }
    v1.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes))
    v1.addRoutes(RecordingsController(recorder: recorder, snapshots: snapshots).endpoints, atPath: "recordings")
    v1.addRoutes(RecordingChangesController(recorder: recorder).endpoints, atPath: "recordings")
    v1.addRoutes(WorkspacesController(recorder: recorder).endpoints, atPath: "workspaces")
    routes.record(router)
    return router
}
