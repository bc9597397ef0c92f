/// Watches what one x264 thread spends per frame, so a session can start its
/// encoder on a single thread (the cheapest way to encode a real-time
/// source: x264's frame threads cost 8-10 % more CPU per frame here at
/// 1080p30 ultrafast) and give it more threads only when one thread would
/// not keep up.
///
/// One thread keeps up while it is busy at most `busyLimit` of each frame
/// interval on average over `window` frames; past that, a busy machine
/// would soon make it late.
struct EncoderLoadWatch {
    let frameInterval: Int64
    let window: Int
    let busyLimit: Double
    private var spent: Int64 = 0
    private var frames = 0

    /// Over two seconds of frames, at most half of each frame interval.
    init(framesPerSecond: Int, busyLimit: Double = 0.5) {
        frameInterval = Int64.nanosecondsPerSecond / Int64(framesPerSecond)
        window = 2 * framesPerSecond
        self.busyLimit = busyLimit
    }

    /// True when no frame of a new window was recorded yet.
    var isAtWindowStart: Bool { frames == 0 }

    /// Adds one frame's CPU time; true when a whole window has averaged over
    /// the limit. Each window is judged on its own.
    mutating func record(cpuNanoseconds: Int64) -> Bool {
        spent += cpuNanoseconds
        frames += 1
        guard frames == window else { return false }
        defer { (spent, frames) = (0, 0) }
        return Double(spent) > busyLimit * Double(frameInterval) * Double(window)
    }
}
