/// The body of `POST /v1/workspaces`: the display's size, 1280x720 by
/// default (also when there is no body).
struct WorkspaceRequest: OptionalBodyRequest, Sendable {
    var width = 1280
    var height = 720

    init() {}

    init(from decoder: any Decoder) throws {
        var reader = try FieldReader(decoder)
        width = try reader.int("width", in: 16...7680) ?? width
        height = try reader.int("height", in: 16...4320) ?? height
        try reader.finish()
    }
}
