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
final class SessionPipeline {
    let video: DisplayCapture<MonotonicClock>
    let audio: PCMCapture<MonotonicClock>?
    let videoEncoder: VideoEncoder
    let audioEncoder: AudioEncoder?
    let videoSettings: VideoEncoderSettings
    let videoSettingsDescription: String
    let audioSettingsDescription: String
    let videoPackets = SPSCRing<Packet>(minimumCapacity: 512)
    let audioPackets = SPSCRing<Packet>(minimumCapacity: 512)
    private(set) var file: MP4FileSink?
    private(set) var streams: [NetworkSink] = []
    private var workers: [MediaThread] = []

    /// Opens the display, the PCM and the encoders (nothing is written yet).
    /// Runs on the control thread, so the threads libraries start here (the
    /// sound plugin's, x264's) carry the session's tag.
    init(configuration: RecordingConfiguration, clock: MonotonicClock, state: SessionState) throws(RecordingError) {
        do {
            video = try DisplayCapture(configuration: configuration.capture, clock: clock, counters: state.counters)
        } catch {
            throw Self.openFailure(error)
        }
        let options = configuration.video
        do {
            videoSettings = try VideoEncoderSettings(
                width: video.width, height: video.height, fps: video.framesPerSecond, preset: options.preset,
                tune: options.tune, profile: options.profile, crf: options.crf, bitrate: options.bitrate,
                maxrate: options.maxrate,
                bufsize: options.bufsize, gop: options.gop,
                threads: options.threads != 0 ? options.threads
                    : OpenSessionCount.startingEncoderThreads(width: video.width, height: video.height,
                                                              framesPerSecond: video.framesPerSecond))
        } catch {
            throw Self.openFailure(error)
        }
        videoSettingsDescription = Self.describe(videoSettings)
        do {
            videoEncoder = try VideoEncoder(settings: videoSettings, inputWidth: video.width, inputHeight: video.height,
                                            counters: state.counters)
        } catch {
            throw Self.openFailure(error, codec: "libx264", settings: videoSettingsDescription)
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

    /// The encoders' streams, video first.
    var streamParameters: [StreamParameters] {
        [videoEncoder.parameters] + (audioEncoder.map { [$0.parameters] } ?? [])
    }

    /// Creates the output file (its header only). A recording of known
    /// `duration` reserves room near the front for its own index (with a
    /// tenth to spare), not the default 3 hours' (about 4 MB).
    func createFile(_ output: FileOutput, duration: Duration?) throws(RecordingError) {
        do {
            // The fan-out orders packets across streams for every sink, the file's too.
            file = try MP4FileSink(path: output.path, streams: streamParameters, overwrite: output.overwrite,
                                   arrivesInterleaved: true,
                                   reserveSeconds: duration.map { $0.seconds * 1.1 + 10 } ?? MP4FileSink.defaultReserveSeconds)
        } catch let error as AVError {
            throw .outputFile(OutputFileFailure(path: output.path, operation: .create, underlying: error))
        } catch {
            throw Self.openFailure(error)
        }
    }

    /// Adds a live stream (not started yet).
    func addStream(_ sink: NetworkSink) {
        streams.append(sink)
    }

    /// Starts every thread: streams, mux, encoders, then the captures.
    /// `warn` hears what the sound device's faults become (called on the
    /// capture thread; it must not block).
    func start(configuration: RecordingConfiguration, state: SessionState, context: MediaThread.Context,
               warn: @escaping @Sendable (RecordingWarning) -> Void) {
        for stream in streams { stream.start(context: context) }
        let fanOut = PacketFanOut(parameters: streamParameters, file: file, streams: streams)
        let mux = MuxWorker(fanOut: fanOut, videoPackets: videoPackets,
                            audioPackets: audioEncoder == nil ? nil : audioPackets, state: state)
        let frameLimit = configuration.duration.map { Int64(($0.seconds * Double(video.framesPerSecond)).rounded()) }
        let videoWorker = VideoEncodeWorker(capture: video, encoder: videoEncoder, packets: videoPackets,
                                            state: state, frameLimit: frameLimit,
                                            adaptiveThreads: configuration.video.threads == 0,
                                            settingsDescription: videoSettingsDescription,
                                            noMedia: configuration.noMedia)
        workers.append(MediaThread(role: "mux", context: context) { mux.run() })
        workers.append(MediaThread(role: "venc", context: context) { videoWorker.run() })
        if let audio, let audioEncoder {
            let audioWorker = AudioEncodeWorker(capture: audio, encoder: audioEncoder, packets: audioPackets,
                                                state: state, outputRate: configuration.audioEncoding.sampleRate,
                                                duration: configuration.duration,
                                                settingsDescription: audioSettingsDescription,
                                                noMedia: configuration.noMedia)
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
        video.stop()
        audio?.stop()
        state.captureEnded.store(true, ordering: .releasing)
        video.framesReady.notify()
        audio?.chunksReady.notify()
        state.anchorReady.notify()
        for worker in workers { worker.join() }
        workers.removeAll()
    }

    /// Waits for the streams' threads (after `finishInput` or `abort`).
    func joinStreams() {
        for stream in streams { stream.join() }
    }

    /// `1920x1080 30 fps, preset ultrafast, crf 25, profile main`: the
    /// settings as a user would write them, for an encoder error.
    private static func describe(_ settings: VideoEncoderSettings) -> String {
        var parts = ["\(settings.width)x\(settings.height) \(settings.fps) fps", "preset \(settings.preset.rawValue)"]
        if let tune = settings.tune { parts.append("tune \(tune.rawValue)") }
        parts.append("profile \(settings.profile.rawValue)")
        if let crf = settings.crf { parts.append("crf \(crf)") } else if let bitrate = settings.bitrate { parts.append("bitrate \(bitrate)") }
        if let maxrate = settings.maxrate { parts.append("maxrate \(maxrate)") }
        if let bufsize = settings.bufsize { parts.append("bufsize \(bufsize)") }
        parts.append("gop \(settings.gop)")
        return parts.joined(separator: ", ")
    }

    /// A failure to open something, typed by what failed.
    private static func openFailure(_ error: any Error, codec: String = "", settings: String = "") -> RecordingError {
        switch error {
        case let error as RecordingError: error
        case let error as InvalidArgument: .configuration(error)
        case let error as XError: .display(error)
        case let error as ALSAError: .audioDevice(error)
        case let error as AVError: .encoder(EncoderFailure(codec: codec, settings: settings, underlying: error))
        default: preconditionFailure("unexpected error while opening a recording: \(error)")
        }
    }
}
