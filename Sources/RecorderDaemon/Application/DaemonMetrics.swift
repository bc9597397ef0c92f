import Metrics

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

    /// Refusals by reason: `cpu`, `disk`, `busy` (display or device in
    /// use), `draining`, `invalid`.
    func refused(_ reason: String) {
        Counter(label: "recorderd_recordings_refused_total", dimensions: [("reason", reason)]).increment()
    }
}
