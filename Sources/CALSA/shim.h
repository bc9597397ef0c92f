#ifndef CALSA_SHIM_H
#define CALSA_SHIM_H
// Re-exports alsa-lib for Swift. Nothing here but the include: alsa-lib's API is
// plain functions, which Swift imports directly.
#include <alsa/asoundlib.h>

// alsa-lib prints its own error lines to stderr before returning the error
// code. Swift cannot define the variadic callback that would silence it, so
// this empty one is here; the capture module reports errors as values instead.
static void calsa_discard_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void calsa_silence_library_errors(void) { snd_lib_error_set_handler(calsa_discard_error); }
#endif
