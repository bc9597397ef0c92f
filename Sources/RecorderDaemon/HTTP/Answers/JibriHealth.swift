/// Jibri's health answer (`GET /jibri/api/v1.0/health`), so that Jibri's
/// monitoring can watch recorderd: BUSY when no more recordings fit or the
/// display a Jibri-style controller would use is taken, as Jibri is busy
/// while it records (`Recorder.health`).
struct JibriHealth: Encodable {
    struct Status: Encodable {
        var busyStatus: String
        var health: Health
    }

    struct Health: Encodable {
        var healthStatus: String
        /// Jibri's per-component map; recorderd's reasons are on /health.
        var details: [String: String]
    }

    var status: Status

    init(_ health: HealthView) {
        status = Status(busyStatus: health.jibriBusy ? "BUSY" : "IDLE",
                        health: Health(healthStatus: health.healthy ? "HEALTHY" : "UNHEALTHY",
                                       details: [:]))
    }
}
