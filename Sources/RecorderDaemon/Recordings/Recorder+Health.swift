import Foundation
import RecorderEngine

extension Recorder {
    /// The health now, asking about one more recording of the given size
    /// (the configured probe's by default), judged by the host's figures of
    /// the last tick (`SnapshotCache`). Also updates the health metrics.
    func health(host: SnapshotCache.Host, width: Int? = nil, height: Int? = nil, fps: Int? = nil,
                preset: String? = nil) async -> HealthView {
        let active = activeRecordings
        let width = width ?? configuration.probeWidth, height = height ?? configuration.probeHeight
        let fps = fps ?? configuration.probeFps, preset = preset ?? configuration.probePreset
        let cores = costs.estimate(width: width, height: height, fps: fps, preset: preset)
        let refusal = admission(cores: cores, bitrate: expectedBitrate(width: width, height: height, fps: fps, maxrate: nil,
                                                                      audioBitrate: 128_000), beside: active,
                                host: (host.capacityCores, host.freeBytes))
        // One more page recording at a request's default page size: the
        // engine's estimate plus the browser's.
        let pageWidth = PageRequest.defaultWidth, pageHeight = PageRequest.defaultHeight
        let pageCores = costs.estimate(width: pageWidth, height: pageHeight, fps: fps, preset: preset)
            + pageCost.estimate(width: pageWidth, height: pageHeight)
        let pageRefusal = admission(cores: pageCores, bitrate: expectedBitrate(width: pageWidth, height: pageHeight, fps: fps,
                                                                               maxrate: nil, audioBitrate: 128_000),
                                    beside: active, host: (host.capacityCores, host.freeBytes))
        let pagesEnabled = !configuration.pageAllowList.isEmpty && configuration.workspacesEnabled
        let directory = configuration.recordingsDir
        let writable = host.writable
        let free = host.freeBytes
        var reasons: [String] = []
        if !writable { reasons.append("recordings directory \(directory) is not writable") }
        if case let .disk(message)? = refusal { reasons.append(message) }
        let capacity = host.capacityCores
        let committed = active.reduce(0) { $0 + $1.committedCores }
        let measured = active.reduce(0) { $0 + $1.measuredCores }
        // Measured use beyond the whole budget: the host is overloaded and
        // recordings will drop frames.
        if measured > configuration.cpuShare * capacity * 1.1 {
            reasons.append(String(format: "no CPU headroom: recordings use %.2f cores of %.2f allowed", measured,
                                  configuration.cpuShare * capacity))
        }
        let missing = host.missingEncoders
        if !missing.isEmpty { reasons.append("encoder(s) missing from libavcodec: \(missing.joined(separator: ", "))") }
        let draining = isDraining
        if draining { reasons.append("shutting down") }
        let fits = refusal == nil && !draining
        let status = active.isEmpty ? (fits ? "idle" : "full") : (fits ? "busy" : "full")
        let workspaceCount = await workspaces.count
        metrics.capacityCores.record(capacity)
        metrics.committedCores.record(committed)
        metrics.measuredCores.record(measured)
        if let free { metrics.diskFree.record(Double(free)) }
        metrics.canAccept.record(fits ? 1 : 0)
        metrics.healthy.record(reasons.isEmpty ? 1 : 0)
        metrics.workspaces.record(workspaceCount)
        metrics.active.record(active.count)
        // Jibri records one meeting on its one display and is BUSY while it
        // does: the display a controller sends the next meeting to is
        // `jibriDisplay`, or, without one, any display a recording holds.
        let displayTaken: Bool
        if let display = configuration.jibriDisplay {
            let key = Recording.displayKey(display)
            displayTaken = active.contains { $0.displayKey == key }
        } else {
            displayTaken = !active.isEmpty
        }
        return HealthView(
            status: status, healthy: reasons.isEmpty, reasons: reasons, draining: draining, recovering: recoveringCount,
            recordings: active.count,
            workspaces: workspaceCount,
            cpu: .init(capacityCores: capacity, share: configuration.cpuShare, committedCores: committed, measuredCores: measured),
            disk: .init(directory: directory, writable: writable, freeBytes: free, minFreeMinutes: configuration.minFreeMinutes),
            oneMore: .init(width: width, height: height, fps: fps, preset: preset, estimatedCores: cores, fits: fits,
                           reason: draining ? "shutting down" : refusal.map { "\($0)" }),
            onePage: .init(width: pageWidth, height: pageHeight, fps: fps, preset: preset, estimatedCores: pageCores,
                           fits: pageRefusal == nil && !draining && pagesEnabled,
                           reason: draining ? "shutting down"
                               : !pagesEnabled ? "page recordings are not enabled (no pageAllowList, or no workspaces)"
                               : pageRefusal.map { "\($0)" }),
            jibriBusy: !fits || displayTaken)
    }
}
