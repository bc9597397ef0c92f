import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// recorderd's application: the HTTP server, the recorder and the workspace
/// manager in one `ServiceGroup`.
///
/// Its own `run()` orders them so that a shutdown reaches the recorder
/// first (a group stops its services in reverse order): new recordings are
/// refused and running ones finish while the server still answers stops,
/// health and event streams; then the server stops, then the workspaces.
/// (Hummingbird's default `run()` puts added services before the server,
/// so the server would stop first and an open event stream would hold it
/// until the recorder, not yet told, ended that recording.)
struct RecorderdApplication: ApplicationProtocol {
    let http: Application<RouterResponder<RecorderdRequestContext>>
    let recorder: Recorder
    let workspaces: WorkspaceManager
    /// The list's and health's figures, read once per tick.
    let snapshots: SnapshotCache
    let shutdownTimeoutSeconds: Double
    /// Jicofo's recorders (`xmpp` in the configuration); stopped first: every
    /// slot says busy, its recordings end and report `off`, then it leaves.
    var jibri: JibriService? = nil

    var responder: RouterResponder<RecorderdRequestContext> { http.responder }
    var configuration: ApplicationConfiguration { http.configuration }
    var logger: Logger { http.logger }
    var eventLoopGroup: any EventLoopGroup { http.eventLoopGroup }
    /// What HummingbirdTesting runs beside the router.
    var services: [any Service] { [workspaces, recorder, snapshots] + (jibri.map { [$0] } ?? []) }

    func onServerRunning(_ channel: any Channel) async {
        await http.onServerRunning(channel)
    }

    func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: workspaces), .init(service: snapshots), .init(service: http), .init(service: recorder),
        ]
        if let jibri { services.append(.init(service: jibri)) }
        var group = ServiceGroupConfiguration(services: services, logger: logger)
        // The recorder cancels what did not finish within the timeout
        // itself; the group's bound is the backstop.
        group.maximumGracefulShutdownDuration = .seconds(shutdownTimeoutSeconds + 15)
        group.maximumCancellationDuration = .seconds(15)
        try await ServiceGroup(configuration: group).run()
    }
}
