import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How many `RecordingSession`s are recording in this process, so that a
/// session whose encoder needs more than one thread takes its share of the
/// cores: N sessions in one engine need not each run x264's 1.5 threads per
/// core against each other.
enum OpenSessionCount {
    private static let open = Atomic<Int>(0)

    /// Counts one session while it records: from opening its devices to
    /// releasing them.
    final class Member: Sendable {
        init() { OpenSessionCount.open.add(1, ordering: .relaxed) }
        deinit { OpenSessionCount.open.subtract(1, ordering: .relaxed) }
    }

    /// Sessions recording now.
    static var count: Int { open.load(ordering: .relaxed) }

    /// Pixels per second one x264 thread is first trusted with: 1080p30.
    /// Beyond it even ultrafast keeps one thread busy more than half of each
    /// frame interval here (1440p30: about 55 %), and starting on one thread
    /// would lose frames before the switch.
    static let singleThreadPixelRate = 1920 * 1080 * 30

    /// The x264 threads a session starts with when the engine chooses: one
    /// up to `singleThreadPixelRate` (more are added if it does not keep
    /// up), else the session's share of the cores, at least two.
    static func startingEncoderThreads(width: Int, height: Int, framesPerSecond: Int) -> Int {
        width * height * framesPerSecond <= singleThreadPixelRate ? 1 : max(2, encoderThreadsPerSession())
    }

    /// The cores this process may run on, shared among the recording
    /// sessions; at least one.
    static func encoderThreadsPerSession() -> Int {
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let sessions = max(1, open.load(ordering: .relaxed))
        return min(64, max(1, cores / sessions))
    }
}
