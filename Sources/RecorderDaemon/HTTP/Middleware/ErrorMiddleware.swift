import Hummingbird

/// Turns whatever a handler throws into its answer (`APIError(answering:)`,
/// the one mapping of the domain's errors to HTTP), and counts a refused
/// recording start in `recorderd_recordings_refused_total`, once. What no
/// route matches is a 405 with `Allow` when the path is served by other
/// methods, else a 404.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: DaemonMetrics
    /// Retry-After of a refusal for want of room, seconds.
    let retryAfterSeconds: Int
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            // Hummingbird's answer when no route matched the path and method.
            let allowed = routes.allowed(at: request.uri.path)
            guard !allowed.isEmpty else { throw APIError(status: .notFound, message: "no such path \(request.uri.path)") }
            throw APIError(status: .methodNotAllowed,
                           message: "\(request.method.rawValue) is not served at \(request.uri.path); it serves \(allowed.joined(separator: ", "))",
                           allow: allowed)
        } catch {
            let answer = APIError(answering: error, retryAfter: retryAfterSeconds)
            if request.method == .post, context.endpointPath == RecordingsController.startPath,
               let reason = answer.refusalReason {
                metrics.refused(reason)
            }
            throw answer
        }
    }
}

/// Sets the largest body a request may carry (`maxBodyBytes`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = RecorderdRequestContext
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxUploadSize = maxBytes
        return try await next(request, context)
    }
}
