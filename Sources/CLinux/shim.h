#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux system calls Swift cannot reach: glibc's `syscall()` is variadic, and
// Swift imports no variadic C function. Each wrapper is one call, no logic.
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/capability.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// FUTEX_WAIT_PRIVATE: sleep while *address == expected, for at most `timeout`
// (relative; NULL waits without limit). Returns 0 when woken, -1 with errno
// EAGAIN (the value had changed), ETIMEDOUT or EINTR otherwise.
static inline long clinux_futex_wait(uint32_t *address, uint32_t expected, const struct timespec *timeout) {
    return syscall(SYS_futex, address, FUTEX_WAIT_PRIVATE, expected, timeout, NULL, 0);
}

// FUTEX_WAKE_PRIVATE: wakes up to `count` threads sleeping on `address`.
static inline long clinux_futex_wake(uint32_t *address, int count) {
    return syscall(SYS_futex, address, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

// gettid(2): glibc 2.30+ has a wrapper, but it is declared only under _GNU_SOURCE.
static inline int32_t clinux_gettid(void) { return (int32_t)syscall(SYS_gettid); }

// posix_spawn file actions glibc declares only under _GNU_SOURCE (since
// 2.29 and 2.34): close every descriptor from `low` on, and change the
// working directory, both in the child before exec.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *, int);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict, const char *__restrict);
static inline int clinux_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
}
static inline int clinux_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

// pipe2(2) with close-on-exec (declared only under _GNU_SOURCE): no window in
// which a child spawned by another thread could inherit either end.
extern int pipe2(int fds[2], int flags);
static inline int clinux_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

// eventfd(2) with close-on-exec: a counter a thread can poll beside other descriptors.
static inline int clinux_eventfd_cloexec(void) { return eventfd(0, EFD_CLOEXEC); }

// pidfd_open(2) (glibc 2.36 declares it in <sys/pidfd.h>, which Debian 12's
// module map does not reach): a descriptor that polls readable once the
// process has exited, for a process this one did not start and cannot wait for.
static inline int clinux_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

// prctl(PR_CAPBSET_DROP, CAP_SYS_NICE) (prctl is variadic): the calling
// thread, and every process it starts from then on, can never again gain the
// right to lower a nice value, even as root after exec. Fails with EPERM
// without CAP_SETPCAP (then no exec can gain CAP_SYS_NICE anyway but from a
// file capability).
static inline int clinux_drop_sys_nice_bound(void) { return prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0); }
#endif
