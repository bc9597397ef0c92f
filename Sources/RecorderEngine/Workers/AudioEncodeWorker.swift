import CaptureALSA
import Encoder
import MediaCore
import MediaPackets

/// The audio encode thread's loop: aligns the first captured period with the
/// video's frame 0 (for sound alone, the first period is output time 0), then encodes every period where its frame index puts it
/// (silence for frames the capture could not queue), asking the resampler to
/// absorb drift between the device's sample rate and the clock
/// (`AudioTimeline`). It sleeps on the capture's wake signal while the ring
/// is empty.
final class AudioEncodeWorker: @unchecked Sendable {
    private let capture: PCMCapture<MonotonicClock>
    private let encoder: AudioEncoder
    private let packets: SPSCRing<Packet>
    private let state: SessionState
    /// What the encoder was opened with, for an error report.
    private let settingsDescription: String
    private var timeline: AudioTimeline
    private let bytesPerFrame: Int
    /// Zeroes (silence in every sample format the engine carries), made once.
    private let silence: UnsafeMutableRawPointer
    private static var silenceFrames: Int { 1024 }
    private var noMedia: NoMediaProbe
    /// No video gives the timeline its start: the first captured period
    /// does, and the requested duration ends the recording here.
    private let anchorsTimeline: Bool
    /// The video's rate (nil for sound alone): a graceful stop ends the
    /// sound where the video's last frame ends.
    private let videoFramesPerSecond: Int?
    private let outputRate: Int
    /// `state.audioEnd` has been applied to the timeline.
    private var endApplied = false
    /// The recording's paused stretches: their frames are encoded as
    /// silence (the live streams stay fed; the files leave them out,
    /// `PausedTimelineCut`) and are not recorded time.
    private var pauses: PauseView
    /// Input frames to record in all, or nil (`timeline.frameLimit` is this
    /// plus the paused frames before it).
    private let recordLimit: Int64?
    private let inputRate: Int64

    init(capture: PCMCapture<MonotonicClock>, encoder: AudioEncoder, packets: SPSCRing<Packet>,
         state: SessionState, outputRate: Int, duration: Duration?, settingsDescription: String,
         noMedia detection: NoMediaDetection = NoMediaDetection(), anchorsTimeline: Bool = false,
         videoFramesPerSecond: Int? = nil) {
        self.anchorsTimeline = anchorsTimeline
        self.videoFramesPerSecond = anchorsTimeline ? nil : videoFramesPerSecond
        self.outputRate = outputRate
        // With video the interleaver holds audio until a later video packet
        // anyway; sound alone has nothing to wait for.
        wakesMuxEvery = anchorsTimeline ? 1 : 8
        self.capture = capture
        self.encoder = encoder
        self.packets = packets
        self.state = state
        self.settingsDescription = settingsDescription
        let inputRate = capture.format.sampleRate
        // Input frames to place in all (`duration * input rate`), or none.
        let frameLimit = duration.map { Int64(($0.seconds * Double(inputRate)).rounded()) }
        timeline = AudioTimeline(inputRate: inputRate, outputRate: outputRate, frameLimit: frameLimit)
        recordLimit = frameLimit
        self.inputRate = Int64(inputRate)
        pauses = PauseView(state.pauses)
        bytesPerFrame = capture.format.bytesPerFrame
        silence = .allocate(byteCount: Self.silenceFrames * bytesPerFrame, alignment: 16)
        silence.initializeMemory(as: UInt8.self, repeating: 0, count: Self.silenceFrames * bytesPerFrame)
        noMedia = NoMediaProbe(audio: detection, format: capture.format, state: state.noMedia, wake: state.controlWake)
    }

    deinit {
        silence.deallocate()
    }

    func run() {
        do {
            let anchor = try loop()
            try padToVideoEnd(anchor: anchor)
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

    /// Encodes what the capture delivers until it ends; returns the anchor
    /// (`Int64.min` when there was none).
    private func loop() throws -> Int64 {
        var anchor: Int64 = .min
        if !anchorsTimeline {
            guard let videoAnchor = waitForAnchor() else { return anchor }
            anchor = videoAnchor
        }
        while let chunk = capture.chunks.popWaiting(ready: capture.chunksReady, state: state) {
            if !endApplied, videoFramesPerSecond != nil {
                applyEnd(anchor: anchor)
            }
            if anchor == .min {
                // Sound alone: output time 0 is the first captured frame's
                // capture time, on the clock the drift correction follows
                // from then on.
                anchor = chunk.captureTime
                state.anchor.store(anchor, ordering: .releasing)
            }
            if pauses.refresh(), let recordLimit {
                timeline.frameLimit = pauses.limitPosition(recorded: recordLimit, rate: inputRate)
            }
            if timeline.isComplete {
                if anchorsTimeline { state.requestStop(.graceful, reason: .durationReached) }
                continue
            }
            let position = timeline.placedFrames
            let placement = timeline.place(captureTime: chunk.captureTime, firstFrameIndex: chunk.firstFrameIndex,
                                           frameCount: chunk.frameCount, anchor: anchor)
            try encode(from: position, count: placement.silence, samples: nil)
            if let correction = placement.correction {
                try encoder.setCompensation(sampleDelta: correction.sampleDelta, distance: correction.distance)
                state.audioOffsetMicroseconds.store(Int(timeline.lastMeasuredOffset * 1e6), ordering: .relaxed)
            }
            if placement.count > 0 {
                let samples = UnsafeRawPointer(chunk.buffer.baseAddress + placement.skip * bytesPerFrame)
                try encode(from: position + Int64(placement.silence), count: placement.count, samples: samples)
            }
            // Sound alone is timed by the frames recorded (statistics, no-media).
            let placed = timeline.placedFrames
            state.audioFramesPlaced.store(Int(placed - pauses.pausedBefore(placed, rate: inputRate)), ordering: .relaxed)
            if anchorsTimeline, timeline.isComplete { state.requestStop(.graceful, reason: .durationReached) }
            if endApplied, timeline.isComplete { reachedEnd() }
        }
        return anchor
    }

    /// Takes the end a graceful stop fixed (`state.audioEnd`), once it is set:
    /// nothing after it is placed.
    @inline(__always)
    private func applyEnd(anchor: Int64) {
        let end = state.audioEnd.load(ordering: .acquiring)
        guard end != .max else { return }
        endApplied = true
        timeline.limit(toOutputSamples: (end - anchor) * Int64(outputRate) / 1_000_000_000)
        if timeline.isComplete { reachedEnd() }
    }

    private func reachedEnd() {
        guard !state.audioReachedEnd.load(ordering: .relaxed) else { return }
        state.audioReachedEnd.store(true, ordering: .releasing)
        state.audioEndWake.notify()
    }

    /// After a graceful stop, the sound ends where the video's last frame
    /// ends: the video encoder's frame count fixes it once that encoder is
    /// done, and what the device did not deliver by then (it was stopped,
    /// or gave up waiting) is silence. Sound captured past it was not placed
    /// (`applyEnd`), so the tracks end within an AAC frame.
    private func padToVideoEnd(anchor: Int64) throws {
        guard let fps = videoFramesPerSecond, anchor != .min, state.stopKind == .graceful else { return }
        while !state.videoEncodingDone.load(ordering: .acquiring) {
            let ticket = state.packetsReady.prepareToWait()
            if state.videoEncodingDone.load(ordering: .acquiring) || state.stopKind == .immediately {
                state.packetsReady.cancelWait()
                break
            }
            state.packetsReady.wait(ticket)
        }
        guard state.stopKind == .graceful else { return }
        let frames = Int64(state.framesEncoded.load(ordering: .relaxed))
        timeline.limit(toOutputSamples: frames * Int64(outputRate) / Int64(fps))
        let missing = timeline.framesShortOfLimit
        try encode(from: timeline.placedFrames, count: missing, samples: nil)
        timeline.advance(by: missing)
        let placed = timeline.placedFrames
        state.audioFramesPlaced.store(Int(placed - pauses.pausedBefore(placed, rate: inputRate)), ordering: .relaxed)
    }

    /// Encodes `count` frames placed at timeline `position`: `samples`, or
    /// silence when nil; the paused ones as silence the no-media check does
    /// not see (a pause is not missing media). The cut is on the exact
    /// frame the pause's slot starts at.
    @inline(__always)
    private func encode(from position: Int64, count: Int, samples: UnsafeRawPointer?) throws {
        var done = 0
        while done < count {
            let run = pauses.intervals.isEmpty ? (paused: false, end: Int64.max)
                : pauses.run(at: position + Int64(done), rate: inputRate)
            let length = Int(min(Int64(count - done), run.end - (position + Int64(done))))
            if run.paused || samples == nil {
                try encodeSilence(frames: length, observed: !run.paused)
            } else {
                let part = samples! + done * bytesPerFrame
                noMedia.observe(part, frameCount: length)
                try encoder.encode(interleaved: part, frameCount: length) { packet in emit(packet) }
            }
            done += length
        }
    }

    /// Silence placed for frames the device did not deliver (a stall, a lost
    /// device) is silence to the no-media check too (`observed`).
    private func encodeSilence(frames: Int, observed: Bool) throws {
        var remaining = frames
        while remaining > 0 {
            let count = min(remaining, Self.silenceFrames)
            if observed { noMedia.observe(UnsafeRawPointer(silence), frameCount: count) }
            try encoder.encode(interleaved: UnsafeRawPointer(silence), frameCount: count) { packet in emit(packet) }
            remaining -= count
        }
    }
}
