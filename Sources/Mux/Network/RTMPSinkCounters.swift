import MediaCore
import Synchronization

/// The live counters behind `RTMPSinkStatistics`: relaxed atomics, bumped by
/// the feeding thread or the sink's thread, read by anyone.
final class RTMPSinkCounters: Sendable {
    typealias Counter = MediaCounters.Counter

    let connected = Atomic<Bool>(false)
    let gaveUp = Atomic<Bool>(false)
    let connections = Counter()
    let disconnects = Counter()
    let failedAttempts = Counter()
    let packetsSent = Counter()
    let bytesSent = Counter()
    let droppedDisposable = Counter()
    let droppedToKeyframe = Counter()
    let droppedQueueFull = Counter()
    let discardedOffline = Counter()
    /// Microseconds.
    let queued = Counter()
    let maximumQueued = Counter()

    func snapshot(url: String) -> RTMPSinkStatistics {
        var statistics = RTMPSinkStatistics(url: url)
        statistics.connected = connected.load(ordering: .relaxed)
        statistics.gaveUp = gaveUp.load(ordering: .relaxed)
        statistics.connections = connections.load()
        statistics.disconnects = disconnects.load()
        statistics.failedAttempts = failedAttempts.load()
        statistics.packetsSent = packetsSent.load()
        statistics.bytesSent = bytesSent.load()
        statistics.videoPacketsDroppedDisposable = droppedDisposable.load()
        statistics.videoPacketsDroppedToKeyframe = droppedToKeyframe.load()
        statistics.packetsDroppedQueueFull = droppedQueueFull.load()
        statistics.packetsDiscardedOffline = discardedOffline.load()
        statistics.queued = .microseconds(queued.load())
        statistics.maximumQueued = .microseconds(maximumQueued.load())
        return statistics
    }
}
