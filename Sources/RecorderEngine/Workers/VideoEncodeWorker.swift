import CaptureX11
import Encoder
import MediaCore
import MediaPackets

/// The video encode thread's loop: takes grabbed frames off the capture ring,
/// places them on the constant-frame-rate timeline (repeating or dropping as
/// the timeline says), converts each once (`RenditionPictures`), scales it
/// for the renditions of other sizes, encodes it with every rendition's
/// encoder, and queues each encoder's packets for the mux thread. It sleeps
/// on the capture's wake signal while the ring is empty.
///
/// The encoders run one after the other on this thread, as ffmpeg runs its
/// encoders on its main thread: x264's own threads are what spread an
/// encode over the cores, and one thread per x264 instance costs the least
/// CPU while it keeps up. When this thread is busy more than half of each
/// frame interval (over two seconds), the encoder that spent the most gets
/// the session's share of the cores (`EncoderLoadWatch`), then the next.
final class VideoEncodeWorker: @unchecked Sendable {
    private let capture: DisplayCapture<MonotonicClock>
    private let pictures: RenditionPictures
    private let encodes: [VideoEncode]
    private let state: SessionState
    /// Output frames to write in all (`duration * fps`), or nil for no limit.
    private let frameLimit: Int64?
    private var timeline: VideoTimeline
    /// Set while some encoder runs on one thread and may be given more.
    private var loadWatch: EncoderLoadWatch?
    /// Each encoder's CPU over the load watch's current window.
    private var encodeCPU: [Int64]
    private let clock = MonotonicClock()
    private var noMedia: NoMediaProbe
    /// The pointer's shapes, when the capture draws it.
    private let cursorShapes: CursorShapes?
    /// The recording's paused stretches, in frame slots.
    private var pauses: PauseView
    /// A paused slot went by since the last one recorded: the next recorded
    /// frame is an IDR picture of the screen as it is then.
    private var resuming = false

    init(capture: DisplayCapture<MonotonicClock>, pictures: RenditionPictures, encodes: [VideoEncode],
         state: SessionState, frameLimit: Int64?, noMedia detection: NoMediaDetection = NoMediaDetection()) {
        precondition(!encodes.isEmpty, "a video encode thread needs an encoder")
        self.capture = capture
        self.pictures = pictures
        self.encodes = encodes
        self.state = state
        self.frameLimit = frameLimit
        cursorShapes = capture.cursorShapes
        pauses = PauseView(state.pauses)
        timeline = VideoTimeline(framesPerSecond: capture.framesPerSecond)
        noMedia = NoMediaProbe(video: detection, framesPerSecond: capture.framesPerSecond, state: state.noMedia,
                               wake: state.controlWake)
        encodeCPU = Array(repeating: 0, count: encodes.count)
        if encodes.contains(where: Self.canGrow) { loadWatch = EncoderLoadWatch(framesPerSecond: capture.framesPerSecond) }
        state.encoderThreads.store(encodes[0].encoder.threads, ordering: .relaxed)
    }

    private static func canGrow(_ encode: VideoEncode) -> Bool { encode.adaptiveThreads && encode.encoder.threads == 1 }

    func run() {
        var current = 0
        do {
            try loop(current: &current)
            for index in encodes.indices {
                current = index
                try encodes[index].encoder.flush { packet in emit(packet, index) }
            }
        } catch let error as AVError {
            state.fail(.encoder(EncoderFailure(codec: "libx264", settings: encodes[current].description, underlying: error)))
        } catch {
            preconditionFailure("the video encoder throws only AVError: \(error)")
        }
        state.videoEncodingDone.store(true, ordering: .releasing)
        state.packetsReady.notify()
    }

    @inline(__always)
    private func emit(_ packet: consuming Packet, _ index: Int) {
        encodes[index].packets.pushWaiting(packet, ready: state.packetsReady, space: state.packetSpace)
    }

    /// The encoders have kept this thread busy over the limit: the one that
    /// spent the most of it (among those still on one thread) goes on with
    /// the session's share of the cores, at least two (once; the stream
    /// continues with an IDR picture). The watch goes on while another
    /// encoder could still grow.
    private func addThreads() throws {
        let candidates = encodes.indices.filter { Self.canGrow(encodes[$0]) }
        guard let index = candidates.max(by: { encodeCPU[$0] < encodeCPU[$1] }) else {
            loadWatch = nil
            return
        }
        let threads = max(2, OpenSessionCount.encoderThreadsPerSession())
        let encode = encodes[index]
        if try encode.encoder.changeThreads(to: threads, emit: { packet in emit(packet, index) }) {
            encode.threads.store(threads, ordering: .relaxed)
            if index == 0 { state.encoderThreads.store(threads, ordering: .relaxed) }
        }
        if !encodes.contains(where: Self.canGrow) { loadWatch = nil }
    }

    /// Slot `index` lies in a pause: every encoder shows its last picture
    /// again where it can (the live streams stay fed; the files leave the
    /// slot out, `PausedTimelineCut`), and the next slot recorded starts
    /// with an IDR picture.
    private func encodePaused(frameIndex index: Int64, current: inout Int) throws {
        resuming = true
        for encode in encodes.indices {
            current = encode
            try encodes[encode].encoder.repeatWhilePaused(frameIndex: index) { packet in emit(packet, encode) }
        }
    }

    /// The first slot recorded after a pause, filled by a repeat: an IDR
    /// picture of the screen now (the picture was kept up to date while
    /// paused, the encoders did not see it).
    private func encodeResumed(frameIndex index: Int64, cursor: CursorOverlay?, current: inout Int) throws {
        _ = pictures.takeChange()
        try pictures.refreshScaled()
        resuming = false
        for encode in encodes.indices {
            current = encode
            try encodes[encode].encoder.encodePicture(frameIndex: index, changed: true, cursor: cursor,
                                                      keyframe: true) { packet in emit(packet, encode) }
        }
    }

    /// Encodes the pictures as output frame `index` with every encoder.
    @inline(__always)
    private func encodeAll(frameIndex index: Int64, changed: Bool, cursor: CursorOverlay?, current: inout Int) throws {
        if resuming {
            try encodeResumed(frameIndex: index, cursor: cursor, current: &current)
            return
        }
        if loadWatch == nil {
            for encode in encodes.indices {
                current = encode
                try encodes[encode].encoder.encodePicture(frameIndex: index, changed: changed, cursor: cursor) { packet in
                    emit(packet, encode)
                }
            }
            return
        }
        var total: Int64 = 0
        for encode in encodes.indices {
            current = encode
            let cpu = MediaThread.currentThreadCPUNanoseconds()
            try encodes[encode].encoder.encodePicture(frameIndex: index, changed: changed, cursor: cursor) { packet in
                    emit(packet, encode)
                }
            let spent = MediaThread.currentThreadCPUNanoseconds() - cpu
            encodeCPU[encode] += spent
            total += spent
        }
        if loadWatch!.record(cpuNanoseconds: total) {
            try addThreads()
        }
        if loadWatch?.isAtWindowStart ?? false {
            for encode in encodeCPU.indices { encodeCPU[encode] = 0 }
        }
    }

    private func loop(current: inout Int) throws {
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
                // Its changes are not grabbed again: keep them in the picture
                // (the next frame encoded submits it).
                if frame.damage.kind != .unchanged { noMedia.noteDamage() }
                try pictures.update(from: frame)
            case let .encode(index, repeats):
                let limit = frameLimit ?? .max
                pauses.refresh()
                // Slots the grabber missed are filled, up to the requested
                // duration (recorded time: paused slots do not count) even
                // when this frame itself lies past it.
                if repeats > 0 {
                    var count = 0
                    for repeated in (index - repeats)..<index {
                        if pauses.isPaused(repeated) {
                            try encodePaused(frameIndex: repeated, current: &current)
                            continue
                        }
                        guard repeated - pauses.pausedBefore(repeated) < limit else { break }
                        count += 1
                        if resuming {
                            try encodeResumed(frameIndex: repeated, cursor: cursorShapes?.overlay(for: frame.cursor),
                                              current: &current)
                            continue
                        }
                        for encode in encodes.indices {
                            current = encode
                            try encodes[encode].encoder.repeatLast(frameIndex: repeated) { packet in emit(packet, encode) }
                        }
                    }
                    state.framesDuplicated.add(count, ordering: .relaxed)
                    state.framesEncoded.add(count, ordering: .relaxed)
                }
                if pauses.isPaused(index) {
                    // The picture follows the screen (DAMAGE brings only
                    // changes); no encoder sees it until the resume.
                    try pictures.update(from: frame)
                    try encodePaused(frameIndex: index, current: &current)
                    continue
                }
                let recorded = index - pauses.pausedBefore(index)
                guard recorded < limit else {
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
                // One conversion for every rendition, and one scale per
                // other size, only when something changed.
                try pictures.update(from: frame)
                let changed = pictures.takeChange()
                if changed { try pictures.refreshScaled() }
                try encodeAll(frameIndex: index, changed: changed, cursor: cursor, current: &current)
                // A full ring skips the sample: the metric is a sample, not a count.
                _ = state.encodeTimes.push(clock.now() - started)
                // Runs count recorded frames: the slots paused are left out.
                noMedia.observe(picture: pictures.capture, sequence: sequence - Int(index - recorded),
                                damaged: damaged)
                state.framesEncoded.add(1, ordering: .relaxed)
                if let frameLimit, recorded + 1 >= frameLimit {
                    state.requestStop(.graceful, reason: .durationReached)
                }
            }
        }
    }
}
