#if canImport(Glibc)
import Glibc
#endif

/// A named OS thread that runs one pipeline role (capture, encode, mux) and is
/// joined when the session stops. The pipeline's threads are plain pthreads, not
/// Swift tasks: they block in C calls (`XShmGetImage`, `snd_pcm_readi`,
/// `clock_nanosleep`) that must not occupy the cooperative pool.
public final class MediaThread: @unchecked Sendable {
    private var handle: pthread_t?
    /// The role this thread plays, for diagnostics.
    public let name: String
    private let body: @Sendable () -> Void

    /// Starts a thread for the role `name` running `body`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<MediaThread>.fromOpaque(raw!).takeRetainedValue()
            // Named, so `top -H`, perf and /proc/PID/task show which role costs what.
            _ = String(owner.name.prefix(15)).withCString { media_thread_set_name(pthread_self(), $0) }
            owner.body()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed (\(status))")
        handle = thread
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
