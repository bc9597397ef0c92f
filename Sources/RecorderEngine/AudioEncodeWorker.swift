import CaptureALSA
import Encoder
import MediaCore
import MediaPackets

/// The audio encode thread's loop: aligns the first captured period with the
/// video's frame 0, then encodes every period in order, asking the resampler to
/// absorb drift between the device's sample rate and the clock. It sleeps on
/// the capture's wake signal while the ring is empty.
final class AudioEncodeWorker: @unchecked Sendable {
    private let capture: PCMCapture<MonotonicClock>
    private let encoder: AudioEncoder
    private let packets: SPSCRing<Packet>
    private let state: SessionState
    /// What the encoder was opened with, for an error report.
    private let settingsDescription: String
    /// Input frames to place in all (`duration * input rate`), or nil.
    private let frameLimit: Int64?
    private var timeline: AudioTimeline
    private let bytesPerFrame: Int
    private var noMedia: NoMediaProbe
    /// No video gives the timeline its start: the first captured period
    /// does, and the requested duration ends the recording here.
    private let anchorsTimeline: Bool

    init(capture: PCMCapture<MonotonicClock>, encoder: AudioEncoder, packets: SPSCRing<Packet>,
         state: SessionState, outputRate: Int, duration: Duration?, settingsDescription: String,
         noMedia detection: NoMediaDetection = NoMediaDetection(), anchorsTimeline: Bool = false) {
        self.anchorsTimeline = anchorsTimeline
        // With video the interleaver holds audio until a later video packet
        // anyway; sound alone has nothing to wait for.
        wakesMuxEvery = anchorsTimeline ? 1 : 8
        self.capture = capture
        self.encoder = encoder
        self.packets = packets
        self.state = state
        self.settingsDescription = settingsDescription
        let inputRate = capture.format.sampleRate
        frameLimit = duration.map { Int64(($0.seconds * Double(inputRate)).rounded()) }
        timeline = AudioTimeline(inputRate: inputRate, outputRate: outputRate)
        bytesPerFrame = capture.format.bytesPerFrame
        noMedia = NoMediaProbe(audio: detection, format: capture.format, state: state.noMedia, wake: state.controlWake)
    }

    func run() {
        do {
            try loop()
            try encoder.flush { packet in emit(packet) }
        } catch let error as AVError {
            state.fail(.encoder(EncoderFailure(codec: "aac", settings: settingsDescription, underlying: error)))
        } catch {
            preconditionFailure("the audio encoder throws only AVError: \(error)")
        }
        state.audioEncodingDone.store(true, ordering: .releasing)
        state.packetsReady.notify()
    }

    /// The mux orders packets by decoding time: an audio packet waits there
    /// until a video packet as late arrives, so waking the mux for audio
    /// achieves nothing while there is video. It is woken for every eighth
    /// (about 190 ms of AAC), in case the video stalls, and at the end.
    private let wakesMuxEvery: Int
    private var packetsSinceWake = 0

    @inline(__always)
    private func emit(_ packet: consuming Packet) {
        packetsSinceWake += 1
        let wake = packetsSinceWake >= wakesMuxEvery
        if wake { packetsSinceWake = 0 }
        packets.pushWaiting(packet, ready: state.packetsReady, space: state.packetSpace, notify: wake)
    }

    /// Sleeps until the video's first frame fixes the anchor; nil when
    /// capture ends (or the session is cancelled) before it does.
    private func waitForAnchor() -> Int64? {
        while true {
            let ticket = state.anchorReady.prepareToWait()
            let anchor = state.anchor.load(ordering: .acquiring)
            if anchor != .min {
                state.anchorReady.cancelWait()
                return anchor
            }
            if state.captureEnded.load(ordering: .acquiring) || state.stopKind == .immediately {
                state.anchorReady.cancelWait()
                return nil
            }
            state.anchorReady.wait(ticket)
        }
    }

    private func loop() throws {
        var anchor: Int64 = .min
        if !anchorsTimeline {
            guard let videoAnchor = waitForAnchor() else { return }
            anchor = videoAnchor
        }
        var aligned = false
        var trimRemaining = 0
        while let chunk = capture.chunks.popWaiting(ready: capture.chunksReady, state: state) {
            if !aligned {
                aligned = true
                if anchorsTimeline {
                    // Sound alone: output time 0 is the first captured
                    // frame's capture time, on the clock the drift
                    // correction follows from then on.
                    anchor = chunk.captureTime
                    state.anchor.store(anchor, ordering: .releasing)
                }
                switch timeline.align(anchor: anchor, firstCaptureTime: chunk.captureTime) {
                case let .padSilence(frames):
                    try encodeSilence(frames: frames)
                    timeline.advance(by: frames)
                case let .trim(frames):
                    trimRemaining = frames
                }
            }
            var offset = 0
            if trimRemaining > 0 {
                offset = min(trimRemaining, chunk.frameCount)
                trimRemaining -= offset
            }
            var count = chunk.frameCount - offset
            if count == 0 { continue }
            noMedia.observe(UnsafeRawPointer(chunk.buffer.baseAddress + offset * bytesPerFrame), frameCount: count)
            if let frameLimit {
                let room = frameLimit - timeline.placedFrames
                if room <= 0 {
                    if anchorsTimeline { state.requestStop(.graceful, reason: .durationReached) }
                    continue
                }
                count = min(count, Int(room))
            }
            if let correction = timeline.measure(captureTime: chunk.captureTime) {
                try encoder.setCompensation(sampleDelta: correction.sampleDelta, distance: correction.distance)
                state.audioOffsetMicroseconds.store(Int(timeline.lastMeasuredOffset * 1e6), ordering: .relaxed)
            }
            try encoder.encode(interleaved: UnsafeRawPointer(chunk.buffer.baseAddress + offset * bytesPerFrame),
                               frameCount: count) { packet in emit(packet) }
            timeline.advance(by: count)
            state.audioFramesPlaced.store(Int(timeline.placedFrames), ordering: .relaxed)
            if anchorsTimeline, let frameLimit, timeline.placedFrames >= frameLimit {
                state.requestStop(.graceful, reason: .durationReached)
            }
        }
    }

    /// Zeroes are silence in every sample format the engine carries.
    private func encodeSilence(frames: Int) throws {
        guard frames > 0 else { return }
        let chunkFrames = 1024
        let silence = UnsafeMutableRawPointer.allocate(byteCount: chunkFrames * bytesPerFrame, alignment: 16)
        defer { silence.deallocate() }
        silence.initializeMemory(as: UInt8.self, repeating: 0, count: chunkFrames * bytesPerFrame)
        var remaining = frames
        while remaining > 0 {
            let count = min(remaining, chunkFrames)
            try encoder.encode(interleaved: UnsafeRawPointer(silence), frameCount: count) { packet in emit(packet) }
            remaining -= count
        }
    }
}
