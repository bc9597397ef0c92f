/// `GET /health`: whether the daemon is idle (no recording), busy (some,
/// and room for one more of the probe's size), or full; healthy or not,
/// with the reasons; and the figures behind both.
struct HealthView: Encodable, Sendable {
    var status: String
    var healthy: Bool
    var reasons: [String]
    var draining: Bool
    /// Recordings a crash left that are still being finished in the background.
    var recovering: Int
    var recordings: Int
    var workspaces: Int
    var cpu: CPUView
    var disk: DiskView
    /// Would one more recording of this size be admitted now?
    var oneMore: OneMoreView
    /// Would one more page recording at the default page size (1920x1080)
    /// be admitted now (its browser's estimate included)?
    var onePage: OneMoreView
    /// Jicofo's recorders (absent without `xmpp`); they do not change
    /// `healthy` (HTTP recordings go on without them).
    var xmpp: XMPPHealthView?

    struct CPUView: Encodable, Sendable {
        var capacityCores: Double
        var share: Double
        var committedCores: Double
        var measuredCores: Double
    }

    struct DiskView: Encodable, Sendable {
        var directory: String
        var writable: Bool
        var freeBytes: Int64?
        var minFreeMinutes: Double
    }

    struct OneMoreView: Encodable, Sendable {
        var width: Int
        var height: Int
        var fps: Int
        var preset: String
        var estimatedCores: Double
        var fits: Bool
        var reason: String?
    }

    /// Whether Jibri's health says BUSY: no more fits, or the display a
    /// Jibri-style controller would use is taken (not part of the answer).
    var jibriBusy = false

    private enum CodingKeys: String, CodingKey {
        case status, healthy, reasons, draining, recovering, recordings, workspaces, cpu, disk, oneMore, onePage, xmpp
    }
}
