public import MediaCore
public import MediaPackets

/// Where one encode's packets go: every network sink and every file output,
/// from one copy of each payload.
///
/// The packets of the video encode and the audio are first put in decoding
/// order across streams (the same interleaver the MP4 muxer uses), so each
/// sink sees one ordered sequence and a network sink's queue can be
/// measured in media time. Then each packet is offered to every `NetworkSink`
/// (a reference to the payload, never a copy; never blocking) and written
/// to the file outputs: each but the last gets a reference of its own
/// (`Packet.reference(from:)`: the payload is shared, the timestamps are
/// the sink's to change), the last the packet itself.
///
/// Used by one thread, the mux thread.
public final class PacketFanOut {
    public let files: [any PacketFileSink]
    public let streams: [NetworkSink]
    private let interleaver: PacketInterleaver
    /// Where the file outputs' references come from (only when there are
    /// several files).
    private let references: PacketPool?

    /// Video and audio time bases come from `parameters` (one of each kind at
    /// most); `files` and `streams` take every packet.
    public init(parameters: [StreamParameters], files: [any PacketFileSink], streams: [NetworkSink]) {
        precondition(!files.isEmpty || !streams.isEmpty, "a fan-out needs somewhere to send packets")
        self.files = files
        self.streams = streams
        interleaver = PacketInterleaver(videoTimeBase: parameters.first { $0.kind == .video }?.timeBase,
                                        audioTimeBase: parameters.first { $0.kind == .audio }?.timeBase)
        references = files.count > 1 ? PacketPool(capacity: 32) : nil
    }

    /// Queues `packet` and passes on every packet now due. Throws
    /// `PacketSinkFailure` for a file output's write error; the network
    /// sinks report their own trouble.
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
        guard let last = files.last else { return }
        if let references {
            for file in files.dropLast() {
                guard let copy = packet.reference(from: references) else {
                    throw PacketSinkFailure(path: file.currentPath,
                                            error: AVError(code: AVError.outOfMemoryCode, operation: "av_packet_ref"))
                }
                try write(copy, to: file)
            }
        }
        try write(packet, to: last)
    }

    @inline(__always)
    private func write(_ packet: consuming Packet, to file: any PacketFileSink) throws {
        do {
            try file.write(packet)
        } catch {
            throw PacketSinkFailure(path: file.currentPath, error: error)
        }
    }
}
