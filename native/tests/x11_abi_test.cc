// Checks that the Xlib structs declared in capture/x11_lib.h (so the build needs
// no X headers) have the layout of the real headers. Built only when the
// headers are installed (the Makefile defines TC_HAVE_X11_HEADERS; CI installs
// libx11-dev, libxext-dev and libxfixes-dev for this).
#include "../capture/x11_lib.h"
#include "harness.h"

#ifdef TC_HAVE_X11_HEADERS
// After our header: Xlib.h defines macros (Bool, Status) that would clash.
#include <X11/Xlib.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xfixes.h>

#include <cstddef>

namespace ours = tilecast::x11;

#define SAME_FIELD(T, ourT, f)                                                  \
  static_assert(offsetof(T, f) == offsetof(ourT, f), #T "." #f " offset");      \
  static_assert(sizeof(((T*)nullptr)->f) == sizeof(((ourT*)nullptr)->f), #T "." #f " size")

SAME_FIELD(XImage, ours::XImage, width);
SAME_FIELD(XImage, ours::XImage, format);
SAME_FIELD(XImage, ours::XImage, data);
SAME_FIELD(XImage, ours::XImage, byte_order);
SAME_FIELD(XImage, ours::XImage, depth);
SAME_FIELD(XImage, ours::XImage, bytes_per_line);
SAME_FIELD(XImage, ours::XImage, bits_per_pixel);
SAME_FIELD(XImage, ours::XImage, red_mask);
SAME_FIELD(XImage, ours::XImage, blue_mask);
SAME_FIELD(XImage, ours::XImage, obdata);
static_assert(offsetof(XImage, f.destroy_image) == offsetof(ours::XImage, f.destroy_image), "XImage.f.destroy_image");
static_assert(sizeof(XImage) == sizeof(ours::XImage), "XImage size");
SAME_FIELD(XShmSegmentInfo, ours::XShmSegmentInfo, shmseg);
SAME_FIELD(XShmSegmentInfo, ours::XShmSegmentInfo, shmid);
SAME_FIELD(XShmSegmentInfo, ours::XShmSegmentInfo, shmaddr);
SAME_FIELD(XShmSegmentInfo, ours::XShmSegmentInfo, readOnly);
static_assert(sizeof(XShmSegmentInfo) == sizeof(ours::XShmSegmentInfo), "XShmSegmentInfo size");
SAME_FIELD(XErrorEvent, ours::XErrorEvent, error_code);
SAME_FIELD(XErrorEvent, ours::XErrorEvent, request_code);
static_assert(sizeof(XEvent) == sizeof(ours::XEvent), "XEvent size");
SAME_FIELD(XRectangle, ours::XRectangle, x);
SAME_FIELD(XRectangle, ours::XRectangle, width);
static_assert(sizeof(XRectangle) == sizeof(ours::XRectangle), "XRectangle size");
SAME_FIELD(XFixesCursorImage, ours::XFixesCursorImage, width);
SAME_FIELD(XFixesCursorImage, ours::XFixesCursorImage, xhot);
SAME_FIELD(XFixesCursorImage, ours::XFixesCursorImage, cursor_serial);
SAME_FIELD(XFixesCursorImage, ours::XFixesCursorImage, pixels);
static_assert(sizeof(XFixesCursorImage) == sizeof(ours::XFixesCursorImage), "XFixesCursorImage size");
static_assert(ZPixmap == ours::kZPixmap && LSBFirst == ours::kLSBFirst && MappingNotify == ours::kMappingNotify, "constants");
static_assert(XFixesDisplayCursorNotifyMask == ours::kXFixesDisplayCursorNotifyMask && XFixesCursorNotify == ours::kXFixesCursorNotify, "XFixes constants");

TEST(x11_abi_matches_the_real_headers) { CHECK(true); }  // the static_asserts above are the test
#endif
