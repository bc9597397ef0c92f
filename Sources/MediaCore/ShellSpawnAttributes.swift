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

    /// `newProcessGroup`: the child leads a process group of its own, so a
    /// signal sent to the group reaches everything it started (a shell's
    /// pipeline, say).
    public init(newProcessGroup: Bool = false) {
        attributes = .allocate(capacity: 1)
        posix_spawnattr_init(attributes)
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(attributes, &empty)
        posix_spawnattr_setsigdefault(attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(attributes, Int16(flags))
    }

    /// The attributes, for `posix_spawn`/`posix_spawnp` during this value's life.
    public var pointer: UnsafePointer<posix_spawnattr_t> { UnsafePointer(attributes) }

    deinit {
        posix_spawnattr_destroy(attributes)
        attributes.deallocate()
    }
}
