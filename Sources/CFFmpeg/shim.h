#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <errno.h>

// AVERROR(e) negates errno values on POSIX; a function-like macro Swift cannot import.
static inline int cffmpeg_averror(int posix_errno) { return AVERROR(posix_errno); }
// AVERROR(EAGAIN): "send more input / read output first" in send/receive coding.
static const int CFFMPEG_AVERROR_EAGAIN = AVERROR(EAGAIN);
// AVERROR_EOF is built with FFERRTAG, a macro Swift cannot evaluate.
static const int CFFMPEG_AVERROR_EOF = AVERROR_EOF;
// AVERROR_EXIT (FFERRTAG): a blocking I/O call was ended by the interrupt callback.
static const int CFFMPEG_AVERROR_EXIT = AVERROR_EXIT;
// AV_NOPTS_VALUE is a cast of a 64-bit literal, not imported by Swift.
static const int64_t CFFMPEG_AV_NOPTS_VALUE = AV_NOPTS_VALUE;
// avio_alloc_context's write callback takes `uint8_t *` before libavformat 61 and
// `const uint8_t *` from 61 on (FF_API_AVIO_WRITE_NONCONST): one signature for Swift,
// a write-only context without seeking.
typedef int (*cffmpeg_avio_write_fn)(void *opaque, const uint8_t *buf, int buf_size);
static inline AVIOContext *cffmpeg_avio_alloc_write_context(unsigned char *buffer, int buffer_size,
                                                            void *opaque, cffmpeg_avio_write_fn write) {
#if LIBAVFORMAT_VERSION_MAJOR < 61
    return avio_alloc_context(buffer, buffer_size, 1, opaque, NULL, (int (*)(void *, uint8_t *, int))write, NULL);
#else
    return avio_alloc_context(buffer, buffer_size, 1, opaque, NULL, write, NULL);
#endif
}
#endif
