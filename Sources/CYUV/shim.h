#ifndef CYUV_SHIM_H
#define CYUV_SHIM_H
// libyuv's headers declare its C API inside `extern "C"`; only the conversion
// entry points are needed here.
#include <libyuv/convert_from_argb.h>
#include <libyuv/convert.h>
#include <libyuv/convert_argb.h>
#include <libyuv/scale.h>
#include <libyuv/cpu_id.h>
#endif
