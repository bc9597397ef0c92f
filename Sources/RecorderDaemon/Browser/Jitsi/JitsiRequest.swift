public import PageBrowser

/// `"page": {"jitsi": {"room": "room42", "tenant": "team1", "metadata": {...}}}`
/// as a request gives it: read while the body is decoded (the daemon's
/// configuration is not known there), turned into a `JitsiMeeting` once it is.
public struct JitsiRequest: Sendable, Equatable {
    /// The room (Jibri's `callName`).
    public var room: String
    /// Jibri's tenant (a path segment before the room).
    public var tenant: String?
    /// Extra top-level keys of `metadata.json` (Jibri's `file_recording_metadata`).
    public var metadata: [String: JSONValue]

    public init(room: String, tenant: String? = nil, metadata: [String: JSONValue] = [:]) {
        self.room = room
        self.tenant = tenant
        self.metadata = metadata
    }

    /// Reads the `page.jitsi` object (`reader`'s path names the fields);
    /// unknown fields refused. Throws `FieldError` naming `page.jitsi.room`,
    /// `page.jitsi.tenant` or `page.jitsi.metadata`.
    init(_ reader: inout FieldReader) throws {
        guard let room = try reader.string("room", maxLength: 256) else {
            throw FieldError(field: reader.name("room"), reason: "required")
        }
        try JitsiRoom.checkName(room, field: reader.name("room"))
        let tenant = try reader.string("tenant", maxLength: 256)
        if let tenant { try JitsiRoom.checkName(tenant, field: reader.name("tenant")) }
        var metadata: [String: JSONValue] = [:]
        switch reader.value("metadata") {
        case nil: break
        case .object?:
            guard case .object(let fields) = try reader.decode(DecodedJSON.self, "metadata").value else { break }
            metadata = fields
        case let other?:
            throw FieldError(field: reader.name("metadata"), reason: "must be an object, not \(other.typeName)")
        }
        try reader.finish()
        self.init(room: room, tenant: tenant, metadata: metadata)
    }

    /// The meeting on this daemon. Throws `FieldError` naming `page.jitsi`
    /// when no recorder login is configured (a 400), or
    /// `jitsi.callLogin.passwordFile` when the password cannot be read now.
    public func meeting(configuration: JitsiConfiguration, extraHashParameters: [String] = []) throws -> JitsiMeeting {
        try JitsiMeeting(room: room, tenant: tenant, configuration: configuration,
                         extraHashParameters: extraHashParameters, appData: metadata)
    }
}
