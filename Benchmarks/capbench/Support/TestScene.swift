import Foundation
import HostProcesses

/// Moving content on the display and a tone in the loopback while a benchmark
/// records on the outer bench: ffplay's testsrc2 pattern (moving, with a
/// running clock), as `scripts/demo` shows it, and a 440 Hz sine played with
/// aplay. Both stop with `stop()`.
final class TestScene {
    private var players: [ChildProcess] = []
    private let toneFile: String

    /// Shows a `width`x`height` moving pattern at the top left of `display` and
    /// plays a 440 Hz tone into `playbackPCM` (when given) for `seconds`.
    init(display: String, width: Int, height: Int, playbackPCM: String?, seconds: Double) throws {
        toneFile = NSTemporaryDirectory() + "capbench-tone-\(getpid()).wav"
        players.append(try ChildProcess(
            ["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0",
             "-f", "lavfi", "testsrc2=size=\(width)x\(height):rate=30"],
            environment: ChildProcess.environment(updating: ["DISPLAY": display, "SDL_AUDIODRIVER": "dummy"])))
        if let playbackPCM {
            let made = try ChildProcess(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", toneFile,
                                       "synth", "\(Int(seconds) + 5)", "sine", "440", "vol", "0.5"]).wait()
            guard made.status == 0 else { throw BenchFailure("sox could not make the test tone") }
            players.append(try ChildProcess(["aplay", "-q", "-D", playbackPCM, toneFile]))
        }
        // ffplay needs a moment to map its window.
        usleep(1_500_000)
    }

    func stop() {
        for player in players { player.stop(grace: 1) }
        players.removeAll()
        unlink(toneFile)
    }

    deinit { stop() }
}
