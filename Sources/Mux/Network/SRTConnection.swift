import CFFmpeg
import MediaCore
import MediaPackets

/// One MPEG-TS-over-SRT session with a listener (caller mode): opening it
/// connects (the SRT handshake, with the passphrase and stream id), then the
/// MPEG-TS muxer writes its tables; each keyframe carries the SPS and PPS
/// (the muxer inserts them from the encoder's global header), each AAC frame
/// an ADTS header, so a receiver can start at any keyframe. Every
/// reconnection is a new `SRTConnection`.
///
/// libavformat's `mpegts` muxer writes into an `AVIOContext` of SRT's live
/// payload size (1316 bytes), whose callback sends each buffer as one SRT
/// message over `SRTSocket`. libavformat's own `srt` protocol is not used:
/// it reports every failed connection as `EIO`, so a wrong passphrase could
/// not be told from a listener that is down, and it takes the passphrase in
/// the URL. No libavformat protocol is opened at all, so no URL can make it
/// reach a file, a pipe or HTTP (the reason for RTMP's `protocol_whitelist`).
///
/// Used by the sink's thread only.
final class SRTConnection: StreamConnection {
    private let socket: SRTSocket
    private var context: UnsafeMutablePointer<AVIOContext>?
    private var muxer: Muxer?
    /// Set when a send found the connection gone: what `write` throws.
    private var lost = false

    init(url: StreamURL, options: SRTOptions, streams: [StreamParameters], interrupt: IOInterrupt,
         connectTimeout: Double) throws {
        precondition(url.scheme == .srt && url.port != nil)
        socket = try SRTSocket(options: options, streamID: url.streamID, connectTimeout: connectTimeout,
                               interrupt: interrupt)
        try socket.connect(host: url.host, port: url.port!, connectTimeout: connectTimeout)
        let size = Int(SRTSocket.payloadSize)
        guard let buffer = av_malloc(size) else { throw AVError(code: AVError.outOfMemoryCode, operation: "av_malloc") }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        context = cffmpeg_avio_alloc_write_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(size), opaque) {
            opaque, bytes, count in
            let connection = Unmanaged<SRTConnection>.fromOpaque(opaque!).takeUnretainedValue()
            let status = connection.socket.send(bytes!, count: Int(count))
            if status == -ECONNRESET { connection.lost = true }
            return status
        }
        guard let context else {
            av_free(buffer)
            throw AVError(code: AVError.outOfMemoryCode, operation: "avio_alloc_context")
        }
        context.pointee.max_packet_size = Int32(size)
        // Named by the redacted URL: libav may print it.
        let muxer = try Muxer(formatName: "mpegts", url: url.redacted, streams: streams, flushEachPacket: true,
                              interleaves: false)
        try muxer.open(options: [:], interrupt: interrupt.callback, output: context)
        self.muxer = muxer
    }

    deinit {
        // The muxer goes first: it writes through the context.
        muxer = nil
        if let context {
            av_freep(&context.pointee.buffer)
            var pointer: UnsafeMutablePointer<AVIOContext>? = context
            avio_context_free(&pointer)
        }
    }

    @inline(__always)
    func write(_ packet: consuming Packet) throws {
        do {
            try muxer!.write(packet)
        } catch {
            throw failure(error)
        }
    }

    /// The trailer, then what SRT still holds is sent before the socket closes.
    func finish() throws {
        do {
            try muxer!.finish()
        } catch {
            throw failure(error)
        }
        socket.drain()
    }

    /// A write the connection's loss failed names the SRT send, not the muxer.
    private func failure(_ error: any Error) -> any Error {
        lost ? AVError.posix(ECONNRESET, operation: "srt_sendmsg2") : error
    }
}
