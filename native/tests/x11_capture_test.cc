// The X11 backend, capture thread and XTEST input against a real X server, under
// ASan/UBSan. The Makefile runs the suite inside xvfb-run when it is installed;
// without a $DISPLAY these tests report themselves skipped.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <poll.h>

#include "../capture/capture_thread.h"
#include "../input/x11_input.h"
#include "harness.h"

namespace {

using namespace tilecast;

bool HaveDisplay() {
  const char* d = getenv("DISPLAY");
  if (d && *d) return true;
  std::printf("  (skipped: no $DISPLAY)\n");
  return false;
}

bool HaveXsetroot() {
  if (std::system("command -v xsetroot >/dev/null 2>&1") == 0) return true;
  std::printf("  (skipped: no xsetroot)\n");
  return false;
}

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  int opened = 0, frames = 0, failures = 0;
  CapturedFrame last;
  Status open_status;
  template <typename Pred>
  bool Wait(Pred pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), pred);
  }
};

CaptureThread::Callbacks Callbacks(Waiter* w) {
  CaptureThread::Callbacks c;
  c.opened = [w](const Status& s, const CaptureOpened&) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->open_status = s;
    w->opened++;
    w->cv.notify_all();
  };
  c.frame = [w](CapturedFrame f) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->last = std::move(f);
    w->frames++;
    w->cv.notify_all();
  };
  c.failed = [w](const Status&) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->failures++;
    w->cv.notify_all();
  };
  return c;
}

}  // namespace

TEST(x11_first_frame_is_the_whole_screen_and_shm_matches_getimage) {
  if (!HaveDisplay()) return;
  std::shared_ptr<const ScreenMirror> shm_mirror;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) setenv("TILECAST_X11_NO_SHM", "1", 1);
    Waiter w;
    CaptureThread thread([] { return CreateX11Backend(""); }, CaptureOptions{}, Callbacks(&w));
    thread.Start();
    CHECK(w.Wait([&] { return w.opened > 0; }));
    CHECK_OK(w.open_status);
    CHECK_OK(thread.Request());
    CHECK(thread.Request().code() == ErrorCode::kBusy);
    CHECK(w.Wait([&] { return w.frames > 0; }));
    CHECK(w.last.mirror != nullptr);
    CHECK(w.last.damage.size() == 1);
    CHECK(w.last.damage[0] == (Rect{0, 0, w.last.mirror->width, w.last.mirror->height}));
    CHECK(w.last.resized);
    if (pass == 0) shm_mirror = w.last.mirror;
    else CHECK(shm_mirror && shm_mirror->pixels == w.last.mirror->pixels);
    thread.Stop();
  }
  unsetenv("TILECAST_X11_NO_SHM");
}

TEST(x11_input_moves_the_pointer_the_capture_sees) {
  if (!HaveDisplay()) return;
  std::unique_ptr<X11Input> input;
  CHECK_OK(X11Input::Open("", &input));
  if (!input) return;
  CHECK_OK(input->Move(37, 21));
  bool mapped = false;
  CHECK_OK(input->Key(0xff2a, true, &mapped));  // Zenkaku_Hankaku: bound to a spare keycode if missing
  CHECK(mapped);
  CHECK_OK(input->Key(0xff2a, false, &mapped));
  Waiter w;
  CaptureThread thread([] { return CreateX11Backend(""); }, CaptureOptions{}, Callbacks(&w));
  thread.Start();
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.frames > 0; }));
  CHECK(w.last.cursor_x == 37 && w.last.cursor_y == 21);
  thread.Stop();
}

TEST(x11_bad_display_is_unavailable_not_a_crash) {
  Waiter w;
  CaptureThread thread([] { return CreateX11Backend(":4999"); }, CaptureOptions{}, Callbacks(&w));
  thread.Start();
  CHECK(w.Wait([&] { return w.opened > 0; }));
  CHECK(w.open_status.code() == ErrorCode::kUnavailable);
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.failures > 0; }));
  thread.Stop();
  std::unique_ptr<X11Input> input;
  CHECK(X11Input::Open(":4999", &input).code() == ErrorCode::kUnavailable);
}

// A consumer that asks again the moment a frame arrives (before the capture
// thread has returned from answering) must get its next frame: the request is
// not swallowed by the bookkeeping of the previous one.
TEST(x11_request_made_during_delivery_is_not_lost) {
  if (!HaveDisplay()) return;
  Waiter w;
  CaptureThread* self = nullptr;
  CaptureThread::Callbacks c = Callbacks(&w);
  auto record = c.frame;
  c.frame = [&](CapturedFrame f) {
    record(std::move(f));
    if (self) CHECK_OK(self->Request());
  };
  CaptureOptions options;
  options.verify_interval_ms = 100;  // a full grab every 100 ms keeps frames coming
  CaptureThread thread([] { return CreateX11Backend(""); }, options, std::move(c));
  self = &thread;
  thread.Start();
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.frames >= 4; }));
  self = nullptr;
  thread.Stop();
}

namespace {

// The X11 backend with everything passed through; the test backends below change one thing.
class ForwardingBackend : public ScreenBackend {
 public:
  ForwardingBackend() : inner_(CreateX11Backend("")) {}
  Status Open() override { return inner_->Open(); }
  BackendFeatures features() const override { return inner_->features(); }
  uint32_t width() const override { return inner_->width(); }
  uint32_t height() const override { return inner_->height(); }
  int event_fd() const override { return inner_->event_fd(); }
  bool events_queued() override { return inner_->events_queued(); }
  Status Poll(ChangeHints* hints) override { return inner_->Poll(hints); }
  Status RefreshSize(bool* changed) override { return inner_->RefreshSize(changed); }
  Status Grab(const std::vector<Rect>& rects, ScreenMirror* mirror) override { return inner_->Grab(rects, mirror); }
  Status Pointer(int32_t* x, int32_t* y, bool* on_screen) override { return inner_->Pointer(x, y, on_screen); }
  Status Cursor(CursorImage* out) override { return inner_->Cursor(out); }
  std::string name() const override { return inner_->name(); }

 protected:
  std::unique_ptr<ScreenBackend> inner_;
};

// The X11 backend, with one twist: on the first Poll() once `armed` is set, the root
// window is repainted (xsetroot, another client) and a round trip is made
// before Poll returns, as a grab or the pointer query does when a change comes
// in meanwhile. The DamageNotify is then in Xlib's queue, not on the socket.
class DamageDuringRoundTrip final : public ForwardingBackend {
 public:
  explicit DamageDuringRoundTrip(std::atomic<bool>* armed) : armed_(armed) {}
  Status Poll(ChangeHints* hints) override {
    TC_RETURN_IF_ERROR(inner_->Poll(hints));
    if (armed_->exchange(false)) {
      if (std::system("xsetroot -solid '#3a6ea5' 2>/dev/null") != 0) return Status::Error(ErrorCode::kUnavailable, "xsetroot failed");
      int32_t x = 0, y = 0;
      bool on = false;
      TC_RETURN_IF_ERROR(inner_->Pointer(&x, &y, &on));  // the round trip reads the event in
    }
    return Status::Ok();
  }

 private:
  std::atomic<bool>* armed_;
};

}  // namespace

// A change whose event Xlib read in during a round trip (so the X socket stays
// quiet) is delivered at once, not at the next pointer poll or verify grab:
// both are a minute away here, and the test waits 10 s.
TEST(x11_damage_read_during_a_round_trip_is_not_left_waiting) {
  if (!HaveDisplay() || !HaveXsetroot()) return;
  std::atomic<bool> armed{false};
  Waiter w;
  CaptureOptions options;
  options.poll_interval_ms = 60000;
  options.verify_interval_ms = 60000;
  CaptureThread thread([&armed] { return std::unique_ptr<ScreenBackend>(new DamageDuringRoundTrip(&armed)); }, options, Callbacks(&w));
  thread.Start();
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.frames == 1; }));  // the first full frame
  armed = true;
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.frames == 2; }));
  CHECK(!w.last.damage.empty());
  CHECK(!armed);
  thread.Stop();
}

namespace {

// The X11 backend seen as a Windows one: no event fd, but a blocking wait for
// news (as DXGI's AcquireNextFrame), here a poll() on the X connection's fd.
class WaitingBackend final : public ForwardingBackend {
 public:
  explicit WaitingBackend(std::atomic<int>* waits) : waits_(waits) {}
  int event_fd() const override { return -1; }
  bool WaitForNews(int timeout_ms) override {
    (*waits_)++;
    pollfd fd{inner_->event_fd(), POLLIN, 0};
    poll(&fd, 1, timeout_ms);
    return true;
  }

 private:
  std::atomic<int>* waits_;
};

}  // namespace

// A backend with no event fd that can wait for news (DXGI) is waited on: a
// change on a quiet screen is delivered when it happens, not at the next
// pointer poll or verify grab (both a minute away here; the test waits 10 s).
// The thread waits in short slices, so Stop() is not held up by the backend.
TEST(capture_waits_in_a_backend_without_an_event_fd) {
  if (!HaveDisplay() || !HaveXsetroot()) return;
  std::atomic<int> waits{0};
  Waiter w;
  CaptureOptions options;
  options.poll_interval_ms = 60000;
  options.verify_interval_ms = 60000;
  CaptureThread thread([&waits] { return std::unique_ptr<ScreenBackend>(new WaitingBackend(&waits)); }, options, Callbacks(&w));
  thread.Start();
  CHECK_OK(thread.Request());
  CHECK(w.Wait([&] { return w.frames == 1; }));  // the first full frame
  CHECK_OK(thread.Request());
  CHECK(std::system("xsetroot -solid '#6a3ea5' 2>/dev/null") == 0);
  CHECK(w.Wait([&] { return w.frames == 2; }));
  CHECK(!w.last.damage.empty());
  CHECK(waits > 0);
  CHECK_OK(thread.Request());  // left waiting: Stop() ends the backend's wait slice
  thread.Stop();
}
