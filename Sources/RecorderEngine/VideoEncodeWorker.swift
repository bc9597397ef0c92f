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

    init(capture: DisplayCapture<MonotonicClock>, encoder: VideoEncoder, packets: SPSCRing<Packet>,
         state: SessionState, frameLimit: Int64?) {
        self.capture = capture
        self.encoder = encoder
        self.packets = packets
        self.state = state
        self.frameLimit = frameLimit
        timeline = VideoTimeline(framesPerSecond: capture.framesPerSecond)
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

    private func loop() throws {
        while true {
            guard let frame = capture.frames.pop() else {
                if state.captureEnded.load(ordering: .acquiring) && capture.frames.approximateCount == 0 { return }
                idle()
                continue
            }
            let first = timeline.anchor == nil
            let placement = timeline.place(sequence: frame.sequence, captureTime: frame.captureTime)
            if first { state.anchor.store(frame.captureTime, ordering: .releasing) }
            switch placement {
            case .drop:
                state.framesDroppedExcess.add(1, ordering: .relaxed)
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
                try encoder.encode(frame, frameIndex: index) { packet in packets.pushWaiting(packet) }
                state.framesEncoded.add(1, ordering: .relaxed)
                if let frameLimit, index + 1 >= frameLimit {
                    state.stopRequested.store(true, ordering: .releasing)
                }
            }
        }
    }
}
