/// x264's macroblock hints (`mb_info`) for one encoder whose picture is the
/// renditions' capture-size picture: which macroblocks changed since the
/// picture that encoder last gave x264 (the frames' DAMAGE rectangles, as
/// `RenditionPictures` marks them), and the arrays x264 reads them from.
///
/// One array per picture x264 may hold, and one for the picture being
/// submitted, used in turn: x264 reads an array until it hands its picture
/// out. No allocation once made (and after a thread change).
final class MacroblockHints {
    private let source: RenditionPictures
    /// Macroblocks changed since the last picture x264 was given.
    private let changes: MacroblockChanges
    private var arrays: [UnsafeMutablePointer<UInt8>] = []
    private var next = 0
    /// The last picture submitted had the pointer drawn on it (its
    /// macroblocks then differ from the screen's where it was).
    private var submittedWithCursor = false

    /// For the encoder of `source.capture`, whose x264 holds at most
    /// `delayedFrames` pictures. Before the first picture everything is new.
    init(source: RenditionPictures, delayedFrames: Int) {
        self.source = source
        changes = MacroblockChanges(width: source.capture.width, height: source.capture.height)
        changes.markAll()
        makeArrays(delayedFrames: delayedFrames)
    }

    deinit {
        // x264_encoder_close (the encoder's x264 is released after its
        // hints) reads no hint: it only drops the frames it held.
        for array in arrays { array.deallocate() }
    }

    /// Enough arrays for an x264 holding `delayedFrames` pictures (after a
    /// thread change: the old instance is drained, none is read any more).
    func makeArrays(delayedFrames: Int) {
        while arrays.count < delayedFrames + 2 {
            let array = UnsafeMutablePointer<UInt8>.allocate(capacity: changes.count)
            array.initialize(repeating: 0, count: changes.count)
            arrays.append(array)
        }
    }

    /// The frame just taken (`RenditionPictures.takeChange()`) changed the picture.
    @inline(__always)
    func frameChanged() { changes.formUnion(source.takenChanges) }

    /// The picture was rewritten whole, not from frames.
    func pictureRewritten() { changes.markAll() }

    /// The hints for the picture about to be submitted, nil for none, and a
    /// fresh start for the changes after it. A picture with the pointer
    /// drawn (`cursorDrawn`), or following one, goes without: its macroblocks
    /// differ from the screen's under the pointer; so does one whose every
    /// macroblock changed.
    @inline(__always)
    func take(cursorDrawn: Bool) -> UnsafeMutablePointer<UInt8>? {
        defer {
            changes.clear()
            submittedWithCursor = cursorDrawn
        }
        guard !cursorDrawn && !submittedWithCursor && !changes.isAllMarked else { return nil }
        let hints = arrays[next]
        next = (next + 1) % arrays.count
        changes.writeHints(into: hints)
        return hints
    }
}
