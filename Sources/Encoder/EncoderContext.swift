import CFFmpeg
import MediaCore
import MediaPackets

/// Owns one encoder's `AVCodecContext` and runs libavcodec's send/receive loop,
/// moving every packet into a pooled `Packet`: the audio encoder's (AAC).
/// H.264 comes from libx264 driven directly (`X264Context`).
final class EncoderContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>
    private let kind: StreamKind
    private let packetPool: PacketPool
    /// Duration (in the codec time base) given to packets the encoder leaves
    /// without one: MP4 fragments need the duration of the last sample they
    /// hold.
    private let defaultDuration: Int64
    private(set) var isDrained = false

    init(codecName: StaticString, kind: StreamKind, packetPool: PacketPool, defaultDuration: Int64) throws {
        guard let codec = codecName.withUTF8Buffer({ name in
            name.withMemoryRebound(to: CChar.self) { avcodec_find_encoder_by_name($0.baseAddress) }
        }) else {
            throw AVError(code: cffmpeg_averror(ENOENT), operation: "avcodec_find_encoder_by_name")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "avcodec_alloc_context3")
        }
        pointer = context
        self.kind = kind
        self.packetPool = packetPool
        self.defaultDuration = defaultDuration
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }

    /// Opens the codec with the fields and options set so far.
    func open() throws {
        let status = avcodec_open2(pointer, nil, nil)
        guard status >= 0 else { throw AVError(code: status, operation: "avcodec_open2") }
    }

    /// Sends `frame` (nil: end of stream) and passes on every packet the encoder
    /// has ready.
    @inline(__always)
    func send(_ frame: UnsafePointer<AVFrame>?, emit: (consuming Packet) -> Void) throws {
        precondition(!isDrained, "the encoder was flushed; it takes no more frames")
        // We always receive until EAGAIN after a send, so the encoder never
        // refuses input here; any error is a real one.
        let status = avcodec_send_frame(pointer, frame)
        guard status >= 0 else { throw AVError(code: status, operation: "avcodec_send_frame") }
        try receive(emit: emit)
    }

    /// Drains the encoder: sends end of stream and passes on its last packets.
    func drain(emit: (consuming Packet) -> Void) throws {
        guard !isDrained else { return }
        try send(nil, emit: emit)
        isDrained = true
    }

    @inline(__always)
    private func receive(emit: (consuming Packet) -> Void) throws {
        while true {
            let packet = packetPool.acquire(kind: kind)
            let status = avcodec_receive_packet(pointer, packet.pointer)
            // The blank packet goes straight back to the pool on these two.
            if status == AVError.tryAgainCode || status == AVError.endOfFileCode { return }
            guard status >= 0 else { throw AVError(code: status, operation: "avcodec_receive_packet") }
            if packet.pointer.pointee.duration == 0 { packet.pointer.pointee.duration = defaultDuration }
            emit(packet)
        }
    }
}
