/// Changes to a running recording: pause and resume, live streams added
/// and removed. Each returns at once; thread-safe.
extension RecordingSession {
    /// Pauses the recording: from 0.1 s after the call
    /// (`PauseSchedule.leadNanoseconds`, on a frame boundary) until a
    /// `resume()`, nothing goes into the file, its segments or its HLS
    /// playlist, and the file's timeline goes on from there without a gap
    /// (picture and sound cut at the same point). Live streams stay
    /// connected and get the last picture again (an all-skip picture per
    /// frame, where the encoder allows one) and silence. The no-media
    /// checks do not count paused time, nor does the configured duration.
    ///
    /// - Returns: the recorded time at which the pause begins.
    /// - Throws: `.alreadyPaused`; `.notRecording` before the first frame is
    ///   captured or once the recording is stopping.
    @discardableResult
    public func pause() throws(SessionControlError) -> Duration {
        try runner.pause()
    }

    /// Resumes a paused recording, 0.1 s after the call: the file goes on
    /// with an IDR picture of the screen as it is then.
    ///
    /// - Returns: the recorded time at which the recording goes on.
    /// - Throws: `.notPaused`; `.notRecording` once the recording is stopping.
    @discardableResult
    public func resume() throws(SessionControlError) -> Duration {
        try runner.resume()
    }

    /// Whether a pause is open now.
    public var isPaused: Bool { runner.isPaused }

    /// Adds a live stream to the running recording, checked as a configured
    /// one (its scheme, the allow-list, its rendition among those this
    /// recording encodes). It connects at once and sends from the next
    /// keyframe of its encode (no keyframe is asked for: the file and the
    /// other streams do not change), with fresh headers; its timestamps
    /// are the recording's.
    ///
    /// - Returns: the stream's number, after every stream so far (configured
    ///   ones first; never reused): its index in `statistics.streams` and
    ///   in its `StreamEvent`s.
    /// - Throws: `.configuration` naming the refused value (URL redacted),
    ///   `.tooManyStreams` when `LiveStreams.limit` (8) are sent to,
    ///   `.notRecording` when not recording.
    public func addStream(_ output: StreamOutput) throws(SessionControlError) -> Int {
        try runner.addStream(output)
    }

    /// Removes live stream `number`: it gets nothing after the packet being
    /// handed out, sends what it holds (at most its drain timeout) and
    /// closes; its statistics stay, marked `removed`.
    ///
    /// - Throws: `.unknownStream`, `.streamRemoved`, `.lastOutput` (the
    ///   recording has no file and no other stream), `.notRecording`.
    public func removeStream(_ number: Int) throws(SessionControlError) {
        try runner.removeStream(number)
    }

    /// The most live streams a recording sends to at once.
    public static var streamLimit: Int { LiveStreams.limit }
}
