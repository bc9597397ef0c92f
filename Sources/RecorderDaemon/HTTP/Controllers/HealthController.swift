import Hummingbird
import NIOCore

/// `/health`, Prometheus `/metrics`, and Jibri's health shape (when
/// `jibriHealth`): what load balancers and monitoring ask.
struct HealthController {
    let recorder: Recorder
    let snapshots: SnapshotCache
    /// Jicofo's recorders, when `xmpp` is configured.
    var jibri: JibriBrewery?

    var endpoints: RouteCollection<RecorderdRequestContext> {
        let routes = RouteCollection(context: RecorderdRequestContext.self)
            .get("health", use: health)
            .get("metrics", use: metrics)
        if recorder.configuration.jibriHealth {
            routes.get("jibri/api/v1.0/health", use: jibriHealth)
        }
        return routes
    }

    /// 200 when healthy, 503 when not (the reasons say why).
    @Sendable func health(_ request: Request, context: RecorderdRequestContext) async throws -> EditedResponse<HealthView> {
        let query = try HealthQuery(request)
        var health = await recorder.health(host: snapshots.host, width: query.width, height: query.height, fps: query.fps, preset: query.preset)
        if let jibri { health.xmpp = XMPPHealthView(await jibri.environments()) }
        return EditedResponse(status: health.healthy ? .ok : .serviceUnavailable, response: health)
    }

    /// The registry's text, rendered at most once per statistics tick
    /// (`SnapshotCache.metricsText`): at most `statisticsIntervalSeconds` old.
    @Sendable func metrics(_ request: Request, context: RecorderdRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: await snapshots.metricsText()))
    }

    @Sendable func jibriHealth(_ request: Request, context: RecorderdRequestContext) async throws -> JibriHealth {
        JibriHealth(await recorder.health(host: snapshots.host))
    }
}
