import MediaCore
import Mux

/// Changes asked of a running recording: pauses and live streams.
extension SessionRunner {
    /// The pipeline while recording (after the start, before the stop).
    private func running() throws(SessionControlError) -> LiveParts {
        guard case let .running(parts) = source.withLock({ $0 }), !state.stopRequested else { throw .notRecording }
        return parts
    }

    /// Pauses `PauseSchedule.leadNanoseconds` from now; returns the
    /// recorded time at which the pause begins.
    func pause() throws(SessionControlError) -> Duration {
        _ = try running()
        let anchor = state.anchor.load(ordering: .acquiring)
        guard anchor != .min else { throw .notRecording }
        let interval: PauseSchedule.Interval
        do {
            interval = try state.pauses.pause(atNanoseconds: clock.now() + PauseSchedule.leadNanoseconds - anchor)
        } catch {
            throw Self.refusal(error)
        }
        let at = recordedTime(atUnit: interval.start)
        logger.info("pausing", metadata: ["media_seconds": "\(at.seconds)"])
        return at
    }

    /// Resumes `PauseSchedule.leadNanoseconds` from now; returns the
    /// recorded time at which the recording goes on.
    func resume() throws(SessionControlError) -> Duration {
        _ = try running()
        let anchor = state.anchor.load(ordering: .acquiring)
        guard anchor != .min else { throw .notPaused }
        let interval: PauseSchedule.Interval?
        do {
            interval = try state.pauses.resume(atNanoseconds: clock.now() + PauseSchedule.leadNanoseconds - anchor)
        } catch {
            throw Self.refusal(error)
        }
        let at = interval.map { recordedTime(atUnit: $0.end!) } ?? mediaTimeNow()
        logger.info("resuming", metadata: [
            "media_seconds": "\(at.seconds)",
            "paused_seconds": "\(interval.map { Double($0.end! - $0.start) / Double(state.pauses.unitRate) } ?? 0)",
        ])
        return at
    }

    var isPaused: Bool { state.pauses.isPaused }

    /// Whether paused, the pauses so far and the time they left out.
    func pauseAccount() -> (paused: Bool, count: Int, duration: Duration) {
        let intervals = state.pauses.snapshot
        guard !intervals.isEmpty else { return (false, 0, .zero) }
        let anchor = state.anchor.load(ordering: .acquiring)
        let now = anchor == .min ? 0 : state.pauses.unit(atOrAfter: clock.now() - anchor)
        var units: Int64 = 0
        for interval in intervals { units += max(0, (interval.end ?? now) - interval.start) }
        let paused = intervals.last!.end == nil
        return (paused, intervals.count, .nanoseconds(units * .nanosecondsPerSecond / state.pauses.unitRate))
    }

    /// Adds a live stream to the running recording: checked as a configured
    /// one (allow-list, schemes, rendition encoded here), numbered after
    /// every stream so far; its first packet sent is the next keyframe.
    func addStream(_ output: StreamOutput) throws(SessionControlError) -> Int {
        let parts = try running()
        let pipeline = parts.pipeline
        let outcome: Result<Int, SessionControlError> = streamChanges.withLock { tokens in
            let number = pipeline.liveStreams.entries.count
            guard pipeline.liveStreams.activeCount < LiveStreams.limit else {
                return .failure(.tooManyStreams(limit: LiveStreams.limit))
            }
            let destination: StreamDestination
            let encode: Int?
            do {
                let allowList = try StreamAllowList(patterns: configuration.streamAllowList)
                var bundles: [String: CertificateAuthorityBundle] = [:]
                destination = try RecordingSession.checkStream(output, index: number, configuration: configuration,
                                                               allowList: allowList, bundles: &bundles)
                encode = try pipeline.encode(forRendition: output.rendition)
            } catch let error as InvalidSetting {
                return .failure(.configuration(error))
            } catch {
                preconditionFailure("stream checks throw InvalidSetting only: \(error)")
            }
            var secrets = destination.url.secretParts
            if case let .srt(_, options) = destination { secrets += options.passphrase?.secretParts ?? [] }
            tokens.append(SecretRedaction.register(secrets))
            let url = destination.url
            let sink = NetworkSink(destination: destination, streams: pipeline.streamParameters(encode: encode),
                                   maxReconnects: output.maxReconnects, startsAtKeyframe: true) {
                [events, state, logger] change in
                logger.notice("stream \(number) \(url.redacted): \(change)")
                events.send(.stream(StreamEvent(index: number, url: url.redacted, change: change)))
                if case .gaveUp = change { state.controlWake.notify() }
            }
            sink.start(context: MediaThread.Context(tag: account.tag, logTarget: logTarget, account: account))
            guard pipeline.liveStreams.add(sink, encode: encode) != nil else {
                // The mux thread ended meanwhile: the recording is stopping.
                sink.abort()
                sink.join()
                return .failure(.notRecording)
            }
            logger.info("stream \(number) added: \(url.redacted)")
            return .success(number)
        }
        state.packetsReady.notify()
        return try outcome.get()
    }

    /// Removes live stream `number`: it gets no packet after the one being
    /// handed out, sends what it holds and closes.
    func removeStream(_ number: Int) throws(SessionControlError) {
        let parts = try running()
        let pipeline = parts.pipeline
        let outcome: Result<Void, SessionControlError> = streamChanges.withLock { _ in
            let entries = pipeline.liveStreams.entries
            guard entries.indices.contains(number) else { return .failure(.unknownStream(number)) }
            guard !entries[number].removed else { return .failure(.streamRemoved(number)) }
            let hasFiles = pipeline.file != nil || pipeline.segmentedFile != nil || pipeline.hls != nil
            if !hasFiles, entries.filter({ !$0.removed }).count == 1 { return .failure(.lastOutput(number)) }
            do {
                try pipeline.liveStreams.remove(number)
            } catch {
                return .failure((error as? LiveStreams.RemoveRefusal) == .unknown ? .unknownStream(number) : .streamRemoved(number))
            }
            logger.info("stream \(number) removed: \(entries[number].sink.url.redacted)")
            return .success(())
        }
        state.packetsReady.notify()
        try outcome.get()
    }

    /// `unit` of the timeline as recorded time (the pauses before it left out).
    private func recordedTime(atUnit unit: Int64) -> Duration {
        var view = PauseView(state.pauses)
        view.refresh()
        return .nanoseconds((unit - view.pausedBefore(unit)) * .nanosecondsPerSecond / state.pauses.unitRate)
    }

    private func mediaTimeNow() -> Duration { statistics.mediaDuration }

    private static func refusal(_ error: PauseSchedule.Refusal) -> SessionControlError {
        switch error {
        case .notStarted: .notRecording
        case .alreadyPaused: .alreadyPaused
        case .notPaused: .notPaused
        }
    }
}
