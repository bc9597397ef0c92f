import CFFmpeg
public import MediaCore
public import MediaPackets

/// Encodes captured PCM to AAC with libavcodec's native encoder.
///
/// Input chunks (interleaved s16, s32 or float at any rate) go through
/// libswresample to planar float at the output rate, written straight into
/// the encoder's one reused `AVFrame` at its fill position. That frame is the
/// FIFO that regroups the capture's periods into the codec's 1024-sample
/// frames: output that does not fit stays buffered in the resampler and fills
/// the next frame, so there is no second copy and nothing is allocated per
/// chunk. Timestamps follow the sample count (time base 1/sample rate), never
/// the clock; the engine keeps that count on the clock's timeline with
/// `setCompensation(sampleDelta:distance:)`.
///
/// Not thread-safe: one thread (the audio encode thread) uses it at a time.
public final class AudioEncoder: @unchecked Sendable {
    public let settings: AudioEncoderSettings
    /// What every chunk given to `encode` holds.
    public let inputFormat: AudioFormat
    /// The stream as muxers must declare it (AudioSpecificConfig in
    /// `extradata`, time base 1/sample rate).
    public let parameters: StreamParameters
    public let packetPool: PacketPool
    /// Samples per channel in each AAC frame (1024).
    public let frameSize: Int
    private let context: EncoderContext
    private let frame: EncoderFrame
    private let resampler: Resampler
    /// `swr_convert`'s plane pointer arrays, made once and refilled per call.
    private let outputPlanes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private let inputPlanes: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    /// Samples already in `frame`.
    private var filled = 0
    /// The pts of the frame being filled: samples handed to the codec so far.
    private var nextPTS: Int64 = 0

    /// Opens the AAC encoder with `settings` for chunks in `inputFormat`.
    public init(settings: AudioEncoderSettings, inputFormat: AudioFormat,
                packetPool: PacketPool = PacketPool(capacity: 128)) throws {
        guard (1...8).contains(inputFormat.channels) else {
            throw InvalidSetting(.audioInputChannels, value: "\(inputFormat.channels)", reason: "must be from 1 to 8")
        }
        guard (1_000...768_000).contains(inputFormat.sampleRate) else {
            throw InvalidSetting(.audioInputRate, value: "\(inputFormat.sampleRate)",
                                 reason: "must be from 1000 to 768000 Hz")
        }
        self.settings = settings
        self.inputFormat = inputFormat
        self.packetPool = packetPool
        // Audio packets always carry their duration; the default never applies.
        context = try EncoderContext(codecName: "aac", kind: .audio, packetPool: packetPool, defaultDuration: 1024)
        let codec = context.pointer
        codec.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        codec.pointee.sample_rate = Int32(settings.sampleRate)
        codec.pointee.bit_rate = Int64(settings.bitrate)
        codec.pointee.time_base = AVRational(num: 1, den: Int32(settings.sampleRate))
        av_channel_layout_default(&codec.pointee.ch_layout, Int32(settings.channels))
        // MP4 and FLV carry the AudioSpecificConfig in the stream header.
        codec.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        try context.open()
        frameSize = Int(codec.pointee.frame_size)
        parameters = try StreamParameters(encoder: codec, kind: .audio)
        frame = try EncoderFrame(planarFloatSamples: frameSize, like: codec)
        resampler = try Resampler(input: inputFormat, outputRate: settings.sampleRate,
                                  outputChannels: settings.channels)
        outputPlanes = .allocate(capacity: settings.channels)
        outputPlanes.initialize(repeating: nil, count: settings.channels)
        inputPlanes = .allocate(capacity: 1)
        inputPlanes.initialize(to: nil)
    }

    deinit {
        outputPlanes.deallocate()
        inputPlanes.deallocate()
    }

    /// Samples (per channel, at the output rate) produced so far: handed to
    /// the codec or waiting in the frame being filled. The pts of the next
    /// sample out of the resampler.
    public var outputSampleCount: Int64 { nextPTS + Int64(filled) }

    /// Output samples' worth of input the resampler still holds (its filter
    /// delay and input that did not fit yet); they will follow
    /// `outputSampleCount`.
    public var resamplerDelay: Int64 { resampler.delay }

    /// Encodes one chunk; packets the encoder completes go to `emit`.
    public func encode(_ chunk: borrowing AudioChunk, emit: (consuming Packet) -> Void) throws {
        precondition(chunk.frameCount * inputFormat.bytesPerFrame <= chunk.buffer.byteCount,
                     "chunk holds more frames than its buffer")
        try encode(interleaved: UnsafeRawPointer(chunk.buffer.baseAddress), frameCount: chunk.frameCount, emit: emit)
    }

    /// Encodes `frameCount` interleaved frames in `inputFormat` at `samples`.
    public func encode(interleaved samples: UnsafeRawPointer, frameCount: Int,
                       emit: (consuming Packet) -> Void) throws {
        inputPlanes[0] = samples.assumingMemoryBound(to: UInt8.self)
        var pendingInput = frameCount
        while true {
            let produced = try resample(input: inputPlanes, inputCount: pendingInput)
            // Whatever did not fit is now inside the resampler; later calls
            // collect it with no new input.
            pendingInput = 0
            if produced == 0 || filled < frameSize { return }
            try submitFrame(emit: emit)
        }
    }

    /// Stretches or shrinks the timeline gradually: over the next `distance`
    /// output samples the resampler produces `sampleDelta` more samples
    /// (fewer when negative) than the nominal rate ratio gives, with no jump
    /// and no audible artefact (`swr_set_compensation`). A later call replaces
    /// the current correction.
    ///
    /// The engine calls it so that audio and video stay within one video frame
    /// for hours: it compares `outputSampleCount + resamplerDelay` with the
    /// samples the capture clock says should exist by now (device clocks run
    /// off by up to ~0.1 %, which is 3.6 s per hour) and corrects the
    /// difference over about a second's worth of samples.
    public func setCompensation(sampleDelta: Int, distance: Int) throws {
        try resampler.setCompensation(sampleDelta: sampleDelta, distance: distance)
    }

    /// Ends the stream: drains the resampler, sends the last partial frame
    /// (the AAC encoder pads it with silence; its packet's duration counts
    /// only the real samples) and drains the codec. Takes no input afterwards.
    public func flush(emit: (consuming Packet) -> Void) throws {
        guard !context.isDrained else { return }
        while true {
            // A nil input tells the resampler the stream ended: it flushes its filter.
            let produced = try resample(input: nil, inputCount: 0)
            if filled == frameSize { try submitFrame(emit: emit); continue }
            if produced == 0 { break }
        }
        if filled > 0 {
            frame.pointer.pointee.nb_samples = Int32(filled)
            try submitFrame(emit: emit)
        }
        try context.drain(emit: emit)
    }

    /// Resamples into the free part of the frame being filled; returns the
    /// samples written.
    @inline(__always)
    private func resample(input: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, inputCount: Int) throws -> Int {
        if filled == 0 { try frame.makeWritable() }
        let offset = filled * MemoryLayout<Float>.size
        for channel in 0..<settings.channels {
            outputPlanes[channel] = frame.plane(channel) + offset
        }
        let produced = try resampler.convert(output: outputPlanes, capacity: frameSize - filled,
                                             input: input, inputCount: inputCount)
        filled += produced
        return produced
    }

    @inline(__always)
    private func submitFrame(emit: (consuming Packet) -> Void) throws {
        frame.pointer.pointee.pts = nextPTS
        nextPTS += Int64(filled)
        filled = 0
        try context.send(frame.pointer, emit: emit)
    }
}
