#ifndef CALSA_SHIM_H
#define CALSA_SHIM_H
// Re-exports alsa-lib for Swift. Nothing here but the include: alsa-lib's API is
// plain functions, which Swift imports directly.
#include <alsa/asoundlib.h>
#endif
