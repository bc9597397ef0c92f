import CFFmpeg
import MediaCore

/// Puts the skipped pictures (`H264SkipPictureWriter`) and x264's pictures
/// into one stream: decoding order, frame numbers, keyframe spacing.
///
/// - Order: a skipped picture for output frame `n` must follow every x264
///   picture of a frame before `n`. When x264 still holds frames (threads,
///   lookahead), the skip waits in a small queue and is written as soon as
///   x264 hands out the last picture before it; with the engine's default
///   (one x264 thread, no lookahead) x264 holds nothing and skips go out at
///   once.
/// - Frame numbers: each skipped picture is a reference picture numbered one
///   after the picture before it; x264's later pictures are renumbered by the
///   skips written since the last IDR (`H264FrameNumbers`).
/// - Keyframes: x264 counts only the frames it is given, so a keyframe is
///   asked for (`AV_PICTURE_TYPE_I`) on every frame `gop` or more after the
///   last one, which is where x264 itself puts them when it sees every
///   frame: the spacing stays as configured, and such a frame goes to x264
///   even when nothing changed.
///
/// Fixed-size queues, no allocation per frame beyond the packet's payload.
final class SkipPictureSequencer {
    let writer: H264SkipPictureWriter
    let gop: Int64
    private var parameters: H264ParameterSets { writer.parameters }
    /// Output index of the last keyframe asked for or seen.
    private var lastKeyframe: Int64
    /// frame_num of the last picture written out, and skips since the last IDR.
    private var frameNum = 0
    private var skipsSinceIDR = 0
    /// Output indices of frames inside x264, oldest first.
    private var inEncoder = IndexQueue(capacity: 64)
    /// Skipped frames waiting for x264 to hand out the pictures before them.
    private var waiting = IndexQueue(capacity: 256)
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

    /// Whether an unchanged frame `index` can be written as a skipped picture.
    func canSkip(at index: Int64) -> Bool {
        !keyframeDue(at: index) && !waiting.isFull && !inEncoder.isFull
    }

    /// Frame `index` is about to be sent to x264.
    func willEncode(at index: Int64) {
        precondition(!inEncoder.isFull, "x264 holds more frames than the sequencer tracks")
        inEncoder.push(index)
        if keyframeDue(at: index) { lastKeyframe = index }
    }

    /// Writes (or queues) the skipped picture for frame `index`.
    func skip(at index: Int64, emit: (consuming Packet) -> Void) throws {
        if inEncoder.isEmpty {
            try writeSkip(at: index, emit: emit)
        } else {
            waiting.push(index)
        }
    }

    /// Passes on a picture x264 handed out, after the skips that precede it.
    func encoderOutput(_ packet: consuming Packet, emit: (consuming Packet) -> Void) throws {
        let pts = packet.pointer.pointee.pts
        if !inEncoder.isEmpty { _ = inEncoder.pop() }
        while let first = waiting.first, first < pts {
            _ = waiting.pop()
            try writeSkip(at: first, emit: emit)
        }
        let found = try H264FrameNumbers.rewrite(packet.pointer, adding: skipsSinceIDR, parameters: parameters)
        if found.isIDR {
            skipsSinceIDR = 0
            frameNum = 0
            lastKeyframe = max(lastKeyframe, pts)
        } else if let number = found.frameNum {
            frameNum = number
        }
        emit(packet)
        if inEncoder.isEmpty { try flushWaiting(emit: emit) }
    }

    /// Writes every queued skip (x264 holds nothing more, or has been drained).
    func flushWaiting(emit: (consuming Packet) -> Void) throws {
        while let index = waiting.pop() { try writeSkip(at: index, emit: emit) }
    }

    private func writeSkip(at index: Int64, emit: (consuming Packet) -> Void) throws {
        let packet = packetPool.acquire(kind: .video)
        frameNum = (frameNum + 1) % parameters.maxFrameNum
        try writer.write(frameNum: frameNum, frameIndex: index, into: packet.pointer)
        skipsSinceIDR += 1
        counters.videoSkipPictures.add()
        emit(packet)
    }
}

/// A fixed-capacity FIFO of output indices.
struct IndexQueue {
    private var storage: [Int64]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { storage = Array(repeating: 0, count: capacity) }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == storage.count }
    var first: Int64? { count == 0 ? nil : storage[head] }

    mutating func push(_ value: Int64) {
        precondition(!isFull)
        storage[(head + count) % storage.count] = value
        count += 1
    }

    mutating func pop() -> Int64? {
        guard count > 0 else { return nil }
        let value = storage[head]
        head = (head + 1) % storage.count
        count -= 1
        return value
    }
}
