#ifndef CSRT_SHIM_H
#define CSRT_SHIM_H
// Haivision's SRT library, the same one libavformat links (Debian's GnuTLS
// flavour). Everything needed imports as is; the syslog levels SRT's log
// handler receives come with it.
#include <srt/srt.h>
#include <syslog.h>
#endif
