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
