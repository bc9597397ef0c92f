import CaptureX11
import Encoder
import MediaCore

/// The video encode thread's loop: takes grabbed frames off the capture ring,
/// places them on the constant-frame-rate timeline (repeating or dropping as
/// the timeline says), converts and encodes them, and queues the packets for
/// the mux thread.
final class VideoEncodeWorker: @unchecked Sendable {
    private let capture: DisplayCapture<MonotonicClock>
    private let encoder: VideoEncoder
    private let packets: SPSCRing<Packet>
    private let state: SessionState
    /// Output frames to write in all (`duration * fps`), or nil for no limit.
    private let frameLimit: Int64?
    private var timeline: VideoTimeline
    /// Set while the encoder runs on one thread and may be given more.
    private var loadWatch: EncoderLoadWatch?

    /// `adaptiveThreads`: the encoder starts on one thread and gets the
    /// session's share of the cores (at least two) if one does not keep up.
    init(capture: DisplayCapture<MonotonicClock>, encoder: VideoEncoder, packets: SPSCRing<Packet>,
         state: SessionState, frameLimit: Int64?, adaptiveThreads: Bool) {
        self.capture = capture
        self.encoder = encoder
        self.packets = packets
        self.state = state
        self.frameLimit = frameLimit
        timeline = VideoTimeline(framesPerSecond: capture.framesPerSecond)
        if adaptiveThreads && encoder.threads == 1 { loadWatch = EncoderLoadWatch(framesPerSecond: capture.framesPerSecond) }
        state.encoderThreads.store(encoder.threads, ordering: .relaxed)
    }

    func run() {
        do {
            try loop()
            try encoder.flush { packet in packets.pushWaiting(packet) }
        } catch {
            state.fail("video encoder: \(error)")
        }
        state.videoEncodingDone.store(true, ordering: .releasing)
    }

    /// One x264 thread has not kept up: the next frame goes to an instance
    /// with more (once; the stream continues with an IDR picture).
    private func addThreads() throws {
        loadWatch = nil
        let threads = max(2, OpenSessionCount.encoderThreadsPerSession())
        if try encoder.changeThreads(to: threads, emit: { packet in packets.pushWaiting(packet) }) {
            state.encoderThreads.store(threads, ordering: .relaxed)
        }
    }

    private func loop() throws {
        while true {
            guard let frame = capture.frames.pop() else {
                if state.captureEnded.load(ordering: .acquiring) && capture.frames.approximateCount == 0 { return }
                idle()
                continue
            }
            // Frame n stands for its grab's deadline: the anchor is grab 0's
            // deadline, so a late first grab does not shift every pts.
            let deadline = capture.deadline(ofSequence: frame.sequence)
            let first = timeline.anchor == nil
            let placement = timeline.place(sequence: frame.sequence, captureTime: deadline)
            if first { state.anchor.store(deadline, ordering: .releasing) }
            switch placement {
            case .drop:
                state.framesDroppedExcess.add(1, ordering: .relaxed)
                // Its changes are not grabbed again: keep them in the picture.
                try encoder.update(from: frame)
            case let .encode(index, repeats):
                let limit = frameLimit ?? .max
                // Slots the grabber missed are filled, up to the requested
                // duration even when this frame itself lies past it.
                let repeatEnd = min(index, limit)
                if index - repeats < repeatEnd {
                    for repeated in (index - repeats)..<repeatEnd {
                        try encoder.repeatLast(frameIndex: repeated) { packet in packets.pushWaiting(packet) }
                    }
                    let count = Int(repeatEnd - (index - repeats))
                    state.framesDuplicated.add(count, ordering: .relaxed)
                    state.framesEncoded.add(count, ordering: .relaxed)
                }
                guard index < limit else {
                    // Past the requested duration: the file is complete.
                    state.stopRequested.store(true, ordering: .releasing)
                    continue
                }
                if loadWatch == nil {
                    try encoder.encode(frame, frameIndex: index) { packet in packets.pushWaiting(packet) }
                } else {
                    let cpu = EncoderLoadWatch.threadCPUTime()
                    try encoder.encode(frame, frameIndex: index) { packet in packets.pushWaiting(packet) }
                    if loadWatch!.record(cpuNanoseconds: EncoderLoadWatch.threadCPUTime() - cpu) { try addThreads() }
                }
                state.framesEncoded.add(1, ordering: .relaxed)
                if let frameLimit, index + 1 >= frameLimit {
                    state.stopRequested.store(true, ordering: .releasing)
                }
            }
        }
    }
}
