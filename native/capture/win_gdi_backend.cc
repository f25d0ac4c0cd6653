// GDI capture backend (Windows): BitBlt from the screen DC into a DIB section
// of the monitor's size, rows copied into the mirror; cursor via GetCursorInfo
// and DrawIconEx. This is the fallback when DXGI Desktop Duplication is
// unavailable (Remote Desktop sessions, old drivers, Wine).
//
// GDI has no change notification, so Poll() grabs the monitor itself and
// compares it with the previous grab: the changed row bands become the damage
// hints, and an unchanged screen delivers nothing (no frame, no diff, no encode
// above). While neither the screen nor the pointer has changed for a second,
// the polling grab slows to every kIdleGrabMs: an idle host then costs a few
// grabs a second instead of one per capture-thread wake (see bench/windows.js).
// Keyboard or mouse input ends the quiet spell at once, so what a key typed
// after a pause does is seen at the next wake; a change nobody typed for (a
// clock, a notification) is seen up to kIdleGrabMs later.
#include <algorithm>
#include <cstring>

#include "capture_thread.h"
#include "screen_backend.h"
#include "win_screen.h"

namespace tilecast {
namespace {

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kIdleAfterMs = 1000;
constexpr uint64_t kIdleGrabMs = 250;
constexpr uint64_t kMonitorCheckMs = 1000;

class GdiBackend final : public ScreenBackend {
 public:
  explicit GdiBackend(int32_t monitor) : monitor_index_(monitor) {}
  ~GdiBackend() override { Release(); }

  Status Open() override {
    TC_RETURN_IF_ERROR(win::FindMonitor(monitor_index_, &monitor_));
    TC_RETURN_IF_ERROR(UseMonitorSize());
    screen_dc_ = GetDC(nullptr);
    if (!screen_dc_) return win::LastError("GetDC(screen)");
    TC_RETURN_IF_ERROR(CreateSurface());
    CURSORINFO ci{};
    ci.cbSize = sizeof ci;
    features_.cursor = GetCursorInfo(&ci) != 0;
    return Status::Ok();
  }

  BackendFeatures features() const override { return features_; }
  uint32_t width() const override { return width_; }
  uint32_t height() const override { return height_; }
  int event_fd() const override { return -1; }
  std::string name() const override { return "gdi"; }

  Status Poll(ChangeHints* hints) override {
    fresh_ = false;
    const uint64_t now = MonotonicNs();
    CURSORINFO ci{};
    ci.cbSize = sizeof ci;
    if (features_.cursor && GetCursorInfo(&ci)) {
      if (ci.hCursor != last_cursor_) hints->cursor_shape = true;
      if (ci.ptScreenPos.x != last_pos_.x || ci.ptScreenPos.y != last_pos_.y) last_activity_ns_ = now;
      last_pos_ = ci.ptScreenPos;
    }
    // Input (local, or a viewer's through SendInput) usually changes the screen a moment
    // later: a key typed after a quiet spell is then grabbed at the next wake, not at the
    // next idle grab up to kIdleGrabMs away.
    LASTINPUTINFO lii{};
    lii.cbSize = sizeof lii;
    if (GetLastInputInfo(&lii) && lii.dwTime != last_input_tick_) {
      last_input_tick_ = lii.dwTime;
      last_activity_ns_ = now;
    }
    // No display-change message reaches a window-less thread: compare the monitor's rect,
    // once a second (enumerating monitors is not free, under Wine several ms).
    if (now - last_monitor_check_ns_ >= kMonitorCheckMs * kMs) {
      last_monitor_check_ns_ = now;
      win::Monitor m;
      if (win::FindMonitor(monitor_index_, &m).ok() && !EqualRect(&m.rect, &monitor_.rect)) {
        hints->size = true;
        return Status::Ok();
      }
    }
    const bool idle = now - last_activity_ns_ >= kIdleAfterMs * kMs;
    if (idle && now - last_poll_grab_ns_ < kIdleGrabMs * kMs) return Status::Ok();
    last_poll_grab_ns_ = now;
    TC_RETURN_IF_ERROR(BlitRect(Rect{0, 0, width_, height_}));
    fresh_ = true;
    const size_t before = hints->damage.size();
    ChangedBands(&hints->damage);
    if (hints->damage.size() > before) last_activity_ns_ = now;
    return Status::Ok();
  }

  Status RefreshSize(bool* changed) override {
    win::Monitor now;
    TC_RETURN_IF_ERROR(win::FindMonitor(monitor_index_, &now));
    const uint32_t old_w = width_, old_h = height_;
    monitor_ = now;
    TC_RETURN_IF_ERROR(UseMonitorSize());
    *changed = old_w != width_ || old_h != height_;
    if (*changed) TC_RETURN_IF_ERROR(CreateSurface());
    return Status::Ok();
  }

  Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) override {
    if (mirror->width != width_ || mirror->height != height_ || !bits_) {
      return Status::Error(ErrorCode::kInternal, "mirror size differs from the screen");
    }
    std::vector<Rect> todo = rects;
    if (todo.size() > kMaxGrabRects) todo = {BoundingBox(todo)};
    for (const Rect& r : todo) {
      if (r.w == 0 || r.h == 0 || r.x + r.w > width_ || r.y + r.h > height_) {
        return Status::Error(ErrorCode::kInternal, "grab rect outside the screen");
      }
      // The poll just grabbed the whole monitor: copy from that; else (a verification or
      // first grab between polling grabs) read the screen now.
      if (!fresh_) TC_RETURN_IF_ERROR(BlitRect(r));
    }
    for (const Rect& r : todo) {
      for (uint32_t y = r.y; y < r.y + r.h; y++) {
        const size_t off = (static_cast<size_t>(y) * width_ + r.x) * 4;
        memcpy(&mirror->pixels[y * mirror->stride + r.x * 4], bits_ + off, static_cast<size_t>(r.w) * 4);
        if (!fresh_) memcpy(&previous_[off], bits_ + off, static_cast<size_t>(r.w) * 4);
      }
    }
    return Status::Ok();
  }

  Status Pointer(int32_t* x, int32_t* y, bool* on_screen) override {
    CURSORINFO ci{};
    ci.cbSize = sizeof ci;
    if (!GetCursorInfo(&ci)) {
      // GetCursorInfo fails while the secure desktop has the input.
      *on_screen = false;
      return Status::Ok();
    }
    *x = ci.ptScreenPos.x - monitor_.rect.left;
    *y = ci.ptScreenPos.y - monitor_.rect.top;
    *on_screen = (ci.flags & CURSOR_SHOWING) != 0 && PtInRect(&monitor_.rect, ci.ptScreenPos);
    return Status::Ok();
  }

  Status Cursor(CursorImage* out) override {
    CURSORINFO ci{};
    ci.cbSize = sizeof ci;
    if (!GetCursorInfo(&ci)) return win::LastError("GetCursorInfo");
    if (ci.hCursor != last_cursor_ || serial_ == 0) {
      last_cursor_ = ci.hCursor;
      serial_++;
    }
    // A handle another process made can be unreadable from here (Wine keeps cursor handles
    // per process; Windows shares them): then the standard arrow, never a failed capture.
    if (ci.hCursor && !win::CursorShape(ci.hCursor, out).ok()) {
      TC_RETURN_IF_ERROR(win::CursorShape(LoadCursor(nullptr, IDC_ARROW), out));
    } else if (!ci.hCursor) {
      *out = CursorImage{};  // hidden: a transparent 1x1 cursor
      out->width = out->height = 1;
      out->bgra.assign(4, 0);
    }
    out->serial = serial_;
    return Status::Ok();
  }

 private:
  Status UseMonitorSize() {
    const int64_t w = int64_t{monitor_.rect.right} - monitor_.rect.left, h = int64_t{monitor_.rect.bottom} - monitor_.rect.top;
    if (w <= 0 || h <= 0 || w > kMaxDimension || h > kMaxDimension) {
      return Status::Error(ErrorCode::kTooLarge, "monitor is " + std::to_string(w) + "x" + std::to_string(h) + ", outside 1.." +
                                                     std::to_string(kMaxDimension));
    }
    width_ = static_cast<uint32_t>(w);
    height_ = static_cast<uint32_t>(h);
    return Status::Ok();
  }

  // BitBlt of one rect of the monitor into the DIB section (same coordinates).
  Status BlitRect(const Rect& r) {
    // CAPTUREBLT includes layered (translucent) windows, as the screen shows them.
    if (!BitBlt(mem_dc_, static_cast<int>(r.x), static_cast<int>(r.y), static_cast<int>(r.w), static_cast<int>(r.h), screen_dc_,
                monitor_.rect.left + static_cast<int>(r.x), monitor_.rect.top + static_cast<int>(r.y), SRCCOPY | CAPTUREBLT)) {
      // The secure desktop (UAC prompt, lock screen) refuses other desktops' processes.
      return Status::Error(ErrorCode::kUnavailable, "the screen cannot be read (BitBlt failed, Windows error " +
                                                        std::to_string(GetLastError()) +
                                                        "): the secure desktop (UAC prompt, lock screen) may be showing");
    }
    GdiFlush();  // the DIB section's memory is current only after the batch is flushed
    return Status::Ok();
  }

  // Rows of the fresh grab that differ from the previous one, as full-width bands
  // (adjacent rows merged); `previous_` is brought up to date on the way.
  void ChangedBands(std::vector<Rect>* out) {
    const size_t row = static_cast<size_t>(width_) * 4;
    std::vector<Rect> bands;
    for (uint32_t y = 0; y < height_; y++) {
      uint8_t* prev = &previous_[y * row];
      const uint8_t* cur = bits_ + y * row;
      if (memcmp(prev, cur, row) == 0) continue;
      memcpy(prev, cur, row);
      if (!bands.empty() && bands.back().y + bands.back().h == y) bands.back().h++;
      else bands.push_back(Rect{0, y, width_, 1});
    }
    if (bands.size() > kMaxGrabRects) bands = {BoundingBox(bands)};
    out->insert(out->end(), bands.begin(), bands.end());
  }

  Status CreateSurface() {
    ReleaseSurface();
    // Starts out differing from any screen: the first polling grab reports all of it.
    previous_.assign(static_cast<size_t>(width_) * height_ * 4, 0);
    for (size_t i = 3; i < previous_.size(); i += 4) previous_[i] = 0xa5;
    BITMAPINFO bi{};
    bi.bmiHeader.biSize = sizeof bi.bmiHeader;
    bi.bmiHeader.biWidth = static_cast<LONG>(width_);
    bi.bmiHeader.biHeight = -static_cast<LONG>(height_);  // top-down rows, as the mirror
    bi.bmiHeader.biPlanes = 1;
    bi.bmiHeader.biBitCount = 32;
    bi.bmiHeader.biCompression = BI_RGB;
    mem_dc_ = CreateCompatibleDC(screen_dc_);
    if (!mem_dc_) return win::LastError("CreateCompatibleDC");
    void* p = nullptr;
    bitmap_ = CreateDIBSection(mem_dc_, &bi, DIB_RGB_COLORS, &p, nullptr, 0);
    if (!bitmap_ || !p) return win::LastError("CreateDIBSection");
    bits_ = static_cast<uint8_t*>(p);
    old_bitmap_ = SelectObject(mem_dc_, bitmap_);
    return Status::Ok();
  }

  void ReleaseSurface() {
    if (old_bitmap_) SelectObject(mem_dc_, old_bitmap_);
    if (bitmap_) DeleteObject(bitmap_);
    if (mem_dc_) DeleteDC(mem_dc_);
    old_bitmap_ = nullptr;
    bitmap_ = nullptr;
    mem_dc_ = nullptr;
    bits_ = nullptr;
  }

  void Release() {
    ReleaseSurface();
    if (screen_dc_) ReleaseDC(nullptr, screen_dc_);
    screen_dc_ = nullptr;
  }

  const int32_t monitor_index_;
  win::Monitor monitor_;
  uint32_t width_ = 0, height_ = 0;
  BackendFeatures features_;
  HDC screen_dc_ = nullptr;
  HDC mem_dc_ = nullptr;
  HBITMAP bitmap_ = nullptr;
  HGDIOBJ old_bitmap_ = nullptr;
  uint8_t* bits_ = nullptr;
  HCURSOR last_cursor_ = nullptr;
  uint64_t serial_ = 0;
  std::vector<uint8_t> previous_;  // the last grab the change comparison saw
  bool fresh_ = false;             // the DIB holds a whole-monitor grab made by this Poll()
  POINT last_pos_{INT32_MIN, INT32_MIN};
  uint64_t last_activity_ns_ = 0;  // the screen, the pointer or the input last changed
  DWORD last_input_tick_ = 0;      // GetLastInputInfo's time at the last poll
  uint64_t last_poll_grab_ns_ = 0;
  uint64_t last_monitor_check_ns_ = 0;
};

}  // namespace

std::unique_ptr<ScreenBackend> CreateGdiBackend(int32_t monitor) { return std::make_unique<GdiBackend>(monitor); }

}  // namespace tilecast
