// X11Lib: the X client libraries, loaded at run time with dlopen so that building
// tilecast needs no X headers and a machine without X libraries still loads the
// addon (X capture then fails with a clear error instead).
//
// The few Xlib/extension types we touch are declared here with the exact LP64
// layout of the public headers (Xlib.h, XShm.h, Xfixes.h, Xdamage.h, Xrandr.h,
// XTest.h). native/tests/x11_abi_test.cc checks every offset against the real
// headers when they are installed (CI installs them for that test only).
#pragma once
#include <cstdint>
#include <string>

namespace tilecast {
namespace x11 {

using XID = unsigned long;
using Window = XID;
using Drawable = XID;
using Atom = unsigned long;
using KeySym = XID;
using Time = unsigned long;
using Damage = XID;
using XserverRegion = XID;
using Bool = int;
using KeyCode = unsigned char;
struct Display;
struct Visual;

struct XImage;
struct XImageFuncs {
  XImage* (*create_image)(Display*, Visual*, unsigned int, int, int, char*, unsigned int, unsigned int, int, int);
  int (*destroy_image)(XImage*);
  void* get_pixel;
  void* put_pixel;
  void* sub_image;
  void* add_pixel;
};

struct XImage {
  int width, height;
  int xoffset;
  int format;
  char* data;
  int byte_order;
  int bitmap_unit;
  int bitmap_bit_order;
  int bitmap_pad;
  int depth;
  int bytes_per_line;
  int bits_per_pixel;
  unsigned long red_mask;
  unsigned long green_mask;
  unsigned long blue_mask;
  char* obdata;
  XImageFuncs f;
};

struct XShmSegmentInfo {
  unsigned long shmseg;
  int shmid;
  char* shmaddr;
  Bool readOnly;
};

struct XErrorEvent {
  int type;
  Display* display;
  XID resourceid;
  unsigned long serial;
  unsigned char error_code;
  unsigned char request_code;
  unsigned char minor_code;
};

// Only `type` is read; the union is as large as Xlib's (24 longs).
union XEvent {
  int type;
  long pad[24];
};

struct XRectangle {
  short x, y;
  unsigned short width, height;
};

struct XFixesCursorImage {
  short x, y;
  unsigned short width, height;
  unsigned short xhot, yhot;
  unsigned long cursor_serial;
  unsigned long* pixels;  // one premultiplied ARGB pixel per unsigned long
  Atom atom;
  const char* name;
};


// Protocol constants used by the capture and input code.
constexpr int kZPixmap = 2;
constexpr int kLSBFirst = 0;
constexpr unsigned long kAllPlanes = ~0UL;
constexpr int kMappingNotify = 34;
constexpr int kXDamageReportNonEmpty = 3;
constexpr int kXDamageNotify = 0;
constexpr unsigned long kXFixesDisplayCursorNotifyMask = 1;
constexpr int kXFixesCursorNotify = 1;
constexpr int kRRScreenChangeNotifyMask = 1;
constexpr int kRRScreenChangeNotify = 0;

using XErrorHandler = int (*)(Display*, XErrorEvent*);
using XIOErrorHandler = int (*)(Display*);
using XIOErrorExitHandler = void (*)(Display*, void*);

// Function table. Required entries fail the load; optional ones (extensions,
// newer libX11) are null when missing and the feature is switched off.
struct Lib {
  // libX11 (required)
  int (*XInitThreads)();
  Display* (*XOpenDisplay)(const char*);
  int (*XCloseDisplay)(Display*);
  XErrorHandler (*XSetErrorHandler)(XErrorHandler);
  XIOErrorHandler (*XSetIOErrorHandler)(XIOErrorHandler);
  int (*XDefaultScreen)(Display*);
  Window (*XRootWindow)(Display*, int);
  Visual* (*XDefaultVisual)(Display*, int);
  int (*XDefaultDepth)(Display*, int);
  int (*XConnectionNumber)(Display*);
  int (*XGetGeometry)(Display*, Drawable, Window*, int*, int*, unsigned int*, unsigned int*, unsigned int*, unsigned int*);
  XImage* (*XGetImage)(Display*, Drawable, int, int, unsigned int, unsigned int, unsigned long, int);
  int (*XPending)(Display*);
  int (*XNextEvent)(Display*, XEvent*);
  int (*XSync)(Display*, Bool);
  int (*XFlush)(Display*);
  int (*XFree)(void*);
  Bool (*XQueryPointer)(Display*, Window, Window*, Window*, int*, int*, int*, int*, unsigned int*);
  KeyCode (*XKeysymToKeycode)(Display*, KeySym);
  KeySym* (*XGetKeyboardMapping)(Display*, KeyCode, int, int*);
  int (*XChangeKeyboardMapping)(Display*, int, int, KeySym*, int);
  int (*XDisplayKeycodes)(Display*, int*, int*);
  int (*XRefreshKeyboardMapping)(void* mapping_event);
  void (*XSetIOErrorExitHandler)(Display*, XIOErrorExitHandler, void*);  // optional (libX11 >= 1.7)

  // libXext: MIT-SHM (optional)
  Bool (*XShmQueryExtension)(Display*);
  XImage* (*XShmCreateImage)(Display*, Visual*, unsigned int, int, char*, XShmSegmentInfo*, unsigned int, unsigned int);
  Bool (*XShmAttach)(Display*, XShmSegmentInfo*);
  Bool (*XShmDetach)(Display*, XShmSegmentInfo*);
  Bool (*XShmGetImage)(Display*, Drawable, XImage*, int, int, unsigned long);

  // libXdamage (optional)
  Bool (*XDamageQueryExtension)(Display*, int*, int*);
  Damage (*XDamageCreate)(Display*, Drawable, int);
  void (*XDamageDestroy)(Display*, Damage);
  void (*XDamageSubtract)(Display*, Damage, XserverRegion, XserverRegion);

  // libXfixes (optional: cursor shape, damage regions)
  Bool (*XFixesQueryExtension)(Display*, int*, int*);
  void (*XFixesSelectCursorInput)(Display*, Window, unsigned long);
  XFixesCursorImage* (*XFixesGetCursorImage)(Display*);
  XserverRegion (*XFixesCreateRegion)(Display*, XRectangle*, int);
  void (*XFixesDestroyRegion)(Display*, XserverRegion);
  XRectangle* (*XFixesFetchRegion)(Display*, XserverRegion, int*);

  // libXrandr (optional)
  Bool (*XRRQueryExtension)(Display*, int*, int*);
  void (*XRRSelectInput)(Display*, Window, int);
  int (*XRRUpdateConfiguration)(XEvent*);

  // libXtst (optional: input injection)
  Bool (*XTestQueryExtension)(Display*, int*, int*, int*, int*);
  int (*XTestFakeMotionEvent)(Display*, int, int, int, unsigned long);
  int (*XTestFakeButtonEvent)(Display*, unsigned int, Bool, unsigned long);
  int (*XTestFakeKeyEvent)(Display*, unsigned int, Bool, unsigned long);

  bool has_shm() const { return XShmQueryExtension && XShmCreateImage && XShmAttach && XShmDetach && XShmGetImage; }
  bool has_damage() const { return XDamageQueryExtension && XDamageCreate && XDamageDestroy && XDamageSubtract && has_fixes_regions(); }
  bool has_fixes_regions() const { return XFixesQueryExtension && XFixesCreateRegion && XFixesDestroyRegion && XFixesFetchRegion; }
  bool has_cursor() const { return XFixesQueryExtension && XFixesSelectCursorInput && XFixesGetCursorImage; }
  bool has_randr() const { return XRRQueryExtension && XRRSelectInput && XRRUpdateConfiguration; }
  bool has_xtest() const { return XTestQueryExtension && XTestFakeMotionEvent && XTestFakeButtonEvent && XTestFakeKeyEvent; }
};

// Loads the libraries once per process. Returns null and sets *error when
// libX11 itself (or a required symbol) is missing. Thread-safe.
const Lib* LoadLib(std::string* error);

// Per-display error capture. Xlib reports protocol errors through a
// process-wide handler whose default exits the process; ours records the error
// against the display instead, and marks a display whose connection broke as
// dead (libX11 >= 1.7 lets the process survive that).
class ErrorTrap {
 public:
  explicit ErrorTrap(Display* dpy);
  ~ErrorTrap();
  ErrorTrap(const ErrorTrap&) = delete;
  ErrorTrap& operator=(const ErrorTrap&) = delete;
  // Error code of the first error since construction or the last Take(), or 0.
  // Call after XSync so the server's replies have arrived.
  int Take();

 private:
  Display* dpy_;
};

// Installs the process-wide handlers (idempotent) and the per-display IO exit
// handler. Call right after XOpenDisplay.
void InstallErrorHandlers(const Lib& lib, Display* dpy);
// True once the connection to `dpy` failed; the Display must not be used again.
bool DisplayIsDead(Display* dpy);
void ForgetDisplay(Display* dpy);

}  // namespace x11
}  // namespace tilecast
