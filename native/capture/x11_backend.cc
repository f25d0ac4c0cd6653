// X11 capture backend: MIT-SHM grabs (XGetImage when shared memory is not
// available, e.g. a remote display), XDamage regions as change hints, XFixes
// cursor shape, RandR size changes. One Display connection, used only by the
// capture thread.
#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "screen_backend.h"
#include "x11_lib.h"

namespace tilecast {
namespace {

using namespace x11;

class X11Backend final : public ScreenBackend {
 public:
  explicit X11Backend(std::string display_name) : display_name_(std::move(display_name)) {}
  ~X11Backend() override { Close(); }

  Status Open() override {
    std::string error;
    lib_ = LoadLib(&error);
    if (!lib_) return Status::Error(ErrorCode::kUnavailable, error);
    const char* name = display_name_.empty() ? nullptr : display_name_.c_str();
    dpy_ = lib_->XOpenDisplay(name);
    if (!dpy_) {
      return Status::Error(ErrorCode::kUnavailable,
                           "cannot open X display '" + (display_name_.empty() ? std::string("$DISPLAY") : display_name_) +
                               "' (is an X server running there, and may this user connect?)");
    }
    InstallErrorHandlers(*lib_, dpy_);
    screen_ = lib_->XDefaultScreen(dpy_);
    root_ = lib_->XRootWindow(dpy_, screen_);
    visual_ = lib_->XDefaultVisual(dpy_, screen_);
    depth_ = lib_->XDefaultDepth(dpy_, screen_);
    bool changed = false;
    TC_RETURN_IF_ERROR(RefreshSize(&changed));
    TC_RETURN_IF_ERROR(CheckPixelFormat());

    int ev = 0, err = 0;
    if (lib_->has_fixes_regions() && lib_->XFixesQueryExtension(dpy_, &ev, &err)) {
      fixes_event_ = ev;
      if (lib_->has_cursor()) {
        lib_->XFixesSelectCursorInput(dpy_, root_, kXFixesDisplayCursorNotifyMask);
        features_.cursor = true;
      }
      // TILECAST_X11_NO_DAMAGE: poll instead (the benchmark's baseline, and for
      // servers whose damage reports are unreliable).
      if (lib_->has_damage() && getenv("TILECAST_X11_NO_DAMAGE") == nullptr && lib_->XDamageQueryExtension(dpy_, &ev, &err)) {
        damage_event_ = ev;
        damage_ = lib_->XDamageCreate(dpy_, root_, kXDamageReportNonEmpty);
        region_ = lib_->XFixesCreateRegion(dpy_, nullptr, 0);
        features_.damage = damage_ != 0 && region_ != 0;
      }
    }
    if (lib_->has_randr() && lib_->XRRQueryExtension(dpy_, &ev, &err)) {
      randr_event_ = ev;
      lib_->XRRSelectInput(dpy_, root_, kRRScreenChangeNotifyMask);
      features_.resize_events = true;
    }
    use_shm_ = lib_->has_shm() && lib_->XShmQueryExtension(dpy_) && getenv("TILECAST_X11_NO_SHM") == nullptr;
    lib_->XSync(dpy_, 0);
    return Status::Ok();
  }

  BackendFeatures features() const override {
    BackendFeatures f = features_;
    f.shared_memory = use_shm_;
    return f;
  }
  uint32_t width() const override { return width_; }
  uint32_t height() const override { return height_; }
  int event_fd() const override { return dpy_ ? lib_->XConnectionNumber(dpy_) : -1; }
  bool events_queued() override { return dpy_ && !DisplayIsDead(dpy_) && lib_->XPending(dpy_) > 0; }

  Status Poll(ChangeHints* hints) override {
    TC_RETURN_IF_ERROR(CheckAlive());
    if (!features_.damage) hints->unknown = true;
    bool damaged = false;
    while (lib_->XPending(dpy_) > 0) {
      XEvent ev;
      lib_->XNextEvent(dpy_, &ev);
      if (features_.damage && ev.type == damage_event_ + kXDamageNotify) damaged = true;
      else if (features_.cursor && ev.type == fixes_event_ + kXFixesCursorNotify) hints->cursor_shape = true;
      else if (features_.resize_events && ev.type == randr_event_ + kRRScreenChangeNotify) {
        lib_->XRRUpdateConfiguration(&ev);
        hints->size = true;
      }
    }
    if (damaged) TC_RETURN_IF_ERROR(TakeDamage(&hints->damage));
    return CheckAlive();
  }

  Status RefreshSize(bool* changed) override {
    Window root_ret = 0;
    int x = 0, y = 0;
    unsigned int w = 0, h = 0, border = 0, depth = 0;
    if (!lib_->XGetGeometry(dpy_, root_, &root_ret, &x, &y, &w, &h, &border, &depth)) {
      TC_RETURN_IF_ERROR(CheckAlive());
      return Status::Error(ErrorCode::kUnavailable, "X: cannot read the root window's size");
    }
    if (w == 0 || h == 0 || w > kMaxDimension || h > kMaxDimension) {
      return Status::Error(ErrorCode::kTooLarge, "X screen is " + std::to_string(w) + "x" + std::to_string(h) +
                                                     ", outside 1.." + std::to_string(kMaxDimension));
    }
    *changed = w != width_ || h != height_;
    if (*changed) {
      width_ = w;
      height_ = h;
      DestroyShm();  // recreated at the new size on the next grab
    }
    return Status::Ok();
  }

  Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) override {
    TC_RETURN_IF_ERROR(CheckAlive());
    if (mirror->width != width_ || mirror->height != height_) {
      return Status::Error(ErrorCode::kInternal, "mirror size differs from the screen");
    }
    std::vector<Rect> todo = rects;
    if (todo.size() > kMaxGrabRects) todo = {BoundingBox(todo)};
    for (const Rect& r : todo) TC_RETURN_IF_ERROR(GrabRect(r, mirror));
    return Status::Ok();
  }

  Status Pointer(int32_t* x, int32_t* y, bool* on_screen) override {
    Window root_ret = 0, child = 0;
    int rx = 0, ry = 0, wx = 0, wy = 0;
    unsigned int mask = 0;
    *on_screen = lib_->XQueryPointer(dpy_, root_, &root_ret, &child, &rx, &ry, &wx, &wy, &mask) != 0;
    *x = rx;
    *y = ry;
    return CheckAlive();
  }

  std::string name() const override { return "x11"; }

  Status Cursor(CursorImage* out) override {
    if (!features_.cursor) return Status::Error(ErrorCode::kUnavailable, "XFixes cursor is not available");
    XFixesCursorImage* img = lib_->XFixesGetCursorImage(dpy_);
    TC_RETURN_IF_ERROR(CheckAlive());
    if (!img) return Status::Error(ErrorCode::kUnavailable, "XFixesGetCursorImage failed");
    // Clip oversized cursors rather than refusing them: the protocol caps the size.
    const uint32_t w = std::min<uint32_t>(img->width, kMaxCursorDimension);
    const uint32_t h = std::min<uint32_t>(img->height, kMaxCursorDimension);
    out->width = w;
    out->height = h;
    out->hot_x = std::min<uint32_t>(img->xhot, w ? w - 1 : 0);
    out->hot_y = std::min<uint32_t>(img->yhot, h ? h - 1 : 0);
    out->serial = img->cursor_serial;
    out->bgra.assign(static_cast<size_t>(w) * h * 4, 0);
    for (uint32_t y = 0; y < h; y++) {
      for (uint32_t x = 0; x < w; x++) {
        // XFixes gives premultiplied ARGB in the low 32 bits of each long.
        const uint32_t argb = static_cast<uint32_t>(img->pixels[static_cast<size_t>(y) * img->width + x]);
        const uint32_t a = argb >> 24;
        uint8_t* p = &out->bgra[(static_cast<size_t>(y) * w + x) * 4];
        for (int c = 0; c < 3; c++) {
          const uint32_t v = (argb >> (8 * c)) & 0xff;
          p[c] = a == 0 ? 0 : static_cast<uint8_t>(std::min<uint32_t>(255, (v * 255 + a / 2) / a));
        }
        p[3] = static_cast<uint8_t>(a);
      }
    }
    lib_->XFree(img);
    return Status::Ok();
  }

 private:
  Status CheckAlive() const {
    if (dpy_ && DisplayIsDead(dpy_)) return Status::Error(ErrorCode::kUnavailable, "the connection to the X server was lost");
    return Status::Ok();
  }

  Status CheckPixelFormat() {
    // Read one pixel to learn the server's image format for the root window.
    XImage* probe = lib_->XGetImage(dpy_, root_, 0, 0, 1, 1, kAllPlanes, kZPixmap);
    if (!probe) {
      TC_RETURN_IF_ERROR(CheckAlive());
      return Status::Error(ErrorCode::kUnavailable, "X: cannot read the root window (XGetImage failed)");
    }
    const bool bgrx = probe->bits_per_pixel == 32 && probe->byte_order == kLSBFirst && probe->red_mask == 0xff0000 &&
                      probe->green_mask == 0xff00 && probe->blue_mask == 0xff;
    const int bpp = probe->bits_per_pixel, depth = probe->depth;
    probe->f.destroy_image(probe);
    if (!bgrx) {
      return Status::Error(ErrorCode::kUnavailable, "X screen format " + std::to_string(depth) + "-bit depth, " +
                                                        std::to_string(bpp) +
                                                        " bpp is not supported (need 24/32-bit little-endian RGB)");
    }
    return Status::Ok();
  }

  Status TakeDamage(std::vector<Rect>* out) {
    lib_->XDamageSubtract(dpy_, damage_, 0, region_);
    int n = 0;
    XRectangle* rects = lib_->XFixesFetchRegion(dpy_, region_, &n);
    TC_RETURN_IF_ERROR(CheckAlive());
    for (int i = 0; rects && i < n; i++) {
      // Clip to the screen: damage may reach outside after a resize.
      const int64_t x0 = std::max<int64_t>(0, rects[i].x), y0 = std::max<int64_t>(0, rects[i].y);
      const int64_t x1 = std::min<int64_t>(width_, int64_t{rects[i].x} + rects[i].width);
      const int64_t y1 = std::min<int64_t>(height_, int64_t{rects[i].y} + rects[i].height);
      if (x1 > x0 && y1 > y0) {
        out->push_back(Rect{static_cast<uint32_t>(x0), static_cast<uint32_t>(y0), static_cast<uint32_t>(x1 - x0),
                            static_cast<uint32_t>(y1 - y0)});
      }
    }
    if (rects) lib_->XFree(rects);
    return Status::Ok();
  }

  Status GrabRect(const Rect& r, ScreenMirror* mirror) {
    if (r.w == 0 || r.h == 0 || r.x + r.w > width_ || r.y + r.h > height_) {
      return Status::Error(ErrorCode::kInternal, "grab rect outside the screen");
    }
    if (use_shm_) {
      Status s = GrabRectShm(r, mirror);
      if (s.ok()) return s;
      if (s.code() != ErrorCode::kUnavailable || DisplayIsDead(dpy_)) return s;
      use_shm_ = false;  // e.g. a remote display: fall back for good
    }
    ErrorTrap trap(dpy_);
    XImage* img = lib_->XGetImage(dpy_, root_, static_cast<int>(r.x), static_cast<int>(r.y), r.w, r.h, kAllPlanes, kZPixmap);
    TC_RETURN_IF_ERROR(CheckAlive());
    if (!img) return Status::Error(ErrorCode::kUnavailable, "XGetImage failed (X error " + std::to_string(trap.Take()) + ")");
    Status s = CopyImage(*img, r, mirror);
    img->f.destroy_image(img);
    return s;
  }

  Status GrabRectShm(const Rect& r, ScreenMirror* mirror) {
    TC_RETURN_IF_ERROR(EnsureShm());
    // A throwaway image header over the shared segment at the rect's size: the
    // server writes the rect's rows packed from the segment's start.
    XImage* img = lib_->XShmCreateImage(dpy_, visual_, static_cast<unsigned>(depth_), kZPixmap, nullptr, &shm_, r.w, r.h);
    if (!img) return Status::Error(ErrorCode::kUnavailable, "XShmCreateImage failed");
    img->data = shm_.shmaddr;
    Status s;
    if (static_cast<size_t>(img->bytes_per_line) * r.h > shm_bytes_) {
      s = Status::Error(ErrorCode::kInternal, "shared memory segment too small");
    } else {
      ErrorTrap trap(dpy_);
      const bool ok = lib_->XShmGetImage(dpy_, root_, img, static_cast<int>(r.x), static_cast<int>(r.y), kAllPlanes) != 0;
      s = CheckAlive();
      if (s.ok() && !ok) s = Status::Error(ErrorCode::kUnavailable, "XShmGetImage failed (X error " + std::to_string(trap.Take()) + ")");
      if (s.ok()) s = CopyImage(*img, r, mirror);
    }
    img->data = nullptr;
    img->f.destroy_image(img);
    return s;
  }

  static Status CopyImage(const XImage& img, const Rect& r, ScreenMirror* mirror) {
    if (img.bits_per_pixel != 32 || img.width < 0 || static_cast<uint32_t>(img.width) < r.w ||
        static_cast<uint32_t>(img.height) < r.h || img.bytes_per_line < static_cast<int>(r.w * 4)) {
      return Status::Error(ErrorCode::kInternal, "X image has an unexpected layout");
    }
    for (uint32_t y = 0; y < r.h; y++) {
      memcpy(&mirror->pixels[(r.y + y) * mirror->stride + r.x * 4], img.data + static_cast<size_t>(y) * img.bytes_per_line,
             static_cast<size_t>(r.w) * 4);
    }
    return Status::Ok();
  }

  Status EnsureShm() {
    const size_t need = static_cast<size_t>(width_) * height_ * 4;
    if (shm_attached_ && shm_bytes_ >= need) return Status::Ok();
    DestroyShm();
    shm_.shmid = shmget(IPC_PRIVATE, need, IPC_CREAT | 0600);
    if (shm_.shmid < 0) return Status::Error(ErrorCode::kUnavailable, "shmget failed");
    void* addr = shmat(shm_.shmid, nullptr, 0);
    if (addr == reinterpret_cast<void*>(-1)) {
      shmctl(shm_.shmid, IPC_RMID, nullptr);
      return Status::Error(ErrorCode::kUnavailable, "shmat failed");
    }
    shm_.shmaddr = static_cast<char*>(addr);
    shm_.readOnly = 0;
    ErrorTrap trap(dpy_);
    const bool attached = lib_->XShmAttach(dpy_, &shm_) != 0;
    lib_->XSync(dpy_, 0);
    const int error = trap.Take();
    // Marked for removal now: it disappears with the last detach, even after a crash.
    shmctl(shm_.shmid, IPC_RMID, nullptr);
    if (!attached || error != 0) {
      shmdt(shm_.shmaddr);
      shm_ = XShmSegmentInfo{};
      return Status::Error(ErrorCode::kUnavailable, "XShmAttach failed (a remote X server?)");
    }
    shm_attached_ = true;
    shm_bytes_ = need;
    return CheckAlive();
  }

  void DestroyShm() {
    if (!shm_attached_) return;
    if (!DisplayIsDead(dpy_)) {
      lib_->XShmDetach(dpy_, &shm_);
      lib_->XSync(dpy_, 0);
    }
    shmdt(shm_.shmaddr);
    shm_ = XShmSegmentInfo{};
    shm_attached_ = false;
    shm_bytes_ = 0;
  }

  void Close() {
    if (!dpy_) return;
    DestroyShm();
    if (DisplayIsDead(dpy_)) {
      // Xlib cannot close a broken connection safely; the few KB stay allocated.
      ForgetDisplay(dpy_);
      dpy_ = nullptr;
      return;
    }
    if (region_) lib_->XFixesDestroyRegion(dpy_, region_);
    if (damage_) lib_->XDamageDestroy(dpy_, damage_);
    lib_->XCloseDisplay(dpy_);
    ForgetDisplay(dpy_);
    dpy_ = nullptr;
  }

  std::string display_name_;
  const Lib* lib_ = nullptr;
  Display* dpy_ = nullptr;
  int screen_ = 0;
  Window root_ = 0;
  Visual* visual_ = nullptr;
  int depth_ = 0;
  uint32_t width_ = 0, height_ = 0;
  BackendFeatures features_;
  bool use_shm_ = false;
  XShmSegmentInfo shm_{};
  bool shm_attached_ = false;
  size_t shm_bytes_ = 0;
  int damage_event_ = 0, fixes_event_ = 0, randr_event_ = 0;
  Damage damage_ = 0;
  XserverRegion region_ = 0;
};

}  // namespace

std::unique_ptr<ScreenBackend> CreateX11Backend(const std::string& display_name) {
  return std::make_unique<X11Backend>(display_name);
}

}  // namespace tilecast
