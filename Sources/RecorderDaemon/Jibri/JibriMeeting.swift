import Foundation

/// What Jibri derives from a start IQ: the meeting's URL from the room JID
/// and the stream URL from `streamid`.
enum JibriMeeting {
    /// Jibri's `XmppUtils.getCallUrlInfoFromJid`: the room's domain without
    /// `stripFromRoomDomain` (first match, case-insensitive), the part of it
    /// before `xmppDomain` as a tenant. `room42@conference.meet.example.org`
    /// (strip `conference.`) -> `https://meet.example.org/room42`;
    /// `room42@conference.tenant1.meet.example.org` -> `https://meet.example.org/tenant1/room42`.
    /// nil when the JID has no localpart or its domain does not hold `xmppDomain`
    /// (Jibri: CallUrlInfoFromJidException, answered `error`, retry).
    static func url(room: String, stripFromRoomDomain: String, xmppDomain: String, baseURL: String?) -> String? {
        guard let tenant = tenant(room: room, stripFromRoomDomain: stripFromRoomDomain, xmppDomain: xmppDomain) else { return nil }
        let base = baseURL ?? "https://\(xmppDomain)"
        let callName = callName(room: room)
        return tenant.isEmpty ? "\(base)/\(callName)" : "\(base)/\(tenant)/\(callName)"
    }

    /// The tenant `url` puts before the room ("" when none); nil when the
    /// JID gives no meeting (as `url`).
    static func tenant(room: String, stripFromRoomDomain: String, xmppDomain: String) -> String? {
        let bare = room.split(separator: "/", maxSplits: 1).first.map(String.init) ?? room
        guard let at = bare.firstIndex(of: "@") else { return nil }
        var domain = String(bare[bare.index(after: at)...])
        guard at != bare.startIndex else { return nil }
        if !stripFromRoomDomain.isEmpty, let range = domain.range(of: stripFromRoomDomain, options: .caseInsensitive) {
            domain.removeSubrange(range)
        }
        guard let found = domain.range(of: xmppDomain, options: .caseInsensitive) else { return nil }
        return domain[..<found.lowerBound].trimmingCharacters(in: ["."])
    }

    /// The room JID's localpart (Jibri's call name, the file name's start).
    static func callName(room: String) -> String {
        String(room.split(separator: "@", maxSplits: 1).first ?? Substring(room))
    }

    /// Jibri's `StreamingJibriService`: an `rtmp://` or `rtmps://` URL
    /// (case-insensitive) as is, anything else a stream key put in
    /// `template` at `{key}` (Jibri's YouTube URL by default).
    static func streamURL(streamID: String, template: String = defaultStreamURLTemplate) -> String {
        let lower = streamID.lowercased()
        if lower.hasPrefix("rtmp://") || lower.hasPrefix("rtmps://") { return streamID }
        return template.replacingOccurrences(of: "{key}", with: streamID)
    }

    /// Jibri's `YOUTUBE_URL` + `/` + key (`StreamingJibriService.kt`).
    static let defaultStreamURLTemplate = "rtmp://a.rtmp.youtube.com/live2/{key}"
}
