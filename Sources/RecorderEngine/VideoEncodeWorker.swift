import CaptureX11
import Encoder
import MediaCore
import MediaPackets

/// The video encode thread's loop: takes grabbed frames off the capture ring,
/// places them on the constant-frame-rate timeline (repeating or dropping as
/// the timeline says), converts and encodes them, and queues the packets for
/// the mux thread. It sleeps on the capture's wake signal while the ring is
/// empty.
final class VideoEncodeWorker: @unchecked Sendable {
    private let capture: DisplayCapture<MonotonicClock>
    private let encoder: VideoEncoder
    private let packets: SPSCRing<Packet>
    private let state: SessionState
    /// What the encoder was opened with, for an error report.
    private let settingsDescription: String
    /// Output frames to write in all (`duration * fps`), or nil for no limit.
    private let frameLimit: Int64?
    private var timeline: VideoTimeline
    /// Set while the encoder runs on one thread and may be given more.
    private var loadWatch: EncoderLoadWatch?
    private let clock = MonotonicClock()
    private var noMedia: NoMediaProbe
    /// The pointer's shapes, when the capture draws it.
    private let cursorShapes: CursorShapes?

    /// `adaptiveThreads`: the encoder starts on one thread and gets the
    /// session's share of the cores (at least two) if one does not keep up.
    init(capture: DisplayCapture<MonotonicClock>, encoder: VideoEncoder, packets: SPSCRing<Packet>,
         state: SessionState, frameLimit: Int64?, adaptiveThreads: Bool, settingsDescription: String,
         noMedia detection: NoMediaDetection = NoMediaDetection()) {
        self.capture = capture
        self.encoder = encoder
        self.packets = packets
        self.state = state
        self.frameLimit = frameLimit
        self.settingsDescription = settingsDescription
        cursorShapes = capture.cursorShapes
        timeline = VideoTimeline(framesPerSecond: capture.framesPerSecond)
        noMedia = NoMediaProbe(video: detection, framesPerSecond: capture.framesPerSecond, state: state.noMedia,
                               wake: state.controlWake)
        if adaptiveThreads && encoder.threads == 1 { loadWatch = EncoderLoadWatch(framesPerSecond: capture.framesPerSecond) }
        state.encoderThreads.store(encoder.threads, ordering: .relaxed)
    }

    func run() {
        do {
            try loop()
            try encoder.flush { packet in emit(packet) }
        } catch let error as AVError {
            state.fail(.encoder(EncoderFailure(codec: "libx264", settings: settingsDescription, underlying: error)))
        } catch {
            preconditionFailure("the video encoder throws only AVError: \(error)")
        }
        state.videoEncodingDone.store(true, ordering: .releasing)
        state.packetsReady.notify()
    }

    @inline(__always)
    private func emit(_ packet: consuming Packet) {
        packets.pushWaiting(packet, ready: state.packetsReady, space: state.packetSpace)
    }

    /// One x264 thread has not kept up: the next frame goes to an instance
    /// with more (once; the stream continues with an IDR picture).
    private func addThreads() throws {
        loadWatch = nil
        let threads = max(2, OpenSessionCount.encoderThreadsPerSession())
        if try encoder.changeThreads(to: threads, emit: { packet in emit(packet) }) {
            state.encoderThreads.store(threads, ordering: .relaxed)
        }
    }

    private func loop() throws {
        while let frame = capture.frames.popWaiting(ready: capture.framesReady, state: state) {
            // Frame n stands for its grab's deadline: the anchor is grab 0's
            // deadline, so a late first grab does not shift every pts.
            let deadline = capture.deadline(ofSequence: frame.sequence)
            let first = timeline.anchor == nil
            let placement = timeline.place(sequence: frame.sequence, captureTime: deadline)
            if first {
                state.anchor.store(deadline, ordering: .releasing)
                state.anchorReady.notify()
            }
            switch placement {
            case .drop:
                state.framesDroppedExcess.add(1, ordering: .relaxed)
                // Its changes are not grabbed again: keep them in the picture.
                if frame.damage.kind != .unchanged { noMedia.noteDamage() }
                try encoder.update(from: frame)
            case let .encode(index, repeats):
                let limit = frameLimit ?? .max
                // Slots the grabber missed are filled, up to the requested
                // duration even when this frame itself lies past it.
                let repeatEnd = min(index, limit)
                if index - repeats < repeatEnd {
                    for repeated in (index - repeats)..<repeatEnd {
                        try encoder.repeatLast(frameIndex: repeated) { packet in emit(packet) }
                    }
                    let count = Int(repeatEnd - (index - repeats))
                    state.framesDuplicated.add(count, ordering: .relaxed)
                    state.framesEncoded.add(count, ordering: .relaxed)
                }
                guard index < limit else {
                    // Past the requested duration: the file is complete.
                    state.requestStop(.graceful, reason: .durationReached)
                    continue
                }
                let damaged = frame.damage.kind != .unchanged
                let sequence = frame.sequence
                let started = clock.now()
                // Taken after the repeats above: they may still draw the
                // previous shape, which a newer one releases.
                let cursor = cursorShapes?.overlay(for: frame.cursor)
                if loadWatch == nil {
                    try encoder.encode(frame, frameIndex: index, cursor: cursor) { packet in emit(packet) }
                } else {
                    let cpu = MediaThread.currentThreadCPUNanoseconds()
                    try encoder.encode(frame, frameIndex: index, cursor: cursor) { packet in emit(packet) }
                    if loadWatch!.record(cpuNanoseconds: MediaThread.currentThreadCPUNanoseconds() - cpu) {
                        try addThreads()
                    }
                }
                // A full ring skips the sample: the metric is a sample, not a count.
                _ = state.encodeTimes.push(clock.now() - started)
                noMedia.observe(picture: encoder, sequence: sequence, damaged: damaged)
                state.framesEncoded.add(1, ordering: .relaxed)
                if let frameLimit, index + 1 >= frameLimit {
                    state.requestStop(.graceful, reason: .durationReached)
                }
            }
        }
    }
}
