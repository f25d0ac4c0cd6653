#include "x11_lib.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace tilecast {
namespace x11 {
namespace {

void* OpenFirst(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* h = dlopen(n, RTLD_NOW | RTLD_LOCAL)) return h;
  }
  return nullptr;
}

template <typename Fn>
void Bind(void* handle, const char* name, Fn& slot) {
  slot = handle ? reinterpret_cast<Fn>(dlsym(handle, name)) : nullptr;
}

struct Loaded {
  Lib lib{};
  std::string error;
  bool ok = false;
};

Loaded LoadOnce() {
  Loaded out;
  Lib& l = out.lib;
  void* x11 = OpenFirst({"libX11.so.6", "libX11.so"});
  if (!x11) {
    out.error = "libX11.so.6 not found (install the X client libraries, e.g. Debian's libx11-6)";
    return out;
  }
#define TC_BIND(h, name) Bind(h, #name, l.name)
  TC_BIND(x11, XInitThreads);
  TC_BIND(x11, XOpenDisplay);
  TC_BIND(x11, XCloseDisplay);
  TC_BIND(x11, XSetErrorHandler);
  TC_BIND(x11, XSetIOErrorHandler);
  TC_BIND(x11, XDefaultScreen);
  TC_BIND(x11, XRootWindow);
  TC_BIND(x11, XDefaultVisual);
  TC_BIND(x11, XDefaultDepth);
  TC_BIND(x11, XConnectionNumber);
  TC_BIND(x11, XGetGeometry);
  TC_BIND(x11, XGetImage);
  TC_BIND(x11, XPending);
  TC_BIND(x11, XNextEvent);
  TC_BIND(x11, XSync);
  TC_BIND(x11, XFlush);
  TC_BIND(x11, XFree);
  TC_BIND(x11, XQueryPointer);
  TC_BIND(x11, XKeysymToKeycode);
  TC_BIND(x11, XGetKeyboardMapping);
  TC_BIND(x11, XChangeKeyboardMapping);
  TC_BIND(x11, XDisplayKeycodes);
  TC_BIND(x11, XRefreshKeyboardMapping);
  TC_BIND(x11, XSetIOErrorExitHandler);
  const void* required[] = {
      (void*)l.XInitThreads, (void*)l.XOpenDisplay, (void*)l.XCloseDisplay, (void*)l.XSetErrorHandler,
      (void*)l.XSetIOErrorHandler, (void*)l.XDefaultScreen, (void*)l.XRootWindow, (void*)l.XDefaultVisual,
      (void*)l.XDefaultDepth, (void*)l.XConnectionNumber, (void*)l.XGetGeometry, (void*)l.XGetImage,
      (void*)l.XPending, (void*)l.XNextEvent, (void*)l.XSync, (void*)l.XFlush, (void*)l.XFree,
      (void*)l.XQueryPointer, (void*)l.XKeysymToKeycode, (void*)l.XGetKeyboardMapping,
      (void*)l.XChangeKeyboardMapping, (void*)l.XDisplayKeycodes, (void*)l.XRefreshKeyboardMapping};
  for (const void* fn : required) {
    if (!fn) {
      out.error = "libX11.so.6 lacks a required function (too old a libX11?)";
      return out;
    }
  }
  void* xext = OpenFirst({"libXext.so.6", "libXext.so"});
  TC_BIND(xext, XShmQueryExtension);
  TC_BIND(xext, XShmCreateImage);
  TC_BIND(xext, XShmAttach);
  TC_BIND(xext, XShmDetach);
  TC_BIND(xext, XShmGetImage);
  void* damage = OpenFirst({"libXdamage.so.1", "libXdamage.so"});
  TC_BIND(damage, XDamageQueryExtension);
  TC_BIND(damage, XDamageCreate);
  TC_BIND(damage, XDamageDestroy);
  TC_BIND(damage, XDamageSubtract);
  void* fixes = OpenFirst({"libXfixes.so.3", "libXfixes.so"});
  TC_BIND(fixes, XFixesQueryExtension);
  TC_BIND(fixes, XFixesSelectCursorInput);
  TC_BIND(fixes, XFixesGetCursorImage);
  TC_BIND(fixes, XFixesCreateRegion);
  TC_BIND(fixes, XFixesDestroyRegion);
  TC_BIND(fixes, XFixesFetchRegion);
  void* randr = OpenFirst({"libXrandr.so.2", "libXrandr.so"});
  TC_BIND(randr, XRRQueryExtension);
  TC_BIND(randr, XRRSelectInput);
  TC_BIND(randr, XRRUpdateConfiguration);
  void* xtst = OpenFirst({"libXtst.so.6", "libXtst.so"});
  TC_BIND(xtst, XTestQueryExtension);
  TC_BIND(xtst, XTestFakeMotionEvent);
  TC_BIND(xtst, XTestFakeButtonEvent);
  TC_BIND(xtst, XTestFakeKeyEvent);
#undef TC_BIND
  // Capture and input use separate connections from separate threads.
  l.XInitThreads();
  out.ok = true;
  return out;
}

// Per-display error state, written by the process-wide handlers.
struct DisplayErrors {
  int first_error = 0;
  int traps = 0;
  bool dead = false;
};
std::mutex g_errors_mu;
std::map<Display*, DisplayErrors> g_errors;

int OnXError(Display* dpy, XErrorEvent* ev) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  DisplayErrors& e = g_errors[dpy];
  if (e.first_error == 0) e.first_error = ev->error_code ? ev->error_code : 1;
  return 0;
}

int OnXIOError(Display* dpy) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  g_errors[dpy].dead = true;
  return 0;
}

// Called instead of exit(): the connection is gone; the owner notices
// DisplayIsDead() and stops using the Display.
void OnXIOExit(Display* dpy, void*) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  g_errors[dpy].dead = true;
}

}  // namespace

const Lib* LoadLib(std::string* error) {
  static const Loaded loaded = LoadOnce();
  if (!loaded.ok) {
    if (error) *error = loaded.error;
    return nullptr;
  }
  return &loaded.lib;
}

void InstallErrorHandlers(const Lib& lib, Display* dpy) {
  static std::once_flag once;
  std::call_once(once, [&lib] {
    lib.XSetErrorHandler(OnXError);
    lib.XSetIOErrorHandler(OnXIOError);
  });
  if (lib.XSetIOErrorExitHandler) lib.XSetIOErrorExitHandler(dpy, OnXIOExit, nullptr);
  std::lock_guard<std::mutex> lock(g_errors_mu);
  g_errors[dpy] = DisplayErrors{};
}

bool DisplayIsDead(Display* dpy) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  auto it = g_errors.find(dpy);
  return it != g_errors.end() && it->second.dead;
}

void ForgetDisplay(Display* dpy) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  g_errors.erase(dpy);
}

ErrorTrap::ErrorTrap(Display* dpy) : dpy_(dpy) {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  DisplayErrors& e = g_errors[dpy_];
  if (e.traps++ == 0) e.first_error = 0;
}

ErrorTrap::~ErrorTrap() {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  auto it = g_errors.find(dpy_);
  if (it != g_errors.end()) it->second.traps--;
}

int ErrorTrap::Take() {
  std::lock_guard<std::mutex> lock(g_errors_mu);
  DisplayErrors& e = g_errors[dpy_];
  int code = e.first_error;
  e.first_error = 0;
  return code;
}

}  // namespace x11
}  // namespace tilecast
