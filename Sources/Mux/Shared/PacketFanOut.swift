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
    /// Live streams: set at the start, then added and removed (on the mux
    /// thread) while recording.
    public private(set) var streams: [NetworkSink]
    private let interleaver: PacketInterleaver
    /// What a pause leaves out of the files (nil: the recording never pauses).
    private var cut: PausedTimelineCut?
    /// Where the file outputs' references come from (only when there are
    /// several files).
    private let references: PacketPool?

    /// Video and audio time bases come from `parameters` (one of each kind at
    /// most); `files` and `streams` take every packet.
    /// `pauses`: the recording's paused stretches, left out of the files
    /// (`PausedTimelineCut`); the streams get everything.
    public init(parameters: [StreamParameters], files: [any PacketFileSink], streams: [NetworkSink],
                pauses: PauseSchedule? = nil) {
        self.files = files
        self.streams = streams
        let videoTimeBase = parameters.first { $0.kind == .video }?.timeBase
        let audioTimeBase = parameters.first { $0.kind == .audio }?.timeBase
        interleaver = PacketInterleaver(videoTimeBase: videoTimeBase, audioTimeBase: audioTimeBase)
        references = files.count > 1 ? PacketPool(capacity: 32) : nil
        if let pauses, !files.isEmpty {
            cut = PausedTimelineCut(schedule: pauses, videoTimeBase: videoTimeBase, audioTimeBase: audioTimeBase)
        }
    }

    /// Adds a live stream; it gets every packet from the next one on. Mux
    /// thread only.
    public func add(_ stream: NetworkSink) {
        streams.append(stream)
    }

    /// Stops offering packets to `stream` (the caller finishes it). Mux
    /// thread only.
    public func remove(_ stream: NetworkSink) {
        streams.removeAll { $0 === stream }
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
        if cut != nil {
            switch cut!.apply(to: packet) {
            case .keep:
                if let seconds = cut!.takeResume() { for file in files { file.resumed(atSeconds: seconds) } }
            case .leaveOut: return
            case .leaveOutAndFlush:
                try flushFiles()
                return
            }
        }
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

    private func flushFiles() throws {
        for file in files {
            do {
                try file.flushPending()
            } catch {
                throw PacketSinkFailure(path: file.currentPath, error: error)
            }
        }
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
