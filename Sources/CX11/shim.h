#ifndef CX11_SHIM_H
#define CX11_SHIM_H
#include <X11/Xlib.h>
#include <xcb/xcb.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <sys/ipc.h>
#include <sys/shm.h>

// Xlib's `XDestroyImage` is a macro over a function pointer in the image; Swift
// cannot call it, so this forwards to it.
static inline int cx11_destroy_image(XImage *image) { return XDestroyImage(image); }

// `IPC_PRIVATE` is a cast macro Swift does not import.
static const key_t CX11_IPC_PRIVATE = IPC_PRIVATE;
#endif
