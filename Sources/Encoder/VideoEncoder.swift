import CFFmpeg
public import MediaCore
public import MediaPackets

/// Encodes pictures to H.264 with libx264 at a constant frame rate.
///
/// The encoder sends one persistent I420 picture (`I420Picture`) to x264:
/// either its own, fed captured frames through
/// `encode(_:frameIndex:cursor:emit:)` (converted by libyuv, scaled when the
/// output size differs), or one shared with the other renditions
/// (`RenditionPictures`), encoded with
/// `encodePicture(frameIndex:changed:cursor:emit:)`.
///
/// A frame that brings no change is written, where the stream allows it
/// (`skipPictureObstacle`), as an all-skip H.264 picture without x264; a
/// changed capture-size picture tells x264 which macroblocks changed
/// (`mb_info`); the pointer is drawn for x264 only and taken off again, so the
/// persistent picture stays the screen's. Figures and reasons:
/// docs/ARCHITECTURE.md, "Video encoding notes".
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
    private var x264: X264Context
    /// The x264 threads encoding now: `settings.threads` until
    /// `changeThreads(to:emit:)` (0 is x264's own choice).
    public private(set) var threads: Int
    /// The picture sent to x264, at the output size.
    public let picture: I420Picture
    /// The pictures frames are converted into, when this encoder converts
    /// them itself (nil: a shared picture that its owner updates).
    private let ownPictures: RenditionPictures?
    private var frame: EncoderFrame { picture.frame }
    private var lastFrameIndex: Int64 = -1
    /// Set when unchanged frames are written as skipped pictures.
    private let sequencer: SkipPictureSequencer?
    /// Why unchanged frames go to x264 again instead of being written as
    /// skipped pictures (nil when they are).
    public let skipPictureObstacle: String?
    /// Where conversions (and skipped pictures) are counted.
    public let counters: MediaCounters
    /// Where the capture lies in the picture, in the picture's samples (all
    /// of it, or inside letterbox bars): the pointer's place is mapped there.
    private let captureArea: PicturePlacement
    /// Draws the pointer for x264 and takes it off again (made on first use).
    private var compositor: CursorCompositor?
    /// The pointer drawn on the last picture submitted, drawn again on its repeats.
    private var lastCursor: CursorOverlay?
    /// x264's macroblock hints, when this encoder's picture is the
    /// renditions' capture-size one (nil: scaled, no hints).
    private let hints: MacroblockHints?

    /// Opens libx264 with `settings` for frames of `inputWidth`x`inputHeight`,
    /// converted into a picture of its own (stretched to the output size
    /// when that differs).
    public convenience init(settings: VideoEncoderSettings, inputWidth: Int, inputHeight: Int,
                            packetPool: PacketPool = PacketPool(capacity: 128),
                            counters: MediaCounters = MediaCounters()) throws {
        guard inputWidth > 0, inputHeight > 0 else {
            throw InvalidSetting(.encoderInputSize, value: "\(inputWidth)x\(inputHeight)", reason: "must be positive")
        }
        let pictures = try RenditionPictures(captureWidth: inputWidth, captureHeight: inputHeight, counters: counters)
        let picture = try pictures.picture(width: settings.width, height: settings.height, scaling: .stretch)
        try self.init(settings: settings, picture: picture, ownPictures: pictures, sharedPictures: nil,
                      captureArea: pictures.placement(of: picture), packetPool: packetPool, counters: counters)
    }

    /// Opens libx264 with `settings` to encode `picture` (of the settings'
    /// size), which its owner updates: one rendition of a recording whose
    /// frames `RenditionPictures` converts once for every rendition.
    /// `pictures`, the owner, says where the capture lies in `picture` (for
    /// the pointer); without it, the capture fills the picture.
    public convenience init(settings: VideoEncoderSettings, picture: I420Picture, pictures: RenditionPictures? = nil,
                            packetPool: PacketPool = PacketPool(capacity: 128),
                            counters: MediaCounters = MediaCounters()) throws {
        let area = pictures?.placement(of: picture)
            ?? PicturePlacement(x: 0, y: 0, width: picture.width, height: picture.height,
                                captureWidth: picture.width, captureHeight: picture.height)
        try self.init(settings: settings, picture: picture, ownPictures: nil, sharedPictures: pictures, captureArea: area,
                      packetPool: packetPool, counters: counters)
    }

    private init(settings: VideoEncoderSettings, picture: I420Picture, ownPictures: RenditionPictures?,
                 sharedPictures: RenditionPictures?, captureArea: PicturePlacement, packetPool: PacketPool,
                 counters: MediaCounters) throws {
        precondition(picture.width == settings.width && picture.height == settings.height,
                     "the picture's size differs from the encoder's")
        self.settings = settings
        self.picture = picture
        self.ownPictures = ownPictures
        self.captureArea = captureArea
        inputWidth = ownPictures?.captureWidth ?? settings.width
        inputHeight = ownPictures?.captureHeight ?? settings.height
        self.packetPool = packetPool
        self.counters = counters
        threads = settings.threads
        let source = (ownPictures ?? sharedPictures).flatMap { $0.capture === picture ? $0 : nil }
        let x264 = try X264Context(settings: settings, threads: settings.threads, macroblockHints: source != nil,
                                   packetPool: packetPool)
        self.x264 = x264
        hints = source.map { MacroblockHints(source: $0, delayedFrames: x264.maximumDelayedFrames) }
        parameters = try StreamParameters(kind: .video, timeBase: AVRational(num: 1, den: Int32(settings.fps)),
                                          frameRate: AVRational(num: Int32(settings.fps), den: 1),
                                          extradata: x264.extradata) { codec in
            // What avcodec_parameters_from_context gave for libavcodec's
            // libx264 opened as this encoder used to open it.
            codec.pointee.codec_type = AVMEDIA_TYPE_VIDEO
            codec.pointee.codec_id = AV_CODEC_ID_H264
            codec.pointee.format = AV_PIX_FMT_YUV420P.rawValue
            codec.pointee.width = Int32(settings.width)
            codec.pointee.height = Int32(settings.height)
            codec.pointee.bit_rate = x264.bitrate
            codec.pointee.level = Int32(settings.level.idc)
            codec.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            codec.pointee.color_range = AVCOL_RANGE_MPEG
            codec.pointee.color_space = AVCOL_SPC_SMPTE170M
            codec.pointee.color_primaries = AVCOL_PRI_BT709
            codec.pointee.color_trc = AVCOL_TRC_BT709
            codec.pointee.video_delay = Int32(x264.videoDelay)
        }
        var obstacle: String? = "libx264 gave no global header"
        var sequencer: SkipPictureSequencer?
        if !x264.extradata.isEmpty,
           let sets = try? x264.extradata.withUnsafeBufferPointer({
               try H264ParameterSets(annexB: $0.baseAddress!, count: $0.count)
           }) {
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
    /// Only for an encoder that converts its own frames (made with the
    /// input size).
    ///
    /// The encoder's input picture persists from frame to frame: a frame
    /// with rectangles updates only them (`VideoFrame.damage`), and an
    /// `unchanged` frame converts nothing and is encoded as a repeat of the
    /// previous picture (unless a frame given to `update(from:)` changed it,
    /// or `cursor` differs from the last one drawn). `cursor` (from the
    /// capture's `CursorShapes`, in capture pixels) must stay valid until the
    /// next call of `encode`: repeats draw it again.
    public func encode(_ frame: borrowing VideoFrame, frameIndex: Int64, cursor: CursorOverlay? = nil,
                       emit: (consuming Packet) -> Void) throws {
        guard let ownPictures else { preconditionFailure("a shared picture is updated by its owner: use encodePicture") }
        try ownPictures.update(from: frame)
        let changed = ownPictures.takeChange()
        if changed { try ownPictures.refreshScaled() }
        try encodePicture(frameIndex: frameIndex, changed: changed, cursor: cursor, emit: emit)
    }

    /// Encodes the picture as output frame `frameIndex`: submitted to x264
    /// when it `changed` since the last frame encoded or `cursor` differs
    /// from the last one drawn, else written as a repeat of it (an all-skip
    /// picture where the stream allows). `cursor` as for `encode`.
    /// `keyframe`: submitted as an IDR picture whatever changed (a resume
    /// after a pause starts the file's next part with one).
    @inline(__always)
    public func encodePicture(frameIndex: Int64, changed: Bool, cursor: CursorOverlay? = nil, keyframe: Bool = false,
                              emit: (consuming Packet) -> Void) throws {
        let cursorMoved = cursor == nil ? lastCursor != nil : !cursor!.drawsSame(as: lastCursor)
        if changed || keyframe { hints?.frameChanged() }
        if changed || cursorMoved || keyframe {
            lastCursor = cursor
            if keyframe { try frame.makeWritable() }
            try submit(frameIndex: frameIndex, keyframe: keyframe, emit: emit)
        } else {
            try repeatLast(frameIndex: frameIndex, emit: emit)
        }
    }

    /// Brings the input picture up to date with `frame` without encoding it:
    /// for a frame the timeline drops, whose changes later frames do not
    /// bring again (the next frame encoded then submits the picture, even an
    /// unchanged one). Only for an encoder that converts its own frames.
    public func update(from frame: borrowing VideoFrame) throws {
        guard let ownPictures else { preconditionFailure("a shared picture is updated by its owner") }
        try ownPictures.update(from: frame)
    }

    /// Encodes a picture that `fill` writes straight into the encoder's input
    /// frame, already I420 at the output size: for the benchmark's encoder-only
    /// floor (pre-converted frames) or a source that converts by itself.
    public func encodeI420(frameIndex: Int64, fill: (I420Planes) throws -> Void,
                           emit: (consuming Packet) -> Void) throws {
        try frame.makeWritable()
        try fill(planes)
        lastCursor = nil
        hints?.pictureRewritten()
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

    /// Shows the last picture encoded again as output frame `frameIndex`
    /// while the recording is paused, without x264: an all-skip picture
    /// when the stream allows one now (x264 holds no frame back); else
    /// nothing, so no picture of the paused screen is ever encoded. A
    /// keyframe due meanwhile waits for the resume (which makes one).
    /// Returns whether a picture was written.
    @discardableResult
    public func repeatWhilePaused(frameIndex: Int64, emit: (consuming Packet) -> Void) throws -> Bool {
        guard lastFrameIndex >= 0, frameIndex > lastFrameIndex, let sequencer, sequencer.canSkipWhilePaused else {
            return false
        }
        lastFrameIndex = frameIndex
        try sequencer.skip(at: frameIndex, emit: emit)
        return true
    }

    /// Ends the stream: passes on the packets libx264 still holds (its
    /// lookahead and B-frames). The encoder takes no frames afterwards.
    public func flush(emit: (consuming Packet) -> Void) throws {
        try drain(x264, emit: emit)
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
        guard threads != self.threads, !x264.isDrained else { return false }
        let replacement = try X264Context(settings: settings, threads: threads, macroblockHints: hints != nil,
                                          packetPool: packetPool)
        guard parameters.hasSameExtradata(replacement.extradata) else { return false }
        try drain(x264, emit: emit)
        x264 = replacement
        self.threads = threads
        hints?.makeArrays(delayedFrames: replacement.maximumDelayedFrames)
        return true
    }

    private var planes: I420Planes { picture.planes }

    /// Encodes the input picture, with `lastCursor` drawn on it for x264
    /// only (x264 copies its input picture before `send` returns).
    @inline(__always)
    private func submit(frameIndex: Int64, keyframe: Bool = false, emit: (consuming Packet) -> Void) throws {
        guard let cursor = lastCursor else {
            try submitPicture(frameIndex: frameIndex, keyframe: keyframe, emit: emit)
            return
        }
        if compositor == nil { compositor = CursorCompositor() }
        let area = captureArea
        // The hot spot mapped into the picture (scaled, and past any
        // letterbox bar); the shape is drawn at its own size.
        let mapped = CursorOverlay(pixels: cursor.pixels, width: cursor.width, height: cursor.height,
                                   hotspotX: cursor.hotspotX, hotspotY: cursor.hotspotY,
                                   x: area.x + cursor.x * area.width / area.captureWidth,
                                   y: area.y + cursor.y * area.height / area.captureHeight, serial: cursor.serial)
        compositor!.draw(mapped, onto: planes, inputWidth: picture.width, inputHeight: picture.height)
        defer {
            // A codec still holding the buffer would get a copy here; the
            // picture is put back either way.
            try? frame.makeWritable()
            compositor!.restore(planes)
        }
        try submitPicture(frameIndex: frameIndex, keyframe: keyframe, emit: emit)
    }

    @inline(__always)
    private func submitPicture(frameIndex: Int64, keyframe forced: Bool = false,
                               emit: (consuming Packet) -> Void) throws {
        // libx264 refuses non-increasing pts; the engine derives indices from
        // capture times and never repeats one, so this is a programming error.
        precondition(frameIndex > lastFrameIndex, "frame indices must increase (\(frameIndex) after \(lastFrameIndex))")
        lastFrameIndex = frameIndex
        let hints = self.hints?.take(cursorDrawn: lastCursor != nil)
        guard let sequencer else {
            try x264.encode(planes, pts: frameIndex, keyframe: forced, hints: hints, emit: emit)
            return
        }
        let keyframe = forced || sequencer.keyframeDue(at: frameIndex)
        sequencer.willEncode(at: frameIndex, keyframe: keyframe)
        var failure: (any Error)?
        try x264.encode(planes, pts: frameIndex, keyframe: keyframe, hints: hints) { packet in
            do { try sequencer.encoderOutput(packet, emit: emit) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// Drains `x264` through the sequencer, when there is one.
    private func drain(_ x264: X264Context, emit: (consuming Packet) -> Void) throws {
        guard let sequencer else {
            try x264.drain(emit: emit)
            return
        }
        var failure: (any Error)?
        try x264.drain { packet in
            do { try sequencer.encoderOutput(packet, emit: emit) } catch { failure = failure ?? error }
        }
        sequencer.drained()
        if let failure { throw failure }
    }
}
