import Hummingbird

/// Turns whatever a handler throws into its answer (`APIError(answering:)`,
/// the one mapping of the domain's errors to HTTP), and counts a refused
/// recording start in `recorderd_recordings_refused_total`, once.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: DaemonMetrics
    /// Retry-After of a refusal for want of room, seconds.
    let retryAfterSeconds: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
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
