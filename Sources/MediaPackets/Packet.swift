public import MediaCore
public import CFFmpeg

/// One compressed packet (an encoded video frame or audio frame) on its way from
/// an encoder to the sinks.
///
/// The packet owns one `AVPacket` struct. Most come from a `PacketPool`: when
/// the packet is destroyed its payload is released (`av_packet_unref`) and the
/// struct goes back to the pool, so encoding never calls `av_packet_alloc` per
/// packet. It cannot be copied, so the struct is recycled exactly once.
public struct Packet: ~Copyable, @unchecked Sendable {
    /// The packet for libav calls: they may fill it, rescale its timestamps or
    /// move its payload out (`av_write_frame`), never free it.
    public let pointer: UnsafeMutablePointer<AVPacket>
    /// Which stream of the session the packet belongs to.
    public let kind: StreamKind
    /// The pool slot, or -1 when the pool was empty and this packet was
    /// allocated on its own (it is then freed, not recycled).
    private let slot: Int32
    /// Strong, so a packet still queued somewhere keeps its pool alive.
    private let pool: PacketPool

    init(pointer: UnsafeMutablePointer<AVPacket>, kind: StreamKind, slot: Int32, pool: PacketPool) {
        self.pointer = pointer
        self.kind = kind
        self.slot = slot
        self.pool = pool
    }

    /// Decoding timestamp, or the presentation timestamp when the encoder set
    /// no DTS, in the producing stream's time base.
    @inline(__always)
    public var decodingTimestamp: Int64 {
        let dts = pointer.pointee.dts
        return dts != CFFMPEG_AV_NOPTS_VALUE ? dts : pointer.pointee.pts
    }

    /// True for a packet a decoder can start from (an IDR frame, or any audio frame).
    public var isKeyframe: Bool { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }

    /// True when the encoder flagged the packet as one no other frame refers
    /// to (`AV_PKT_FLAG_DISPOSABLE`). libx264 in FFmpeg 5.1 never sets it;
    /// `H264NonReference` reads the bitstream instead.
    public var isFlaggedDisposable: Bool { pointer.pointee.flags & AV_PKT_FLAG_DISPOSABLE != 0 }

    /// A second packet sharing this one's payload, taken from `pool`: one
    /// encode can feed several sinks, each owning its own `Packet`.
    ///
    /// `av_packet_ref` adds a reference to the refcounted payload buffer (no
    /// copy of the data; libav allocates one small `AVBufferRef`) and copies
    /// the timestamps, flags and side data. Returns nil when libav is out of
    /// memory (the caller counts it as a drop).
    @inline(__always)
    public func reference(from pool: PacketPool) -> Packet? {
        let copy = pool.acquire(kind: kind)
        guard av_packet_ref(copy.pointer, pointer) >= 0 else { return nil }
        return copy
    }

    deinit {
        av_packet_unref(pointer)
        if slot >= 0 {
            pool.recycle(slot)
        } else {
            var owned: UnsafeMutablePointer<AVPacket>? = pointer
            av_packet_free(&owned)
        }
    }
}
