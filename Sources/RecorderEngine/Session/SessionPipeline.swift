import CaptureALSA
import CaptureX11
import Encoder
import MediaCore
import MediaPackets
import Mux

/// The parts of one running recording: capture sources, encoders, the rings
/// between them, the file and stream sinks, and the worker threads. The
/// session's control thread opens it, starts it, stops it and lets it go;
/// every C resource here has its owner inside (the capture objects, the
/// encoders, the sinks) and is freed when this object is released, after
/// every thread was joined.
///
/// Video: one capture, one conversion per frame (`RenditionPictures`), and
/// one encode per distinct rendition the outputs take (`RenditionPlan`),
/// all on the video encode thread; each encode's packets go to the outputs
/// that take it through a fan-out of its own, with the one AAC encode's
/// packets going to every fan-out. A recording of sound alone has no
/// display, pictures or video encodes.
final class SessionPipeline {
    let plan: RenditionPlan
    let video: DisplayCapture<MonotonicClock>?
    let audio: PCMCapture<MonotonicClock>?
    /// The converted picture and its scaled copies (nil without video).
    let pictures: RenditionPictures?
    /// One per distinct rendition, in the plan's order.
    let encodes: [VideoEncode]
    let audioEncoder: AudioEncoder?
    let audioSettingsDescription: String
    let audioPackets = SPSCRing<Packet>(minimumCapacity: 512)
    /// One file (`file`), numbered files (`segmentedFile`), or neither.
    private(set) var file: MP4FileSink?
    private(set) var segmentedFile: SegmentedMP4Sink?
    private(set) var hls: HLSSink?
    /// The configured live streams.
    private(set) var streams: [NetworkSink] = []
    /// Every live stream, the ones added while recording too.
    let liveStreams = LiveStreams()
    /// The file's segments and the HLS segments as they are written.
    let fileSegments = SegmentLog()
    let hlsSegments = SegmentLog()
    private var workers: [MediaThread] = []
    /// Output frames the requested duration holds, or nil.
    private var videoFrameLimit: Int64?
    /// The longest a graceful stop waits for the sound device to deliver
    /// sound up to the video's end: its buffer (about 200 ms) and the sound
    /// server's bursts (periods in pairs every 120 ms on the bench) fit in
    /// it several times over, on a loaded machine too.
    static let audioEndWaitNanoseconds: Int64 = 1_000_000_000
    /// The paused stretches the file outputs leave out (set at the start).
    private var pauses: PauseSchedule?

    /// The main (first) encode's encoder and settings, when there is video.
    var videoEncoder: VideoEncoder? { encodes.first?.encoder }
    var videoSettings: VideoEncoderSettings? { encodes.first?.settings }

    /// Opens the display, the PCM and the encoders (nothing is written yet).
    /// Runs on the control thread, so the threads libraries start here (the
    /// sound plugin's, x264's) carry the session's tag.
    init(configuration: RecordingConfiguration, clock: MonotonicClock, state: SessionState) throws(RecordingError) {
        do {
            plan = try RenditionPlan(configuration)
        } catch {
            throw .configuration(error)
        }
        if configuration.recordsVideo {
            let capture: DisplayCapture<MonotonicClock>
            do {
                capture = try DisplayCapture(configuration: configuration.capture, clock: clock, counters: state.counters)
            } catch {
                throw Self.openFailure(error)
            }
            video = capture
            let pictures: RenditionPictures
            do {
                pictures = try RenditionPictures(captureWidth: capture.width, captureHeight: capture.height,
                                                 counters: state.counters)
            } catch {
                throw Self.openFailure(error)
            }
            self.pictures = pictures
            var encodes: [VideoEncode] = []
            for planned in plan.encodes {
                let options = planned.options
                let (width, height) = (options.size?.width ?? capture.width, options.size?.height ?? capture.height)
                var settings: VideoEncoderSettings
                do {
                    settings = try VideoEncoderSettings(
                        width: width, height: height, fps: capture.framesPerSecond, preset: options.preset,
                        tune: options.tune, profile: options.profile, crf: options.crf, bitrate: options.bitrate,
                        maxrate: options.maxrate, bufsize: options.bufsize, gop: options.gop,
                        threads: options.threads != 0 ? options.threads
                            : OpenSessionCount.startingEncoderThreads(width: width, height: height,
                                                                      framesPerSecond: capture.framesPerSecond))
                } catch {
                    throw Self.openFailure(error)
                }
                settings.x264 = options.x264
                do {
                    let picture = try pictures.picture(width: width, height: height, scaling: options.scaling)
                    let encoder = try VideoEncoder(settings: settings, picture: picture, pictures: pictures,
                                                   counters: state.counters)
                    encodes.append(VideoEncode(names: planned.names, encoder: encoder,
                                               adaptiveThreads: options.threads == 0))
                } catch {
                    throw Self.openFailure(error, codec: "libx264", settings: VideoEncode.describe(settings))
                }
            }
            self.encodes = encodes
        } else {
            video = nil
            pictures = nil
            encodes = []
        }
        let encoding = configuration.audioEncoding
        audioSettingsDescription = "\(encoding.sampleRate) Hz, \(encoding.channels) ch, \(encoding.bitrate) bit/s"
        if let audioConfiguration = configuration.audio {
            let capture: PCMCapture<MonotonicClock>
            do {
                capture = try PCMCapture(configuration: audioConfiguration, clock: clock, counters: state.counters)
            } catch {
                throw Self.openFailure(error)
            }
            audio = capture
            do {
                audioEncoder = try AudioEncoder(settings: encoding, inputFormat: capture.format)
            } catch {
                throw Self.openFailure(error, codec: "aac", settings: audioSettingsDescription)
            }
        } else {
            audio = nil
            audioEncoder = nil
        }
    }

    /// The streams an output of encode `index` declares: its video, then
    /// the audio. Without video (`index` nil), the audio alone.
    func streamParameters(encode index: Int?) -> [StreamParameters] {
        (index.map { [encodes[$0].encoder.parameters] } ?? []) + (audioEncoder.map { [$0.parameters] } ?? [])
    }

    /// The encodes' streams as the first output declares them, video first.
    var streamParameters: [StreamParameters] { streamParameters(encode: encodes.isEmpty ? nil : 0) }

    /// Creates the output file (its header only), or the first of its
    /// segments, and the HLS output's first files. A recording of known
    /// `duration` reserves room near the front for its own index (with a
    /// tenth to spare), not the default 3 hours' (about 4 MB).
    func createFiles(_ configuration: RecordingConfiguration) throws(RecordingError) {
        let files = OutputFiles(confinement: configuration.confinement)
        if let output = configuration.output {
            let streams = streamParameters(encode: plan.fileEncode)
            do {
                if let segments = output.segments {
                    let log = fileSegments
                    segmentedFile = try SegmentedMP4Sink(
                        names: SegmentNames(path: output.path), streams: streams,
                        policy: .init(duration: segments.duration?.seconds, maxBytes: segments.maxBytes),
                        overwrite: output.overwrite, files: files) { log.record($0) }
                } else {
                    // The fan-out orders packets across streams for every sink, the file's too.
                    file = try MP4FileSink(path: output.path, streams: streams, overwrite: output.overwrite,
                                           arrivesInterleaved: true,
                                           reserveSeconds: configuration.duration.map { $0.seconds * 1.1 + 10 }
                                               ?? MP4FileSink.defaultReserveSeconds,
                                           files: files)
                }
            } catch let error as AVError {
                throw .outputFile(OutputFileFailure(path: output.path, operation: .create, underlying: error))
            } catch {
                throw Self.openFailure(error)
            }
        }
        if let output = configuration.hls {
            // A segment per GOP; a keyframe may come a GOP after a scene
            // cut's, so no segment is longer than two. Sound alone: 2 s.
            let gop = plan.hlsEncode.map { Double(encodes[$0].settings.gop) / Double(encodes[$0].settings.fps) } ?? 2
            let log = hlsSegments
            do {
                hls = try HLSSink(playlist: output.playlist, streams: streamParameters(encode: plan.hlsEncode),
                                  segmentDuration: gop, maximumSegmentDuration: plan.hlsEncode == nil ? gop + 1 : 2 * gop,
                                  overwrite: output.overwrite, files: files) { log.record($0) }
            } catch let error as AVError {
                throw .outputFile(OutputFileFailure(path: output.playlist, operation: .create, underlying: error))
            } catch {
                throw Self.openFailure(error)
            }
        }
    }

    /// Adds a live stream (not started yet).
    func addStream(_ sink: NetworkSink) {
        streams.append(sink)
    }

    /// The fan-outs: one per encode with the outputs that take it; without
    /// video, one with every output.
    private func fanOuts() -> [PacketFanOut] {
        var fileSinks: [any PacketFileSink] = []
        if let file { fileSinks.append(file) }
        if let segmentedFile { fileSinks.append(segmentedFile) }
        guard !encodes.isEmpty else {
            if let hls { fileSinks.append(hls) }
            guard !fileSinks.isEmpty || !streams.isEmpty else { return [] }
            return [PacketFanOut(parameters: streamParameters(encode: nil), files: fileSinks, streams: streams,
                                 pauses: pauses)]
        }
        return encodes.indices.map { index in
            let outputs = plan.outputs(of: index)
            var files: [any PacketFileSink] = outputs.file ? fileSinks : []
            if outputs.hls, let hls { files.append(hls) }
            return PacketFanOut(parameters: streamParameters(encode: index), files: files,
                                streams: outputs.streams.map { streams[$0] }, pauses: pauses)
        }
    }

    /// The encode a stream taking rendition `name` (nil: the main one)
    /// gets; nil for sound alone. Throws when no encode of this recording
    /// serves that rendition.
    func encode(forRendition name: String?) throws(InvalidSetting) -> Int? {
        guard !encodes.isEmpty else { return nil }
        let name = name ?? VideoRendition.mainName
        guard let index = encodes.firstIndex(where: { $0.names.contains(name) }) else {
            throw InvalidSetting(.streamRendition(index: liveStreams.entries.count), value: name,
                                 reason: "is not encoded in this recording (encoded: "
                                     + encodes.flatMap(\.names).joined(separator: ", ") + ")")
        }
        return index
    }

    /// Starts every thread: streams, mux, encoders, then the captures.
    /// `warn` hears what the sound device's faults become (called on the
    /// capture thread; it must not block).
    func start(configuration: RecordingConfiguration, state: SessionState, context: MediaThread.Context,
               warn: @escaping @Sendable (RecordingWarning) -> Void) {
        for stream in streams { stream.start(context: context) }
        liveStreams.configure(streams.indices.map { (streams[$0], encode: encodes.isEmpty ? nil : plan.streamEncodes[$0]) })
        pauses = state.pauses
        let mux = MuxWorker(fanOuts: fanOuts(), encodes: encodes,
                            audioPackets: audioEncoder == nil ? nil : audioPackets, state: state,
                            liveStreams: liveStreams)
        workers.append(MediaThread(role: "mux", context: context) { mux.run() })
        if let video, let pictures {
            let frameLimit = configuration.duration.map { Int64(($0.seconds * Double(video.framesPerSecond)).rounded()) }
            videoFrameLimit = frameLimit
            let videoWorker = VideoEncodeWorker(capture: video, pictures: pictures, encodes: encodes,
                                                state: state, frameLimit: frameLimit, noMedia: configuration.noMedia)
            workers.append(MediaThread(role: "venc", context: context) { videoWorker.run() })
        } else {
            // No video to wait for: the mux thread needs no sign from it.
            state.videoEncodingDone.store(true, ordering: .releasing)
        }
        if let audio, let audioEncoder {
            let audioWorker = AudioEncodeWorker(capture: audio, encoder: audioEncoder, packets: audioPackets,
                                                state: state, outputRate: configuration.audioEncoding.sampleRate,
                                                duration: configuration.duration,
                                                settingsDescription: audioSettingsDescription,
                                                noMedia: configuration.noMedia, anchorsTimeline: video == nil,
                                                videoFramesPerSecond: video?.framesPerSecond)
            workers.append(MediaThread(role: "aenc", context: context) { audioWorker.run() })
            // A lost sound device does not end the recording: the capture
            // goes on with silence and reopens it; the user hears of both.
            let device = configuration.audio?.device ?? ""
            audio.start(context: context) { event in
                switch event {
                case let .deviceLost(error): warn(.audioDeviceLost(error))
                case let .deviceRestored(nanoseconds): warn(.audioDeviceRestored(device: device, after: .nanoseconds(nanoseconds)))
                }
            }
        }
        guard let video else { return }
        let (display, width, height) = (video.displayName, video.width, video.height)
        video.start(context: context) { [state] event in
            switch event {
            case let .failed(error):
                state.fail(.display(error))
            case let .screenResized(screenWidth, screenHeight, visibleWidth, visibleHeight, _):
                warn(.screenResized(display: display, screenWidth: screenWidth, screenHeight: screenHeight,
                                    visibleWidth: visibleWidth, visibleHeight: visibleHeight,
                                    recordingWidth: width, recordingHeight: height))
            case let .damageUnavailable(display, reason):
                warn(.damageUnavailable(display: display, reason: reason))
            }
        }
    }

    /// Stops both captures, then lets the encoders and the mux finish what is
    /// queued (or drop it, when the session is cancelled) and joins them.
    func stopAndDrain(state: SessionState) {
        video?.stop()
        if let video, audio != nil, audioEncoder != nil, state.stopKind == .graceful {
            awaitSoundToVideoEnd(video: video, state: state)
        }
        audio?.stop()
        state.captureEnded.store(true, ordering: .releasing)
        video?.framesReady.notify()
        audio?.chunksReady.notify()
        state.anchorReady.notify()
        for worker in workers { worker.join() }
        workers.removeAll()
    }

    /// A graceful stop with sound and video: the video capture has stopped,
    /// so the video ends a frame after its last queued frame's deadline (or
    /// at the requested duration). The
    /// sound device delivers with a delay (its buffer, the sound server's
    /// bursts), so the audio capture runs on until the audio encoder has
    /// placed sound up to that end, for at most `audioEndWaitNanoseconds`;
    /// the encoder fills what is still missing then with silence.
    private func awaitSoundToVideoEnd(video: DisplayCapture<MonotonicClock>, state: SessionState) {
        let anchor = state.anchor.load(ordering: .acquiring)
        guard anchor != .min, let last = video.lastQueuedSequence else { return }
        let fps = Int64(video.framesPerSecond)
        let clock = MonotonicClock()
        let now = clock.now()
        // The last frame queued ends a frame after its deadline.
        var frames = ((video.deadline(ofSequence: last) - anchor) * fps + 500_000_000) / 1_000_000_000 + 1
        if let videoFrameLimit {
            // The limit counts recorded frames; the timeline counts paused ones too.
            var view = PauseView(state.pauses)
            view.refresh()
            frames = min(frames, view.limitPosition(recorded: videoFrameLimit, rate: fps) ?? .max)
        }
        state.audioEnd.store(anchor + max(0, frames) * 1_000_000_000 / fps, ordering: .releasing)
        // The encoder sees the end with its next chunk.
        audio?.chunksReady.notify()
        let deadline = now + Self.audioEndWaitNanoseconds
        while true {
            let ticket = state.audioEndWake.prepareToWait()
            let left = deadline - clock.now()
            if state.audioReachedEnd.load(ordering: .acquiring) || left <= 0 || state.stopKind == .immediately {
                state.audioEndWake.cancelWait()
                return
            }
            _ = state.audioEndWake.wait(ticket, timeout: left)
        }
    }

    /// Waits for the streams' threads (after `finishInput` or `abort`),
    /// the ones added while recording too.
    func joinStreams() {
        for stream in liveStreams.all { stream.join() }
    }

    /// A failure to open something, typed by what failed.
    private static func openFailure(_ error: any Error, codec: String = "", settings: String = "") -> RecordingError {
        switch error {
        case let error as RecordingError: error
        case let error as InvalidSetting: .configuration(error)
        case let error as XError: .display(error)
        case let error as ALSAError: .audioDevice(error)
        case let error as AVError: .encoder(EncoderFailure(codec: codec, settings: settings, underlying: error))
        default: preconditionFailure("unexpected error while opening a recording: \(error)")
        }
    }
}
