#if canImport(Glibc)
import Glibc
#endif

/// A named OS thread that runs one pipeline role (capture, encode, mux) and is
/// joined when the session stops. The pipeline's threads are plain pthreads, not
/// Swift tasks: they block in C calls (`XShmGetImage`, `snd_pcm_readi`,
/// `clock_nanosleep`) that must not occupy the cooperative pool.
public final class MediaThread: @unchecked Sendable {
    /// How the kernel schedules the thread.
    public enum Priority: Sendable {
        /// The normal time-sharing policy.
        case normal
        /// `SCHED_FIFO` at a low real-time priority, where the process may
        /// (root, or `RLIMIT_RTPRIO`); otherwise `normal`. For the display
        /// grabber: it sleeps to each deadline or waits on the X server almost
        /// all the time, and a grab that waits behind busy encoders is a frame
        /// lost. Only for loops that cannot spin: the kernel would give a
        /// spinning real-time thread 95 % of a core. (Audio capture stays
        /// normal: ALSA's buffer rides out a late read, and its loop retries
        /// on EAGAIN.)
        case realTimeIfPermitted
    }

    /// The real-time priority the grabber asks for: above every
    /// time-shared thread, below the kernel's own real-time threads and
    /// audio servers (which take 20 and up through rtkit).
    public static let captureRealTimePriority: Int32 = 10

    private var handle: pthread_t?
    /// The role this thread plays, for diagnostics.
    public let name: String
    /// Whether the thread runs under `SCHED_FIFO`.
    public private(set) var isRealTime = false
    private let body: @Sendable () -> Void

    /// Starts a thread for the role `name` running `body`.
    public init(name: String, priority: Priority = .normal, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
        var thread = pthread_t()
        // Released by the thread; a create that fails starts nothing, so the
        // fallback reuses it.
        let context = Unmanaged.passRetained(self).toOpaque()
        var status: Int32 = -1
        if priority == .realTimeIfPermitted {
            status = Self.create(&thread, realTimePriority: Self.captureRealTimePriority, context: context)
            isRealTime = status == 0
        }
        if status != 0 { status = Self.create(&thread, realTimePriority: nil, context: context) }
        precondition(status == 0, "pthread_create failed (\(status))")
        handle = thread
    }

    /// pthread_create with `SCHED_FIFO` at `realTimePriority` set explicitly,
    /// or the default attributes; EPERM where real time is not permitted.
    private static func create(_ thread: inout pthread_t, realTimePriority: Int32?, context: UnsafeMutableRawPointer) -> Int32 {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let realTimePriority {
            var parameters = sched_param()
            parameters.sched_priority = realTimePriority
            pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
            pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
            pthread_attr_setschedparam(&attributes, &parameters)
        }
        return pthread_create(&thread, &attributes, { raw in
            let owner = Unmanaged<MediaThread>.fromOpaque(raw!).takeRetainedValue()
            // Named, so `top -H`, perf and /proc/PID/task show which role costs what.
            _ = String(owner.name.prefix(15)).withCString { media_thread_set_name(pthread_self(), $0) }
            owner.body()
            return nil
        }, context)
    }

    /// Waits for the thread to finish; later calls return at once.
    public func join() {
        guard let thread = handle else { return }
        handle = nil
        pthread_join(thread, nil)
    }

    deinit {
        if let handle { pthread_detach(handle) }
    }
}

/// glibc's `pthread_setname_np`, which Swift's Glibc module does not export
/// (it is declared only under `_GNU_SOURCE`); its signature is plain C.
@_silgen_name("pthread_setname_np")
private func media_thread_set_name(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32
