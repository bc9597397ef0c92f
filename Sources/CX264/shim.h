#ifndef CX264_SHIM_H
#define CX264_SHIM_H
// x264.h needs the fixed-width integer types declared first.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <x264.h>
#include <libavutil/log.h>

// `x264_encoder_open` is a macro naming the build's symbol
// (x264_encoder_open_164), which Swift cannot call through.
static inline x264_t *cx264_encoder_open(x264_param_t *param) { return x264_encoder_open(param); }

// `x264_levels` is an array of unknown size (ends with level_idc 0), which
// Swift does not import.
static inline x264_level_t cx264_level(int index) { return x264_levels[index]; }

// x264's log lines into libav's log (and so into the session's logger,
// `LibavLog`), with libav's "[libx264 @ 0x...]" prefix, as libavcodec's
// X264_log routes them: a C function, because the lines come as a va_list.
static inline void cx264_log_to_libav(void *opaque, int level, const char *format, va_list arguments) {
    static const AVClass cx264_class = {
        .class_name = "libx264", .item_name = av_default_item_name, .version = LIBAVUTIL_VERSION_INT,
    };
    static const AVClass *const cx264_context = &cx264_class;
    (void)opaque;
    int mapped = level <= X264_LOG_ERROR ? AV_LOG_ERROR
        : level == X264_LOG_WARNING ? AV_LOG_WARNING
        : level == X264_LOG_INFO ? AV_LOG_INFO : AV_LOG_DEBUG;
    av_vlog((void *)&cx264_context, mapped, format, arguments);
}
static inline void cx264_route_log(x264_param_t *param) {
    param->pf_log = cx264_log_to_libav;
    param->p_log_private = NULL;
}

// NAL unit types as x264 reports them (`nal_unit_type_e`).
static const int cx264_nal_sei = NAL_SEI;
#endif
