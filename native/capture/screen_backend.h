// ScreenBackend: what a platform capture backend provides to the capture thread.
// X11 and Windows (DXGI Desktop Duplication, GDI fallback) implement it;
// ScreenCaptureKit (macOS) is planned behind the same interface
// (docs/capture-backends.md). A backend is used by one thread only.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../util/frame_view.h"
#include "../util/status.h"

namespace tilecast {

// The screen as last captured: BGRA8, packed rows. The capture thread writes it
// only while the consumer waits for a frame, so the consumer may read it freely
// between frames (the FrameSource contract).
struct ScreenMirror {
  uint32_t width = 0;
  uint32_t height = 0;
  size_t stride = 0;
  std::vector<uint8_t> pixels;
};

struct CursorImage {
  uint32_t width = 0, height = 0;
  uint32_t hot_x = 0, hot_y = 0;
  uint64_t serial = 0;
  std::vector<uint8_t> bgra;  // straight alpha
};

// What changed since the last Poll(). A backend without change notification
// reports `unknown` so the caller grabs and diffs.
struct ChangeHints {
  std::vector<Rect> damage;
  bool unknown = false;
  bool cursor_shape = false;
  bool size = false;
};

struct BackendFeatures {
  bool shared_memory = false;
  bool damage = false;
  bool cursor = false;
  bool resize_events = false;
};

constexpr uint32_t kMaxCursorDimension = 256;

// Backends grab more damage rects than this as their bounding box: one big
// copy costs less than many small round trips.
constexpr size_t kMaxGrabRects = 32;

inline Rect BoundingBox(const std::vector<Rect>& rects) {
  uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
  for (const Rect& r : rects) {
    x0 = std::min(x0, r.x);
    y0 = std::min(y0, r.y);
    x1 = std::max(x1, r.x + r.w);
    y1 = std::max(y1, r.y + r.h);
  }
  return rects.empty() ? Rect{} : Rect{x0, y0, x1 - x0, y1 - y0};
}

// Damage rects clipped to a width x height screen, empty ones dropped.
inline void ClipRectsTo(uint32_t width, uint32_t height, std::vector<Rect>* rects) {
  std::vector<Rect> out;
  for (const Rect& r : *rects) {
    const uint64_t x1 = std::min<uint64_t>(width, uint64_t{r.x} + r.w), y1 = std::min<uint64_t>(height, uint64_t{r.y} + r.h);
    if (r.x < x1 && r.y < y1) out.push_back(Rect{r.x, r.y, static_cast<uint32_t>(x1 - r.x), static_cast<uint32_t>(y1 - r.y)});
  }
  rects->swap(out);
}

class ScreenBackend {
 public:
  virtual ~ScreenBackend() = default;
  virtual Status Open() = 0;
  virtual BackendFeatures features() const = 0;
  virtual uint32_t width() const = 0;
  virtual uint32_t height() const = 0;
  // A file descriptor that becomes readable when the backend has news, or -1.
  virtual int event_fd() const = 0;
  // News already read off event_fd() (so a poll() on it would not wake for it):
  // Xlib queues the events that arrive during any round trip (a pointer query,
  // a grab), and the fd then stays quiet until the next one.
  virtual bool events_queued() { return false; }
  // A backend with no event fd that can block until it has news (DXGI's
  // AcquireNextFrame) waits here for at most timeout_ms and keeps what came for
  // the next Poll(); it returns true when it waited, news or not. False (the
  // default: it cannot wait; or its wait ended early with nothing) makes the
  // capture thread sleep instead: a change is then seen at the next pointer
  // poll, up to poll_interval_ms late.
  virtual bool WaitForNews(int timeout_ms) {
    (void)timeout_ms;
    return false;
  }
  // Drains pending notifications into `hints` (accumulating).
  virtual Status Poll(ChangeHints* hints) = 0;
  // Re-reads the screen size; true in *changed when it differs.
  virtual Status RefreshSize(bool* changed) = 0;
  // Copies the given screen rects (all inside the screen) into `mirror`, which
  // has the backend's current size.
  virtual Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) = 0;
  virtual Status Pointer(int32_t* x, int32_t* y, bool* on_screen) = 0;
  virtual Status Cursor(CursorImage* out) = 0;
  // Which implementation runs ("x11", "dxgi", "gdi"), and why a preferred one
  // was not used ("" when nothing fell back). Valid after a successful Open().
  virtual std::string name() const = 0;
  virtual std::string fallback_reason() const { return std::string(); }
};

#if defined(_WIN32)
// What WindowsBackendOptions::mode asks for: DXGI with GDI fallback, or one of them only.
enum class WindowsCaptureMode { kAuto, kDxgi, kGdi };
struct WindowsBackendOptions {
  WindowsCaptureMode mode = WindowsCaptureMode::kAuto;
  int32_t monitor = -1;  // index in EnumDisplayMonitors order; -1 = the primary monitor
};
std::unique_ptr<ScreenBackend> CreateWindowsBackend(const WindowsBackendOptions& options);
// The single-API backends the auto backend chooses between (win_dxgi_backend.cc, win_gdi_backend.cc).
std::unique_ptr<ScreenBackend> CreateDxgiBackend(int32_t monitor);
std::unique_ptr<ScreenBackend> CreateGdiBackend(int32_t monitor);
#else
std::unique_ptr<ScreenBackend> CreateX11Backend(const std::string& display_name);
#endif

}  // namespace tilecast
