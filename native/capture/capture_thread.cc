#include "capture_thread.h"

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <chrono>

namespace tilecast {

namespace {
// The longest a backend's own wait (WaitForNews) may hold up Stop().
constexpr int kMaxBackendWaitMs = 50;
}  // namespace

uint64_t MonotonicNs() {
  // steady_clock is CLOCK_MONOTONIC on Linux and QueryPerformanceCounter on Windows.
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

CaptureThread::CaptureThread(BackendFactory factory, CaptureOptions options, Callbacks callbacks)
    : factory_(std::move(factory)), options_(options), callbacks_(std::move(callbacks)) {
#if !defined(_WIN32)
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
#endif
}

CaptureThread::~CaptureThread() {
  Stop();
#if !defined(_WIN32)
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
#endif
}

void CaptureThread::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

Status CaptureThread::Request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return Status::Error(ErrorCode::kUnavailable, "capture is closed");
    if (pending_) return Status::Error(ErrorCode::kBusy, "a frame request is already waiting");
    pending_ = true;
  }
  cv_.notify_one();
  return Status::Ok();
}

void CaptureThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  Wake();
  if (thread_.joinable()) thread_.join();
}

void CaptureThread::Wake() {
#if defined(_WIN32)
  cv_.notify_all();  // WaitForEvents waits on the condition variable there
#else
  if (wake_pipe_[1] >= 0) {
    const char b = 1;
    ssize_t ignored = write(wake_pipe_[1], &b, 1);
    (void)ignored;  // a full pipe already means "wake up"
  }
#endif
}

Status CaptureThread::OpenBackend() {
  backend_ = factory_();
  Status s = backend_ ? backend_->Open() : Status::Error(ErrorCode::kUnavailable, "no capture backend");
  CaptureOpened info;
  if (s.ok()) {
    info.features = backend_->features();
    info.width = backend_->width();
    info.height = backend_->height();
    info.backend = backend_->name();
    info.fallback_reason = backend_->fallback_reason();
    need_full_ = true;
    size_unknown_ = true;
    cursor_serial_ = 0;
    cursor_x_ = cursor_y_ = INT32_MIN;
  } else {
    backend_.reset();
  }
  callbacks_.opened(s, info);
  return s;
}

void CaptureThread::Run() {
  OpenBackend();  // on failure, each request tries again
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return pending_ || stop_; });
      if (stop_) break;
    }
    // On success Serve() has answered and cleared `pending_` itself; the
    // consumer may already have asked again, so only a failure clears it here.
    Status s = Serve();
    if (s.ok()) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      pending_ = false;
    }
    backend_.reset();  // the next request reconnects
    callbacks_.failed(s);
  }
  backend_.reset();
}

void CaptureThread::WaitForEvents(int timeout_ms) {
  // A backend without an event fd may still block until it has news (DXGI's
  // AcquireNextFrame). Stop() cannot cut that wait short, so it is done in slices
  // of at most kMaxBackendWaitMs; Serve() loops back here when nothing came.
  if (backend_->event_fd() < 0 && backend_->WaitForNews(std::min(std::max(0, timeout_ms), kMaxBackendWaitMs))) return;
#if defined(_WIN32)
  // No file descriptors on Windows: the GDI backend polls, so only Stop() can cut this wait short.
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(std::max(0, timeout_ms)), [this] { return stop_; });
#else
  pollfd fds[2] = {{wake_pipe_[0], POLLIN, 0}, {backend_->event_fd(), POLLIN, 0}};
  const nfds_t n = fds[1].fd >= 0 ? 2 : 1;
  poll(fds, n, std::max(0, timeout_ms));
  if (fds[0].revents & POLLIN) {
    char buf[64];
    while (read(wake_pipe_[0], buf, sizeof buf) > 0) {
    }
  }
#endif
}

// Answers one request: returns after delivering a frame, on error, or on stop.
Status CaptureThread::Serve() {
  if (!backend_) TC_RETURN_IF_ERROR(OpenBackend());
  ChangeHints hints;
  const uint64_t poll_ns = uint64_t{options_.poll_interval_ms} * 1000000ull;
  const uint64_t verify_ns = uint64_t{options_.verify_interval_ms} * 1000000ull;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return Status::Ok();
    }
    const uint64_t poll_start = MonotonicNs();
    TC_RETURN_IF_ERROR(backend_->Poll(&hints));
    // A polling backend (GDI) reads the screen inside Poll(): that is grab time too.
    const uint64_t poll_took_ns = MonotonicNs() - poll_start;
    CapturedFrame frame;
    if (hints.size || size_unknown_) {
      bool changed = false;
      TC_RETURN_IF_ERROR(backend_->RefreshSize(&changed));
      size_unknown_ = false;
      hints.size = false;
      if (changed || !mirror_ || mirror_->width != backend_->width() || mirror_->height != backend_->height()) {
        // A new mirror: the consumer may still hold the old one's buffer.
        auto m = std::make_shared<ScreenMirror>();
        m->width = backend_->width();
        m->height = backend_->height();
        m->stride = static_cast<size_t>(m->width) * 4;
        m->pixels.assign(m->stride * m->height, 0);
        mirror_ = std::move(m);
        need_full_ = true;
        frame.resized = true;
      }
    }
    const uint64_t now = MonotonicNs();
    if (now - last_pointer_ns_ >= poll_ns) {
      last_pointer_ns_ = now;
      int32_t x = 0, y = 0;
      bool visible = false;
      TC_RETURN_IF_ERROR(backend_->Pointer(&x, &y, &visible));
      if (x != cursor_x_ || y != cursor_y_ || visible != cursor_visible_) {
        cursor_x_ = x;
        cursor_y_ = y;
        cursor_visible_ = visible;
        frame.cursor_moved = true;
      }
    }
    if (hints.cursor_shape || (cursor_serial_ == 0 && backend_->features().cursor)) {
      hints.cursor_shape = false;
      auto shape = std::make_shared<CursorImage>();
      TC_RETURN_IF_ERROR(backend_->Cursor(shape.get()));
      if (shape->serial != cursor_serial_ || cursor_serial_ == 0) {
        cursor_serial_ = shape->serial ? shape->serial : 1;
        frame.cursor_shape = std::move(shape);
      }
    }
    const bool full = need_full_ || hints.unknown || now - last_full_ns_ >= verify_ns;
    if (full) hints.damage = {Rect{0, 0, mirror_->width, mirror_->height}};
    if (!hints.damage.empty() || frame.cursor_moved || frame.cursor_shape || frame.resized) {
      if (!hints.damage.empty()) {
        const uint64_t grab_start = MonotonicNs();
        TC_RETURN_IF_ERROR(backend_->Grab(hints.damage, mirror_.get()));
        frame.grab_ms = static_cast<double>(MonotonicNs() - grab_start + poll_took_ns) / 1e6;
        if (full) last_full_ns_ = MonotonicNs();
        need_full_ = false;
      }
      frame.mirror = mirror_;
      frame.grabbed_ns = MonotonicNs();
      frame.damage = std::move(hints.damage);
      frame.cursor_x = cursor_x_;
      frame.cursor_y = cursor_y_;
      frame.cursor_visible = cursor_visible_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return Status::Ok();
        pending_ = false;
      }
      callbacks_.frame(std::move(frame));
      return Status::Ok();
    }
    // A damage event read in with the pointer query or a grab's reply is in
    // Xlib's queue, not on the socket: look again now rather than sleep until
    // the next pointer poll (up to poll_interval_ms late on a quiet screen).
    if (backend_->events_queued()) continue;
    const uint64_t after = MonotonicNs();
    const uint64_t next_pointer = last_pointer_ns_ + poll_ns;
    const uint64_t next_verify = last_full_ns_ + verify_ns;
    const uint64_t next = std::min(next_pointer, next_verify);
    WaitForEvents(next > after ? static_cast<int>((next - after + 999999) / 1000000) : 0);
  }
}

}  // namespace tilecast
