// DXGI Desktop Duplication backend (Windows 8+): the compositor hands over each
// new desktop image with its dirty and move rects, and the pointer position and
// shape. Each acquired frame's changed areas are copied at once into one
// staging texture that always mirrors the desktop, and the frame is released
// promptly (holding it stalls the compositor's updates to us); Grab() then
// reads rects from the mapped staging texture. Move rects' destinations are
// reported as damage: the encoder's own move detection turns them into copies.
//
// DXGI_ERROR_ACCESS_LOST (mode change, a full-screen app, desktop switch)
// recreates the duplication and reports a resize so the thread grabs afresh;
// when recreation fails (the secure desktop of a UAC prompt or the lock screen
// answers E_ACCESSDENIED) the backend fails with ERR_UNAVAILABLE naming that
// state, and the capture thread reopens it on the next request.
#include <d3d11.h>
#include <dxgi1_2.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../util/com_ptr.h"
#include "capture_thread.h"
#include "screen_backend.h"
#include "win_screen.h"

namespace tilecast {
namespace {

// Frame metadata above this is not read; the frame is grabbed whole instead.
constexpr UINT kMaxMetadataBytes = 1u << 20;
// Pointer shapes are at most 256 x 256 x 4 bytes after clipping; DXGI's can be larger, bounded here.
constexpr UINT kMaxPointerShapeBytes = 4u << 20;

std::string DuplicateError(HRESULT hr) {
  switch (hr) {
    case E_NOTIMPL: return "DuplicateOutput is not implemented here (E_NOTIMPL: Wine, or a system without Desktop Duplication)";
    case E_ACCESSDENIED: return "the secure desktop (UAC prompt, lock screen) is showing (E_ACCESSDENIED)";
    case DXGI_ERROR_UNSUPPORTED: return "Desktop Duplication is not supported by this driver or session (DXGI_ERROR_UNSUPPORTED)";
    case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE: return "too many applications duplicate this output (DXGI_ERROR_NOT_CURRENTLY_AVAILABLE)";
    case DXGI_ERROR_SESSION_DISCONNECTED: return "the session is disconnected (DXGI_ERROR_SESSION_DISCONNECTED)";
    default: return "DuplicateOutput failed (HRESULT " + win::HresultText(hr) + ")";
  }
}

class DxgiBackend final : public ScreenBackend {
 public:
  explicit DxgiBackend(int32_t monitor) : monitor_index_(monitor) {}
  ~DxgiBackend() override { ReleaseFrame(); }

  Status Open() override {
    TC_RETURN_IF_ERROR(win::FindMonitor(monitor_index_, &monitor_));
    Com<IDXGIFactory1> factory;
    HRESULT hr = CreateDXGIFactory1(__uuidof(IDXGIFactory1), reinterpret_cast<void**>(factory.put()));
    if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "CreateDXGIFactory1 failed (" + win::HresultText(hr) + ")");
    // The adapter and output that drive the chosen monitor.
    Com<IDXGIAdapter1> adapter;
    Com<IDXGIOutput> output;
    for (UINT a = 0; !output && a < 16; a++) {
      if (factory->EnumAdapters1(a, adapter.put()) != S_OK) break;
      for (UINT o = 0; o < 16; o++) {
        Com<IDXGIOutput> candidate;
        if (adapter->EnumOutputs(o, candidate.put()) != S_OK) break;
        DXGI_OUTPUT_DESC desc{};
        if (SUCCEEDED(candidate->GetDesc(&desc)) && monitor_.device == desc.DeviceName) {
          *output.put() = candidate.get();
          output->AddRef();
          break;
        }
      }
    }
    if (!output) return Status::Error(ErrorCode::kUnavailable, "no DXGI output drives monitor " + std::to_string(monitor_.index));
    hr = D3D11CreateDevice(adapter.get(), D3D_DRIVER_TYPE_UNKNOWN, nullptr, 0, nullptr, 0, D3D11_SDK_VERSION, device_.put(), nullptr,
                           context_.put());
    if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "D3D11CreateDevice failed (" + win::HresultText(hr) + ")");
    hr = output->QueryInterface(__uuidof(IDXGIOutput1), reinterpret_cast<void**>(output1_.put()));
    if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "IDXGIOutput1 is not available (Windows 8 or later is needed)");
    TC_RETURN_IF_ERROR(Duplicate());
    features_.damage = true;
    features_.cursor = true;
    features_.resize_events = true;
    return Status::Ok();
  }

  BackendFeatures features() const override { return features_; }
  uint32_t width() const override { return width_; }
  uint32_t height() const override { return height_; }
  int event_fd() const override { return -1; }
  std::string name() const override { return "dxgi"; }

  // Blocks in AcquireNextFrame until the compositor has a new image or pointer
  // shape, so a change on a quiet desktop is taken when it happens, not at the
  // capture thread's next pointer poll. What came is kept for Poll(). Frames that
  // only move the pointer (as often as the mouse reports, up to 1000 a second)
  // update the position and the wait goes on: the thread reads the position at
  // its pointer poll, which is when this wait ends.
  bool WaitForNews(int timeout_ms) override {
    if (!dupl_) return false;  // Poll() duplicates again
    const uint64_t deadline = MonotonicNs() + uint64_t(std::max(0, timeout_ms)) * 1000000ull;
    for (;;) {
      const uint64_t now = MonotonicNs();
      const UINT left = now >= deadline ? 0 : static_cast<UINT>((deadline - now + 999999) / 1000000);
      DXGI_OUTDUPL_FRAME_INFO info{};
      Com<IDXGIResource> resource;
      const HRESULT hr = dupl_->AcquireNextFrame(left, &info, resource.put());
      if (hr == DXGI_ERROR_WAIT_TIMEOUT) {
        // A timeout well before the deadline is not a wait: let the thread sleep instead of spinning.
        return MonotonicNs() + 1000000 >= deadline;
      }
      if (Lost(hr)) {
        dupl_.reset();  // Poll() duplicates again and has the screen grabbed afresh
        waited_.size = true;
        waited_.unknown = true;
        return true;
      }
      if (FAILED(hr)) {
        waited_error_ = Status::Error(ErrorCode::kUnavailable, "AcquireNextFrame failed (" + win::HresultText(hr) + ")");
        return true;
      }
      frame_held_ = true;
      Status s = TakeFrame(info, resource.get(), &waited_);
      ReleaseFrame();
      if (!s.ok()) {
        waited_error_ = s;
        return true;
      }
      if (!waited_.damage.empty() || waited_.unknown || waited_.cursor_shape || left == 0) return true;
    }
  }

  Status Poll(ChangeHints* hints) override {
    if (!waited_error_.ok()) {
      Status s = waited_error_;
      waited_error_ = Status::Ok();
      waited_ = ChangeHints{};
      return s;
    }
    hints->damage.insert(hints->damage.end(), waited_.damage.begin(), waited_.damage.end());
    hints->unknown = hints->unknown || waited_.unknown;
    hints->cursor_shape = hints->cursor_shape || waited_.cursor_shape;
    hints->size = hints->size || waited_.size;
    waited_ = ChangeHints{};
    if (!dupl_) {
      TC_RETURN_IF_ERROR(Duplicate());
      hints->size = true;
    }
    // Drain what the compositor has (no wait, a bounded number of frames per poll); right after
    // (re)creation wait briefly for the first image so the first grab is not of an empty texture.
    for (int i = 0; i < 8; i++) {
      DXGI_OUTDUPL_FRAME_INFO info{};
      Com<IDXGIResource> resource;
      const HRESULT hr = dupl_->AcquireNextFrame(i == 0 && copy_all_ ? 100 : 0, &info, resource.put());
      if (hr == DXGI_ERROR_WAIT_TIMEOUT) break;
      if (Lost(hr)) {
        dupl_.reset();
        TC_RETURN_IF_ERROR(Duplicate());
        hints->size = true;
        hints->unknown = true;
        continue;
      }
      if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "AcquireNextFrame failed (" + win::HresultText(hr) + ")");
      frame_held_ = true;
      Status s = TakeFrame(info, resource.get(), hints);
      ReleaseFrame();
      TC_RETURN_IF_ERROR(s);
    }
    return Status::Ok();
  }

  Status RefreshSize(bool* changed) override {
    *changed = size_changed_;
    size_changed_ = false;
    return Status::Ok();
  }

  Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) override {
    if (mirror->width != width_ || mirror->height != height_ || !staging_) {
      return Status::Error(ErrorCode::kInternal, "mirror size differs from the screen");
    }
    D3D11_MAPPED_SUBRESOURCE mapped{};
    const HRESULT hr = context_->Map(staging_.get(), 0, D3D11_MAP_READ, 0, &mapped);
    if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "mapping the staging texture failed (" + win::HresultText(hr) + ")");
    Status s;
    if (mapped.RowPitch < width_ * 4) s = Status::Error(ErrorCode::kInternal, "staging texture rows are too short");
    std::vector<Rect> todo = rects;
    if (todo.size() > kMaxGrabRects) todo = {BoundingBox(todo)};
    for (const Rect& r : todo) {
      if (!s.ok()) break;
      if (r.w == 0 || r.h == 0 || r.x + r.w > width_ || r.y + r.h > height_) {
        s = Status::Error(ErrorCode::kInternal, "grab rect outside the screen");
        break;
      }
      const auto* src = static_cast<const uint8_t*>(mapped.pData);
      for (uint32_t y = r.y; y < r.y + r.h; y++) {
        memcpy(&mirror->pixels[y * mirror->stride + r.x * 4], src + static_cast<size_t>(y) * mapped.RowPitch + r.x * 4,
               static_cast<size_t>(r.w) * 4);
      }
    }
    context_->Unmap(staging_.get(), 0);
    return s;
  }

  Status Pointer(int32_t* x, int32_t* y, bool* on_screen) override {
    *x = pointer_x_;
    *y = pointer_y_;
    *on_screen = pointer_visible_;
    return Status::Ok();
  }

  Status Cursor(CursorImage* out) override {
    if (shape_.empty()) {
      *out = CursorImage{};
      out->width = out->height = 1;
      out->bgra.assign(4, 0);
      out->serial = shape_serial_ ? shape_serial_ : 1;
      return Status::Ok();
    }
    return ConvertShape(out);
  }

 private:
  Status Duplicate() {
    ReleaseFrame();
    dupl_.reset();
    const HRESULT hr = output1_->DuplicateOutput(device_.get(), dupl_.put());
    if (FAILED(hr)) {
      dupl_.reset();
      return Status::Error(ErrorCode::kUnavailable, DuplicateError(hr));
    }
    DXGI_OUTDUPL_DESC desc{};
    dupl_->GetDesc(&desc);
    if (desc.Rotation != DXGI_MODE_ROTATION_IDENTITY && desc.Rotation != DXGI_MODE_ROTATION_UNSPECIFIED) {
      dupl_.reset();
      return Status::Error(ErrorCode::kUnavailable, "the monitor is rotated (Desktop Duplication gives unrotated images)");
    }
    const uint32_t w = desc.ModeDesc.Width, h = desc.ModeDesc.Height;
    if (w == 0 || h == 0 || w > kMaxDimension || h > kMaxDimension) {
      dupl_.reset();
      return Status::Error(ErrorCode::kTooLarge, "output is " + std::to_string(w) + "x" + std::to_string(h));
    }
    if (w != width_ || h != height_ || !staging_) {
      size_changed_ = size_changed_ || width_ != 0;
      width_ = w;
      height_ = h;
      D3D11_TEXTURE2D_DESC td{};
      td.Width = w;
      td.Height = h;
      td.MipLevels = 1;
      td.ArraySize = 1;
      td.Format = DXGI_FORMAT_B8G8R8A8_UNORM;
      td.SampleDesc.Count = 1;
      td.Usage = D3D11_USAGE_STAGING;
      td.CPUAccessFlags = D3D11_CPU_ACCESS_READ;
      const HRESULT thr = device_->CreateTexture2D(&td, nullptr, staging_.put());
      if (FAILED(thr)) return Status::Error(ErrorCode::kUnavailable, "CreateTexture2D(staging) failed (" + win::HresultText(thr) + ")");
    }
    copy_all_ = true;
    return Status::Ok();
  }

  // The duplication must be made again: ACCESS_LOST (mode change, full-screen app,
  // desktop switch), or INVALID_CALL, which Windows also returns around a lock (Win+L).
  static bool Lost(HRESULT hr) { return hr == DXGI_ERROR_ACCESS_LOST || hr == DXGI_ERROR_INVALID_CALL; }

  void ReleaseFrame() {
    if (frame_held_ && dupl_) dupl_->ReleaseFrame();
    frame_held_ = false;
  }

  // Pointer news and pixel updates of one acquired frame.
  Status TakeFrame(const DXGI_OUTDUPL_FRAME_INFO& info, IDXGIResource* resource, ChangeHints* hints) {
    if (info.LastMouseUpdateTime.QuadPart != 0) {
      pointer_visible_ = info.PointerPosition.Visible != 0;
      pointer_x_ = info.PointerPosition.Position.x;
      pointer_y_ = info.PointerPosition.Position.y;
    }
    if (info.PointerShapeBufferSize > 0 && info.PointerShapeBufferSize <= kMaxPointerShapeBytes) {
      shape_.resize(info.PointerShapeBufferSize);
      UINT needed = 0;
      if (SUCCEEDED(dupl_->GetFramePointerShape(static_cast<UINT>(shape_.size()), shape_.data(), &needed, &shape_info_))) {
        shape_serial_++;
        hints->cursor_shape = true;
      } else {
        shape_.clear();
      }
    }
    if (info.LastPresentTime.QuadPart == 0) return Status::Ok();  // pointer-only update
    Com<ID3D11Texture2D> texture;
    HRESULT hr = resource->QueryInterface(__uuidof(ID3D11Texture2D), reinterpret_cast<void**>(texture.put()));
    if (FAILED(hr)) return Status::Error(ErrorCode::kUnavailable, "the desktop frame is not a texture (" + win::HresultText(hr) + ")");
    std::vector<Rect> changed;
    if (!copy_all_ && info.TotalMetadataBufferSize > 0 && info.TotalMetadataBufferSize <= kMaxMetadataBytes) {
      metadata_.resize(info.TotalMetadataBufferSize);
      UINT used = 0;
      hr = dupl_->GetFrameMoveRects(static_cast<UINT>(metadata_.size()), reinterpret_cast<DXGI_OUTDUPL_MOVE_RECT*>(metadata_.data()), &used);
      if (SUCCEEDED(hr)) {
        const auto* moves = reinterpret_cast<const DXGI_OUTDUPL_MOVE_RECT*>(metadata_.data());
        for (UINT i = 0; i < used / sizeof(DXGI_OUTDUPL_MOVE_RECT); i++) AddRect(moves[i].DestinationRect, &changed);
        hr = dupl_->GetFrameDirtyRects(static_cast<UINT>(metadata_.size()), reinterpret_cast<RECT*>(metadata_.data()), &used);
      }
      if (SUCCEEDED(hr)) {
        const auto* dirty = reinterpret_cast<const RECT*>(metadata_.data());
        for (UINT i = 0; i < used / sizeof(RECT); i++) AddRect(dirty[i], &changed);
      } else {
        copy_all_ = true;  // metadata unreadable: take the whole frame
      }
    } else if (info.TotalMetadataBufferSize > kMaxMetadataBytes || info.TotalMetadataBufferSize == 0) {
      copy_all_ = true;  // too much to read, or a new image with no rects: take it whole
    }
    if (copy_all_) {
      context_->CopyResource(staging_.get(), texture.get());
      copy_all_ = false;
      hints->unknown = true;
      return Status::Ok();
    }
    ClipRectsTo(width_, height_, &changed);
    if (changed.size() > kMaxGrabRects) changed = {BoundingBox(changed)};
    for (const Rect& r : changed) {
      D3D11_BOX box{r.x, r.y, 0, r.x + r.w, r.y + r.h, 1};
      context_->CopySubresourceRegion(staging_.get(), 0, r.x, r.y, 0, texture.get(), 0, &box);
      hints->damage.push_back(r);
    }
    return Status::Ok();
  }

  static void AddRect(const RECT& r, std::vector<Rect>* out) {
    if (r.right <= r.left || r.bottom <= r.top || r.left < 0 || r.top < 0) return;
    out->push_back(Rect{static_cast<uint32_t>(r.left), static_cast<uint32_t>(r.top), static_cast<uint32_t>(r.right - r.left),
                        static_cast<uint32_t>(r.bottom - r.top)});
  }

  // DXGI pointer shapes (colour, masked colour, monochrome) to straight-alpha BGRA.
  Status ConvertShape(CursorImage* out) const {
    const DXGI_OUTDUPL_POINTER_SHAPE_INFO& si = shape_info_;
    const bool mono = si.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME;
    const uint32_t w = si.Width, h = mono ? si.Height / 2 : si.Height;
    const size_t row_bytes = mono ? (w + 7) / 8 : size_t{w} * 4;
    if (w == 0 || h == 0 || si.Pitch < row_bytes || size_t{si.Pitch} * (mono ? 2 * h : h) > shape_.size()) {
      return Status::Error(ErrorCode::kUnavailable, "DXGI pointer shape has an unexpected layout");
    }
    const uint32_t cw = std::min(w, kMaxCursorDimension), ch = std::min(h, kMaxCursorDimension);
    out->width = cw;
    out->height = ch;
    out->hot_x = std::min<uint32_t>(si.HotSpot.x, cw - 1);
    out->hot_y = std::min<uint32_t>(si.HotSpot.y, ch - 1);
    out->serial = shape_serial_;
    out->bgra.assign(size_t{cw} * ch * 4, 0);
    for (uint32_t y = 0; y < ch; y++) {
      for (uint32_t x = 0; x < cw; x++) {
        uint8_t* p = &out->bgra[(size_t{y} * cw + x) * 4];
        if (mono) {
          const uint8_t bit = static_cast<uint8_t>(0x80 >> (x % 8));
          const bool and_bit = (shape_[size_t{y} * si.Pitch + x / 8] & bit) != 0;
          const bool xor_bit = (shape_[size_t{y + h} * si.Pitch + x / 8] & bit) != 0;
          if (and_bit && !xor_bit) continue;  // transparent
          const uint8_t v = (!and_bit && xor_bit) ? 255 : 0;  // white; black; inverted shown black
          p[0] = p[1] = p[2] = v;
          p[3] = 255;
          continue;
        }
        const uint8_t* s = &shape_[size_t{y} * si.Pitch + size_t{x} * 4];
        if (si.Type == DXGI_OUTDUPL_POINTER_SHAPE_TYPE_COLOR) {
          memcpy(p, s, 4);
        } else if (s[3] == 0) {  // masked colour: mask 0 replaces the screen pixel
          p[0] = s[0], p[1] = s[1], p[2] = s[2], p[3] = 255;
        } else if (s[0] | s[1] | s[2]) {  // mask set: XOR with the screen, shown black
          p[3] = 255;
        }
      }
    }
    return Status::Ok();
  }

  const int32_t monitor_index_;
  win::Monitor monitor_;
  Com<ID3D11Device> device_;
  Com<ID3D11DeviceContext> context_;
  Com<IDXGIOutput1> output1_;
  Com<IDXGIOutputDuplication> dupl_;
  Com<ID3D11Texture2D> staging_;
  bool frame_held_ = false;
  bool copy_all_ = true;
  bool size_changed_ = false;
  uint32_t width_ = 0, height_ = 0;
  BackendFeatures features_;
  std::vector<uint8_t> metadata_;
  std::vector<uint8_t> shape_;
  DXGI_OUTDUPL_POINTER_SHAPE_INFO shape_info_{};
  uint64_t shape_serial_ = 0;
  int32_t pointer_x_ = 0, pointer_y_ = 0;
  bool pointer_visible_ = false;
  // What WaitForNews() took from the compositor, for the next Poll().
  ChangeHints waited_;
  Status waited_error_;
};

}  // namespace

std::unique_ptr<ScreenBackend> CreateDxgiBackend(int32_t monitor) { return std::make_unique<DxgiBackend>(monitor); }

}  // namespace tilecast
