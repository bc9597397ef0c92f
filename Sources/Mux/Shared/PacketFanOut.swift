public import MediaCore
public import MediaPackets

/// Where one encode's packets go: every network sink and the file, from one
/// copy of each payload.
///
/// The packets of both encoders are first put in decoding order across
/// streams (the same interleaver the MP4 muxer uses), so each sink sees one
/// ordered sequence and a network sink's queue can be measured in media time.
/// Then each packet is offered to every `RTMPSink` (a reference to the
/// payload, never a copy; never blocking) and moved into the `MP4FileSink`.
///
/// Used by one thread, the mux thread.
public final class PacketFanOut {
    public let file: MP4FileSink?
    public let streams: [RTMPSink]
    private let interleaver: PacketInterleaver

    /// Video and audio time bases come from `parameters` (one of each kind at most).
    public init(parameters: [StreamParameters], file: MP4FileSink?, streams: [RTMPSink]) {
        precondition(file != nil || !streams.isEmpty, "a fan-out needs somewhere to send packets")
        self.file = file
        self.streams = streams
        interleaver = PacketInterleaver(videoTimeBase: parameters.first { $0.kind == .video }?.timeBase,
                                        audioTimeBase: parameters.first { $0.kind == .audio }?.timeBase)
    }

    /// Queues `packet` and passes on every packet now due. Throws the file
    /// sink's write error; the network sinks report their own trouble.
    @inline(__always)
    public func write(_ packet: consuming Packet) throws {
        try interleaver.add(packet) { try deliver($0) }
    }

    /// Passes on the packets still held for interleaving (at the end).
    public func flush() throws {
        try interleaver.drain { try deliver($0) }
    }

    @inline(__always)
    private func deliver(_ packet: consuming Packet) throws {
        for stream in streams {
            stream.offer(packet)
        }
        if let file { try file.write(packet) }
    }
}
