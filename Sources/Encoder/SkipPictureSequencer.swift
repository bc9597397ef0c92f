import CFFmpeg
import MediaCore
import MediaPackets

/// Puts the skipped pictures (`H264SkipPictureWriter`) and x264's pictures
/// into one stream: decoding order, frame numbers, keyframe spacing.
///
/// - Order: a skipped picture for output frame `n` must follow every x264
///   picture of a frame before `n`. So a frame is skipped only while x264
///   holds no frame back: with one x264 thread or sliced threads and no
///   lookahead (the engine's default, and `zerolatency`) x264 hands out each
///   picture as it is given the frame, and skips go out at once. Where x264
///   holds frames (frame threads, lookahead), an unchanged frame goes to x264
///   again instead: waiting for x264's next picture would hold the skip, and
///   everything after it, for as long as the screen stays still.
/// - Frame numbers: each skipped picture is a reference picture numbered one
///   after the picture before it; x264's later pictures are renumbered by the
///   skips written since the last IDR (`H264FrameNumbers`).
/// - Keyframes: x264 counts only the frames it is given, so a keyframe is
///   asked for (`AV_PICTURE_TYPE_I`) on every frame `gop` or more after the
///   last one, which is where x264 itself puts them when it sees every
///   frame: the spacing stays as configured, and such a frame goes to x264
///   even when nothing changed.
///
/// No allocation per frame beyond the packet's payload.
final class SkipPictureSequencer {
    let writer: H264SkipPictureWriter
    let gop: Int64
    private var parameters: H264ParameterSets { writer.parameters }
    /// Output index of the last keyframe asked for or seen.
    private var lastKeyframe: Int64
    /// frame_num of the last picture written out, and skips since the last IDR.
    private var frameNum = 0
    private var skipsSinceIDR = 0
    /// Frames given to x264 whose pictures it has not handed out yet.
    private var held = 0
    private let packetPool: PacketPool
    private let counters: MediaCounters

    init(writer: H264SkipPictureWriter, gop: Int, packetPool: PacketPool, counters: MediaCounters) {
        self.writer = writer
        self.gop = Int64(gop)
        lastKeyframe = -Int64(gop)
        self.packetPool = packetPool
        self.counters = counters
    }

    /// Whether frame `index` must go to x264 as a keyframe.
    func keyframeDue(at index: Int64) -> Bool { index - lastKeyframe >= gop }

    /// Whether an unchanged frame `index` can be written as a skipped picture now.
    func canSkip(at index: Int64) -> Bool { held == 0 && !keyframeDue(at: index) }

    /// Whether a skipped picture can be written now whatever the keyframe
    /// spacing says (while paused: the keyframe waits for the resume).
    var canSkipWhilePaused: Bool { held == 0 }

    /// Frame `index` is about to be sent to x264 (as a keyframe when `keyframe`).
    func willEncode(at index: Int64, keyframe: Bool) {
        held += 1
        if keyframe { lastKeyframe = index }
    }

    /// Writes the skipped picture for frame `index` (after `canSkip`).
    func skip(at index: Int64, emit: (consuming Packet) -> Void) throws {
        precondition(held == 0, "a skipped picture would overtake a picture x264 holds")
        let packet = packetPool.acquire(kind: .video)
        frameNum = (frameNum + 1) % parameters.maxFrameNum
        try writer.write(frameNum: frameNum, frameIndex: index, into: packet.pointer)
        skipsSinceIDR += 1
        counters.videoSkipPictures.add()
        emit(packet)
    }

    /// Passes on a picture x264 handed out, renumbered past the skips before it.
    func encoderOutput(_ packet: consuming Packet, emit: (consuming Packet) -> Void) throws {
        held = max(0, held - 1)
        let found = try H264FrameNumbers.rewrite(packet.pointer, adding: skipsSinceIDR, parameters: parameters)
        if found.isIDR {
            skipsSinceIDR = 0
            frameNum = 0
            lastKeyframe = max(lastKeyframe, packet.pointer.pointee.pts)
        } else if let number = found.frameNum {
            frameNum = number
        }
        emit(packet)
    }

    /// x264 was drained: it holds nothing any more.
    func drained() { held = 0 }
}
