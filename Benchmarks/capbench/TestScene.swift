import Foundation

/// Moving content on the display and a tone in the loopback while a benchmark
/// records: ffplay's testsrc2 pattern (moving, with a running clock) and a sine
/// played with aplay. Both are stopped by `stop()`.
final class TestScene {
    private var pids: [pid_t] = []

    /// Shows a `width`x`height` moving pattern at the top left of `display` and
    /// plays a 440 Hz tone into `playbackPCM` (when given) for `seconds`.
    init(display: String, width: Int, height: Int, playbackPCM: String?, seconds: Double) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = display
        environment["SDL_AUDIODRIVER"] = "dummy"
        try start(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0",
                   "-f", "lavfi", "testsrc2=size=\(width)x\(height):rate=30"], environment: environment)
        if let playbackPCM {
            try start(["bash", "-c", "sox -n -r 48000 -c 2 -b 16 -e signed -t raw - synth \(Int(seconds) + 5) sine 440 vol 0.5 | "
                       + "aplay -q -D \(playbackPCM) -t raw -f S16_LE -r 48000 -c 2"], environment: environment)
        }
        // ffplay needs a moment to map its window.
        usleep(1_500_000)
    }

    private func start(_ arguments: [String], environment: [String: String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so stop() ends the whole pipeline.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp) == 0 else {
            throw CapbenchError("cannot start \(arguments[0]) for the test scene")
        }
        pids.append(pid)
    }

    func stop() {
        for pid in pids { kill(-pid, SIGTERM) }
        for pid in pids {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        pids.removeAll()
    }

    deinit { stop() }
}
