#ifndef CALSA_SHIM_H
#define CALSA_SHIM_H
// Re-exports alsa-lib for Swift; alsa-lib's API is plain functions, which Swift
// imports directly. What is below exists only because Swift cannot define a
// C variadic function.
#include <alsa/asoundlib.h>
#include <stdarg.h>
#include <stdio.h>

// alsa-lib prints its own error lines to stderr before returning the error
// code, through a variadic handler Swift cannot define. These forward each
// formatted line to `calsa_route_error`, defined in Swift (CaptureALSA, with
// @_cdecl), which sends it to the logger of the thread's session.
extern void calsa_route_error(const char *file, int line, const char *function, int err, const char *message);

static void calsa_forward_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    char message[512];
    va_list arguments;
    va_start(arguments, fmt);
    vsnprintf(message, sizeof message, fmt, arguments);
    va_end(arguments);
    calsa_route_error(file, line, function, err, message);
}

static inline void calsa_route_library_errors(void) { snd_lib_error_set_handler(calsa_forward_error); }
#endif
