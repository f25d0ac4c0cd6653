// ScreenBackend: what a platform capture backend provides to the capture thread.
// X11 implements it today; DXGI Desktop Duplication (Windows) and
// ScreenCaptureKit (macOS) are planned behind the same interface
// (docs/capture-backends.md). A backend is used by one thread only.
#pragma once
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

class ScreenBackend {
 public:
  virtual ~ScreenBackend() = default;
  virtual Status Open() = 0;
  virtual BackendFeatures features() const = 0;
  virtual uint32_t width() const = 0;
  virtual uint32_t height() const = 0;
  // A file descriptor that becomes readable when the backend has news, or -1.
  virtual int event_fd() const = 0;
  // Drains pending notifications into `hints` (accumulating).
  virtual Status Poll(ChangeHints* hints) = 0;
  // Re-reads the screen size; true in *changed when it differs.
  virtual Status RefreshSize(bool* changed) = 0;
  // Copies the given screen rects (all inside the screen) into `mirror`, which
  // has the backend's current size.
  virtual Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) = 0;
  virtual Status Pointer(int32_t* x, int32_t* y, bool* on_screen) = 0;
  virtual Status Cursor(CursorImage* out) = 0;
};

std::unique_ptr<ScreenBackend> CreateX11Backend(const std::string& display_name);

}  // namespace tilecast
