import Metrics
import PageBrowser

/// recorderd's own metrics (the sessions add theirs, `recorder_*`, with a
/// `session` label): Prometheus names, no label that carries a secret or
/// grows with the recordings.
struct DaemonMetrics: Sendable {
    let started = Counter(label: "recorderd_recordings_started_total")
    let finished = Counter(label: "recorderd_recordings_finished_total", dimensions: [("outcome", "finished")])
    let failed = Counter(label: "recorderd_recordings_finished_total", dimensions: [("outcome", "failed")])
    let active = Gauge(label: "recorderd_recordings_active")
    let recovered = Counter(label: "recorderd_recovered_recordings_total")
    let recoveryFailures = Counter(label: "recorderd_recovery_failures_total")
    let capacityCores = Gauge(label: "recorderd_cpu_capacity_cores")
    let committedCores = Gauge(label: "recorderd_cpu_committed_cores")
    let measuredCores = Gauge(label: "recorderd_cpu_measured_cores")
    let diskFree = Gauge(label: "recorderd_disk_free_bytes")
    /// 1 when one more recording of the health probe's size would be admitted.
    let canAccept = Gauge(label: "recorderd_can_accept_recording")
    let healthy = Gauge(label: "recorderd_healthy")
    let workspaces = Gauge(label: "recorderd_workspaces_active")
    let draining = Gauge(label: "recorderd_draining")

    /// Page recordings ended by their page or browser, or failed before
    /// their start gate, by reason (`pageEnded`, `pageCrashed`,
    /// `browserExited`, `pageHung`, `failed`).
    func pageEnded(_ reason: String) {
        Counter(label: "recorderd_page_endings_total", dimensions: [("reason", reason)]).increment()
    }

    /// A Jitsi room's `metadata.json` could not be written.
    func jitsiMetadataFailed() {
        Counter(label: "recorderd_jitsi_metadata_failures_total").increment()
    }

    /// A page recording's browser as last sampled, labelled with the
    /// recording's id as the session's own metrics are (`session`).
    func browser(_ id: String, usage: BrowserUsage, cores: Double) {
        Gauge(label: "recorderd_browser_cpu_cores", dimensions: [("session", id)]).record(cores)
        Gauge(label: "recorderd_browser_resident_bytes", dimensions: [("session", id)]).record(usage.residentBytes)
        Gauge(label: "recorderd_browser_processes", dimensions: [("session", id)]).record(usage.processes)
    }

    /// The browser closed: its series go (they do not grow with the
    /// recordings a daemon ran).
    func browserClosed(_ id: String) {
        for label in ["recorderd_browser_cpu_cores", "recorderd_browser_resident_bytes", "recorderd_browser_processes"] {
            Gauge(label: label, dimensions: [("session", id)]).destroy()
        }
    }

    /// Refusals by reason: `cpu`, `disk`, `busy` (display or device in
    /// use), `draining`, `invalid`.
    func refused(_ reason: String) {
        Counter(label: "recorderd_recordings_refused_total", dimensions: [("reason", reason)]).increment()
    }
}
