#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import MediaCore
import MediaPackets

extension NetworkSinkCore {
    /// The sink's thread: connect, send until the connection fails, wait,
    /// reconnect; until the input is finished and sent, the sink is
    /// stopped, or `maxReconnects` is used up.
    ///
    /// `maxReconnects` bounds the retries of one outage (a failed first
    /// connection, or a lost one); a connection that comes back resets it.
    func run() {
        var everConnected = false
        // Connection attempts made in this outage, and retries scheduled.
        var attempts = 0
        var retries = 0
        var pendingDelay: Double?
        var outageStart = clock.now()
        // The first connection sends the queue from the session's first
        // packet (a keyframe, with the AAC priming before it); any later one
        // starts at a keyframe, as does the first of a sink added while
        // recording.
        var startAtKeyframe = startsAtKeyframe
        while true {
            if let delay = pendingDelay {
                pendingDelay = nil
                guard waitDiscarding(seconds: delay) else { break }
                startAtKeyframe = true
            }
            if stopping.load(ordering: .acquiring) { break }
            if inputFinished.load(ordering: .acquiring) && everConnected { break }
            stalled.store(false, ordering: .releasing)
            interrupt.reset()
            interrupt.arm(seconds: connectTimeout)
            if inputFinished.load(ordering: .acquiring) { interrupt.arm(seconds: drainTimeout) }
            let connection: any StreamConnection
            attempts += 1
            do {
                connection = try destination.connect(streams: streams, interrupt: interrupt, connectTimeout: connectTimeout)
            } catch {
                if stopping.load(ordering: .acquiring) || inputFinished.load(ordering: .acquiring) { break }
                counters.failedAttempts.add()
                let failure = classify(error, connecting: true)
                if let maxReconnects, retries >= maxReconnects {
                    events(.connectionFailed(attempt: attempts, failure: failure, retryIn: nil))
                    giveUp(attempts: attempts)
                    break
                }
                retries += 1
                let delay = backoff.delay(beforeRetry: retries)
                events(.connectionFailed(attempt: attempts, failure: failure, retryIn: .seconds(delay)))
                pendingDelay = delay
                continue
            }
            if inputFinished.load(ordering: .acquiring) { interrupt.arm(seconds: drainTimeout) } else { interrupt.disarm() }
            counters.connections.add()
            counters.connected.store(true, ordering: .releasing)
            if everConnected {
                events(.reconnected(downtime: .nanoseconds(clock.now() - outageStart), attempts: attempts))
            } else {
                events(.connected)
            }
            everConnected = true
            attempts = 0
            retries = 0
            var failure: StreamFailure?
            withExtendedLifetime(connection) {
                failure = send(over: connection, startAtKeyframe: startAtKeyframe)
                counters.connected.store(false, ordering: .releasing)
                // Closing a lost connection must not block on it: the RTMP
                // goodbye (SRT's drain) is skipped when the interrupt has fired.
                if failure != nil { interrupt.abort() }
            }
            guard let failure else { break }
            outageStart = clock.now()
            if stopping.load(ordering: .acquiring) || inputFinished.load(ordering: .acquiring) { break }
            counters.disconnects.add()
            events(.disconnected(failure))
            if maxReconnects == 0 {
                giveUp(attempts: 0)
                break
            }
            retries = 1
            pendingDelay = backoff.delay(beforeRetry: 1)
        }
        closed.store(true, ordering: .releasing)
        counters.queued.store(0)
        // Whatever is still queued goes back to the pool now.
        while let queued = ring.pop() { Self.release(queued.packet) }
        inFlightSince.store(.max, ordering: .releasing)
    }

    private func giveUp(attempts: Int) {
        counters.gaveUp.store(true, ordering: .relaxed)
        closed.store(true, ordering: .releasing)
        events(.gaveUp(attempts: attempts))
    }

    /// Sends queued packets until the input is finished and sent (nil) or
    /// the connection fails (the failure).
    ///
    /// A new connection first skips what waited longer than the first drop
    /// threshold (media from before a slow connect or an outage; sending it
    /// would start the stream behind real time), and then starts at a keyframe.
    private func send(over connection: any StreamConnection, startAtKeyframe: Bool) -> StreamFailure? {
        var waitingForKeyframe = startAtKeyframe
        var skippingStale = true
        let staleAge = Int64(policy.disposableDropThreshold * 1e9)
        var startTime = Int64.min
        while true {
            guard let queued = ring.pop() else {
                inFlightSince.store(.max, ordering: .releasing)
                skippingStale = false
                if stopping.load(ordering: .acquiring) { return nil }
                if inputFinished.load(ordering: .acquiring) && ring.approximateCount == 0 {
                    do {
                        try connection.finish()
                    } catch {
                        // The server has all the media; a failed goodbye changes nothing.
                    }
                    return nil
                }
                // Sleep until the feeding thread queues a packet, finishes or aborts.
                let ticket = packetsReady.prepareToWait()
                if ring.approximateCount > 0 || stopping.load(ordering: .acquiring)
                    || inputFinished.load(ordering: .acquiring) {
                    packetsReady.cancelWait()
                } else {
                    packetsReady.wait(ticket)
                }
                continue
            }
            let offeredAt = queued.offeredAt
            let packet = queued.packet
            let time = Self.mediaTime(packet, video: videoTimeBase, audio: audioTimeBase)
            consumerTime.store(time, ordering: .releasing)
            inFlightSince.store(offeredAt, ordering: .releasing)
            if skippingStale {
                if clock.now() - offeredAt > staleAge {
                    counters.discardedOffline.add()
                    waitingForKeyframe = true
                    continue
                }
                skippingStale = false
            }
            if waitingForKeyframe {
                guard packet.kind == .video && packet.isKeyframe else {
                    counters.discardedOffline.add()
                    continue
                }
                waitingForKeyframe = false
                startTime = time
            }
            // FLV and MPEG-TS need non-decreasing timestamps from the first packet on.
            if time < startTime {
                counters.discardedOffline.add()
                continue
            }
            let size = Int(packet.pointer.pointee.size)
            do {
                try connection.write(packet)
            } catch {
                if stopping.load(ordering: .acquiring) { return nil }
                return classify(error, connecting: false)
            }
            counters.packetsSent.add()
            counters.bytesSent.add(size)
        }
    }

    /// Waits `seconds` while discarding whatever is offered; false when the
    /// sink should end instead of reconnecting (stopped, or input finished).
    private func waitDiscarding(seconds: Double) -> Bool {
        let deadline = clock.now() + Int64(seconds * 1e9)
        while true {
            while let queued = ring.pop() {
                consumerTime.store(Self.mediaTime(queued.packet, video: videoTimeBase, audio: audioTimeBase),
                                   ordering: .releasing)
                counters.discardedOffline.add()
            }
            inFlightSince.store(.max, ordering: .releasing)
            if stopping.load(ordering: .acquiring) || inputFinished.load(ordering: .acquiring) { return false }
            let now = clock.now()
            if now >= deadline { return true }
            // Sleep until a packet is offered (to discard it at once, so the
            // feeding thread's queue measure stays low), the end, or the deadline.
            let ticket = packetsReady.prepareToWait()
            if ring.approximateCount > 0 || stopping.load(ordering: .acquiring)
                || inputFinished.load(ordering: .acquiring) {
                packetsReady.cancelWait()
            } else {
                packetsReady.wait(ticket, timeout: deadline - now)
            }
        }
    }

    /// Names why I/O failed; an interrupt is a stall or a timeout, told
    /// apart by who fired it. A connection that knows why it failed (an SRT
    /// listener's rejection) says so itself.
    private func classify(_ error: any Error, connecting: Bool) -> StreamFailure {
        if let failure = error as? StreamFailure {
            stalled.store(false, ordering: .releasing)
            return failure
        }
        let code = (error as? AVError)?.code
        if code == AVError.interruptedCode {
            if stalled.exchange(false, ordering: .acquiringAndReleasing) {
                return .stalled(queued: .microseconds(counters.queued.load()))
            }
            if connecting { return .timedOut(after: .seconds(connectTimeout)) }
        }
        stalled.store(false, ordering: .releasing)
        if let error = error as? AVError { return .library(error) }
        // Only a muxer option the muxer refused is left; it cannot happen
        // with the options the connections set.
        return .library(AVError(code: cffmpeg_averror(EINVAL), operation: "avformat_write_header"))
    }
}
