public import Testing

extension Tag {
    /// The suite needs the test bench (scripts/testbench): an X server, a
    /// sound server, an RTMP or SRT peer, the Debian tools (ffprobe, ffmpeg,
    /// Xvfb, nginx) or a built program. Untagged suites need none of it and
    /// run alone in seconds: `scripts/test-pure`.
    @Tag public static var bench: Self
}
