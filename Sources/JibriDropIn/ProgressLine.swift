/// ffmpeg's progress line, field for field as fftools 5.1 prints it
/// (`print_report` in `fftools/ffmpeg.c`):
///
///     frame=  300 fps= 30 q=-1.0 size=    1234kB time=00:00:10.00 bitrate=1010.9kbits/s speed=   1x
///
/// It is the line Jibri's encoding rule matches (`OutputParser.kt`:
/// `(\s*(\S+)\s*=\s*(\S+))+\s*`, the whole line), which moves its capturer to
/// running and keeps it there. Figures as ffmpeg computes them: `fps` is
/// frames over wall-clock seconds since the start (0 for the first second),
/// `size` is KiB written, `bitrate` is size over media time in kbit/s,
/// `speed` is media time over wall-clock time; `q` is the encoder's
/// quantizer, which the engine does not report (-1.0, ffmpeg's value when
/// none is known). `dup=`/`drop=` appear once either is non-zero, as in
/// ffmpeg; here they are the engine's duplicated and dropped frames.
public struct ProgressLine: Sendable, Equatable {
    public var frames: Int
    /// Bytes of encoded media written so far.
    public var bytes: Int
    /// Seconds of media encoded.
    public var mediaSeconds: Double
    /// Wall-clock seconds since the recording started.
    public var elapsedSeconds: Double
    public var duplicated = 0
    public var dropped = 0

    public init(frames: Int, bytes: Int, mediaSeconds: Double, elapsedSeconds: Double, duplicated: Int = 0, dropped: Int = 0) {
        self.frames = frames
        self.bytes = bytes
        self.mediaSeconds = mediaSeconds
        self.elapsedSeconds = elapsedSeconds
        self.duplicated = duplicated
        self.dropped = dropped
    }

    /// The line, without its end of line.
    public var text: String {
        let fps = elapsedSeconds > 1 ? Double(frames) / elapsedSeconds : 0
        var line = cFormat("frame=%5lld fps=%3.*f q=%3.1f ", Int64(frames), fps < 9.95 ? Int32(1) : Int32(0), fps, -1.0)
        line += cFormat("size=%8.0fkB time=", Double(bytes) / 1024)
        let centiseconds = Int((max(0, mediaSeconds) * 100).rounded(.down))
        line += cFormat("%02lld:%02d:%02d.%02d ", Int64(centiseconds / 360_000), Int32(centiseconds / 6000 % 60),
                        Int32(centiseconds / 100 % 60), Int32(centiseconds % 100))
        line += mediaSeconds > 0 ? cFormat("bitrate=%6.1fkbits/s", Double(bytes) * 8 / mediaSeconds / 1000) : "bitrate=N/A"
        if duplicated != 0 || dropped != 0 { line += " dup=\(duplicated) drop=\(dropped)" }
        line += elapsedSeconds > 0 ? cFormat(" speed=%4.3gx", mediaSeconds / elapsedSeconds) : " speed=N/A"
        return line
    }
}
