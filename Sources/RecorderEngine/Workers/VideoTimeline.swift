import MediaCore

/// Maps capture times to constant-frame-rate output indices.
///
/// Frame `n` of the output belongs at `anchor + n / fps` on the session clock.
/// A captured frame takes the index nearest its capture time: when that index
/// is already taken the frame is dropped (excess), and when indices were skipped
/// the previous picture is repeated for each of them (gap). Both are counted by
/// the caller. The result is a file whose frame count always matches its
/// duration, however the grabs were scheduled.
struct VideoTimeline {
    enum Placement: Equatable {
        /// Encode the frame at `index`, after repeating the previous picture
        /// `repeats` times (at `index - repeats ..< index`).
        case encode(index: Int64, repeats: Int64)
        /// The slot is taken; drop the frame.
        case drop
    }

    let framesPerSecond: Int64
    /// Session time of output frame 0.
    private(set) var anchor: Int64?
    /// Grab number of output frame 0, when placing by sequence.
    private var firstSequence: Int64 = 0
    /// The last index handed out (-1 before the first).
    private(set) var lastIndex: Int64 = -1

    init(framesPerSecond: Int) {
        self.framesPerSecond = Int64(framesPerSecond)
    }

    /// The nearest output index for a frame captured at `time`.
    func index(at time: Int64) -> Int64 {
        let anchor = anchor ?? time
        let scaled = (time - anchor) * framesPerSecond
        // Round to nearest, symmetric around zero.
        let half = Int64.nanosecondsPerSecond / 2
        return scaled >= 0 ? (scaled + half) / .nanosecondsPerSecond : -((-scaled + half) / .nanosecondsPerSecond)
    }

    /// Where the frame of grab number `sequence` goes, for a grabber paced by
    /// deadlines `start + sequence / fps` on the same clock: the deadline is the
    /// frame's nominal capture time, so scheduling jitter of the grab itself
    /// (which can straddle a slot boundary when the machine is busy) never
    /// turns into a drop-and-repeat pair. Skipped deadlines still repeat.
    mutating func place(sequence: Int, captureTime time: Int64) -> Placement {
        if anchor == nil {
            anchor = time
            firstSequence = Int64(sequence)
        }
        let index = Int64(sequence) - firstSequence
        guard index > lastIndex else { return .drop }
        let repeats = lastIndex < 0 ? 0 : index - lastIndex - 1
        lastIndex = index
        return .encode(index: index, repeats: repeats)
    }

    /// Where the frame captured at `time` goes.
    mutating func place(captureTime time: Int64) -> Placement {
        if anchor == nil { anchor = time }
        let index = index(at: time)
        guard index > lastIndex else { return .drop }
        let repeats = lastIndex < 0 ? 0 : index - lastIndex - 1
        lastIndex = index
        return .encode(index: index, repeats: repeats)
    }
}
