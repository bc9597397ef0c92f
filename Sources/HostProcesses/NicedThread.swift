import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Runs a call on a short-lived thread of its own whose nice value is
/// raised first: a process it spawns (`posix_spawn` clones the calling
/// thread) starts at that nice value before it execs, and so does every
/// process that one forks, with no window in which one escapes. On Linux a
/// nice value belongs to a thread; raising it needs no privilege, lowering
/// it again would, hence the thread that is thrown away. The thread also
/// drops CAP_SYS_NICE from its bounding set (where it may: as root), so that
/// a child run as root cannot lower its nice values again: Chromium as root
/// sets its UI threads to -8 and its foreground renderers to 0 itself.
enum NicedThread {
    private final class Job {
        let niceness: Int32
        let body: () -> Int32
        var result: Int32 = 0
        init(niceness: Int32, body: @escaping () -> Int32) {
            self.niceness = niceness
            self.body = body
        }
    }

    /// Calls `body` on a new thread whose nice value is the calling thread's
    /// plus `niceness` (at most 19, as nice(1)), waits for it and returns
    /// what it returned; an errno value when the thread cannot be made or its
    /// nice value set.
    static func run(niceness: Int32, _ body: () -> Int32) -> Int32 {
        withoutActuallyEscaping(body) { body in
            let job = Job(niceness: niceness, body: body)
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { context in
                let job = Unmanaged<Job>.fromOpaque(context!).takeUnretainedValue()
                let me = id_t(clinux_gettid())
                _ = clinux_drop_sys_nice_bound()  // EPERM without CAP_SETPCAP: nothing to drop then
                errno = 0
                let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), me)
                if errno != 0 || setpriority(__priority_which_t(PRIO_PROCESS.rawValue), me, min(19, current + job.niceness)) != 0 {
                    job.result = errno
                } else {
                    job.result = job.body()
                }
                return nil
            }, Unmanaged.passUnretained(job).toOpaque())
            guard created == 0 else { return created }
            pthread_join(thread, nil)
            return job.result
        }
    }
}
