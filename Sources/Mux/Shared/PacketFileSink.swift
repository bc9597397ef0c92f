public import MediaPackets

/// A file output the mux thread writes: one MP4 file (`MP4FileSink`), a
/// series of them (`SegmentedMP4Sink`) or an HLS playlist and its segments
/// (`HLSSink`). It takes the packets of one video encode and the audio, in
/// decoding order across both (`PacketFanOut` orders them), owns every file
/// it creates, and throws the write error that stopped it.
public protocol PacketFileSink: AnyObject {
    /// The file written now, for a failure report.
    var currentPath: String { get }
    /// Writes `packet` (its timestamps may be changed on the way: the sink
    /// owns it). Throws the write error that stopped the output.
    func write(_ packet: consuming Packet) throws
    /// Writes out what the output holds (a fragment in progress), so a kill
    /// from now on keeps it: called when a pause begins. Throws the write
    /// error that stopped the output.
    func flushPending() throws
    /// The recording goes on here (seconds of the output's timeline) after
    /// a pause: a file marks it (a chapter), when it can.
    func resumed(atSeconds seconds: Double)
}

extension PacketFileSink {
    /// Outputs that write as they go have nothing to flush.
    public func flushPending() throws {}
    public func resumed(atSeconds seconds: Double) {}
}

/// A file output's write failed: which file, and the error.
public struct PacketSinkFailure: Error, Sendable {
    public var path: String
    public var error: any Error

    public init(path: String, error: any Error) {
        self.path = path
        self.error = error
    }
}
