#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux system calls Swift cannot reach: glibc's `syscall()` is variadic, and
// Swift imports no variadic C function. Each wrapper is one call, no logic.
#include <linux/futex.h>
#include <stdint.h>
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
#endif
