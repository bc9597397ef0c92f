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
