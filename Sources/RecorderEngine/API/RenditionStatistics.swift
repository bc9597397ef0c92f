/// One video encode's account, in `RecordingStatistics.renditions`.
public struct RenditionStatistics: Sendable, Equatable {
    /// The renditions it encodes (several when their options are the same):
    /// `main` for `RecordingConfiguration.video`.
    public var names: [String]
    /// Encoded picture size, pixels.
    public var width: Int
    public var height: Int
    /// x264 threads encoding it now.
    public var encoderThreads: Int
    /// Bytes of H.264 it produced.
    public var bytes: Int

    public init(names: [String], width: Int, height: Int, encoderThreads: Int, bytes: Int) {
        self.names = names
        self.width = width
        self.height = height
        self.encoderThreads = encoderThreads
        self.bytes = bytes
    }
}
