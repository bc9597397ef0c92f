#if canImport(Glibc)
public import Glibc
#endif

/// `posix_spawn` attributes that start a child the way a shell would: no
/// blocked signals and every signal at its default disposition.
///
/// A child inherits the spawning thread's signal mask. Test runners, signal
/// handling threads and Dispatch block SIGINT and SIGTERM on their threads, so
/// a child spawned from one of them could not be stopped by those signals.
/// Owns the attribute object and destroys it once.
public struct ShellSpawnAttributes: ~Copyable {
    private let attributes: UnsafeMutablePointer<posix_spawnattr_t>

    public init() {
        attributes = .allocate(capacity: 1)
        posix_spawnattr_init(attributes)
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(attributes, &empty)
        posix_spawnattr_setsigdefault(attributes, &all)
        posix_spawnattr_setflags(attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    /// The attributes, for `posix_spawn`/`posix_spawnp` during this value's life.
    public var pointer: UnsafePointer<posix_spawnattr_t> { UnsafePointer(attributes) }

    deinit {
        posix_spawnattr_destroy(attributes)
        attributes.deallocate()
    }
}
