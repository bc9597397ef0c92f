import CFFmpeg
import CYUV
public import MediaCore
public import MediaPackets

/// Encodes captured BGRA frames to H.264 with libx264 (through libavcodec) at
/// a constant frame rate.
///
/// Each frame is converted to I420 by libyuv (from BGRA, or from the 16-,
/// 15- or 30-bit pixels of such screens: `PictureConverter`) straight into
/// the encoder's one reused input frame (libswscale costs about 9 ms per 1080p frame where
/// libyuv takes about 1 ms). When the output size differs from the capture
/// size the frame is converted at capture size into a buffer made at start and
/// then scaled with libyuv's `I420Scale` (box filter): both steps stay in
/// libyuv's SIMD paths, and chroma is subsampled once.
///
/// A frame that brings no change (`FrameDamage.unchanged`, or a slot the
/// timeline fills by repeating) is written, where the stream allows it, as an
/// H.264 picture whose macroblocks are all skipped, without x264
/// (`H264SkipPictureWriter`, `SkipPictureSequencer`): a few bytes and a few
/// microseconds instead of x264 analysing a picture it already has. The
/// stream stays constant-rate with its keyframes where they were. Where the
/// stream does not allow it (`skipPictureObstacle`: B-frames, several
/// reference frames), or while x264 holds a frame back (frame threads), the
/// previous picture goes to x264 again.
///
/// The pointer, when a frame carries one (`CursorOverlay`), is drawn onto the
/// picture only for x264 to take it and taken off again at once
/// (`CursorCompositor`): the persistent picture stays the screen's. A frame
/// whose screen did not change but whose pointer moved or changed shape is a
/// changed frame and goes to x264; one where neither changed is a skip.
///
/// Not thread-safe: one thread (the video encode thread) uses it at a time.
public final class VideoEncoder: @unchecked Sendable {
    public let settings: VideoEncoderSettings
    /// Size of the frames `encode(_:frameIndex:emit:)` takes.
    public let inputWidth: Int
    public let inputHeight: Int
    /// The stream as muxers must declare it (codec parameters with SPS/PPS in
    /// `extradata`, time base 1/fps).
    public let parameters: StreamParameters
    /// Where the encoder's packets come from; `overflowCount` tells whether
    /// the sinks held more packets than it has.
    public let packetPool: PacketPool
    private var context: EncoderContext
    /// The x264 threads encoding now: `settings.threads` until
    /// `changeThreads(to:emit:)` (0 is x264's own choice).
    public private(set) var threads: Int
    private let frame: EncoderFrame
    /// The capture-size I420 picture, when the output is scaled.
    private let scaleSource: I420Buffer?
    private var lastFrameIndex: Int64 = -1
    /// Set when unchanged frames are written as skipped pictures.
    private let sequencer: SkipPictureSequencer?
    /// Why unchanged frames go to x264 again instead of being written as
    /// skipped pictures (nil when they are).
    public let skipPictureObstacle: String?
    /// Where conversions (and skipped pictures) are counted.
    public let counters: MediaCounters
    private let converter = PictureConverter()
    /// Made at the first pointer drawn.
    private var compositor: CursorCompositor?
    /// The pointer on the last picture encoded (what a repeat draws again).
    private var lastCursor: CursorOverlay?

    /// Opens libx264 with `settings` for frames of `inputWidth`x`inputHeight`.
    public init(settings: VideoEncoderSettings, inputWidth: Int, inputHeight: Int,
                packetPool: PacketPool = PacketPool(capacity: 128), counters: MediaCounters = MediaCounters()) throws {
        guard inputWidth > 0, inputHeight > 0 else {
            throw InvalidArgument(name: "input size", value: "\(inputWidth)x\(inputHeight)", reason: "must be positive")
        }
        self.settings = settings
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.packetPool = packetPool
        self.counters = counters
        threads = settings.threads
        context = try Self.openContext(settings: settings, threads: settings.threads, packetPool: packetPool)
        let codec = context.pointer
        parameters = try StreamParameters(encoder: codec, kind: .video)
        frame = try EncoderFrame(yuv420pWidth: settings.width, height: settings.height)
        scaleSource = inputWidth == settings.width && inputHeight == settings.height
            ? nil : I420Buffer(width: inputWidth, height: inputHeight)
        var obstacle: String? = "libx264 gave no global header"
        var sequencer: SkipPictureSequencer?
        if let extradata = codec.pointee.extradata, codec.pointee.extradata_size > 0,
           let sets = try? H264ParameterSets(annexB: extradata, count: Int(codec.pointee.extradata_size)) {
            obstacle = sets.skipPictureObstacle
            if obstacle == nil {
                sequencer = SkipPictureSequencer(writer: H264SkipPictureWriter(parameters: sets), gop: settings.gop,
                                                 packetPool: packetPool, counters: counters)
            }
        }
        self.sequencer = sequencer
        skipPictureObstacle = obstacle
    }

    /// Converts `frame` and encodes it as output frame number `frameIndex`
    /// (its pts in the 1/fps time base; strictly increasing, gaps allowed).
    /// Packets the encoder completes go to `emit`, in decoding order.
    ///
    /// The encoder's input picture persists from frame to frame: a frame
    /// with rectangles updates only them (`VideoFrame.damage`), and an
    /// `unchanged` frame converts nothing and is encoded as a repeat of the
    /// previous picture, unless `cursor` differs from the last one drawn.
    /// `cursor` (from the capture's `CursorShapes`) must stay valid until
    /// the next call of `encode`: repeats draw it again.
    public func encode(_ frame: borrowing VideoFrame, frameIndex: Int64, cursor: CursorOverlay? = nil,
                       emit: (consuming Packet) -> Void) throws {
        try update(from: frame)
        let cursorMoved = cursor == nil ? lastCursor != nil : !cursor!.drawsSame(as: lastCursor)
        if frame.damage.kind == .unchanged && !cursorMoved {
            try repeatLast(frameIndex: frameIndex, emit: emit)
        } else {
            lastCursor = cursor
            try submit(frameIndex: frameIndex, emit: emit)
        }
    }

    /// Brings the input picture up to date with `frame` without encoding it:
    /// for a frame the timeline drops, whose changes later frames do not
    /// bring again.
    public func update(from frame: borrowing VideoFrame) throws {
        precondition(frame.width == inputWidth && frame.height == inputHeight,
                     "frame size differs from the encoder's input size")
        let damage = frame.damage
        guard damage.kind != .unchanged else { return }
        try self.frame.makeWritable()
        let source = UnsafePointer(frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self))
        let output = planes
        // Converted at capture size: into the output, or into the buffer
        // the output is scaled from.
        let target = scaleSource.map {
            I420Planes(y: $0.y, u: $0.u, v: $0.v, strideY: $0.strideY, strideU: $0.strideUV, strideV: $0.strideUV,
                       width: inputWidth, height: inputHeight)
        } ?? output
        let format = frame.pixelFormat
        if damage.kind == .full {
            converter.convert(source, format: format, bytesPerRow: frame.bytesPerRow, x: 0, y: 0, width: inputWidth,
                              height: inputHeight, into: target)
        } else {
            for index in 0..<damage.count {
                let rect = damage[index]
                if let offset = rect.offset {
                    converter.convert(source + offset, format: format, bytesPerRow: rect.bytesPerRow, x: rect.x,
                                      y: rect.y, width: rect.width, height: rect.height, into: target)
                } else {
                    // BT.601 limited-range black, as ARGBToI420 makes it.
                    let status = I420Rect(target.y, Int32(target.strideY), target.u, Int32(target.strideU),
                                          target.v, Int32(target.strideV), Int32(rect.x), Int32(rect.y),
                                          Int32(rect.width), Int32(rect.height), 16, 128, 128)
                    precondition(status == 0, "libyuv I420Rect failed (\(status))")
                }
            }
        }
        if let scaleSource {
            let status = I420Scale(scaleSource.y, Int32(scaleSource.strideY), scaleSource.u, Int32(scaleSource.strideUV),
                                   scaleSource.v, Int32(scaleSource.strideUV), Int32(inputWidth), Int32(inputHeight),
                                   output.y, Int32(output.strideY), output.u, Int32(output.strideU),
                                   output.v, Int32(output.strideV), Int32(output.width), Int32(output.height),
                                   kFilterBox)
            precondition(status == 0, "libyuv I420Scale failed (\(status))")
        }
        counters.videoFramesConverted.add()
    }

    /// Runs `body` with the luma plane of the picture the encoder was last
    /// given (the persistent input picture, at the output size): the plane,
    /// its stride in bytes, and its width and height in samples. For
    /// read-only checks on the encode thread (the frozen-picture detector);
    /// valid only during `body`.
    @inline(__always)
    public func withInputLuma<Result>(_ body: (UnsafePointer<UInt8>, Int, Int, Int) -> Result) -> Result {
        body(UnsafePointer(frame.plane(0)), frame.stride(0), settings.width, settings.height)
    }

    /// Encodes a picture that `fill` writes straight into the encoder's input
    /// frame, already I420 at the output size: for the benchmark's encoder-only
    /// floor (pre-converted frames) or a source that converts by itself.
    public func encodeI420(frameIndex: Int64, fill: (I420Planes) throws -> Void,
                           emit: (consuming Packet) -> Void) throws {
        try frame.makeWritable()
        try fill(planes)
        lastCursor = nil
        try submit(frameIndex: frameIndex, emit: emit)
    }

    /// Encodes the previous picture again as output frame `frameIndex`: the
    /// constant-frame-rate timeline fills a slot the grabber missed this way.
    /// The input frame still holds the last converted picture; making it
    /// writable keeps its contents.
    public func repeatLast(frameIndex: Int64, emit: (consuming Packet) -> Void) throws {
        precondition(lastFrameIndex >= 0, "nothing to repeat before the first frame")
        if let sequencer, sequencer.canSkip(at: frameIndex) {
            precondition(frameIndex > lastFrameIndex, "frame indices must increase (\(frameIndex) after \(lastFrameIndex))")
            lastFrameIndex = frameIndex
            try sequencer.skip(at: frameIndex, emit: emit)
            return
        }
        try frame.makeWritable()
        try submit(frameIndex: frameIndex, emit: emit)
    }

    /// Ends the stream: passes on the packets libx264 still holds (its
    /// lookahead and B-frames). The encoder takes no frames afterwards.
    public func flush(emit: (consuming Packet) -> Void) throws {
        try drain(context, emit: emit)
    }

    /// Goes on with a libx264 instance running `threads` threads, from the
    /// next frame on: the new instance starts with an IDR picture and the
    /// pts stay on the same timeline, so sinks see one continuous stream.
    /// Only done when the new instance's SPS/PPS equal the stream's
    /// (`parameters`), which the thread count does not change; otherwise
    /// nothing changes and this returns false. Passes on what the old
    /// instance still held.
    public func changeThreads(to threads: Int, emit: (consuming Packet) -> Void) throws -> Bool {
        precondition(threads >= 0, "thread count cannot be negative")
        guard threads != self.threads, !context.isDrained else { return false }
        let replacement = try Self.openContext(settings: settings, threads: threads, packetPool: packetPool)
        guard parameters.hasSameExtradata(as: replacement.pointer) else { return false }
        try drain(context, emit: emit)
        context = replacement
        self.threads = threads
        return true
    }

    /// Opens libx264 at `settings` with `threads` threads.
    private static func openContext(settings: VideoEncoderSettings, threads: Int,
                                    packetPool: PacketPool) throws -> EncoderContext {
        let context = try EncoderContext(codecName: "libx264", kind: .video, packetPool: packetPool, defaultDuration: 1)
        let codec = context.pointer
        codec.pointee.width = Int32(settings.width)
        codec.pointee.height = Int32(settings.height)
        codec.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        codec.pointee.time_base = AVRational(num: 1, den: Int32(settings.fps))
        codec.pointee.framerate = AVRational(num: Int32(settings.fps), den: 1)
        codec.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        codec.pointee.gop_size = Int32(settings.gop)
        codec.pointee.thread_count = Int32(threads)
        codec.pointee.level = Int32(settings.level.idc)
        // MP4 and FLV carry SPS/PPS once in the stream header (avcC), not in-band.
        codec.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        if let bitrate = settings.bitrate { codec.pointee.bit_rate = Int64(bitrate) }
        if let maxrate = settings.maxrate { codec.pointee.rc_max_rate = Int64(maxrate) }
        if let bufsize = settings.bufsize { codec.pointee.rc_buffer_size = Int32(clamping: bufsize) }
        // libyuv's ARGBToI420 uses BT.601 limited range. Say so in the VUI:
        // players assume BT.709 for HD sizes when nothing is said, and would
        // shift the colours. Screen content has BT.709 (sRGB) primaries.
        codec.pointee.colorspace = AVCOL_SPC_SMPTE170M
        codec.pointee.color_range = AVCOL_RANGE_MPEG
        codec.pointee.color_primaries = AVCOL_PRI_BT709
        codec.pointee.color_trc = AVCOL_TRC_BT709
        try context.setPrivateOption("preset", settings.preset.rawValue)
        if let tune = settings.tune { try context.setPrivateOption("tune", tune.rawValue) }
        try context.setPrivateOption("profile", settings.profile.rawValue)
        // Constant frame rate in, as the engine's timeline is: x264 then holds
        // no frame back to read the next one's timestamp (its variable-rate
        // input mode adds a frame of delay), so a picture comes out as its
        // frame goes in, and unchanged frames can be skipped pictures
        // (`SkipPictureSequencer`). Rate control counts 1/fps per frame either way.
        try context.setPrivateOption("x264-params", "force-cfr=1")
        if let crf = settings.crf { try context.setPrivateOption("crf", String(crf)) }
        try context.open()
        return context
    }

    private var planes: I420Planes {
        I420Planes(y: frame.plane(0), u: frame.plane(1), v: frame.plane(2),
                   strideY: frame.stride(0), strideU: frame.stride(1), strideV: frame.stride(2),
                   width: settings.width, height: settings.height)
    }

    /// Encodes the input picture, with `lastCursor` drawn on it for x264
    /// only (x264 copies its input picture before `send` returns).
    @inline(__always)
    private func submit(frameIndex: Int64, emit: (consuming Packet) -> Void) throws {
        guard let cursor = lastCursor else {
            try submitPicture(frameIndex: frameIndex, emit: emit)
            return
        }
        if compositor == nil { compositor = CursorCompositor() }
        compositor!.draw(cursor, onto: planes, inputWidth: inputWidth, inputHeight: inputHeight)
        defer {
            // A codec still holding the buffer would get a copy here; the
            // picture is put back either way.
            try? frame.makeWritable()
            compositor!.restore(planes)
        }
        try submitPicture(frameIndex: frameIndex, emit: emit)
    }

    @inline(__always)
    private func submitPicture(frameIndex: Int64, emit: (consuming Packet) -> Void) throws {
        // libx264 refuses non-increasing pts; the engine derives indices from
        // capture times and never repeats one, so this is a programming error.
        precondition(frameIndex > lastFrameIndex, "frame indices must increase (\(frameIndex) after \(lastFrameIndex))")
        lastFrameIndex = frameIndex
        frame.pointer.pointee.pts = frameIndex
        guard let sequencer else {
            try context.send(frame.pointer, emit: emit)
            return
        }
        frame.pointer.pointee.pict_type = sequencer.keyframeDue(at: frameIndex) ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        sequencer.willEncode(at: frameIndex)
        var failure: (any Error)?
        try context.send(frame.pointer) { packet in
            do { try sequencer.encoderOutput(packet, emit: emit) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// Drains `context` through the sequencer, when there is one.
    private func drain(_ context: EncoderContext, emit: (consuming Packet) -> Void) throws {
        guard let sequencer else {
            try context.drain(emit: emit)
            return
        }
        var failure: (any Error)?
        try context.drain { packet in
            do { try sequencer.encoderOutput(packet, emit: emit) } catch { failure = failure ?? error }
        }
        sequencer.drained()
        if let failure { throw failure }
    }
}
