// The Windows capture backend as the capture thread sees it: DXGI Desktop
// Duplication when the system offers it, else GDI, with the reason DXGI was
// not used kept for the host to report (a Remote Desktop session, a driver
// without duplication, Wine's stub). Each (re)open chooses again, so after a
// failure (secure desktop, lost device) the capture thread's reopen goes back
// to DXGI once it works.
#include "screen_backend.h"

namespace tilecast {
namespace {

class AutoBackend final : public ScreenBackend {
 public:
  explicit AutoBackend(int32_t monitor) : monitor_(monitor) {}

  Status Open() override {
    auto dxgi = CreateDxgiBackend(monitor_);
    Status s = dxgi->Open();
    if (s.ok()) {
      inner_ = std::move(dxgi);
      fallback_reason_.clear();
      return s;
    }
    if (s.code() == ErrorCode::kInvalidArgument) return s;  // no such monitor: GDI would say the same
    fallback_reason_ = "DXGI Desktop Duplication unavailable: " + s.message();
    inner_ = CreateGdiBackend(monitor_);
    return inner_->Open();
  }

  BackendFeatures features() const override { return inner_->features(); }
  uint32_t width() const override { return inner_->width(); }
  uint32_t height() const override { return inner_->height(); }
  int event_fd() const override { return inner_->event_fd(); }
  bool WaitForNews(int timeout_ms) override { return inner_->WaitForNews(timeout_ms); }
  Status Poll(ChangeHints* hints) override { return inner_->Poll(hints); }
  Status RefreshSize(bool* changed) override { return inner_->RefreshSize(changed); }
  Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) override { return inner_->Grab(rects, mirror); }
  Status Pointer(int32_t* x, int32_t* y, bool* on_screen) override { return inner_->Pointer(x, y, on_screen); }
  Status Cursor(CursorImage* out) override { return inner_->Cursor(out); }
  std::string name() const override { return inner_ ? inner_->name() : "auto"; }
  std::string fallback_reason() const override { return fallback_reason_; }

 private:
  const int32_t monitor_;
  std::unique_ptr<ScreenBackend> inner_;
  std::string fallback_reason_;
};

}  // namespace

std::unique_ptr<ScreenBackend> CreateWindowsBackend(const WindowsBackendOptions& options) {
  switch (options.mode) {
    case WindowsCaptureMode::kDxgi: return CreateDxgiBackend(options.monitor);
    case WindowsCaptureMode::kGdi: return CreateGdiBackend(options.monitor);
    case WindowsCaptureMode::kAuto: break;
  }
  return std::make_unique<AutoBackend>(options.monitor);
}

}  // namespace tilecast
