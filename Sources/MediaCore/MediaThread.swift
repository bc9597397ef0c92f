import CLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A named OS thread that runs one pipeline role (capture, encode, mux, a
/// stream, a session's control), owned by exactly one owner that stops it and
/// calls `join()`.
///
/// The pipeline's threads are plain pthreads, not Swift tasks: they block in C
/// calls (`XShmGetImage`, `snd_pcm_readi`, `clock_nanosleep`, a socket write)
/// that must not occupy the cooperative pool.
///
/// Lifetime, as swift-nio's threads have it: the state is explicit (running,
/// exited, joined) and `deinit` only checks that the owner joined. The body
/// closure is released as soon as it returns, so a body that captures a worker
/// object keeps that worker alive only while the thread runs, never after;
/// bodies capture the worker whose loop they run, never the worker's owner.
///
/// What a thread of a session carries (`Context`):
/// - its name, `role:tag` (at most 15 bytes, the kernel's limit), so `top -H`,
///   perf and `/proc/PID/task` show which session and role cost what, and so
///   threads that C libraries start from it (x264's workers, the PulseAudio
///   plugin's main loop) inherit the session's tag: Linux copies the creating
///   thread's name into a new thread;
/// - where C libraries' own log lines go while they run on it (`LogTarget`);
/// - the CPU account that adds up the session's threads (`CPUAccount`).
public final class MediaThread: Sendable {
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

    /// What a thread inherits from whoever starts it.
    public struct Context: Sendable {
        /// Appended to the role in the thread's name (`venc:3f`); nil for none.
        public var tag: String?
        /// Where libav's and alsa-lib's messages go while on this thread.
        public var logTarget: LogTarget?
        /// The account this thread's CPU time is added to when it ends.
        public var account: CPUAccount?

        public init(tag: String? = nil, logTarget: LogTarget? = nil, account: CPUAccount? = nil) {
            self.tag = tag
            self.logTarget = logTarget
            self.account = account
        }
    }

    /// The real-time priority the grabber asks for: above every
    /// time-shared thread, below the kernel's own real-time threads and
    /// audio servers (which take 20 and up through rtkit).
    public static let captureRealTimePriority: Int32 = 10

    /// `role:tag`, as the kernel shows it.
    public let name: String
    /// Whether the thread runs under `SCHED_FIFO`.
    public let isRealTime: Bool
    private let record: ThreadRecord

    /// Starts a thread for `role` (at most 8 bytes keep the tag visible)
    /// running `body` once.
    public init(role: String, context: Context = Context(), priority: Priority = .normal,
                _ body: @escaping @Sendable () -> Void) {
        let fullName = context.tag.map { "\(role):\($0)" } ?? role
        name = String(decoding: fullName.utf8.prefix(15), as: UTF8.self)
        record = ThreadRecord()
        let start = ThreadStart(name: name, body: body, context: context, record: record)
        // Released by the thread; a create that fails starts nothing, so the
        // fallback reuses it.
        let raw = Unmanaged.passRetained(start).toOpaque()
        var thread = pthread_t()
        var status: Int32 = -1
        var realTime = false
        if priority == .realTimeIfPermitted {
            status = Self.create(&thread, realTimePriority: Self.captureRealTimePriority, start: raw)
            realTime = status == 0
        }
        if status != 0 { status = Self.create(&thread, realTimePriority: nil, start: raw) }
        precondition(status == 0, "pthread_create failed (\(status))")
        isRealTime = realTime
        record.started(thread)
    }

    deinit {
        // The owner joins; a thread dropped unjoined is a bug in the owner.
        // Detached here so that, in release builds, it does not leak the pthread.
        if let unjoined = record.takeUnjoined() {
            assertionFailure("MediaThread \(name) released without join()")
            pthread_detach(unjoined)
        }
    }

    /// Waits for the thread to finish; later calls return at once. Must not
    /// be called from the thread itself.
    public func join() {
        guard let thread = record.takeUnjoined() else { return }
        pthread_join(thread, nil)
    }

    /// True once the body has returned.
    public var hasExited: Bool { record.cpuNanoseconds().exited }

    /// CPU time the thread has used (user + system): read from its CPU clock
    /// while it runs, fixed when it ends.
    public var cpuTime: Duration { .nanoseconds(record.cpuNanoseconds().value) }

    /// The calling thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
    @inline(__always)
    public static func currentThreadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * .nanosecondsPerSecond + Int64(time.tv_nsec)
    }

    /// pthread_create with `SCHED_FIFO` at `realTimePriority` set explicitly,
    /// or the default attributes; EPERM where real time is not permitted.
    private static func create(_ thread: inout pthread_t, realTimePriority: Int32?, start: UnsafeMutableRawPointer) -> Int32 {
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
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            start.run()
            return nil
        }, start)
    }
}

/// What the new thread takes with it; released when its body has returned.
private final class ThreadStart: @unchecked Sendable {
    let name: String
    var body: (@Sendable () -> Void)?
    let context: MediaThread.Context
    let record: ThreadRecord

    init(name: String, body: @escaping @Sendable () -> Void, context: MediaThread.Context, record: ThreadRecord) {
        self.name = name
        self.body = body
        self.context = context
        self.record = record
    }

    func run() {
        _ = name.withCString { media_thread_set_name(pthread_self(), $0) }
        record.running(tid: clinux_gettid())
        LogTarget.setCurrent(context.logTarget)
        body?()
        body = nil
        let cpu = MediaThread.currentThreadCPUNanoseconds()
        record.exited(cpuNanoseconds: cpu)
        context.account?.threadExited(tid: clinux_gettid(), cpuNanoseconds: cpu)
        LogTarget.setCurrent(nil)
    }
}

/// A thread's state, shared by its owner's `MediaThread` and the thread.
private final class ThreadRecord: Sendable {
    private struct State {
        /// The pthread while nobody has joined it.
        var unjoined: pthread_t?
        /// The CPU clock while the body runs.
        var clock: clockid_t?
        /// The final CPU time, once the body has returned.
        var exitCPU: Int64?
    }

    private let state = LockedValue(State())

    func started(_ thread: pthread_t) { state.withLock { $0.unjoined = thread } }

    func running(tid: Int32) {
        var clock = clockid_t()
        let ok = pthread_getcpuclockid(pthread_self(), &clock) == 0
        state.withLock { $0.clock = ok ? clock : nil }
    }

    func exited(cpuNanoseconds: Int64) {
        state.withLock {
            $0.exitCPU = cpuNanoseconds
            $0.clock = nil
        }
    }

    func takeUnjoined() -> pthread_t? {
        state.withLock { state in
            defer { state.unjoined = nil }
            return state.unjoined
        }
    }

    /// Read under the lock: while `clock` is set the thread has not passed
    /// `exited`, so its clock id still names a live thread.
    func cpuNanoseconds() -> (value: Int64, exited: Bool) {
        state.withLock { state in
            if let exit = state.exitCPU { return (exit, true) }
            guard let clock = state.clock else { return (0, false) }
            var time = timespec()
            guard clock_gettime(clock, &time) == 0 else { return (0, false) }
            return (Int64(time.tv_sec) * .nanosecondsPerSecond + Int64(time.tv_nsec), false)
        }
    }
}

/// glibc's `pthread_setname_np`, which Swift's Glibc module does not export
/// (it is declared only under `_GNU_SOURCE`); its signature is plain C.
@_silgen_name("pthread_setname_np")
private func media_thread_set_name(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32
