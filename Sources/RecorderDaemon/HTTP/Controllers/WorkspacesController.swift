import Hummingbird

/// `/v1/workspaces`: a private display and sound sink per meeting.
struct WorkspacesController {
    let recorder: Recorder

    var endpoints: RouteCollection<RecorderdRequestContext> {
        RouteCollection(context: RecorderdRequestContext.self)
            .post(use: create)
            .get(use: list)
            .delete(":id", use: delete)
    }

    @Sendable func create(_ request: Request, context: RecorderdRequestContext) async throws -> EditedResponse<WorkspaceView> {
        let body = try await request.decode(as: WorkspaceRequest.self, context: context)
        let view = try await recorder.createWorkspace(width: body.width, height: body.height)
        return EditedResponse(status: .created, headers: [.location: "/v1/workspaces/\(view.id)"], response: view)
    }

    @Sendable func list(_ request: Request, context: RecorderdRequestContext) async throws -> WorkspaceList {
        WorkspaceList(workspaces: await recorder.workspaces.list())
    }

    @Sendable func delete(_ request: Request, context: RecorderdRequestContext) async throws -> HTTPResponse.Status {
        try await recorder.deleteWorkspace(context.parameters.get("id") ?? "")
        return .noContent
    }
}
