import ArgumentParser
import Foundation

/// Where the sync probe runs: the display it draws on, the loopback PCM the
/// recorder captures and the one the probe's beeps are played into. The
/// defaults are what `scripts/testbench` exports.
struct ProbeBench: ParsableArguments {
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "ALSA PCM the recorder captures (default $BENCH_CAPTURE_PCM).") var capturePcm: String?
    @Option(help: "ALSA PCM the probe plays into (default $BENCH_PLAYBACK_PCM).") var playbackPcm: String?

    /// The three, from the options or the bench's environment.
    /// Throws `ValidationError` naming the options when one is missing.
    func resolved() throws -> (display: String, capturePCM: String, playbackPCM: String) {
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"],
              let capturePCM = capturePcm ?? environment["BENCH_CAPTURE_PCM"],
              let playbackPCM = playbackPcm ?? environment["BENCH_PLAYBACK_PCM"] else {
            throw ValidationError("needs a display and both loopback PCMs: run inside scripts/testbench, or pass "
                                  + "--display, --capture-pcm and --playback-pcm")
        }
        return (display, capturePCM, playbackPCM)
    }
}
